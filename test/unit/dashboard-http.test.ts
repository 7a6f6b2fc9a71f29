/**
 * The dashboard on a real hub (in process, real sockets, an injected clock): the page and its
 * headers, the login and the session's API refused without a session, with a forged or missing
 * CSRF token, from a foreign Origin or Host; logins rate limited and sessions bounded at their
 * edges; the bus key that lets the page on the bus while the session lives, and not after.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { ADMIN_CONSENT_LIST } from '../../src/hub/admin-topics.js';
import { startHub, type Hub } from '../../src/hub/hub.js';
import { connect, type Bus } from '../../src/node/index.js';
import { testConfigDocument } from '../helpers/security.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: { error?: { code: string }; csrf?: string; keyId?: string; app?: string; expiresAt?: number };
}

function makeDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-dash-dist-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/dashboard/assets/app-1.js"></script>');
  writeFileSync(join(dir, 'assets', 'app-1.js'), 'export {};');
  return dir;
}

const DOC = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } }) as unknown as {
  apps: Record<string, { secret: string }>;
};
const ADMIN = { app: 'test', secret: DOC.apps.test!.secret };

let t = Date.now();
const clock = { now: () => t };

async function hubWith(dashboard: Record<string, unknown>): Promise<{ hub: Hub; port: number; origin: string }> {
  const hub = await startHub({ host: '127.0.0.1', port: 0, config: DOC, dashboard: { dir: makeDist(), now: clock.now, ...dashboard } });
  return { hub, port: hub.port, origin: `http://127.0.0.1:${hub.port}` };
}

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json = {};
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function cookieOf(r: Reply): string {
  const set = r.headers['set-cookie'];
  const line = Array.isArray(set) ? set[0] : set;
  assert.ok(line, 'a session cookie');
  return line.split(';')[0]!;
}

/** Resolves once the hub said CB_ERR_REVOKED (an ERROR frame) and the bus closed. */
function revokedAndClosed(bus: Bus): Promise<unknown> {
  const told = new Promise<void>((resolve) => bus.on('error', (e) => e.error.code === 'CB_ERR_REVOKED' && resolve()));
  const closed = new Promise<void>((resolve) => bus.on('closed', () => resolve()));
  return Promise.all([told, closed]);
}

const code = (c: string) => (err: unknown) => isCrossbusError(err) && err.code === c;

