/**
 * Access control, inbox privacy, rate limits, abuse control, consent and config reloads, with real
 * clients and a real broker connected in memory (the same code the hub process runs). The attack
 * suite against a hub process is test/integration/security-attacks.test.ts.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import { ConsentManager, emptyConsentState, type ConsentState } from '../../src/core/security/consent.js';
import { createMemoryPair, memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { connectWith, type Bus } from '../../src/client/index.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { RecordingAudit, testConfigDocument, secret, type TestConfigDocument } from '../helpers/security.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { ClientHandshake } from '../../src/core/security/client-handshake.js';
import { HEADER_BINDER } from '../../src/core/security/handshake-messages.js';
import { fromBase64 } from '../../src/core/security/bytes.js';
import { until } from '../helpers/wait.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const crypto = createNodeCryptoProvider();

interface World {
  broker: Broker;
  security: HubSecurity;
  audit: RecordingAudit;
  consent: ConsentManager;
  doc: TestConfigDocument;
  open(app: string, extra?: Record<string, unknown>): Promise<Bus>;
  close(): Promise<void>;
}

function memoryStore() {
  let state: ConsentState = emptyConsentState();
  return {
    load: () => state,
    save: (s: ConsentState) => {
      state = s;
    },
  };
}

async function world(doc: TestConfigDocument): Promise<World> {
  const audit = new RecordingAudit();
  const consent = new ConsentManager({
    store: memoryStore(),
    timeoutMs: (doc.security as { consentTimeoutMs?: number } | undefined)?.consentTimeoutMs ?? 60_000,
  });
  await consent.load();
  const security = new HubSecurity({ crypto, config: parseHubConfig(doc), audit, consent });
  const broker = new Broker({ heartbeatMs: 0, security });
  const buses: Bus[] = [];
  return {
    broker,
    security,
    audit,
    consent,
    doc,
    async open(app, extra = {}) {
      const bus = await connectWith(memoryConnector(broker), {
        name: app,
        secret: doc.apps[app]!.secret,
        reconnect: false,
        security: { crypto },
        ...extra,
      });
      buses.push(bus);
      return bus;
    },
    async close() {
      for (const b of buses) await b.close().catch(() => {});
      await consent.close();
      await broker.close(50);
    },
  };
}

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => e.code ?? String(e),
  );

/** Clears a bus's local grants so that it sends what the hub must refuse (a client that skips the check). */
function skipLocalChecks(bus: Bus): void {
  (bus as unknown as { grants: unknown }).grants = undefined;
}

