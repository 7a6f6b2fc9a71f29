/**
 * The security CLI against REAL hub processes: `crossbus keys rotate` (grace period, immediate
 * expiry), `crossbus consent list|grant|deny|revoke` for `ask` grants (persisted across a restart,
 * timeouts), and the default config a hub creates for itself. Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus, Subscription } from '../../src/node/index.js';
import { connect } from '../../src/node/index.js';
import { CLOSE_REVOKED } from '../../src/core/transport/transport.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { restartOnPort, runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { expectAudit, readAudit } from '../helpers/audit-file.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { RawClient } from '../helpers/raw-ws.js';
import { secret as newSecret, testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 30_000 };

/** Reports how a promise settled, without waiting longer than `ms`. */
async function settledWithin<V>(p: Promise<V>, ms: number): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p.then(
        () => 'fulfilled' as const,
        () => 'rejected' as const,
      ),
      new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------ key rotation

describe('crossbus keys rotate against a running hub', () => {
  let hub: HubProcess;
  let oldSecret: string;
  let k2Secret: string;
  /** Sessions opened on the first key (k1), before any rotation. */
  let oldBus: Bus;
  const oldBusErrors: string[] = [];
  let oldRaw: RawClient;

  before(async () => {
    hub = await startHubProcess();
    oldSecret = hub.config!.apps.orders.secret;
    oldBus = await openBus(hub.url, { name: 'orders', secret: oldSecret, reconnect: false });
    oldBus.on('error', (e) => oldBusErrors.push(e.error.code));
    oldRaw = await RawClient.handshake(hub.url, 'orders', { secret: oldSecret });
  });

  after(async () => {
    await hub?.stop();
  });

  async function rotate(extra: string[] = []): Promise<{ keyId: string; secret: string; stdout: string }> {
    const mark = readAudit(hub).length;
    const r = await runCli(['keys', 'rotate', 'orders', '--data', hub.dataDir, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const m = /new key (\S+) for app orders:\n(\S+)\n/.exec(r.stdout);
    assert.ok(m, `prints the new key: ${r.stdout}`);
    assert.match(r.stdout, /the hub \(pid \d+\) reloads its config now/);
    await expectAudit(hub, mark, 'config-reload after the rotation', (e) => e.action === 'config-reload' && e.outcome === 'success');
    return { keyId: m[1] as string, secret: m[2] as string, stdout: r.stdout };
  }

  test('rotate prints a fresh secret; clients with the new and (during the grace period) the old secret connect', T, async () => {
    const r = await rotate();
    k2Secret = r.secret;
    assert.equal(r.keyId, 'k2');
    assert.equal(Buffer.from(r.secret, 'base64').length, 32);
    assert.notEqual(r.secret, oldSecret);
    assert.match(r.stdout, /earlier keys stay valid until \d{4}-\d\d-\d\dT/);
    const configPath = join(hub.dataDir, 'crossbus.config.json');
    assert.equal(statSync(configPath).mode & 0o777, 0o600, 'the rewritten config is still 0600');
    const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as {
      apps: { orders: { secrets: Array<{ id: string; expiresAt?: string }> } };
    };
    assert.deepEqual(
      cfg.apps.orders.secrets.map((k) => k.id),
      ['k1', 'k2'],
    );
    assert.ok(
      cfg.apps.orders.secrets[0]!.expiresAt !== undefined && cfg.apps.orders.secrets[1]!.expiresAt === undefined,
      'k1 expires, k2 does not',
    );

    const fresh = await openBus(hub.url, { name: 'orders', secret: r.secret, reconnect: false });
    await fresh.publish('orders.rotated', 'new', { ack: true });
    const old = await openBus(hub.url, { name: 'orders', secret: oldSecret, reconnect: false });
    await old.publish('orders.rotated', 'old', { ack: true });
    await closeBus(fresh);
    await closeBus(old);
    // Sessions opened before the rotation carry on.
    assert.equal(oldBus.state, 'connected');
    await oldBus.publish('orders.rotated', 'open session', { ack: true });
    assert.ok(oldRaw.isOpen);
    // The secret went to the operator only.
    assert.ok(!hub.stdout().includes(r.secret) && !hub.stderr().includes(r.secret), 'not in the hub output');
    assert.ok(!readFileSync(join(hub.dataDir, 'audit.jsonl'), 'utf8').includes(r.secret), 'not in the audit log');
  });

  test('--grace-days 0: the earlier keys stop working at once; open sessions on them are closed with CB_ERR_KEY_EXPIRED', T, async () => {
    assert.ok(k2Secret, 'the first rotation ran');
    const k2Bus = await openBus(hub.url, { name: 'orders', secret: k2Secret, reconnect: false });
    const k2Errors: string[] = [];
    k2Bus.on('error', (e) => k2Errors.push(e.error.code));
    const mark = readAudit(hub).length;
    const r = await rotate(['--grace-days', '0']);
    assert.equal(r.keyId, 'k3');

    const closed = await oldRaw.waitForClose(5_000);
    assert.equal(closed.code, CLOSE_REVOKED);
    assert.deepEqual(
      oldRaw.errors().map((e) => e.code),
      ['CB_ERR_KEY_EXPIRED'],
    );
    await until(() => oldBus.state === 'closed' && k2Bus.state === 'closed', 5_000, 'the sessions on k1 and k2 to be closed');
    assert.ok(oldBusErrors.includes('CB_ERR_KEY_EXPIRED'), `k1 session: ${oldBusErrors.join(', ')}`);
    assert.ok(k2Errors.includes('CB_ERR_KEY_EXPIRED'), `k2 session: ${k2Errors.join(', ')}`);
    const revokes = readAudit(hub)
      .slice(mark)
      .filter((e) => e.action === 'revoke' && e.actor.app === 'orders' && /^CB_ERR_KEY_EXPIRED/.test(e.reason ?? ''));
    assert.equal(revokes.length, 3, 'the three sessions are audited');

    await rejectsWithCode(
      connect(hub.url, { name: 'orders', secret: oldSecret, reconnect: false, timeoutMs: 5_000 }),
      'CB_ERR_KEY_EXPIRED',
    );
    await rejectsWithCode(connect(hub.url, { name: 'orders', secret: k2Secret, reconnect: false, timeoutMs: 5_000 }), 'CB_ERR_KEY_EXPIRED');
    const k3 = await openBus(hub.url, { name: 'orders', secret: r.secret, reconnect: false });
    await k3.publish('orders.rotated', 'k3', { ack: true });
    await closeBus(k3);
  });
});

// ------------------------------------------------------------------------------ consent

describe('consent for `ask` grants through the CLI', () => {
  let hub: HubProcess;
  const camSecrets = { cam1: newSecret(), cam2: newSecret(), cam3: newSecret() };
  let publisher: Bus;
  let grantId = '';

  /** The same apps and secrets every time (a restart must keep the credentials), only the timeout varies. */
  const base = testConfigDocument();
  function consentConfig(consentTimeoutMs: number): ReturnType<typeof testConfigDocument> {
    return {
      ...base,
      apps: {
        ...base.apps,
        cam1: { secret: camSecrets.cam1, roles: ['camera'] },
        cam2: { secret: camSecrets.cam2, roles: ['camera'] },
        cam3: { secret: camSecrets.cam3, roles: ['camera'] },
      } as never,
      roles: { ...(base.roles as Record<string, unknown>), camera: { subscribe: [{ pattern: 'camera.>', ask: true }] } },
      limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
      security: { consentTimeoutMs },
    };
  }

  /** A camera app's client. Its op timeout is shorter than a person takes: a SUBSCRIBE held for consent must still settle when the answer comes. */
  function cam(name: 'cam1' | 'cam2' | 'cam3'): Promise<Bus> {
    return openBus(hub.url, { name, secret: camSecrets[name], reconnect: false, requestTimeoutMs: 1_000 });
  }

  interface ConsentList {
    pending: Array<{ id: string; app: string; action: string; pattern: string; target: string }>;
    decisions: Array<{ id: string; app: string; action: string; pattern: string; decision: string }>;
  }

  async function consentList(): Promise<ConsentList> {
    const r = await runCli(['consent', 'list', '--data', hub.dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ConsentList;
  }

  /** Polls `crossbus consent list` until `app` has a pending request; returns its id. */
  async function pendingId(app: string): Promise<string> {
    let id: string | undefined;
    await until(
      async () => (id = (await consentList()).pending.find((p) => p.app === app && p.pattern === 'camera.>')?.id) !== undefined,
      8_000,
      `a pending consent request of ${app}`,
    );
    return id as string;
  }

  async function consentCli(op: 'grant' | 'deny' | 'revoke', id: string): Promise<void> {
    const r = await runCli(['consent', op, id, '--data', hub.dataDir, '--by', 'test-operator']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sent to the hub \(pid \d+\)/);
  }

  before(async () => {
    // Long enough for a person (here: CLI runs) to answer; the restart below shortens it.
    hub = await startHubProcess([], { config: consentConfig(30_000) });
    publisher = await openBus(hub.url, { name: 'publisher', reconnect: false });
  });

  after(async () => {
    await hub?.stop();
  });

  test('a held subscription is listed as pending; `consent grant` lets it through and messages flow', T, async () => {
    const mark = readAudit(hub).length;
    const bus = await cam('cam1');
    const got: unknown[] = [];
    const sub = bus.subscribe('camera.>', (m) => void got.push(m.data));
    const id = await pendingId('cam1');
    const human = await runCli(['consent', 'list', '--data', hub.dataDir]);
    assert.match(human.stdout, new RegExp(`Pending consent requests \\(1\\):[\\s\\S]*${id}\\s+cam1\\s+subscribe\\s+camera\\.>`));
    assert.equal(await settledWithin(sub.ready, 50), 'pending', 'held until a person decides');
    await publisher.publish('camera.front', 'before', { ack: true });

    await consentCli('grant', id);
    await sub.ready;
    grantId = id;
    await publisher.publish('camera.front', 'after', { ack: true });
    await until(() => got.length === 1, 5_000, 'a message after the grant');
    assert.deepEqual(got, ['after'], 'nothing was delivered while the subscription was held');
    assert.deepEqual(
      (await consentList()).decisions.map((d) => [d.id, d.app, d.decision]),
      [[id, 'cam1', 'granted']],
    );
    await expectAudit(
      hub,
      mark,
      'consent requested',
      (e) => e.action === 'consent' && e.target === id && e.reason === 'requested' && e.actor.app === 'cam1',
    );
    const granted = await expectAudit(
      hub,
      mark,
      'consent granted',
      (e) => e.action === 'consent' && e.target === id && e.outcome === 'success' && e.reason === 'granted',
    );
    assert.equal(granted.details?.by, 'test-operator');
    await closeBus(bus);
  });

  test('`consent deny` refuses the held subscription with CB_ERR_CONSENT_DENIED', T, async () => {
    const mark = readAudit(hub).length;
    const bus = await cam('cam2');
    const sub = bus.subscribe('camera.>');
    const id = await pendingId('cam2');
    await consentCli('deny', id);
    await rejectsWithCode(sub.ready, 'CB_ERR_CONSENT_DENIED');
    assert.equal(sub.error?.code, 'CB_ERR_CONSENT_DENIED');
    assert.equal(bus.state, 'connected', 'a refusal keeps the connection');
    await expectAudit(
      hub,
      mark,
      'consent denied',
      (e) => e.action === 'consent' && e.target === id && e.outcome === 'denied' && e.reason === 'denied',
    );
    await closeBus(bus);
  });

  test('decisions persist across a hub restart; `consent revoke` ends the live subscription with CB_ERR_FORBIDDEN', T, async () => {
    assert.ok(grantId, 'the grant test ran');
    // Restart on the same port and data directory, with a short consent timeout for the next test.
    await publisher.close();
    await hub.stop();
    writeFileSync(join(hub.dataDir, 'crossbus.config.json'), JSON.stringify(consentConfig(1_000), null, 2), { mode: 0o600 });
    hub = await restartOnPort(hub.port);
    publisher = await openBus(hub.url, { name: 'publisher', reconnect: false });

    const bus1 = await cam('cam1');
    const got: unknown[] = [];
    const sub1: Subscription = bus1.subscribe('camera.>', (m) => void got.push(m.data));
    assert.equal(await settledWithin(sub1.ready, 3_000), 'fulfilled', 'granted at once: the decision was kept');
    const bus2 = await cam('cam2');
    const sub2 = bus2.subscribe('camera.>');
    assert.equal(await settledWithin(sub2.ready, 3_000), 'rejected', 'denied at once: the decision was kept');
    assert.equal(sub2.error?.code, 'CB_ERR_CONSENT_DENIED');
    assert.deepEqual((await consentList()).pending, [], 'nobody was asked again');
    await publisher.publish('camera.back', 1, { ack: true });
    await until(() => got.length === 1, 5_000, 'delivery after the restart');

    const mark = readAudit(hub).length;
    await consentCli('revoke', grantId);
    await until(() => sub1.closed, 5_000, 'the subscription to end');
    assert.equal(sub1.error?.code, 'CB_ERR_FORBIDDEN');
    assert.equal(bus1.state, 'connected', 'the connection stays');
    await expectAudit(
      hub,
      mark,
      'consent revoked',
      (e) => e.action === 'consent' && e.target === grantId && e.reason === 'revoked' && e.actor.app === 'cam1',
    );
    await expectAudit(
      hub,
      mark,
      'subscription ended',
      (e) => e.action === 'subscribe' && e.outcome === 'denied' && e.actor.app === 'cam1' && e.target === 'camera.>',
    );
    await publisher.publish('camera.back', 2, { ack: true });
    await publisher.flush();
    assert.deepEqual(got, [1], 'nothing after the revocation');
    assert.deepEqual(
      (await consentList()).decisions.map((d) => d.app),
      ['cam2'],
      'the grant is gone, the denial stays',
    );
    await closeBus(bus1);
    await closeBus(bus2);
  });

  test('a request nobody answers times out as CB_ERR_CONSENT_TIMEOUT (consentTimeoutMs 1000)', T, async () => {
    const mark = readAudit(hub).length;
    const bus = await cam('cam3');
    const started = Date.now();
    const sub = bus.subscribe('camera.>');
    const err = await rejectsWithCode(sub.ready, 'CB_ERR_CONSENT_TIMEOUT');
    const waited = Date.now() - started;
    assert.ok(waited >= 900 && waited < 5_000, `timed out after about a second (${waited} ms)`);
    assert.equal(err.retryable, true);
    const entry = await expectAudit(
      hub,
      mark,
      'consent timeout',
      (e) => e.action === 'consent' && e.outcome === 'denied' && e.reason === 'CB_ERR_CONSENT_TIMEOUT' && e.actor.app === 'cam3',
    );
    assert.ok(entry.target);
    const list = await consentList();
    assert.ok(
      !list.pending.some((p) => p.app === 'cam3') && !list.decisions.some((d) => d.app === 'cam3'),
      'a timeout is not stored as a decision',
    );
    await closeBus(bus);
  });
});

// ------------------------------------------------------------------------------ default config

describe('a hub without a config creates one', () => {
  test('prints its path; the file is 0600 with apps admin and app; no secret in the output or the audit log', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossbus-default-'));
    const hub = await startHubProcess(['--data', dir]);
    try {
      const path = join(dir, 'crossbus.config.json');
      assert.ok(hub.stdout().includes(`crossbus hub config: ${path}\n`), hub.stdout());
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const cfg = JSON.parse(readFileSync(path, 'utf8')) as { apps: Record<string, { secret: string; roles: string[] }> };
      assert.deepEqual(Object.keys(cfg.apps).sort(), ['admin', 'app']);
      const admin = cfg.apps.admin!;
      const app = cfg.apps.app!;
      assert.equal(Buffer.from(admin.secret, 'base64').length, 32);
      assert.notEqual(admin.secret, app.secret);

      // Use both secrets (and fail once) so the logs have something to leak, if they would.
      const adminBus = await openBus(hub.url, { name: 'admin', secret: admin.secret, reconnect: false });
      const appBus = await openBus(hub.url, { name: 'app', secret: app.secret, reconnect: false });
      const got: unknown[] = [];
      await adminBus.subscribe('app.>', (m) => void got.push(m.data)).ready;
      await appBus.publish('app.hello', 'hi', { ack: true });
      await until(() => got.length === 1, 5_000, 'a message between the default apps');
      await rejectsWithCode(appBus.publish('admin.x'), 'CB_ERR_FORBIDDEN');
      await rejectsWithCode(
        connect(hub.url, { name: 'app', secret: admin.secret, reconnect: false, timeoutMs: 5_000 }),
        'CB_ERR_AUTH_FAILED',
      );
      await closeBus(adminBus);
      await closeBus(appBus);
      await until(
        () => readAudit(hub).some((e) => e.action === 'auth' && e.outcome === 'failure'),
        5_000,
        'the failed auth in the audit log',
      );

      const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
      for (const [name, s] of [
        ['admin', admin.secret],
        ['app', app.secret],
      ] as const) {
        assert.ok(!hub.stdout().includes(s), `${name} secret not in stdout`);
        assert.ok(!hub.stderr().includes(s), `${name} secret not in stderr`);
        assert.ok(!audit.includes(s), `${name} secret not in the audit log`);
      }
    } finally {
      await hub.stop();
    }
  });
});