describe('the dashboard over HTTP', () => {
  let hub: Hub;
  let port = 0;
  let origin = '';
  const buses: Bus[] = [];

  before(async () => {
    ({ hub, port, origin } = await hubWith({ idleTimeoutMs: 60_000, loginAttempts: 1000, sweepIntervalMs: 20 }));
  });
  after(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await hub.close();
  });

  const login = async (who = ADMIN): Promise<{ cookie: string; csrf: string }> => {
    const r = await call(port, 'POST', '/dashboard/api/login', { origin }, who);
    assert.equal(r.status, 200, r.body);
    return { cookie: cookieOf(r), csrf: r.json.csrf! };
  };

  it('serves the page with strict headers, assets cached for good, nothing else under /dashboard/', async () => {
    assert.equal(hub.dashboardUrl, `${origin}/dashboard/`);
    const page = await call(port, 'GET', '/dashboard/');
    assert.equal(page.status, 200);
    const csp = String(page.headers['content-security-policy']);
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", `ws://127.0.0.1:${port}`]) {
      assert.ok(csp.includes(d), d);
    }
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['cache-control'], 'no-store');
    const asset = await call(port, 'GET', '/dashboard/assets/app-1.js');
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await call(port, 'GET', '/dashboard')).status, 308);
    assert.equal((await call(port, 'GET', '/dashboard/../../etc/passwd')).status, 404);
    assert.equal((await call(port, 'GET', '/dashboard/nothing.js')).status, 404);
    assert.equal((await call(port, 'POST', '/dashboard/', { origin })).status, 405);
    assert.equal((await call(port, 'GET', '/healthz')).status, 200, 'the hub endpoints are still served');
  });

  it('answers another Host with 421 (DNS rebinding)', async () => {
    const r = await call(port, 'GET', '/dashboard/', { host: `rebind.test:${port}` });
    assert.equal(r.status, 421);
    assert.equal((await call(port, 'GET', '/dashboard/api/session', { host: `rebind.test:${port}` })).status, 421);
  });

  it('refuses every API request without a session', async () => {
    const secret = randomBytes(32).toString('base64');
    for (const [method, route, body] of [
      ['GET', 'session', undefined],
      ['POST', 'bus-key', { secret }],
      ['POST', 'logout', {}],
    ] as const) {
      const r = await call(port, method, `/dashboard/api/${route}`, { origin, 'x-csrf-token': 'a'.repeat(64) }, body);
      assert.equal(r.status, 401, route);
      assert.equal(r.json.error?.code, 'CB_ERR_AUTH_REQUIRED');
    }
    const forged = await call(port, 'GET', '/dashboard/api/session', { cookie: `cb_dashboard=${'0'.repeat(64)}` });
    assert.equal(forged.status, 401);
  });

  it('logs in an admin: an HttpOnly, SameSite=Strict cookie scoped to /dashboard, no secret in the answer', async () => {
    const r = await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN);
    assert.equal(r.status, 200);
    const set = String(r.headers['set-cookie']);
    assert.match(set, /^cb_dashboard=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/dashboard$/);
    assert.equal(r.json.app, 'test');
    assert.match(r.json.csrf!, /^[0-9a-f]{64}$/);
    assert.ok(!r.body.includes(ADMIN.secret));
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('refuses a login without the page Origin, with a wrong secret, or for an app that is no admin', async () => {
    assert.equal((await call(port, 'POST', '/dashboard/api/login', {}, ADMIN)).json.error?.code, 'CB_ERR_ORIGIN_REFUSED');
    const foreign = await call(port, 'POST', '/dashboard/api/login', { origin: 'http://evil.example' }, ADMIN);
    assert.equal(foreign.status, 403);
    assert.equal(foreign.json.error?.code, 'CB_ERR_ORIGIN_REFUSED');
    const wrong = await call(port, 'POST', '/dashboard/api/login', { origin }, { app: 'test', secret: randomBytes(32).toString('base64') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error?.code, 'CB_ERR_AUTH_FAILED');
    const other = await call(port, 'POST', '/dashboard/api/login', { origin }, { app: 'orders', secret: DOC.apps.orders!.secret });
    assert.equal(other.status, 403);
    assert.equal(other.json.error?.code, 'CB_ERR_FORBIDDEN');
    assert.equal(other.headers['set-cookie'], undefined);
    const bad = await call(port, 'POST', '/dashboard/api/login', { origin }, ['test']);
    assert.equal(bad.json.error?.code, 'CB_ERR_PAYLOAD_INVALID');
  });

  it('refuses a state-changing request with a missing or forged CSRF token, or from another Origin', async () => {
    const { cookie, csrf } = await login();
    const other = await login();
    const secret = randomBytes(32).toString('base64');
    const attempts: Array<[Record<string, string>, string]> = [
      [{ cookie, origin }, 'CB_ERR_FORBIDDEN'],
      [{ cookie, origin, 'x-csrf-token': 'f'.repeat(64) }, 'CB_ERR_FORBIDDEN'],
      [{ cookie, origin, 'x-csrf-token': other.csrf }, 'CB_ERR_FORBIDDEN'],
      [{ cookie, origin, 'x-csrf-token': csrf.slice(0, 63) }, 'CB_ERR_FORBIDDEN'],
      [{ cookie, origin: 'http://evil.example', 'x-csrf-token': csrf }, 'CB_ERR_ORIGIN_REFUSED'],
      [{ cookie, 'x-csrf-token': csrf }, 'CB_ERR_ORIGIN_REFUSED'],
    ];
    for (const [headers, expected] of attempts) {
      for (const route of ['bus-key', 'logout']) {
        const r = await call(port, 'POST', `/dashboard/api/${route}`, headers, { secret });
        assert.equal(r.status, 403, `${route} ${JSON.stringify(headers)}`);
        assert.equal(r.json.error?.code, expected);
      }
    }
    assert.equal((await call(port, 'GET', '/dashboard/api/session', { cookie })).status, 200, 'the session is untouched');
  });

  it('lets the page on the bus with its own key while the session lives; logout closes that connection', async () => {
    const { cookie, csrf } = await login();
    const secret = randomBytes(32);
    const short = await call(
      port,
      'POST',
      '/dashboard/api/bus-key',
      { cookie, origin, 'x-csrf-token': csrf },
      { secret: randomBytes(16).toString('base64') },
    );
    assert.equal(short.json.error?.code, 'CB_ERR_PAYLOAD_INVALID');
    const r = await call(
      port,
      'POST',
      '/dashboard/api/bus-key',
      { cookie, origin, 'x-csrf-token': csrf },
      { secret: secret.toString('base64') },
    );
    assert.equal(r.status, 200, r.body);
    assert.ok(!r.body.includes(secret.toString('base64')), 'the key is never served back');
    const bus = await connect(hub.url, { name: 'test', secret, reconnect: false, timeoutMs: 5_000 });
    buses.push(bus);
    const state = await bus.request<{ pending: unknown[] }>(ADMIN_CONSENT_LIST);
    assert.deepEqual(state.pending, []);
    const closed = revokedAndClosed(bus);
    const out = await call(port, 'POST', '/dashboard/api/logout', { cookie, origin, 'x-csrf-token': csrf }, {});
    assert.equal(out.status, 200);
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
    await closed;
    assert.equal((await call(port, 'GET', '/dashboard/api/session', { cookie })).status, 401);
    await assert.rejects(connect(hub.url, { name: 'test', secret, reconnect: false, timeoutMs: 5_000 }), code('CB_ERR_AUTH_FAILED'));
  });

  it('a session idle for idleTimeoutMs ends at the edge, and the sweep closes its bus connection', async () => {
    const { cookie, csrf } = await login();
    const secret = randomBytes(32);
    await call(port, 'POST', '/dashboard/api/bus-key', { cookie, origin, 'x-csrf-token': csrf }, { secret: secret.toString('base64') });
    const bus = await connect(hub.url, { name: 'test', secret, reconnect: false, timeoutMs: 5_000 });
    buses.push(bus);
    const closed = revokedAndClosed(bus);
    t += 59_999;
    assert.equal((await call(port, 'GET', '/dashboard/api/session', { cookie })).status, 200, '1 ms before the edge (and touched)');
    t += 59_999;
    assert.equal((await call(port, 'GET', '/dashboard/api/session', { cookie })).status, 200);
    t += 60_000;
    await closed;
    assert.equal((await call(port, 'GET', '/dashboard/api/session', { cookie })).status, 401);
  });
});

