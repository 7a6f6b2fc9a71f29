/**
 * Attacks on a REAL secure hub process. For every attack: it is refused with its precise code,
 * the audit log (<data>/audit.jsonl) gains an entry for it, nothing it tried to deliver reaches a
 * subscriber, and the hub goes on serving a healthy "bystander" pair of clients.
 * Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { Bus, ConnectOptions, Subscription } from '../../src/node/index.js';
import { connect } from '../../src/node/index.js';
import type { CrossbusError } from '../../src/core/errors/index.js';
import { CLOSE_AUTH_FAILED, CLOSE_REVOKED } from '../../src/core/transport/transport.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../../src/core/protocol/envelope.js';
import { ClientHandshake } from '../../src/core/security/client-handshake.js';
import { HEADER_BINDER, HEADER_PROOF, type HelloAuth } from '../../src/core/security/handshake-messages.js';
import { pskSecrets } from '../../src/core/security/key-schedule.js';
import { fromBase64, toBase64 } from '../../src/core/security/bytes.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { auditFileOf, expectAudit as expectAuditOf, readAudit as readAuditOf, type AuditLine } from '../helpers/audit-file.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { RawClient, decodeErrorPayload, helloFrame, type CloseEvent, type ErrorPayload } from '../helpers/raw-ws.js';
import { secret as newSecret, testConfigDocument } from '../helpers/security.js';
import { until, sleep } from '../helpers/wait.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const T = { timeout: 20_000 };
/** The public message of every refused credential: the same for all, so a stranger learns nothing. */
const GENERIC_AUTH_MESSAGE = 'authentication failed';

const enc = new TextEncoder();
const nodeCrypto = createNodeCryptoProvider();

// ------------------------------------------------------------------------------ the hub's config

const secrets = {
  mallory: newSecret(),
  limited: newSecret(),
  expiring: newSecret(),
  revokable: newSecret(),
};
/** The `expiring` app's only key stops being valid at this time (set in before()). */
let expiresAt = 0;

function configDocument(): ReturnType<typeof testConfigDocument> {
  const base = testConfigDocument();
  return {
    ...base,
    apps: {
      ...base.apps,
      // Runs the record-layer attacks: its violations stay apart from the bystanders' app.
      mallory: { secret: secrets.mallory, roles: ['all'] },
      limited: { secret: secrets.limited, roles: ['limited'], rate: { perSecond: 5, burst: 5 } },
      expiring: { secrets: [{ id: 'e1', secret: secrets.expiring, expiresAt: new Date(expiresAt).toISOString() }], roles: ['all'] },
      revokable: { secret: secrets.revokable, roles: ['rev'] },
    } as never,
    roles: {
      ...(base.roles as Record<string, unknown>),
      limited: { publish: ['lim.>'], subscribe: ['lim.>'], request: ['lim.>'] },
      rev: { publish: ['rev.>'], subscribe: ['rev.>', 'feed.>'], request: [] },
    },
    origins: ['http://allowed.example'],
    // App `test` (the bystanders, observers) must never hit a rate limit; `limited` has its own.
    limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
  };
}

// ------------------------------------------------------------------------------ shared state

let hub: HubProcess;
let doc: ReturnType<typeof testConfigDocument>;
/** Bystanders (app `test`): one subscribed to watch.>, one publishing to it. */
let watcher: Bus;
let watchPublisher: Bus;
const watchSeen: number[] = [];
let probeSeq = 0;
/** Sees every topic published on the hub (app `test` may subscribe to `>`). */
let observer: Bus;
const observed = new Map<string, number>();
/** Sessions of the `expiring` app, opened while its key was still valid. */
let expiringBus: Bus;
const expiringBusErrors: string[] = [];
let expiringRaw: RawClient;

before(async () => {
  expiresAt = Date.now() + 5_000;
  doc = configDocument();
  hub = await startHubProcess([], { config: doc });
  // The expiring sessions first: the key is only valid for a few seconds.
  expiringBus = await openBus(hub.url, { name: 'expiring', secret: secrets.expiring, reconnect: false });
  expiringBus.on('error', (e) => expiringBusErrors.push(e.error.code));
  expiringRaw = await RawClient.handshake(hub.url, 'expiring', { secret: secrets.expiring });

  watcher = await openBus(hub.url, { name: 'watcher', reconnect: false });
  watchPublisher = await openBus(hub.url, { name: 'watch-publisher', reconnect: false });
  observer = await openBus(hub.url, { name: 'observer', reconnect: false });
  await watcher.subscribe<number>('watch.>', (m) => void watchSeen.push(m.data)).ready;
  await observer.subscribe('>', (m) => void observed.set(m.topic, (observed.get(m.topic) ?? 0) + 1)).ready;
});

after(async () => {
  await hub?.stop();
});

// ------------------------------------------------------------------------------ helpers

/** The hub still serves others: a fresh message between the bystanders arrives. */
async function assertHubServesOthers(): Promise<void> {
  assert.ok(hub.alive(), 'the hub process is alive');
  const n = ++probeSeq;
  await watchPublisher.publish('watch.probe', n, { ack: true });
  await until(() => watchSeen.includes(n), 5_000, `bystander probe ${n}`);
  // The observer has it too: whatever was routed to the observer before the probe has arrived.
  await until(() => (observed.get('watch.probe') ?? 0) >= n, 5_000, `probe ${n} at the observer`);
  assert.equal(watcher.state, 'connected');
  assert.equal(watchPublisher.state, 'connected');
}

/** Nothing was delivered on `topic` (checked after a fresh probe went through, so it had its chance). */
function assertNothingDelivered(topic: string): void {
  assert.equal(observed.get(topic) ?? 0, 0, `nothing delivered on ${topic}`);
}

function auditFile(h: HubProcess = hub): string {
  return auditFileOf(h);
}

function readAudit(h: HubProcess = hub): AuditLine[] {
  return readAuditOf(h);
}

/** Number of audit entries now: entries an attack adds come after it. */
function auditMark(): number {
  return readAudit().length;
}

/** Waits for an audit entry after `mark` that matches. */
function expectAudit(mark: number, what: string, pred: (e: AuditLine) => boolean): Promise<AuditLine> {
  return expectAuditOf(hub, mark, what, pred, 5_000);
}

