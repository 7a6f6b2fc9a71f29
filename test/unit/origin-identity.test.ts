/**
 * A browser hub identifies apps by the origin their transport vouches for (postMessage, extension
 * ports): no secret, the same roles, deny rules, inboxes and audit events as the Node hub.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import type { Transport, TransportHandlers } from '../../src/core/transport/transport.js';
import { connectWith } from '../../src/client/index.js';
import { createMemoryPair } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { RecordingAudit, secret } from '../helpers/security.js';

/** A memory transport whose hub end reports a vouched origin, as a postMessage port would. */
class Vouched implements Transport {
  readonly kind = 'memory';
  readonly framing = 'message' as const;
  constructor(
    private readonly inner: Transport,
    readonly vouchedOrigin: string | undefined,
  ) {}
  get peer(): string {
    return `vouched:${this.vouchedOrigin}`;
  }
  get origin(): string | undefined {
    return this.vouchedOrigin;
  }
  setHandlers(h: TransportHandlers): void {
    this.inner.setHandlers(h);
  }
  send(chunk: Uint8Array): void {
    this.inner.send(chunk);
  }
  bufferedAmount(): number {
    return this.inner.bufferedAmount();
  }
  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
}

const doc = (extra: Record<string, unknown> = {}) => ({
  apps: {
    editor: { origins: ['http://localhost:7071'], roles: ['editor'] },
    preview: { origins: ['http://127.0.0.1:7072'], roles: ['preview'] },
    node: { secret: secret(), roles: ['editor'] },
  },
  roles: {
    editor: { publish: ['edits.>'], subscribe: ['edits.>', 'preview.>'], request: ['preview.>'] },
    preview: {
      publish: ['preview.>'],
      subscribe: ['edits.>', 'preview.>', 'apps.{app}.>'],
      request: [],
      deny: { subscribe: ['edits.secret.>'] },
    },
  },
  ...extra,
});

function originHub(identifyByOrigin = true) {
  const audit = new RecordingAudit();
  const config = parseHubConfig(doc());
  const security = new HubSecurity({ crypto: createNodeCryptoProvider(), config, audit, identifyByOrigin });
  const broker = new Broker({ heartbeatMs: 0, security });
  const connector = (origin: string | undefined) => async () => {
    const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
    broker.accept(new Vouched(server, origin));
    return client;
  };
  return { audit, security, broker, connector };
}