describe('access control with real clients', () => {
  let w: World;
  after(() => w?.close());

  test('grants come in the handshake; the client refuses outside them at once', async () => {
    w = await world(testConfigDocument());
    const orders = await w.open('orders');
    assert.equal(await codeOf(orders.publish('billing.x', 1)), 'CB_ERR_FORBIDDEN');
    assert.equal(await codeOf(orders.publish('orders.admin.reset', 1)), 'CB_ERR_FORBIDDEN', 'deny wins over orders.>');
    assert.equal(await codeOf(orders.subscribe('billing.>').ready), 'CB_ERR_FORBIDDEN');
    assert.equal(await codeOf(orders.subscribe('>').ready), 'CB_ERR_FORBIDDEN', 'wider than granted: refused, not narrowed');
    assert.equal(await codeOf(orders.request('orders.lookup', 1)), 'CB_ERR_FORBIDDEN', 'request needs a request grant');
    assert.equal(await codeOf(orders.subscribe('apps.billing.>').ready), 'CB_ERR_FORBIDDEN', '{app} is the connecting app only');
    await orders.subscribe('apps.orders.>').ready;
    await orders.subscribe('orders.*.created').ready;
    assert.equal(w.audit.find('publish', 'denied').length, 0, 'local refusals never reached the hub');
  });

  test('a client that skips the local check is refused by the hub and audited; nothing is delivered', async () => {
    const orders = await w.open('orders');
    const billing = await w.open('billing');
    const got: string[] = [];
    await billing.subscribe('billing.>', (m) => got.push(m.topic)).ready;
    skipLocalChecks(orders);
    assert.equal(await codeOf(orders.publish('billing.invoice', 1, { ack: true })), 'CB_ERR_FORBIDDEN');
    assert.equal(await codeOf(orders.publish('orders.admin.reset', 1, { ack: true })), 'CB_ERR_FORBIDDEN');
    assert.equal(await codeOf(orders.subscribe('>').ready), 'CB_ERR_FORBIDDEN');
    await orders.publish('orders.created', { id: 1 }, { ack: true }); // still connected and allowed
    await billing.flush();
    assert.deepEqual(got, []);
    const denied = w.audit.events.filter((e) => e.outcome === 'denied' && e.actor.app === 'orders');
    assert.deepEqual(
      denied.map((e) => `${e.action} ${e.target}`),
      ['publish billing.invoice', 'publish orders.admin.reset', 'subscribe >'],
    );
    assert.ok(denied.every((e) => e.reason?.startsWith('CB_ERR_FORBIDDEN')));
  });

  test('request/reply needs no reply grant; replies go only to the requester', async () => {
    const orders = await w.open('orders');
    const billing = await w.open('billing');
    const snoop = await w.open('test'); // may subscribe to '>'
    const seen: string[] = [];
    await snoop.subscribe('>', (m) => seen.push(m.topic)).ready;
    await billing.serve('billing.quote', (m) => ({ total: (m.data as { n: number }).n * 2 })).ready;
    assert.deepEqual(await orders.request('billing.quote', { n: 21 }), { total: 42 });
    await snoop.flush();
    assert.ok(seen.includes('billing.quote'), 'the snoop sees the request (it may subscribe to >)');
    assert.ok(!seen.some((t) => t.startsWith('_INBOX.')), `but never the reply: ${seen.join(', ')}`);
  });

  test("subscribing to another's inbox and replying to an inbox without a request are refused", async () => {
    const orders = await w.open('orders');
    const billing = await w.open('billing');
    skipLocalChecks(billing);
    assert.equal(await codeOf(billing.subscribe('_INBOX.>').ready), 'CB_ERR_FORBIDDEN');
    const inbox = (orders.info!.auth as { inbox: string }).inbox;
    assert.match(inbox, /^_INBOX\.[0-9a-f]+$/);
    assert.equal(await codeOf(billing.subscribe(`${inbox}.>`).ready), 'CB_ERR_FORBIDDEN');
    // A forged REPLY into orders' inbox: refused by the hub, never delivered.
    const replies: string[] = [];
    const inboxSub = orders.subscribe(`${inbox}.>`, (m) => replies.push(m.topic));
    await inboxSub.ready;
    const errors: string[] = [];
    billing.on('error', (e) => errors.push(e.error.code));
    (billing as unknown as { outbox: { write(e: unknown): void } }).outbox.write(envelope(Kind.REPLY, { topic: `${inbox}.1` }));
    await billing.flush();
    await until(() => errors.includes('CB_ERR_FORBIDDEN'), 3000, 'the forged reply refused');
    await orders.flush();
    assert.deepEqual(replies, [], 'the forged reply never reached the inbox');
    assert.ok(w.audit.events.some((e) => e.action === 'reply' && e.outcome === 'denied'));
  });
});