function publishFrame(topic: string, data: unknown, id = 0): Uint8Array {
  return encodeFrame(envelope(Kind.PUBLISH, { id, topic, payloadType: PayloadType.JSON, payload: enc.encode(JSON.stringify(data)) }));
}

/** Sends one operation and waits for its OK or ERROR. */
async function operation(c: RawClient, env: Envelope): Promise<{ ok: true } | { ok: false; error: ErrorPayload }> {
  await c.sendEnvelope(env);
  const answer = await c.waitForControl(
    (e) => (e.kind === Kind.OK || e.kind === Kind.ERROR) && e.id === env.id,
    5_000,
    `the answer to operation ${env.id}`,
  );
  return answer.kind === Kind.OK ? { ok: true } : { ok: false, error: decodeErrorPayload(answer) };
}

async function expectForbidden(c: RawClient, env: Envelope): Promise<ErrorPayload> {
  const r = await operation(c, env);
  assert.equal(r.ok, false, `${JSON.stringify(env.topic)} must be refused`);
  const error = (r as { error: ErrorPayload }).error;
  assert.equal(error.code, 'CB_ERR_FORBIDDEN', error.message);
  return error;
}

interface Refusal {
  error: ErrorPayload;
  errors: ErrorPayload[];
  close: CloseEvent;
}

/** Waits for the hub to refuse and close a raw connection. */
async function refusal(c: RawClient): Promise<Refusal> {
  const close = await c.waitForClose(5_000);
  const errors = c.errors();
  assert.deepEqual(c.decodeErrors, [], 'what the hub sent back is well formed');
  assert.ok(errors[0], `an ERROR frame before the close (close ${JSON.stringify(close)})`);
  return { error: errors[0], errors, close };
}

function assertRefused(r: Refusal, code: string, closeCode = CLOSE_AUTH_FAILED): void {
  assert.equal(r.error.code, code, `code (message: ${r.error.message})`);
  assert.equal(r.errors.length, 1, `exactly one ERROR (${JSON.stringify(r.errors)})`);
  assert.equal(r.close.code, closeCode, `close code (reason ${r.close.reason})`);
  assert.equal(r.close.reason, code, 'the close reason names the code');
}

/** Runs the handshake by hand and expects it to be refused. */
async function refusedHandshake(name: string, secret: string, options: { now?: () => number } = {}): Promise<Refusal> {
  const c = await RawClient.connect(hub.url);
  await assert.rejects(c.authenticate(name, secret, options), /handshake refused/);
  return refusal(c);
}

/** Sends a HELLO built by hand: `mutate` changes its auth before the binder is computed over the result. */
async function sendCustomHello(
  c: RawClient,
  name: string,
  secret: string,
  mutate: (auth: HelloAuth) => void,
  binderSecret = secret,
): Promise<void> {
  const hs = await ClientHandshake.create({ crypto: nodeCrypto, secret: fromBase64(secret)!, group: 'P-256', mode: 'encrypt' });
  const auth = hs.helloAuth();
  mutate(auth);
  const hello = enc.encode(JSON.stringify({ versions: [1], name, auth }));
  const binderHs =
    binderSecret === secret
      ? hs
      : await ClientHandshake.create({ crypto: nodeCrypto, secret: fromBase64(binderSecret)!, group: 'P-256', mode: 'encrypt' });
  const binder = await binderHs.binder(hello);
  await c.send(encodeFrame(envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload: hello, headers: { [HEADER_BINDER]: binder } })));
}

/** A fresh authenticated raw session of app `mallory`. */
function mallory(): Promise<RawClient> {
  return RawClient.handshake(hub.url, 'mallory', { secret: secrets.mallory });
}

/** Seals `frame` with the client's session keys without sending it. */
function sealOnly(c: RawClient, frame: Uint8Array): Uint8Array {
  return (c.sealer!.seal(frame) as Uint8Array).slice();
}

// ------------------------------------------------------------------------------ the attacks

