/**
 * Static web apps served by a real hub (in process, real sockets): each on an origin of its own;
 * the security headers on every kind of answer; traversal refused in every spelling (`..`,
 * encoded separators, NUL, hidden names, symlinks out of the root); the Host check; content
 * types; ETag and 304; and each limit at its edge: file size, concurrent requests, request time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, createServer as netServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub, type Hub } from '../../src/hub/hub.js';
import { DEFAULT_STATIC_FRAME_ANCESTORS, resolveStaticApp, type StaticAppOptions } from '../../src/node/static-apps/index.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { runCli, spawnCli } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';
import { testConfigDocument } from '../helpers/security.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const SECRET = 'the-secret-outside-the-root';
const MAX_FILE = 64 * 1024;

/** One request over a fresh connection. */
function http(url: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Bytes written as they are (paths no client library would send); resolves with the whole answer once the server closes. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(text, 'latin1');
  });
}

function rawGet(port: number, path: string, host = `127.0.0.1:${port}`): Promise<string> {
  return raw(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

const SECURITY_HEADERS = [
  'content-security-policy',
  'x-content-type-options',
  'referrer-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'permissions-policy',
  'cache-control',
];

function assertSecure(r: Reply, what: string): void {
  for (const h of SECURITY_HEADERS) assert.ok(r.headers[h] !== undefined, `${what}: ${h} missing`);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.equal(r.headers['x-powered-by'], undefined);
  assert.ok(!r.body.includes('/tmp') && !r.body.includes(SECRET), `${what}: the body names no path`);
}

/** A raw answer's headers, lower-cased. */
function rawHeaders(answer: string): Record<string, string> {
  const head = answer.split('\r\n\r\n')[0] ?? '';
  return Object.fromEntries(
    head
      .split('\r\n')
      .slice(1)
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

function makeRoot(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'crossbus-static-'));
  const root = join(base, 'app');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(base, 'secret.txt'), SECRET);
  writeFileSync(join(root, 'index.html'), '<!doctype html><script src="app.js"></script>');
  writeFileSync(join(root, 'app.js'), 'console.log(1);');
  writeFileSync(join(root, 'style.CSS'), 'body{}');
  writeFileSync(join(root, 'data.json'), '{}');
  writeFileSync(join(root, 'logo.svg'), '<svg/>');
  writeFileSync(join(root, 'mod.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(root, 'blob.xyz'), 'x');
  writeFileSync(join(root, 'noext'), 'x');
  writeFileSync(join(root, '.env'), SECRET);
  writeFileSync(join(root, 'at-limit.bin'), Buffer.alloc(MAX_FILE, 1));
  writeFileSync(join(root, 'past-limit.bin'), Buffer.alloc(MAX_FILE + 1, 1));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'page.html'), '<p>sub</p>');
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs', 'index.html'), '<p>docs</p>');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
  symlinkSync(outside, join(root, 'dir-out'));
  symlinkSync(join(root, 'app.js'), join(root, 'link-in.js'));
  execFileSync('mkfifo', [join(root, 'fifo.html')]);
  return { root, outside };
}

describe('static apps served by the hub', { timeout: 60_000 }, () => {
  let hub: Hub;
  let root = '';
  let app = '';
  let port = 0;
  let socketServer: NetServer;

  before(async () => {
    ({ root } = makeRoot());
    // A Unix socket in the folder: realpath finds it, open() fails (ENXIO): a read error.
    socketServer = netServer();
    await new Promise<void>((resolve) => socketServer.listen(join(root, 'sock.html'), resolve));
    hub = await startHub({
      port: 0,
      insecure: true,
      staticApps: [
        { name: 'app', root, maxFileBytes: MAX_FILE, hostNames: ['app.test'] },
        { name: 'framed', root, frameAncestors: ['https://portal.example', "'self'"], csp: { 'img-src': "'self' data:" } },
      ],
    });
    app = hub.staticApps[0]!.url;
    port = Number(new URL(app).port);
  });

  after(async () => {
    await hub?.close();
    await new Promise<void>((resolve) => socketServer?.close(() => resolve()));
  });

  it('serves each app on an origin of its own, apart from the hub and each other', async () => {
    assert.deepEqual(
      hub.staticApps.map((a) => a.name),
      ['app', 'framed'],
    );
    const ports = new Set([hub.port, ...hub.staticApps.map((a) => Number(new URL(a.url).port))]);
    assert.equal(ports.size, 3);
    assert.equal((await http(`${app}metrics`)).status, 404, "the hub's /metrics is not on the app's origin");
    const onHub = await http(`http://127.0.0.1:${hub.port}/index.html`);
    assert.notEqual(onHub.status, 200, "the app's files are not on the hub's");
    assert.ok(!onHub.body.includes('<script'));
  });

  it('answers 200 with the strict headers, the default CSP and an ETag', async () => {
    const r = await http(app);
    assert.equal(r.status, 200);
    assertSecure(r, '200');
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.body, '<!doctype html><script src="app.js"></script>');
    assert.equal(
      r.headers['content-security-policy'],
      `default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; ` +
        `connect-src 'self' ws://127.0.0.1:${hub.port} ws://localhost:${hub.port}`,
    );
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(String(r.headers.etag), /^W\/"[0-9a-z-]+"$/);
  });

  it('an app that may be framed names its embedders, and lets its sandboxed frame load its files', async () => {
    const r = await http(hub.staticApps[1]!.url);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /frame-ancestors https:\/\/portal\.example 'self'(;|$)/);
    assert.match(csp, /img-src 'self' data:/);
    assert.equal(r.headers['x-frame-options'], undefined);
    assert.equal(r.headers['cross-origin-resource-policy'], 'cross-origin');
  });

  it('answers HEAD with the same headers and no body', async () => {
    const r = await http(`${app}app.js`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assertSecure(r, 'HEAD');
    assert.equal(r.headers['content-length'], String('console.log(1);'.length));
    assert.equal(r.body, '');
  });

  it('answers 304 to a matching If-None-Match (strong, weak, in a list, or *), with the headers and no body', async () => {
    const etag = String((await http(`${app}app.js`)).headers.etag);
    for (const given of [etag, etag.slice(2), `"nope", ${etag}`, '*']) {
      const r = await http(`${app}app.js`, { headers: { 'if-none-match': given } });
      assert.equal(r.status, 304, given);
      assertSecure(r, '304');
      assert.equal(r.headers.etag, etag);
      assert.equal(r.body, '');
    }
    assert.equal((await http(`${app}app.js`, { headers: { 'if-none-match': 'W/"other"' } })).status, 200);
    writeFileSync(join(root, 'changing.js'), 'a');
    const before = String((await http(`${app}changing.js`)).headers.etag);
    writeFileSync(join(root, 'changing.js'), 'ab');
    const changed = await http(`${app}changing.js`, { headers: { 'if-none-match': before } });
    assert.equal(changed.status, 200, 'a changed file is a new version');
    assert.equal(changed.body, 'ab');
  });

  it('answers 404 (no-store) for missing files, folders (no listing) and hidden names', async () => {
    for (const path of ['missing.js', 'sub', 'sub/', '.env', '%2Eenv', 'fifo.html']) {
      const r = await http(`${app}${path}`);
      assert.equal(r.status, 404, path);
      assertSecure(r, `404 ${path}`);
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.ok(!r.body.includes('page.html'), 'no listing');
    }
    assert.equal((await http(`${app}docs/`)).body, '<p>docs</p>', "a folder's index.html is served at its /");
  });

  it('answers 405 with Allow to every method but GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await http(app, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
      assertSecure(r, `405 ${method}`);
    }
  });

  it('serves a file of maxFileBytes, and answers 413 to one byte more', async () => {
    const at = await http(`${app}at-limit.bin`);
    assert.equal(at.status, 200);
    assert.equal(at.headers['content-length'], String(MAX_FILE));
    const past = await http(`${app}past-limit.bin`);
    assert.equal(past.status, 413);
    assertSecure(past, '413');
  });

  it('answers 500 to a file that cannot be read, naming no path', async () => {
    const r = await http(`${app}sock.html`);
    assert.equal(r.status, 500);
    assertSecure(r, '500');
    assert.equal(r.body, 'the file could not be read\n');
  });

  it('sends each file with its content type; an unknown one as octet-stream, with nosniff', async () => {
    const cases: Record<string, string> = {
      'app.js': 'text/javascript; charset=utf-8',
      'style.CSS': 'text/css; charset=utf-8',
      'data.json': 'application/json',
      'logo.svg': 'image/svg+xml',
      'mod.wasm': 'application/wasm',
      'blob.xyz': 'application/octet-stream',
      noext: 'application/octet-stream',
    };
    for (const [path, type] of Object.entries(cases)) {
      const r = await http(`${app}${path}`);
      assert.equal(r.headers['content-type'], type, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('refuses every spelling of a way out of the root', async () => {
    const attempts = [
      '/../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/%2E%2E/secret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/..%2fsecret.txt',
      '/..%5csecret.txt',
      '/sub%2f..%2f..%2fsecret.txt',
      '/..\\secret.txt',
      '/sub\\..\\..\\secret.txt',
      '/index.html%00.js',
      '/%00',
      '/%ff%fe',
      '//secret.txt',
      '/sub//page.html',
      '/./index.html',
      '/%2e/index.html',
      'http://127.0.0.1/../secret.txt',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/dir-out/',
    ];
    for (const path of attempts) {
      const answer = await rawGet(port, path);
      const status = statusOf(answer);
      assert.ok(status === 400 || status === 404, `${path}: ${status}`);
      assert.ok(!answer.includes(SECRET), `${path} leaked the file`);
      assert.ok(rawHeaders(answer)['content-security-policy'] !== undefined, `${path}: headers`);
    }
    // A raw NUL byte in the request line: refused by the parser, with the app's headers still.
    const nul = await raw(port, `GET /index.html\0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    assert.equal(statusOf(nul), 400);
    assert.equal(rawHeaders(nul)['x-content-type-options'], 'nosniff');
    // A symlink that stays inside the root is fine.
    assert.equal((await http(`${app}link-in.js`)).body, 'console.log(1);');
  });

  it("answers 421 to a Host that is not one of the app's names (DNS rebinding)", async () => {
    for (const host of ['evil.test', `evil.test:${port}`, `127.0.0.1:${port + 1}`, `app.test:${port + 1}`]) {
      const r = await http(app, { headers: { host } });
      assert.equal(r.status, 421, host);
      assertSecure(r, `421 ${host}`);
    }
    assert.equal(statusOf(await raw(port, 'GET / HTTP/1.0\r\n\r\n')), 421, 'no Host at all');
    for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, `app.test:${port}`]) {
      assert.equal((await http(app, { headers: { host } })).status, 200, host);
    }
  });

  it('is closed with the hub', async () => {
    const other = await startHub({ port: 0, insecure: true, staticApps: [{ name: 'x', root }] });
    const url = other.staticApps[0]!.url;
    assert.equal((await http(url)).status, 200);
    await other.close();
    await assert.rejects(http(url), /ECONNREFUSED/);
  });
});

describe('static app limits at their edges', { timeout: 60_000 }, () => {
  let hub: Hub;
  let port = 0;
  const TIMEOUT = 1_000;

  before(async () => {
    const { root } = makeRoot();
    // Bigger than what loopback's socket buffers hold, so a client that does not read holds its request open.
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(48 * 1024 * 1024, 7));
    hub = await startHub({
      port: 0,
      insecure: true,
      staticApps: [{ name: 'app', root, maxConcurrentRequests: 2, requestTimeoutMs: TIMEOUT, maxFileBytes: 64 * 1024 * 1024 }],
    });
    port = Number(new URL(hub.staticApps[0]!.url).port);
  });

  after(() => hub?.close());

  /** A request for big.bin whose answer is not read past its first bytes: in flight until the server gives up. */
  function stalledRequest(): Promise<{ socket: Socket; received: () => number }> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1');
      let bytes = 0;
      socket.on('data', (c: Buffer) => {
        if (bytes === 0) {
          socket.pause();
          if (statusOf(c.toString('latin1')) !== 200) reject(new Error(`expected 200, got ${c.toString('latin1').slice(0, 40)}`));
          else resolve({ socket, received: () => bytes });
        }
        bytes += c.length;
      });
      socket.on('error', () => {});
      socket.write(`GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
  }

  it('serves maxConcurrentRequests at once, answers 503 past them, and cuts a slow reader off after requestTimeoutMs', async () => {
    const started = Date.now();
    const held = [await stalledRequest(), await stalledRequest()];
    const refused = await http(`http://127.0.0.1:${port}/app.js`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assertSecure(refused, '503');
    // The slots come free when the server cuts the two readers off: not before the timeout.
    await until(async () => (await http(`http://127.0.0.1:${port}/app.js`)).status === 200, TIMEOUT + 3_000, 'the slots freed');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= TIMEOUT - 50, `freed after ${elapsed} ms`);
    for (const h of held) {
      const ended = new Promise<void>((resolve) => h.socket.on('close', () => resolve()));
      h.socket.resume();
      await ended;
      assert.ok(h.received() < 48 * 1024 * 1024, 'the answer was cut off');
    }
  });

  it('answers 408 with the headers to a request still sending its headers at requestTimeoutMs', async () => {
    const started = Date.now();
    const answer = await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const elapsed = Date.now() - started;
    assert.equal(statusOf(answer), 408);
    assert.equal(rawHeaders(answer)['x-content-type-options'], 'nosniff');
    assert.ok(elapsed >= TIMEOUT - 50 && elapsed < TIMEOUT + 2_000, `after ${elapsed} ms`);
  });
});

describe('static app options', () => {
  const { root } = makeRoot();
  const bad: Array<[string, Partial<StaticAppOptions>]> = [
    ['name', { name: 'a/b' }],
    ['name', { name: '' }],
    ['root', { root: join(root, 'missing') }],
    ['root', { root: join(root, 'app.js') }],
    ['port', { port: 70_000 }],
    ['port', { port: 1.5 }],
    ['frameAncestors', { frameAncestors: ['*'] }],
    ['frameAncestors', { frameAncestors: [] }],
    ['frameAncestors', { frameAncestors: ["'none'", 'https://a.example'] }],
    ['frameAncestors', { frameAncestors: ['https://a.example/path'] }],
    ['frameAncestors', { frameAncestors: ["https://a.example; script-src 'unsafe-inline'"] }],
    ['csp', { csp: { 'frame-ancestors': '*' } }],
    ['csp', { csp: { 'script-src': "'self'; img-src *" } }],
    ['csp', { csp: { 'img-src': "'self'\r\nx-evil: 1" } }],
    ['csp', { csp: { 'Bad Name': "'self'" } }],
    ['hostNames', { hostNames: ['evil host'] }],
    ['cacheControl', { cacheControl: 'no-cache\r\nx: 1' }],
    ['maxFileBytes', { maxFileBytes: 0 }],
    ['maxConcurrentRequests', { maxConcurrentRequests: -1 }],
    ['requestTimeoutMs', { requestTimeoutMs: 1.5 }],
  ];
  for (const [option, given] of bad) {
    it(`refuses a bad ${option}: ${JSON.stringify(given)}`, async () => {
      const err = await rejectsWithCode(
        startHub({ port: 0, insecure: true, staticApps: [{ name: 'app', root, ...given }] }),
        'CB_ERR_INVALID_OPTION',
      );
      assert.match(err.message, new RegExp(`staticApps\\[0\\]\\.${option}`));
    });
  }

  it('refuses two apps with one name, or one port, or the hub’s port', async () => {
    await rejectsWithCode(
      startHub({
        port: 0,
        insecure: true,
        staticApps: [
          { name: 'a', root },
          { name: 'a', root },
        ],
      }),
      'CB_ERR_INVALID_OPTION',
    );
    await rejectsWithCode(
      startHub({
        port: 0,
        insecure: true,
        staticApps: [
          { name: 'a', root, port: 45_001 },
          { name: 'b', root, port: 45_001 },
        ],
      }),
      'CB_ERR_INVALID_OPTION',
    );
    await rejectsWithCode(
      startHub({ port: 45_002, insecure: true, staticApps: [{ name: 'a', root, port: 45_002 }] }),
      'CB_ERR_INVALID_OPTION',
    );
  });

  it('refuses a port in use with CB_ERR_ADDRESS_IN_USE, and leaves no hub behind', async () => {
    const busy = netServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const taken = (busy.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'crossbus-static-data-'));
    await rejectsWithCode(startHub({ port: 0, dataDir, staticApps: [{ name: 'a', root, port: taken }] }), 'CB_ERR_ADDRESS_IN_USE');
    // The data folder's lock was released: a hub starts there at once.
    const hub = await startHub({ port: 0, dataDir });
    await hub.close();
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  });

  it('applies the defaults', () => {
    const app = resolveStaticApp({ name: 'a', root }, 0, '127.0.0.1');
    assert.deepEqual(app.frameAncestors, DEFAULT_STATIC_FRAME_ANCESTORS);
    assert.equal(app.port, 0);
    assert.equal(app.host, '127.0.0.1');
  });
});

describe('crossbus hub --static', { timeout: 30_000 }, () => {
  it('serves each app named on the command line on its own port, and prints its URL', async () => {
    const { root } = makeRoot();
    const hub = spawnCli([
      'hub',
      '--insecure',
      '--port',
      '0',
      '--data',
      mkdtempSync(join(tmpdir(), 'crossbus-static-cli-')),
      '--static',
      `web=${root}`,
      '--static',
      `docs=${join(root, 'docs')}@0`,
    ]);
    await until(() => /static app docs: /.test(hub.stdout()), 15_000, `the hub to start\n${hub.stderr()}`);
    const urls = Object.fromEntries([...hub.stdout().matchAll(/static app (\S+): (\S+)/g)].map((m) => [m[1], m[2]]));
    assert.equal((await http(urls.web!)).body, '<!doctype html><script src="app.js"></script>');
    assert.equal((await http(urls.docs!)).body, '<p>docs</p>');
    hub.proc.kill('SIGTERM');
    await hub.exited;
  });

  it('refuses a malformed --static as a usage error', async () => {
    const r = await runCli(['hub', '--insecure', '--port', '0', '--static', 'no-dir-here']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--static takes <name>=<dir>\[@port\]/);
  });
});

describe('the config file’s staticApps section', { timeout: 30_000 }, () => {
  it('serves its apps (folders relative to the file) before those given in code', async () => {
    const { root } = makeRoot();
    const dataDir = mkdtempSync(join(tmpdir(), 'crossbus-static-conf-'));
    const configFile = join(dataDir, 'hub.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...testConfigDocument(),
        staticApps: [{ name: 'fromfile', root: relative(dataDir, join(root, 'docs')), maxFileBytes: 100 }],
      }),
    );
    const hub = await startHub({ port: 0, dataDir, configFile, staticApps: [{ name: 'fromcode', root }] });
    try {
      assert.deepEqual(
        hub.staticApps.map((a) => a.name),
        ['fromfile', 'fromcode'],
      );
      assert.equal((await http(hub.staticApps[0]!.url)).body, '<p>docs</p>');
    } finally {
      await hub.close();
    }
  });

  it('refuses an unknown setting, and a bad value the hub checks, with the config’s errors', async () => {
    const { root } = makeRoot();
    await rejectsWithCode(
      startHub({ port: 0, config: { ...testConfigDocument(), staticApps: [{ name: 'a', root, rooot: 'x' }] } }),
      'CB_ERR_CONFIG_INVALID',
    );
    await rejectsWithCode(
      startHub({ port: 0, config: { ...testConfigDocument(), staticApps: [{ name: 'a', root, frameAncestors: ['*'] }] } }),
      'CB_ERR_INVALID_OPTION',
    );
  });
});