describe('origin identity (browser hub)', () => {
  test('the vouched origin names the app: grants, deny rules and a private inbox, without a secret', async () => {
    const hub = originHub();
    const editor = await connectWith(hub.connector('http://localhost:7071'), { reconnect: false });
    const preview = await connectWith(hub.connector('http://127.0.0.1:7072'), { reconnect: false });
    const got: unknown[] = [];
    const sub = preview.subscribe('edits.file', (m) => got.push(m.data));
    await sub.ready;
    await editor.publish('edits.file', { line: 1 }, { ack: true });
    await preview.flush();
    assert.deepEqual(got, [{ line: 1 }]);
    // Grants are known to the client (refused locally) and enforced by the hub.
    await rejectsWithCode(preview.publish('edits.file', 1), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(preview.subscribe('edits.secret.x').ready, 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(preview.subscribe('edits.>').ready, 'CB_ERR_FORBIDDEN'); // wider than a deny rule
    await rejectsWithCode(preview.subscribe('>').ready, 'CB_ERR_FORBIDDEN');
    // Request/reply through hub-assigned inboxes.
    preview.serve('preview.render', (m) => ({ rendered: (m.data as { n: number }).n * 2 }));
    await preview.flush();
    assert.deepEqual(await editor.request('preview.render', { n: 21 }), { rendered: 42 });
    const auths = hub.audit.find('auth', 'success');
    assert.deepEqual(
      auths.map((e) => [e.actor.app, e.actor.origin]),
      [
        ['editor', 'http://localhost:7071'],
        ['preview', 'http://127.0.0.1:7072'],
      ],
    );
    await editor.close();
    await preview.close();
    await hub.broker.close(10);
  });

  test('an origin no app lists, or no vouched origin at all, is refused with CB_ERR_ORIGIN_REFUSED and audited', async () => {
    const hub = originHub();
    await rejectsWithCode(
      connectWith(hub.connector('http://evil.example'), { reconnect: false, timeoutMs: 2_000 }),
      'CB_ERR_ORIGIN_REFUSED',
    );
    await rejectsWithCode(
      connectWith(hub.connector('http://localhost:7071.attacker.net'), { reconnect: false, timeoutMs: 2_000 }),
      'CB_ERR_ORIGIN_REFUSED',
    );
    await rejectsWithCode(connectWith(hub.connector('null'), { reconnect: false, timeoutMs: 2_000 }), 'CB_ERR_ORIGIN_REFUSED');
    await rejectsWithCode(connectWith(hub.connector(undefined), { reconnect: false, timeoutMs: 2_000 }), 'CB_ERR_ORIGIN_REFUSED');
    // Compared exactly with the normalized config: browsers report origins normalized, so an
    // origin in any other form is not the app's (no case folding, no default port).
    for (const other of ['HTTP://LOCALHOST:7071', 'http://LocalHost:7071'])
      await rejectsWithCode(connectWith(hub.connector(other), { reconnect: false, timeoutMs: 2_000 }), 'CB_ERR_ORIGIN_REFUSED');
    const failures = hub.audit.find('auth', 'failure');
    assert.equal(failures.length, 6);
    assert.ok(failures.every((e) => e.reason?.startsWith('CB_ERR_ORIGIN_REFUSED')));
    await hub.broker.close(10);
  });

  test('a hub that identifies only by secret (the Node hub) refuses a HELLO without one, whatever the origin', async () => {
    const hub = originHub(false);
    const err = await connectWith(hub.connector('http://localhost:7071'), { reconnect: false, timeoutMs: 2_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err !== undefined, 'refused');
    await hub.broker.close(10);
  });

  test('a reload that drops an app\u2019s origin ends its session with CB_ERR_REVOKED; other sessions stay', async () => {
    const hub = originHub();
    const editor = await connectWith(hub.connector('http://localhost:7071'), { reconnect: false });
    const preview = await connectWith(hub.connector('http://127.0.0.1:7072'), { reconnect: false });
    const closed = new Promise<unknown>((resolve) => preview.on('error', (e) => resolve(e.error)));
    const next = doc();
    (next.apps.preview as { origins: string[] }).origins = ['http://127.0.0.1:7073'];
    hub.security.reload(parseHubConfig(next));
    hub.broker.reapplySecurity();
    const err = (await closed) as { code?: string };
    assert.equal(err?.code, 'CB_ERR_REVOKED');
    await editor.publish('edits.x', 1, { ack: true });
    await editor.close();
    await hub.broker.close(10);
  });

  test('config: origins are normalized and identify one app at most; an app needs a secret or origins', () => {
    const c = parseHubConfig(doc());
    assert.deepEqual(c.apps.get('editor')!.origins, ['http://localhost:7071']);
    assert.deepEqual(c.apps.get('editor')!.keys, []);
    assert.deepEqual(parseHubConfig({ apps: { a: { origins: ['HTTP://Example.COM:80'], roles: [] } } }).apps.get('a')!.origins, [
      'http://example.com',
    ]);
    assert.throws(
      () => parseHubConfig({ apps: { a: { origins: ['http://x.test'], roles: [] }, b: { origins: ['http://x.test'], roles: [] } } }),
      /already identifies app "a"/,
    );
    assert.throws(() => parseHubConfig({ apps: { a: { roles: [] } } }), /needs a "secret", a "secrets" list or "origins"/);
    assert.throws(() => parseHubConfig({ apps: { a: { origins: [], roles: [] } } }), /at least one origin/);
    assert.throws(() => parseHubConfig({ apps: { a: { origins: ['*'], roles: [] } } }), /wildcards/);
  });
});
