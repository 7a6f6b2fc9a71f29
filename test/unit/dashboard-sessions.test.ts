/**
 * The dashboard's sessions, login limiter and admin check, on an injected clock: idle and absolute
 * expiry at their edges, the bound on sessions, the bus keys that live and die with their session,
 * login attempts per address, the admin grant and the secret's comparison.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkAdminLogin } from '../../src/hub/dashboard/credentials.js';
import { LoginLimiter } from '../../src/hub/dashboard/login-limiter.js';
import { dashboardLimits, DEFAULT_DASHBOARD_IDLE_TIMEOUT_MS, DEFAULT_DASHBOARD_MAX_SESSION_MS } from '../../src/hub/dashboard/options.js';
import { DASHBOARD_KEY_PREFIX, DashboardSessions } from '../../src/hub/dashboard/sessions.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';

const code = (c: string) => (err: unknown) => isCrossbusError(err) && err.code === c;

function sessions(o: { idle?: number; max?: number; maxSessions?: number } = {}) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const limits = dashboardLimits({ idleTimeoutMs: o.idle ?? 1_000, maxSessionMs: o.max ?? 10_000, maxSessions: o.maxSessions ?? 4 });
  return { s: new DashboardSessions(limits, clock.now), clock };
}

describe('dashboard sessions', () => {
  it('have 256-bit random ids and CSRF tokens, different each time', () => {
    const { s } = sessions();
    const a = s.create('admin');
    const b = s.create('admin');
    assert.match(a.id, /^[0-9a-f]{64}$/);
    assert.match(a.csrf, /^[0-9a-f]{64}$/);
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrf, b.csrf);
    assert.notEqual(a.id, a.csrf);
  });

  it('end when idle for idleTimeoutMs: alive 1 ms before, gone at the edge', () => {
    const { s, clock } = sessions({ idle: 1_000 });
    const a = s.create('admin');
    clock.advance(999);
    assert.equal(s.get(a.id), a);
    s.touch(a);
    clock.advance(999);
    assert.equal(s.get(a.id), a, 'touched: the idle clock started again');
    clock.advance(1);
    assert.equal(s.get(a.id), undefined);
    assert.equal(s.size, 0, 'an ended session is removed');
  });

  it('end maxSessionMs after login however busy', () => {
    const { s, clock } = sessions({ idle: 1_000, max: 2_500 });
    const a = s.create('admin');
    for (let i = 0; i < 4; i++) {
      clock.advance(600);
      assert.equal(s.get(a.id), a);
      s.touch(a);
    }
    clock.advance(99); // 2_499 ms after login
    assert.equal(s.get(a.id), a);
    assert.equal(s.expiresAt(a), a.createdAt + 2_500);
    clock.advance(1);
    assert.equal(s.get(a.id), undefined);
  });

  it('are bounded: the one past maxSessions is refused until one ends', () => {
    const { s, clock } = sessions({ maxSessions: 2, idle: 1_000 });
    const a = s.create('admin');
    s.create('admin');
    assert.throws(() => s.create('admin'), code('CB_ERR_TOO_MANY_CONNECTIONS'));
    s.end(a);
    const c = s.create('admin');
    assert.throws(() => s.create('other'), code('CB_ERR_TOO_MANY_CONNECTIONS'));
    clock.advance(1_000);
    assert.equal(s.get(c.id), undefined);
    s.create('admin'); // the expired ones were swept to make room
    s.create('admin');
  });

  it('unknown and missing ids find nothing', () => {
    const { s } = sessions();
    s.create('admin');
    assert.equal(s.get(undefined), undefined);
    assert.equal(s.get(''), undefined);
    assert.equal(s.get('f'.repeat(64)), undefined);
  });

  it('hold a bus key for their app while they live, replaced by the next, dropped at the end', () => {
    const { s, clock } = sessions({ idle: 1_000, max: 10_000 });
    const a = s.create('admin');
    assert.equal(s.busKeysOf('admin'), undefined);
    const secret = randomBytes(32);
    const id1 = s.setBusKey(a, secret);
    assert.ok(id1.startsWith(DASHBOARD_KEY_PREFIX));
    const keys = s.busKeysOf('admin');
    assert.equal(keys?.length, 1);
    assert.deepEqual(keys?.[0]?.secret, new Uint8Array(secret));
    assert.equal(keys?.[0]?.expiresAt, a.createdAt + 10_000);
    assert.equal(s.busKeysOf('other'), undefined);
    const id2 = s.setBusKey(a, randomBytes(32));
    assert.notEqual(id2, id1);
    assert.deepEqual(
      s.busKeysOf('admin')?.map((k) => k.id),
      [id2],
    );
    clock.advance(1_000);
    // Ended but not swept: its key authenticates nothing.
    assert.equal(s.busKeysOf('admin'), undefined);
    const b = s.create('admin');
    s.setBusKey(b, randomBytes(32));
    assert.equal(s.end(b), true, 'it had a key: its connection must be closed');
    assert.equal(s.busKeysOf('admin'), undefined);
    assert.equal(s.end(b), false);
  });

  it('sweep ends every session past its time and counts those with bus keys', () => {
    const { s, clock } = sessions({ idle: 1_000 });
    const a = s.create('admin');
    const b = s.create('admin');
    s.create('admin');
    s.setBusKey(a, randomBytes(32));
    s.setBusKey(b, randomBytes(32));
    clock.advance(500);
    assert.equal(s.sweep(), 0);
    clock.advance(500);
    assert.equal(s.sweep(), 2);
    assert.equal(s.size, 0);
  });

  it('limits default in one place and must be positive whole numbers', () => {
    const d = dashboardLimits({});
    assert.equal(d.idleTimeoutMs, DEFAULT_DASHBOARD_IDLE_TIMEOUT_MS);
    assert.equal(d.maxSessionMs, DEFAULT_DASHBOARD_MAX_SESSION_MS);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => dashboardLimits({ maxSessions: bad }), code('CB_ERR_INVALID_OPTION'));
    }
  });
});

describe('dashboard login attempts', () => {
  it('allows `attempts` per window and address, then says how long to wait', () => {
    let t = 0;
    const l = new LoginLimiter(3, 60_000, () => t);
    for (let i = 0; i < 3; i++) assert.equal(l.attempt('10.0.0.1'), undefined);
    t = 10_000;
    assert.equal(l.attempt('10.0.0.1'), 50_000);
    assert.equal(l.attempt('10.0.0.2'), undefined, 'another address has its own window');
    t = 59_999;
    assert.equal(l.attempt('10.0.0.1'), 1);
    t = 60_000;
    assert.equal(l.attempt('10.0.0.1'), undefined, 'a new window');
  });

  it('tracks a bounded number of addresses', () => {
    const t = 0;
    const l = new LoginLimiter(1, 60_000, () => t, 2);
    l.attempt('a');
    l.attempt('b');
    l.attempt('c'); // forgets a
    assert.equal(l.attempt('a'), undefined);
    assert.notEqual(l.attempt('c'), undefined);
  });
});

describe('dashboard admin check', () => {
  const doc = testConfigDocument() as unknown as {
    apps: Record<string, { secret?: string; secrets?: unknown; roles: string[] }>;
    roles: Record<string, unknown>;
  };
  doc.roles.asker = { publish: [], subscribe: [], request: [{ pattern: '$SYS.REQ.ADMIN.>', ask: true }] };
  const expired = randomBytes(32).toString('base64');
  doc.apps.old = { secrets: [{ id: 'k1', secret: expired, expiresAt: '2020-01-01T00:00:00Z' }], roles: ['all'] };
  doc.apps.asker = { secret: randomBytes(32).toString('base64'), roles: ['asker'] };
  const { security, config } = hubSecurity(doc);
  const now = Date.now();

  it('accepts an admin app with its secret', () => {
    checkAdminLogin(config, security, 'test', doc.apps.test!.secret!, now);
  });

  it('refuses a wrong, malformed or empty secret, and an unknown app, all alike', () => {
    for (const [app, secret] of [
      ['test', randomBytes(32).toString('base64')],
      ['test', doc.apps.orders!.secret!],
      ['test', 'not base64!'],
      ['test', ''],
      ['nobody', doc.apps.test!.secret!],
    ] as const) {
      assert.throws(
        () => checkAdminLogin(config, security, app, secret, now),
        (err: unknown) => code('CB_ERR_AUTH_FAILED')(err) && (err as Error).message === 'authentication failed',
      );
    }
  });

  it('refuses an expired key', () => {
    assert.throws(() => checkAdminLogin(config, security, 'old', expired, now), code('CB_ERR_AUTH_FAILED'));
  });

  it('refuses an app without the admin grant, and one whose grant asks consent', () => {
    assert.throws(() => checkAdminLogin(config, security, 'orders', doc.apps.orders!.secret!, now), code('CB_ERR_FORBIDDEN'));
    assert.throws(() => checkAdminLogin(config, security, 'asker', doc.apps.asker!.secret!, now), code('CB_ERR_FORBIDDEN'));
  });
});