describe('the dashboard limits', () => {
  it('rate limits logins per address at loginAttempts, right or wrong', async () => {
    const { hub, port, origin } = await hubWith({ loginAttempts: 3, loginWindowMs: 60_000 });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await call(port, 'POST', '/dashboard/api/login', { origin }, { app: 'test', secret: 'wrong' });
        assert.equal(r.status, 401);
      }
      assert.equal((await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN)).status, 200, 'the third');
      const fourth = await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN);
      assert.equal(fourth.status, 429);
      assert.equal(fourth.json.error?.code, 'CB_ERR_RATE_LIMITED');
      assert.equal(fourth.headers['retry-after'], '60');
      t += 60_000;
      assert.equal((await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN)).status, 200, 'the next window');
    } finally {
      await hub.close();
    }
  });

  it('bounds the sessions at maxSessions', async () => {
    const { hub, port, origin } = await hubWith({ maxSessions: 2 });
    try {
      assert.equal((await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN)).status, 200);
      assert.equal((await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN)).status, 200);
      const third = await call(port, 'POST', '/dashboard/api/login', { origin }, ADMIN);
      assert.equal(third.status, 503);
      assert.equal(third.json.error?.code, 'CB_ERR_TOO_MANY_CONNECTIONS');
    } finally {
      await hub.close();
    }
  });

  it('marks the cookie Secure when the dashboard is reached over https', async () => {
    const { hub, port } = await hubWith({ origins: ['https://hub.example'] });
    try {
      const r = await call(port, 'POST', '/dashboard/api/login', { origin: 'https://hub.example', host: 'hub.example' }, ADMIN);
      assert.equal(r.status, 200, r.body);
      assert.match(String(r.headers['set-cookie']), /; Secure$/);
      assert.match(String(r.headers['content-security-policy']), /wss:\/\/hub\.example/);
    } finally {
      await hub.close();
    }
  });

  it('says clearly when the dashboard is not built, and refuses an insecure hub', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'crossbus-dash-none-'));
    await assert.rejects(
      startHub({ port: 0, config: DOC, dashboard: { dir: empty } }),
      (err: unknown) => code('CB_ERR_INVALID_OPTION')(err) && /not built.*npm run build/.test((err as Error).message),
    );
    await assert.rejects(startHub({ port: 0, insecure: true, dashboard: true }), code('CB_ERR_CONFLICTING_OPTIONS'));
    await assert.rejects(startHub({ port: 0, config: DOC, dashboard: { dir: makeDist(), maxSessions: 0 } }), code('CB_ERR_INVALID_OPTION'));
  });
});