describe('rate limits and abuse', () => {
  let w: World;
  after(() => w?.close());

  test('over the bucket: CB_ERR_RATE_LIMITED with retry-after; the connection stays up', async () => {
    const doc = testConfigDocument();
    doc.apps.limited = { secret: secret(), roles: ['all'], rate: { perSecond: 20, burst: 5 } } as never;
    (doc as Record<string, unknown>).security = { abuse: { violationsPerWindow: 12, windowMs: 10_000 } };
    w = await world(doc);
    const bus = await w.open('limited');
    for (let i = 0; i < 5; i++) await bus.publish('lim.x', i, { ack: true });
    const err = await bus.publish('lim.x', 6, { ack: true }).then(
      () => undefined,
      (e) => e as { code: string; details?: { retryAfterMs?: number } },
    );
    assert.equal(err?.code, 'CB_ERR_RATE_LIMITED');
    assert.ok(
      (err?.details?.retryAfterMs ?? 0) > 0 && (err?.details?.retryAfterMs ?? 0) <= 100,
      `retryAfterMs ${err?.details?.retryAfterMs}`,
    );
    await new Promise((r) => setTimeout(r, err!.details!.retryAfterMs! + 5));
    await bus.publish('lim.x', 7, { ack: true });
    assert.equal(bus.state, 'connected');
    assert.ok(w.audit.find('rate-limit', 'denied').length >= 1);
  });

  test('an app that keeps hitting the limit is slowed, then disconnected as abusive', async () => {
    const bus = await w.open('limited');
    const errors: string[] = [];
    bus.on('error', (e) => errors.push(e.error.code));
    const closed = new Promise<void>((resolve) =>
      bus.on('state', (s) => {
        if (s.to === 'closed') resolve();
      }),
    );
    for (let i = 0; i < 60 && bus.state === 'connected'; i++) {
      await bus.publish('lim.y', i).catch(() => {});
      await bus.flush().catch(() => {});
    }
    await closed;
    assert.ok(errors.includes('CB_ERR_RATE_LIMITED'));
    assert.ok(errors.includes('CB_ERR_ABUSIVE'), `errors: ${[...new Set(errors)].join(', ')}`);
    assert.equal(w.audit.find('abuse', 'denied').length, 1);
  });
});

describe('consent', () => {
  let w: World;
  after(() => w?.close());

  test('an ask grant holds the subscription until a person decides', async () => {
    const doc = testConfigDocument();
    doc.apps.viewer = { secret: secret(), roles: ['viewer'] } as never;
    (doc.roles as Record<string, unknown>).viewer = {
      subscribe: ['news.>', { pattern: 'camera.>', ask: true }],
      publish: ['news.>', { pattern: 'mic.>', ask: true }],
    };
    (doc as Record<string, unknown>).security = { consentTimeoutMs: 1000 };
    w = await world(doc);
    const viewer = await w.open('viewer');
    const cam = await w.open('test');
    const frames: unknown[] = [];
    const sub = viewer.subscribe('camera.front', (m) => frames.push(m.data));
    await until(() => w.consent.list().pending.length === 1, 3000, 'a pending consent request');
    const req = w.consent.list().pending[0]!;
    assert.deepEqual([req.app, req.action, req.pattern, req.target], ['viewer', 'subscribe', 'camera.>', 'camera.front']);
    await w.consent.decide(req.id, 'grant');
    await sub.ready;
    await cam.publish('camera.front', 'frame-1');
    await until(() => frames.length === 1, 3000, 'the frame');
    // A second subscription under the same grant needs no new decision.
    await viewer.subscribe('camera.back').ready;
  });

  test('denied: CB_ERR_CONSENT_DENIED; unanswered: CB_ERR_CONSENT_TIMEOUT', async () => {
    const viewer = await w.open('viewer');
    const mic = viewer.publish('mic.level', 3, { ack: true });
    await until(() => w.consent.list().pending.length === 1, 3000, 'pending');
    await w.consent.decide(w.consent.list().pending[0]!.id, 'deny');
    assert.equal(await codeOf(mic), 'CB_ERR_CONSENT_DENIED');
    // Revoke that denial so the next publish asks again, then let it time out.
    const denial = w.consent.list().decisions.find((d) => d.pattern === 'mic.>')!;
    await w.consent.revoke(denial.id);
    assert.equal(await codeOf(viewer.publish('mic.level', 4, { ack: true })), 'CB_ERR_CONSENT_TIMEOUT');
    assert.ok(
      w.consent.list().decisions.every((d) => d.pattern !== 'mic.>'),
      'a timeout is not a stored decision',
    );
  });

  test('revoking a grant ends the subscriptions that relied on it', async () => {
    const viewer = await w.open('viewer');
    const sub = viewer.subscribe('camera.side');
    await sub.ready; // granted earlier
    const grant = w.consent.list().decisions.find((d) => d.pattern === 'camera.>' && d.decision === 'granted')!;
    await w.consent.revoke(grant.id);
    w.broker.reapplySecurity();
    await until(() => sub.closed, 3000, 'the subscription ended');
    assert.equal(sub.error?.code, 'CB_ERR_FORBIDDEN');
    assert.equal(viewer.state, 'connected');
  });
});