describe('attacks on a secure hub process', () => {
  test('1. missing secret: a plain HELLO -> CB_ERR_AUTH_REQUIRED, close 4003, audited', T, async () => {
    const mark = auditMark();
    const c = await RawClient.connect(hub.url);
    await c.send(helloFrame('orders'));
    const r = await refusal(c);
    assertRefused(r, 'CB_ERR_AUTH_REQUIRED');
    assert.equal(c.count(Kind.WELCOME), 0, 'no WELCOME');
    await expectAudit(
      mark,
      'auth failure AUTH_REQUIRED',
      (e) => e.action === 'auth' && e.outcome === 'failure' && /^CB_ERR_AUTH_REQUIRED/.test(e.reason ?? '') && e.actor.app === 'orders',
    );
    await assertHubServesOthers();
  });

  test('2. wrong secret -> CB_ERR_AUTH_FAILED with a message that does not say which part failed; audit has the reason', T, async () => {
    // (a) A random secret for app `orders`: its key id names no key of the app.
    let mark = auditMark();
    const a = await refusedHandshake('orders', newSecret());
    assertRefused(a, 'CB_ERR_AUTH_FAILED');
    assert.equal(a.error.message, GENERIC_AUTH_MESSAGE);
    const ea = await expectAudit(
      mark,
      'auth failure (random secret)',
      (e) => e.action === 'auth' && e.outcome === 'failure' && e.actor.app === 'orders',
    );
    assert.match(ea.reason ?? '', /^CB_ERR_AUTH_FAILED: .*(key id|secret)/);

    // (b) The attacker copies orders' key id (it travels in clear) but binds the HELLO with its own
    // secret: the binder does not verify.
    mark = auditMark();
    const ordersKeyId = (await pskSecrets(nodeCrypto, fromBase64(doc.apps.orders.secret)!)).keyId;
    const c = await RawClient.connect(hub.url);
    const attacker = newSecret();
    await sendCustomHello(c, 'orders', attacker, (auth) => void (auth.keyId = ordersKeyId));
    const b = await refusal(c);
    assertRefused(b, 'CB_ERR_AUTH_FAILED');
    assert.equal(b.error.message, a.error.message, 'the same public message whatever failed');
    assert.doesNotMatch(b.error.message, /secret|binder|key|unknown/i);
    const eb = await expectAudit(
      mark,
      'auth failure (binder)',
      (e) => e.action === 'auth' && e.outcome === 'failure' && e.actor.app === 'orders',
    );
    assert.match(eb.reason ?? '', /^CB_ERR_AUTH_FAILED: wrong secret/);
    // Neither secret ever reaches the log.
    const text = readFileSync(auditFile(), 'utf8');
    assert.ok(!text.includes(attacker) && !text.includes(doc.apps.orders.secret), 'no secret in the audit log');
    await assertHubServesOthers();
  });

  test("3. unknown app -> CB_ERR_AUTH_FAILED (same message); audit reason 'unknown app'", T, async () => {
    const mark = auditMark();
    const r = await refusedHandshake('nosuchapp', newSecret());
    assertRefused(r, 'CB_ERR_AUTH_FAILED');
    assert.equal(r.error.message, GENERIC_AUTH_MESSAGE);
    await expectAudit(
      mark,
      'auth failure unknown app',
      (e) =>
        e.action === 'auth' && e.outcome === 'failure' && e.actor.app === 'nosuchapp' && e.reason === 'CB_ERR_AUTH_FAILED: unknown app',
    );
    await assertHubServesOthers();
  });

  test('4. a fake hub (no secret) or an --insecure hub cannot pass as the hub: CB_ERR_HUB_AUTH_FAILED', T, async () => {
    // A tiny WebSocket server that answers HELLO with a well-formed WELCOME, a real P-256 share
    // and a random proof: everything but knowledge of the secret.
    const received: Envelope[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => {
        readFrames(new Uint8Array(data), DEFAULT_FRAME_LIMITS, (env) => {
          received.push({ ...env, payload: env.payload.slice() });
          if (env.kind !== Kind.HELLO) return;
          const pair = nodeCrypto.generateKeyPair('P-256') as { publicKey: Uint8Array };
          const welcome = {
            version: 1,
            hubId: 'fake-hub',
            connectionId: 'fake-hub-1',
            limits: { ...DEFAULT_FRAME_LIMITS, maxSubscriptions: 10_000 },
            heartbeatMs: 20_000,
            auth: {
              scheme: 'cb1-psk-ecdhe',
              group: 'P-256',
              share: toBase64(pair.publicKey),
              nonce: toBase64(randomBytes(32)),
              mode: 'encrypt',
              app: 'orders',
              inbox: '_INBOX.fake',
              grants: {
                publish: ['>'],
                subscribe: ['>'],
                request: ['>'],
                deny: { publish: [], subscribe: [], request: [] },
                ask: { publish: [], subscribe: [], request: [] },
              },
              rekey: { afterRecords: 1_000_000, afterMs: 3_600_000 },
              maxClockSkewMs: 30_000,
            },
          };
          ws.send(
            encodeFrame(
              envelope(Kind.WELCOME, {
                id: env.id,
                payloadType: PayloadType.JSON,
                payload: enc.encode(JSON.stringify(welcome)),
                headers: { [HEADER_PROOF]: toBase64(randomBytes(32)) },
              }),
            ),
          );
        });
      });
    });
    try {
      const fakeUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
      await rejectsWithCode(
        connect(fakeUrl, { name: 'orders', secret: doc.apps.orders.secret, reconnect: false, timeoutMs: 5_000 }),
        'CB_ERR_HUB_AUTH_FAILED',
      );
      assert.deepEqual(
        received.map((e) => e.kind),
        [Kind.HELLO],
        'the client sent HELLO and nothing else: no AUTH proof for the fake hub',
      );
      const helloText = new TextDecoder().decode(received[0]!.payload);
      assert.ok(!helloText.includes(doc.apps.orders.secret), 'the secret is never sent');
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }

    // A hub started with --insecure sends a WELCOME without any proof.
    const insecure = await startHubProcess(['--insecure']);
    try {
      await rejectsWithCode(
        connect(insecure.url, { name: 'orders', secret: doc.apps.orders.secret, reconnect: false, timeoutMs: 5_000 }),
        'CB_ERR_HUB_AUTH_FAILED',
      );
    } finally {
      await insecure.stop();
    }
    await assertHubServesOthers();
  });

  test(
    '5. a replayed record -> CB_ERR_REPLAY, closed, the message delivered once; a record moved to another session -> CB_ERR_INTEGRITY',
    T,
    async () => {
      const mark = auditMark();
      const c = await mallory();
      await c.send(publishFrame('atk.replay', 1));
      await c.send(publishFrame('atk.replay', 2));
      await until(() => (observed.get('atk.replay') ?? 0) === 2, 5_000, 'the two genuine messages');
      await c.sendRaw(c.sentRecords[0]!);
      const r = await refusal(c);
      assertRefused(r, 'CB_ERR_REPLAY');
      await expectAudit(
        mark,
        'replay',
        (e) => e.action === 'replay' && e.outcome === 'failure' && /^CB_ERR_REPLAY/.test(e.reason ?? '') && e.actor.app === 'mallory',
      );

      // The same record on another connection: other keys, so it is not even authentic there.
      const mark2 = auditMark();
      const d = await mallory();
      await d.sendRaw(c.sentRecords[1]!);
      assertRefused(await refusal(d), 'CB_ERR_INTEGRITY');
      await expectAudit(
        mark2,
        'integrity (record from another session)',
        (e) => e.action === 'integrity' && e.outcome === 'failure' && /^CB_ERR_INTEGRITY/.test(e.reason ?? ''),
      );
      await assertHubServesOthers();
      assert.equal(observed.get('atk.replay'), 2, 'each genuine message delivered exactly once, the replay never');
    },
  );

  test('6. reordered records: the second sent first -> CB_ERR_REPLAY, nothing delivered', T, async () => {
    const mark = auditMark();
    const c = await mallory();
    sealOnly(c, publishFrame('atk.reorder', 1));
    const second = sealOnly(c, publishFrame('atk.reorder', 2));
    await c.sendRaw(second);
    assertRefused(await refusal(c), 'CB_ERR_REPLAY');
    await expectAudit(
      mark,
      'replay (reordered)',
      (e) => e.action === 'replay' && e.outcome === 'failure' && /^CB_ERR_REPLAY/.test(e.reason ?? ''),
    );
    await assertHubServesOthers();
    assertNothingDelivered('atk.reorder');
  });

  /** Flips one bit at each position, each in a fresh record on a fresh connection; returns what the hub answered. */
  async function flipAttack(
    positions: number[],
    topic: string,
  ): Promise<Array<{ p: number; code: string; close: number; errors: number }>> {
    return Promise.all(
      positions.map(async (p) => {
        const c = await mallory();
        const rec = sealOnly(c, publishFrame(topic, { p: String(p).padStart(3, '0') })); // same length for every p
        rec[p] = (rec[p] as number) ^ (1 << (p % 8));
        await c.sendRaw(rec);
        const r = await refusal(c);
        return { p, code: r.error.code, close: r.close.code, errors: r.errors.length };
      }),
    );
  }

  test(
    '7. one flipped bit anywhere in a record (header, security block, tag, payload) -> CB_ERR_INTEGRITY each time, nothing delivered',
    T,
    async (t) => {
      const mark = auditMark();
      const sample = sealOnly(await mallory(), publishFrame('atk.flip', { p: '000' }));
      const last = sample.length - 1;
      // Every 9th byte after the length prefix (see 7b), the last one, and the fields with a meaning
      // of their own: 4 version, 5 kind, 6 flags, 37-38 block length, 39 epoch length, 45 tag length,
      // 46 first tag byte. The sample also hits the counter (18), the timestamp (27), the tag (54) and
      // the AES-GCM ciphertext of the batched frames (63 and on).
      const positions = [...new Set([4, 5, 6, 37, 39, 45, 46, ...Array.from({ length: Math.ceil(last / 9) }, (_, i) => i * 9), last])]
        .filter((p) => p >= 4 && p <= last)
        .sort((x, y) => x - y);
      assert.ok(positions.length >= 15 && positions.length <= 20, `${positions.length} positions`);
      const outcomes = await flipAttack(positions, 'atk.flip');
      t.diagnostic(`record of ${sample.length} bytes, bits flipped at ${positions.join(', ')}`);
      const wrong = outcomes.filter((o) => o.code !== 'CB_ERR_INTEGRITY' || o.close !== CLOSE_AUTH_FAILED || o.errors !== 1);
      assert.deepEqual(wrong, [], `every flipped bit is CB_ERR_INTEGRITY with close 4003 (record of ${sample.length} bytes)`);
      await until(
        () =>
          readAudit()
            .slice(mark)
            .filter((e) => e.action === 'integrity' && /^CB_ERR_INTEGRITY/.test(e.reason ?? '')).length >= positions.length,
        5_000,
        'one integrity audit entry per flipped record',
      );
      await assertHubServesOthers();
      assertNothingDelivered('atk.flip');
    },
  );

  test("7b. a flipped bit in the record's length prefix -> CB_ERR_INTEGRITY, nothing delivered", T, async () => {
    const mark = auditMark();
    const positions = [0, 1, 2, 3];
    const outcomes = await flipAttack(positions, 'atk.flip-length');
    // Refused, closed as a security failure and audited, whatever the code: this much holds today.
    assert.deepEqual(
      outcomes.filter((o) => o.close !== CLOSE_AUTH_FAILED || o.errors !== 1),
      [],
      'each refused with one ERROR and close 4003',
    );
    await until(
      () =>
        readAudit()
          .slice(mark)
          .filter((e) => e.action === 'integrity' && e.outcome === 'failure').length >= positions.length,
      5_000,
      'one integrity audit entry per flipped record',
    );
    await assertHubServesOthers();
    assertNothingDelivered('atk.flip-length');
    assert.deepEqual(
      outcomes.filter((o) => o.code !== 'CB_ERR_INTEGRITY'),
      [],
      'every flipped bit is CB_ERR_INTEGRITY',
    );
  });

  test('8. a truncated tag (15 bytes, lengths kept consistent) -> CB_ERR_INTEGRITY', T, async () => {
    const mark = auditMark();
    const c = await mallory();
    const rec = sealOnly(c, publishFrame('atk.tag', 1));
    const TAG_AT = 46;
    const cut = new Uint8Array(rec.length - 1);
    cut.set(rec.subarray(0, TAG_AT + 15), 0); // header, security block, first 15 tag bytes
    cut.set(rec.subarray(TAG_AT + 16), TAG_AT + 15); // the payload
    const v = new DataView(cut.buffer);
    v.setUint32(0, cut.length - 4); // body length
    v.setUint16(37, 3 + 4 + 15); // security block length
    cut[45] = 15; // tag length
    await c.sendRaw(cut);
    const r = await refusal(c);
    assertRefused(r, 'CB_ERR_INTEGRITY');
    assert.match(r.error.message, /tag/);
    await expectAudit(
      mark,
      'integrity (short tag)',
      (e) => e.action === 'integrity' && /^CB_ERR_INTEGRITY: record tag/.test(e.reason ?? ''),
    );
    await assertHubServesOthers();
    assertNothingDelivered('atk.tag');
  });

  test(
    "9. unknown key id -> CB_ERR_AUTH_FAILED (audit 'unknown key id'); an expired key -> open sessions closed and new ones refused with CB_ERR_KEY_EXPIRED",
    T,
    async () => {
      let mark = auditMark();
      const c = await RawClient.connect(hub.url);
      await sendCustomHello(c, 'orders', doc.apps.orders.secret, (auth) => void (auth.keyId = 'deadbeefdeadbeef'));
      const r = await refusal(c);
      assertRefused(r, 'CB_ERR_AUTH_FAILED');
      assert.equal(r.error.message, GENERIC_AUTH_MESSAGE);
      await expectAudit(
        mark,
        'unknown key id',
        (e) => e.action === 'auth' && e.outcome === 'failure' && e.reason === 'CB_ERR_AUTH_FAILED: unknown key id deadbeefdeadbeef',
      );

      // The `expiring` sessions were opened in before(), while the key was valid.
      await until(() => Date.now() > expiresAt + 200, 10_000, 'the expiring key to expire');
      const closed = await expiringRaw.waitForClose(5_000);
      const rawErrors = expiringRaw.errors();
      assert.equal(rawErrors.length, 1, JSON.stringify(rawErrors));
      assert.equal(rawErrors[0]!.code, 'CB_ERR_KEY_EXPIRED');
      assert.equal(closed.code, CLOSE_REVOKED);
      await until(() => expiringBus.state === 'closed', 5_000, 'the expiring real client to be closed');
      assert.ok(
        expiringBusErrors.includes('CB_ERR_KEY_EXPIRED'),
        `the client reported CB_ERR_KEY_EXPIRED (${expiringBusErrors.join(', ')})`,
      );
      const revokes = readAudit().filter(
        (e) => e.action === 'revoke' && e.outcome === 'denied' && e.actor.app === 'expiring' && /^CB_ERR_KEY_EXPIRED/.test(e.reason ?? ''),
      );
      assert.equal(revokes.length, 2, 'both expiring sessions audited');

      mark = auditMark();
      const again = await refusedHandshake('expiring', secrets.expiring);
      assertRefused(again, 'CB_ERR_KEY_EXPIRED');
      await expectAudit(
        mark,
        'expired key refused',
        (e) => e.action === 'auth' && e.outcome === 'failure' && e.actor.app === 'expiring' && /^CB_ERR_KEY_EXPIRED/.test(e.reason ?? ''),
      );
      await rejectsWithCode(
        connect(hub.url, { name: 'expiring', secret: secrets.expiring, reconnect: false, timeoutMs: 5_000 }),
        'CB_ERR_KEY_EXPIRED',
      );
      await assertHubServesOthers();
    },
  );

  test('10. a HELLO or a record stamped 60 s off, either way -> CB_ERR_CLOCK_SKEW', T, async () => {
    for (const shift of [60_000, -60_000]) {
      const mark = auditMark();
      const h = await refusedHandshake('orders', doc.apps.orders.secret, { now: () => Date.now() + shift });
      assertRefused(h, 'CB_ERR_CLOCK_SKEW');
      await expectAudit(
        mark,
        `hello skew ${shift}`,
        (e) => e.action === 'auth' && e.outcome === 'failure' && /^CB_ERR_CLOCK_SKEW: hello clock skew/.test(e.reason ?? ''),
      );

      const mark2 = auditMark();
      const c = await mallory();
      c.sealClockOffsetMs = shift; // records only: the handshake used the real clock
      await c.send(publishFrame('atk.skew', shift));
      assertRefused(await refusal(c), 'CB_ERR_CLOCK_SKEW');
      await expectAudit(
        mark2,
        `record skew ${shift}`,
        (e) => e.action === 'clock-skew' && e.outcome === 'failure' && /^CB_ERR_CLOCK_SKEW/.test(e.reason ?? ''),
      );
    }
    await assertHubServesOthers();
    assertNothingDelivered('atk.skew');
  });

  test(
    '11. publish or subscribe without a grant -> CB_ERR_FORBIDDEN, connection kept, audited, nothing delivered; deny wins; {app}',
    T,
    async () => {
      const orders = await RawClient.handshake(hub.url, 'orders', { secret: doc.apps.orders.secret });
      let mark = auditMark();
      await expectForbidden(
        orders,
        envelope(Kind.PUBLISH, { id: 11, topic: 'billing.x', payloadType: PayloadType.JSON, payload: enc.encode('1') }),
      );
      await expectAudit(
        mark,
        'publish denied',
        (e) =>
          e.action === 'publish' &&
          e.outcome === 'denied' &&
          e.target === 'billing.x' &&
          e.actor.app === 'orders' &&
          /^CB_ERR_FORBIDDEN/.test(e.reason ?? ''),
      );
      mark = auditMark();
      await expectForbidden(orders, envelope(Kind.SUBSCRIBE, { id: 12, sid: 1, topic: 'billing.>' }));
      await expectAudit(mark, 'subscribe denied', (e) => e.action === 'subscribe' && e.outcome === 'denied' && e.target === 'billing.>');
      // Deny wins over the orders.> grant.
      mark = auditMark();
      await expectForbidden(
        orders,
        envelope(Kind.PUBLISH, { id: 13, topic: 'orders.admin.x', payloadType: PayloadType.JSON, payload: enc.encode('1') }),
      );
      await expectAudit(mark, 'deny rule', (e) => e.action === 'publish' && e.outcome === 'denied' && e.target === 'orders.admin.x');
      // {app} stands for the connecting app only.
      assert.deepEqual(await operation(orders, envelope(Kind.SUBSCRIBE, { id: 14, sid: 2, topic: 'apps.orders.>' })), { ok: true });
      await expectForbidden(orders, envelope(Kind.SUBSCRIBE, { id: 15, sid: 3, topic: 'apps.billing.>' }));
      // The connection stays up and allowed operations still work.
      assert.ok(orders.isOpen);
      assert.deepEqual(
        await operation(
          orders,
          envelope(Kind.PUBLISH, { id: 16, topic: 'orders.created', payloadType: PayloadType.JSON, payload: enc.encode('1') }),
        ),
        { ok: true },
      );
      await watchPublisher.publish('apps.orders.inbox-test', 1);
      await until(() => orders.messages.some((m) => m.topic === 'apps.orders.inbox-test'), 5_000, 'apps.orders.> delivery');

      // The real client refuses locally, before anything reaches the hub.
      const bus = await openBus(hub.url, { name: 'orders', secret: doc.apps.orders.secret, reconnect: false });
      mark = auditMark();
      await rejectsWithCode(bus.publish('billing.y'), 'CB_ERR_FORBIDDEN');
      await rejectsWithCode(bus.subscribe('billing.>').ready, 'CB_ERR_FORBIDDEN');
      await rejectsWithCode(bus.publish('orders.admin.y'), 'CB_ERR_FORBIDDEN');
      await assertHubServesOthers();
      await bus.flush();
      assert.deepEqual(
        readAudit()
          .slice(mark)
          .filter((e) => e.actor.app === 'orders'),
        [],
        'refused locally: the hub saw nothing',
      );
      assert.equal(bus.state, 'connected');
      for (const t of ['billing.x', 'billing.y', 'orders.admin.x', 'orders.admin.y']) assertNothingDelivered(t);
      assert.equal(observed.get('orders.created'), 1, 'the allowed publish went through');
      await closeBus(bus);
      orders.close();
    },
  );

  test('12. an over-wide wildcard subscription is refused, not narrowed: `>` and `*.created` -> CB_ERR_FORBIDDEN', T, async () => {
    const orders = await RawClient.handshake(hub.url, 'orders', { secret: doc.apps.orders.secret });
    const mark = auditMark();
    await expectForbidden(orders, envelope(Kind.SUBSCRIBE, { id: 21, sid: 1, topic: '>' }));
    await expectForbidden(orders, envelope(Kind.SUBSCRIBE, { id: 22, sid: 2, topic: '*.created' }));
    await expectAudit(mark, 'wide subscribe denied', (e) => e.action === 'subscribe' && e.outcome === 'denied' && e.target === '>');
    await expectAudit(
      mark,
      'wildcard subscribe denied',
      (e) => e.action === 'subscribe' && e.outcome === 'denied' && e.target === '*.created',
    );
    // Not narrowed to what orders may see: nothing arrives for those sids, even on orders.created.
    await watchPublisher.publish('orders.created', 'wide');
    await assertHubServesOthers(); // its acknowledged probe went after 'wide': the hub routed 'wide'
    await orders.roundTrip(); // so a PONG to orders comes after any delivery of it
    assert.equal(orders.messages.length, 0, 'no deliveries to refused subscriptions');
    assert.ok(orders.isOpen);
    orders.close();
  });

  test(
    "13. a reply to someone else's inbox -> CB_ERR_FORBIDDEN, no forged reply; inbox snooping refused; legit request/reply works",
    T,
    async () => {
      const requester = await RawClient.handshake(hub.url, 'test-requester');
      const server = await RawClient.handshake(hub.url, 'test-server');
      const orders = await RawClient.handshake(hub.url, 'orders', { secret: doc.apps.orders.secret });
      const inbox = requester.welcomeAuth!.inbox;
      await requester.subscribe(1, `${inbox}.>`);
      await server.subscribe(1, 'svc.echo');

      // The genuine exchange: request -> the server gets it with its replyTo -> one reply.
      await requester.sendEnvelope(
        envelope(Kind.REQUEST, {
          id: 31,
          topic: 'svc.echo',
          replyTo: `${inbox}.31`,
          payloadType: PayloadType.JSON,
          payload: enc.encode('"ping"'),
        }),
      );
      await until(() => server.messages.length === 1, 5_000, 'the request at the server');
      assert.equal(server.messages[0]!.replyTo, `${inbox}.31`);
      await server.sendEnvelope(
        envelope(Kind.REPLY, { topic: `${inbox}.31`, payloadType: PayloadType.JSON, payload: enc.encode('"pong"') }),
      );
      await until(() => requester.messages.length === 1, 5_000, 'the genuine reply');

      let mark = auditMark();
      // orders never received a request: a reply to the requester's inbox is forged.
      await orders.sendEnvelope(
        envelope(Kind.REPLY, { id: 32, topic: `${inbox}.32`, payloadType: PayloadType.JSON, payload: enc.encode('"forged"') }),
      );
      const forged = await orders.waitForError(5_000);
      assert.equal(forged.code, 'CB_ERR_FORBIDDEN');
      await expectAudit(
        mark,
        'forged reply',
        (e) => e.action === 'reply' && e.outcome === 'denied' && e.target === `${inbox}.32` && e.actor.app === 'orders',
      );
      // Nor may the real server answer twice, nor may anyone publish into an inbox.
      mark = auditMark();
      await server.sendEnvelope(
        envelope(Kind.REPLY, { id: 33, topic: `${inbox}.31`, payloadType: PayloadType.JSON, payload: enc.encode('"twice"') }),
      );
      assert.equal((await server.waitForError(5_000)).code, 'CB_ERR_FORBIDDEN');
      await expectForbidden(
        orders,
        envelope(Kind.PUBLISH, { id: 34, topic: `${inbox}.34`, payloadType: PayloadType.JSON, payload: enc.encode('"pushed"') }),
      );
      // A request whose replies would land in someone else's inbox.
      await orders.sendEnvelope(
        envelope(Kind.REQUEST, {
          id: 35,
          topic: 'billing.quote',
          replyTo: `${inbox}.35`,
          payloadType: PayloadType.JSON,
          payload: enc.encode('1'),
        }),
      );
      assert.equal(
        (await orders.waitForControl((e) => e.kind === Kind.ERROR && e.id === 35, 5_000, 'the answer to the redirected request')).kind,
        Kind.ERROR,
      );
      assert.equal(decodeErrorPayload(orders.controls.find((e) => e.kind === Kind.ERROR && e.id === 35)!).code, 'CB_ERR_FORBIDDEN');
      // Inbox snooping: even an app that may subscribe to `>` cannot subscribe to inboxes.
      await expectForbidden(orders, envelope(Kind.SUBSCRIBE, { id: 36, sid: 1, topic: '_INBOX.>' }));
      await expectForbidden(server, envelope(Kind.SUBSCRIBE, { id: 37, sid: 2, topic: '_INBOX.>' }));
      await expectForbidden(server, envelope(Kind.SUBSCRIBE, { id: 38, sid: 3, topic: `${inbox}.>` }));
      await expectAudit(
        mark,
        'inbox subscribe denied',
        (e) => e.action === 'subscribe' && e.outcome === 'denied' && e.target === '_INBOX.>',
      );
      await assertHubServesOthers();
      // Every forged reply was answered with an error, so the hub had routed it if it ever would: a
      // PONG to the requester comes after any such delivery.
      await requester.roundTrip();
      assert.equal(requester.messages.length, 1, 'the requester got the genuine reply only');
      assert.equal(new TextDecoder().decode(requester.messages[0]!.payload), '"pong"');
      assert.ok(orders.isOpen && server.isOpen && requester.isOpen, 'refused operations keep the connections');

      // A legitimate exchange needs no extra grant: orders may request billing.*, billing serves it.
      const billing = await openBus(hub.url, { name: 'billing', secret: doc.apps.billing.secret, reconnect: false });
      const ordersBus = await openBus(hub.url, { name: 'orders', secret: doc.apps.orders.secret, reconnect: false });
      await billing.serve<{ n: number }>('billing.*', (m) => ({ quote: m.data.n * 2, topic: m.topic })).ready;
      assert.deepEqual(await ordersBus.request('billing.quote', { n: 21 }), { quote: 42, topic: 'billing.quote' });
      await closeBus(billing);
      await closeBus(ordersBus);
      for (const c of [requester, server, orders]) c.close();
    },
  );

  test(
    '14. rate limit: the 6th publish -> CB_ERR_RATE_LIMITED with retryAfterMs, connection kept; hammering -> CB_ERR_ABUSIVE, close 4004',
    T,
    async (t) => {
      const lim = await openBus(hub.url, { name: 'limited', secret: secrets.limited, reconnect: false });
      let mark = auditMark();
      // All six go out in one batch, so the bucket (burst 5, 5/s) has no time to refill.
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => lim.publish('lim.a', i, { ack: true })));
      assert.deepEqual(
        results.slice(0, 5).map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
      );
      const sixth = results[5]!;
      assert.equal(sixth.status, 'rejected');
      const err = (sixth as PromiseRejectedResult).reason as CrossbusError;
      assert.equal(err.code, 'CB_ERR_RATE_LIMITED');
      assert.equal(err.retryable, true);
      const retryAfterMs = err.details?.retryAfterMs as number;
      assert.ok(typeof retryAfterMs === 'number' && retryAfterMs > 0 && retryAfterMs <= 1_000, `retryAfterMs ${retryAfterMs}`);
      await expectAudit(
        mark,
        'rate-limit',
        (e) =>
          e.action === 'rate-limit' &&
          e.outcome === 'denied' &&
          e.actor.app === 'limited' &&
          e.target === 'lim.a' &&
          /^CB_ERR_RATE_LIMITED/.test(e.reason ?? ''),
      );
      assert.equal(lim.state, 'connected');
      await sleep(retryAfterMs + 20);
      await lim.publish('lim.a', 'after the wait', { ack: true });
      await until(() => observed.get('lim.a') === 6, 5_000, 'the 6 admitted lim.a messages');
      await closeBus(lim);

      // Abuse: 200 publishes without waiting for anything, one batch.
      mark = auditMark();
      const raw = await RawClient.handshake(hub.url, 'limited', { secret: secrets.limited });
      const burst = new Uint8Array(Buffer.concat(Array.from({ length: 200 }, (_, i) => publishFrame('lim.b', i))));
      await raw.send(burst);
      const close = await raw.waitForClose(5_000);
      assert.equal(close.code, CLOSE_REVOKED, `close ${JSON.stringify(close)}`);
      assert.equal(close.reason, 'CB_ERR_ABUSIVE');
      const codes = raw.errors().map((e) => e.code);
      assert.equal(codes.at(-1), 'CB_ERR_ABUSIVE', `the last error is CB_ERR_ABUSIVE (${codes.length} errors)`);
      assert.ok(codes.slice(0, -1).every((c) => c === 'CB_ERR_RATE_LIMITED') && codes.length > 2, 'rate limited before that');
      assert.ok(codes.length < 60, `cut off at the abuse threshold, not after all 200 (${codes.length} errors)`);
      t.diagnostic(`6th publish: retry after ${retryAfterMs} ms; hammering: ${codes.length - 1} CB_ERR_RATE_LIMITED, then CB_ERR_ABUSIVE`);
      await expectAudit(
        mark,
        'abuse',
        (e) => e.action === 'abuse' && e.outcome === 'denied' && e.actor.app === 'limited' && /^CB_ERR_ABUSIVE/.test(e.reason ?? ''),
      );
      await assertHubServesOthers();
      assert.ok((observed.get('lim.b') ?? 0) <= 5, `at most a refill's worth of lim.b got through (${observed.get('lim.b') ?? 0})`);
    },
  );

  test(
    '15. revocation while connected: a removed grant ends the subscription (CB_ERR_FORBIDDEN), a removed app ends the session (CB_ERR_REVOKED)',
    T,
    async () => {
      const configPath = join(hub.dataDir, 'crossbus.config.json');
      const original = readFileSync(configPath, 'utf8');
      const bus = await openBus(hub.url, { name: 'revokable', secret: secrets.revokable, reconnect: false });
      const busErrors: string[] = [];
      bus.on('error', (e) => busErrors.push(e.error.code));
      const feed: unknown[] = [];
      const rev: unknown[] = [];
      const feedSub: Subscription = bus.subscribe('feed.>', (m) => void feed.push(m.data));
      const revSub = bus.subscribe('rev.>', (m) => void rev.push(m.data));
      await feedSub.ready;
      await revSub.ready;
      const raw = await RawClient.handshake(hub.url, 'revokable', { secret: secrets.revokable });
      await watchPublisher.publish('feed.a', 1, { ack: true });
      await until(() => feed.length === 1, 5_000, 'feed before the change');

      try {
        // (a) Take the feed.> grant away from the role, then reload (`crossbus reload`).
        let mark = auditMark();
        const cfg = JSON.parse(original) as { apps: Record<string, unknown>; roles: Record<string, { subscribe: string[] }> };
        cfg.roles.rev!.subscribe = ['rev.>'];
        writeFileSync(configPath, JSON.stringify(cfg, null, 2), { mode: 0o600 });
        const reload = await runCli(['reload', '--data', hub.dataDir]);
        assert.equal(reload.code, 0, reload.stderr);
        await expectAudit(mark, 'config-reload', (e) => e.action === 'config-reload' && e.outcome === 'success');
        await until(() => feedSub.closed, 5_000, 'the feed subscription to end');
        assert.equal(feedSub.error?.code, 'CB_ERR_FORBIDDEN');
        await expectAudit(
          mark,
          'subscription ended',
          (e) =>
            e.action === 'subscribe' && e.outcome === 'denied' && e.target === 'feed.>' && /after a config change/.test(e.reason ?? ''),
        );
        // The connection stays up; the remaining grant still works.
        assert.equal(bus.state, 'connected');
        await watchPublisher.publish('rev.a', 2, { ack: true });
        await watchPublisher.publish('feed.b', 3, { ack: true });
        await until(() => rev.length === 1, 5_000, 'rev.> still delivered');
        await assertHubServesOthers();
        assert.deepEqual(feed, [1], 'nothing more on the ended subscription');

        // (b) Remove the app and reload (SIGHUP this time).
        mark = auditMark();
        delete cfg.apps.revokable;
        delete (cfg.roles as Record<string, unknown>).rev;
        writeFileSync(configPath, JSON.stringify(cfg, null, 2), { mode: 0o600 });
        hub.proc.kill('SIGHUP');
        await expectAudit(mark, 'config-reload', (e) => e.action === 'config-reload' && e.outcome === 'success');
        const closed = await raw.waitForClose(5_000);
        assert.equal(closed.code, CLOSE_REVOKED);
        assert.deepEqual(
          raw.errors().map((e) => e.code),
          ['CB_ERR_REVOKED'],
        );
        await until(() => bus.state === 'closed', 5_000, 'the real client to be closed');
        assert.ok(busErrors.includes('CB_ERR_REVOKED'), `the client reported CB_ERR_REVOKED (${busErrors.join(', ')})`);
        await expectAudit(
          mark,
          'revoke',
          (e) => e.action === 'revoke' && e.outcome === 'denied' && e.actor.app === 'revokable' && /^CB_ERR_REVOKED/.test(e.reason ?? ''),
        );
        // And the app can no longer connect at all.
        const again = await refusedHandshake('revokable', secrets.revokable);
        assertRefused(again, 'CB_ERR_AUTH_FAILED');
        await assertHubServesOthers();
      } finally {
        writeFileSync(configPath, original, { mode: 0o600 });
        const m = auditMark();
        hub.proc.kill('SIGHUP');
        await expectAudit(m, 'config restored', (e) => e.action === 'config-reload' && e.outcome === 'success');
      }
    },
  );

  test('16. disallowed and null origins -> HTTP 403 at the upgrade, audited; the exact allowed origin is accepted', T, async () => {
    const upgrade = (origin: string): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(hub.url, { headers: { Origin: origin } });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          resolve(101);
          ws.terminate();
        });
        ws.on('error', (err) => reject(err));
      });
    for (const origin of [
      'http://evil.example',
      'null',
      'http://allowed.example.evil.net',
      'https://allowed.example',
      'http://allowed.example:8080',
      // Browsers send Origin normalized; a header in another form is not the listed origin.
      'HTTP://ALLOWED.EXAMPLE',
      'http://Allowed.example',
      'http://allowed.example:80',
    ]) {
      const mark = auditMark();
      assert.equal(await upgrade(origin), 403, `origin ${origin} refused`);
      await expectAudit(
        mark,
        `origin ${origin}`,
        (e) =>
          e.action === 'origin' &&
          e.outcome === 'denied' &&
          e.target === origin &&
          e.actor.origin === origin &&
          /^CB_ERR_ORIGIN_REFUSED/.test(e.reason ?? ''),
      );
    }
    // The allowed origin (exact match, as browsers send it) gets in, and must still authenticate.
    assert.equal(await upgrade('http://allowed.example'), 101);
    class AllowedOriginWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { headers: { Origin: 'http://allowed.example' } });
      }
    }
    const AllowedWS = AllowedOriginWebSocket as unknown as ConnectOptions['WebSocket'];
    const mark = auditMark();
    const page = await openBus(hub.url, { name: 'test', secret: doc.apps.test.secret, WebSocket: AllowedWS, reconnect: false });
    await expectAudit(
      mark,
      'auth from the allowed origin',
      (e) => e.action === 'auth' && e.outcome === 'success' && e.actor.origin === 'http://allowed.example',
    );
    await page.publish('watch.from-page', -1, { ack: true });
    await closeBus(page);
    await rejectsWithCode(
      connect(hub.url, { name: 'test', WebSocket: AllowedWS, reconnect: false, timeoutMs: 5_000 }),
      'CB_ERR_AUTH_REQUIRED',
    );
    await assertHubServesOthers();
  });

  test(
    '17. tampering with the audit log is detected by `crossbus audit verify`: an edited field, a deleted line, swapped lines',
    T,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'crossbus-audit-'));
      const copy = join(dir, 'audit.jsonl');
      copyFileSync(auditFile(), copy);
      const text = readFileSync(copy, 'utf8');
      const lines = text.split('\n').filter((l) => l !== '');
      assert.ok(lines.length >= 20, `a log with some history (${lines.length} lines)`);
      const ok = await runCli(['audit', 'verify', '--file', copy]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`audit log intact: ${lines.length} entries`));

      const mid = Math.floor(lines.length / 2); // 0-based; line number mid + 1
      const write = (ls: string[]): void => writeFileSync(copy, `${ls.join('\n')}\n`);
      const verify = async (): Promise<{ code: number | null; line: number }> => {
        const r = await runCli(['audit', 'verify', '--file', copy]);
        const m = /BROKEN at line (\d+)/.exec(r.stderr);
        assert.ok(m, `names the line: ${r.stderr}`);
        return { code: r.code, line: Number(m[1]) };
      };

      const edited = [...lines];
      const original = edited[mid]!;
      edited[mid] = original.replace(/"outcome":"(\w+)"/, (_, o: string) => `"outcome":"${o === 'success' ? 'failure' : 'success'}"`);
      assert.notEqual(edited[mid], original);
      write(edited);
      assert.deepEqual(await verify(), { code: 1, line: mid + 1 });

      write(lines.filter((_, i) => i !== mid));
      assert.deepEqual(await verify(), { code: 1, line: mid + 1 });

      const swapped = [...lines];
      [swapped[mid], swapped[mid + 1]] = [swapped[mid + 1]!, swapped[mid]!];
      write(swapped);
      assert.deepEqual(await verify(), { code: 1, line: mid + 1 });

      // The hub's own log is untouched and still verifies.
      const live = await runCli(['audit', 'verify', '--data', hub.dataDir]);
      assert.equal(live.code, 0, live.stderr);
      await assertHubServesOthers();
    },
  );
});