describe('config reload applies to open connections at once', () => {
  let w: World;
  after(() => w?.close());

  test('a removed grant ends its subscriptions; a removed app or key closes its sessions', async () => {
    const doc = testConfigDocument();
    w = await world(doc);
    const billing = await w.open('billing');
    const orders = await w.open('orders');
    const watchOrders = billing.subscribe('orders.>');
    const watchBilling = billing.subscribe('billing.>');
    await Promise.all([watchOrders.ready, watchBilling.ready]);
    assert.equal(await codeOf(billing.publish('ledger.entry', 1)), 'CB_ERR_FORBIDDEN', 'not granted yet');
    const next = structuredClone(doc) as TestConfigDocument;
    (next.roles as Record<string, { subscribe: string[] }>).billing!.subscribe = ['billing.>'];
    (next.roles as Record<string, { publish: string[] }>).billing!.publish = ['billing.>', 'ledger.>'];
    delete (next.apps as Record<string, unknown>).orders;
    const ordersErrors: string[] = [];
    orders.on('error', (e) => ordersErrors.push(e.error.code));
    w.security.reload(parseHubConfig(next));
    const result = w.broker.reapplySecurity();
    assert.deepEqual(result, { closed: 1, endedSubscriptions: 1 });
    await until(() => watchOrders.closed, 3000, 'orders.> ended');
    assert.equal(watchOrders.error?.code, 'CB_ERR_FORBIDDEN');
    assert.equal(watchBilling.closed, false, 'still allowed: untouched');
    // The client learned its new grants at once: the new one works, the removed one fails locally.
    await billing.publish('ledger.entry', 1, { ack: true });
    assert.equal(await codeOf(billing.subscribe('orders.>').ready), 'CB_ERR_FORBIDDEN');
    assert.equal(
      w.audit.events.filter((e) => e.action === 'subscribe' && e.target === 'orders.>' && e.outcome === 'denied').length,
      1,
      'only the reload ended it at the hub; the second refusal was local',
    );
    await until(() => ordersErrors.includes('CB_ERR_REVOKED'), 3000, 'orders told why');
    await until(() => orders.state === 'closed', 3000, 'orders closed');
  });

  test('a key that expires while connected closes its session with CB_ERR_KEY_EXPIRED', async () => {
    const doc = testConfigDocument();
    doc.apps.temp = {
      secrets: [{ id: 'k9', secret: secret(), expiresAt: new Date(Date.now() + 400).toISOString() }],
      roles: ['all'],
    } as never;
    const w2 = await world(doc);
    try {
      const bus = await connectWith(memoryConnector(w2.broker), {
        name: 'temp',
        secret: (doc.apps.temp as unknown as { secrets: Array<{ secret: string }> }).secrets[0]!.secret,
        reconnect: false,
        security: { crypto },
      });
      const errors: string[] = [];
      bus.on('error', (e) => errors.push(e.error.code));
      await until(() => errors.includes('CB_ERR_KEY_EXPIRED'), 3000, 'expiry');
      await until(() => bus.state === 'closed', 3000, 'closed');
      assert.ok(w2.audit.events.some((e) => e.action === 'revoke' && e.reason?.startsWith('CB_ERR_KEY_EXPIRED')));
    } finally {
      await w2.close();
    }
  });
});

describe('invalid frames count as abuse', () => {
  test('an app that keeps sending invalid frames is disconnected with CB_ERR_ABUSIVE', async () => {
    const doc = testConfigDocument();
    (doc as Record<string, unknown>).security = { abuse: { violationsPerWindow: 8, windowMs: 10_000 } };
    const w = await world(doc);
    try {
      const bus = await w.open('test');
      skipLocalChecks(bus);
      const errors: string[] = [];
      bus.on('error', (e) => errors.push(e.error.code));
      // Past the client's own validation: raw SUBSCRIBE frames with invalid patterns.
      for (let i = 0; i < 10 && bus.state === 'connected'; i++) {
        (bus as unknown as { outbox: { write(e: unknown): void } }).outbox.write(
          envelope(Kind.SUBSCRIBE, { id: 100 + i, sid: 100 + i, topic: 'bad..pattern' }),
        );
        await bus.flush().catch(() => {});
      }
      await until(() => errors.includes('CB_ERR_ABUSIVE'), 3000, 'abusive');
      assert.ok(errors.filter((c) => c === 'CB_ERR_TOPIC_INVALID').length >= 7, errors.join(','));
      assert.ok(w.audit.events.some((e) => e.action === 'abuse'));
    } finally {
      await w.close();
    }
  });
});

describe('reconnecting clients and revoked credentials', () => {
  test('a client whose app was removed stops reconnecting and closes with the refusal', async () => {
    const doc = testConfigDocument();
    const w = await world(doc);
    try {
      const bus = await w.open('orders', { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
      const closed = new Promise<string | undefined>((resolve) => bus.on('closed', (e) => resolve(e.error?.code)));
      const reconnects: number[] = [];
      bus.on('reconnecting', (e) => reconnects.push(e.attempt));
      const next = structuredClone(doc) as TestConfigDocument;
      delete (next.apps as Record<string, unknown>).orders;
      w.security.reload(parseHubConfig(next));
      w.broker.reapplySecurity();
      assert.equal(await closed, 'CB_ERR_AUTH_FAILED');
      assert.equal(reconnects.length, 1, 'one attempt, refused for good, then no more');
      assert.equal(bus.state, 'closed');
    } finally {
      await w.close();
    }
  });
});

describe('handshake timeout', () => {
  test('a client that stops after WELCOME (never sends AUTH) is closed with CB_ERR_HANDSHAKE_TIMEOUT', async () => {
    const doc = testConfigDocument();
    const audit = new RecordingAudit();
    const security = new HubSecurity({ crypto, config: parseHubConfig(doc), audit });
    const broker = new Broker({ heartbeatMs: 0, handshakeTimeoutMs: 200, security });
    const [client, server] = createMemoryPair();
    const kinds: number[] = [];
    const errors: string[] = [];
    let closed = false;
    client.setHandlers({
      message: (c) =>
        readFrames(c, DEFAULT_FRAME_LIMITS, (env) => {
          kinds.push(env.kind);
          if (env.kind === Kind.ERROR) errors.push((JSON.parse(new TextDecoder().decode(env.payload)) as { code: string }).code);
        }),
      close: () => {
        closed = true;
      },
    });
    broker.accept(server);
    const hs = await ClientHandshake.create({ crypto, secret: fromBase64(doc.apps.test.secret)!, group: 'P-256', mode: 'encrypt' });
    const hello = new TextEncoder().encode(JSON.stringify({ versions: [1], name: 'test', auth: hs.helloAuth() }));
    client.send(
      encodeFrame(
        envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload: hello, headers: { [HEADER_BINDER]: await hs.binder(hello) } }),
      ),
    );
    await until(() => closed, 3000, 'closed by the hub');
    assert.deepEqual(kinds, [Kind.WELCOME, Kind.ERROR]);
    assert.deepEqual(errors, ['CB_ERR_HANDSHAKE_TIMEOUT']);
    await broker.close(10);
  });
});
