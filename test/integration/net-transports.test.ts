/**
 * TCP, Unix sockets and TLS against a real hub (startHub with listeners): refused certificates as
 * typed errors, bounded stalls (a TLS client that never finishes, a partial frame before auth),
 * Unix socket paths that exist already, a listener's own connection limit, and the choice among
 * several addresses of one hub.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type Hub } from '../../src/hub/hub.js';
import { connect } from '../../src/node/index.js';
import { listenSocket } from '../../src/transports/net/socket-listener.node.js';
import { makeCertificates } from '../helpers/certificates.js';
import { rejectsWithCode } from '../helpers/rejects.js';

const certs = makeCertificates();
const dir = mkdtempSync(join(tmpdir(), 'crossbus-net-'));
after(() => {
  certs.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with how long the socket took to be closed by the other side. */
function closedWithin(socket: import('node:net').Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - t0)));
}

describe('TLS certificates', () => {
  const hubs: Hub[] = [];
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()));
  });
  async function tlsHub(pair: { cert: string; key: string }): Promise<string> {
    const hub = await startHub({ insecure: true, port: 0, listeners: [{ kind: 'tls', host: '127.0.0.1', port: 0, ...pair }] });
    hubs.push(hub);
    return hub.urls[1] as string;
  }

  test('a certificate from the trusted CA connects; the transport is tls', async () => {
    const url = await tlsHub(certs.server);
    const bus = await connect(url, { tls: { ca: certs.caCert } });
    assert.equal(bus.info?.transport, 'tls');
    await bus.close();
  });

  for (const [name, pair, code, tls] of [
    ['expired', certs.expired, 'CERT_HAS_EXPIRED', { ca: certs.caCert }],
    ['self-signed', certs.selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT', {}],
    ['from a CA the client does not trust', certs.server, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', {}],
    ['for another host', certs.otherHost, 'ERR_TLS_CERT_ALTNAME_INVALID', { ca: certs.caCert }],
  ] as const) {
    test(`a certificate ${name} is refused with CB_ERR_TLS (${code})`, async () => {
      const url = await tlsHub(pair);
      const err = await rejectsWithCode(connect(url, { tls, timeoutMs: 5000 }), 'CB_ERR_TLS');
      assert.equal(err.details?.tlsCode, code);
      assert.equal((err.cause as { code?: string }).code, code);
      assert.equal(err.name, 'SecurityError');
    });
  }

  test('a TLS client that never finishes its handshake is cut off after tlsHandshakeTimeoutMs', async () => {
    const errors: string[] = [];
    const listener = await listenSocket({
      kind: 'tls',
      host: '127.0.0.1',
      port: 0,
      ...certs.server,
      tlsHandshakeTimeoutMs: 300,
      onConnection: () => assert.fail('no connection should be handed up'),
      onTlsError: (e) => errors.push(e.message),
    });
    try {
      const port = Number(listener.url.split(':').pop());
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello, then nothing
      const ms = await closedWithin(socket);
      assert.ok(ms >= 250 && ms < 5000, `closed after ${ms} ms`);
      assert.equal(errors.length, 1);
    } finally {
      await listener.close();
    }
  });
});

describe('stalls and limits', () => {
  let hub: Hub;
  before(async () => {
    hub = await startHub({
      port: 0,
      config: { apps: {} },
      handshakeTimeoutMs: 400,
      listeners: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }],
    });
  });
  after(() => hub.close());

  test('a partial frame before auth is bounded by the handshake timeout', async () => {
    const [host, port] = (hub.urls[1] as string).slice('tcp://'.length).split(':');
    const socket = netConnect({ host, port: Number(port) });
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.write(Buffer.from([0, 0, 0, 40, 1, 2])); // a length prefix and two bytes of 40
    const ms = await closedWithin(socket);
    assert.ok(ms >= 300 && ms < 5000, `closed after ${ms} ms`);
  });

  test("a listener's maxConnections refuses the next with CB_ERR_TOO_MANY_CONNECTIONS", async () => {
    const small = await startHub({ insecure: true, port: 0, listeners: [{ kind: 'tcp', host: '127.0.0.1', port: 0, maxConnections: 1 }] });
    try {
      const first = await connect(small.urls[1] as string);
      await rejectsWithCode(connect(small.urls[1] as string, { timeoutMs: 5000 }), 'CB_ERR_TOO_MANY_CONNECTIONS');
      await first.close();
    } finally {
      await small.close();
    }
  });
});

describe('Unix socket paths', () => {
  test('a live listener on the path is refused with CB_ERR_ADDRESS_IN_USE', async () => {
    const path = join(dir, 'live.sock');
    const first = await listenSocket({ kind: 'unix', path, onConnection: (t) => t.close() });
    try {
      await rejectsWithCode(listenSocket({ kind: 'unix', path, onConnection: () => {} }), 'CB_ERR_ADDRESS_IN_USE');
    } finally {
      await first.close();
    }
  });

  test("a stale socket file (a crashed hub's) is removed and the path bound", async () => {
    const path = join(dir, 'stale.sock');
    // A socket file nobody listens on: bind, then close the handle without removing the file.
    const server = createServer();
    await new Promise<void>((r) => server.listen(path, r));
    (server as unknown as { _handle: { close(): void } })._handle.close();
    const listener = await listenSocket({ kind: 'unix', path, onConnection: (t) => t.close() });
    assert.equal(listener.url, `unix://${path}`);
    await listener.close();
  });

  test('a regular file is left alone and refused with CB_ERR_INVALID_OPTION', async () => {
    const path = join(dir, 'file.sock');
    writeFileSync(path, 'not a socket');
    await rejectsWithCode(listenSocket({ kind: 'unix', path, onConnection: () => {} }), 'CB_ERR_INVALID_OPTION');
  });

  test('a place where no socket may be made is refused with CB_ERR_INVALID_OPTION (even for root)', {
    skip: process.platform !== 'linux',
  }, async () => {
    // /proc refuses new files to every user, root included, so the test holds however it runs.
    const err = await rejectsWithCode(
      listenSocket({ kind: 'unix', path: '/proc/self/crossbus-hub.sock', onConnection: () => {} }),
      'CB_ERR_INVALID_OPTION',
    );
    assert.match(err.message, /crossbus-hub\.sock/);
  });

  test('a folder that does not exist is refused with CB_ERR_INVALID_OPTION', async () => {
    await rejectsWithCode(
      listenSocket({ kind: 'unix', path: join(dir, 'missing', 'hub.sock'), onConnection: () => {} }),
      'CB_ERR_INVALID_OPTION',
    );
  });
});

describe('transport selection', () => {
  let hub: Hub;
  const sock = join(dir, 'select.sock');
  before(async () => {
    hub = await startHub({
      insecure: true,
      port: 0,
      listeners: [
        { kind: 'tcp', host: '127.0.0.1', port: 0 },
        { kind: 'unix', path: sock },
      ],
    });
  });
  after(() => hub.close());

  test('WELCOME lists the listeners; several addresses: the Unix socket first on this machine', async () => {
    const bus = await connect([...hub.urls].reverse().concat(hub.url));
    assert.equal(bus.info?.transport, 'unix');
    assert.deepEqual(bus.info?.listeners, hub.urls);
    await bus.close();
  });

  test('prefer overrides the ranking', async () => {
    const bus = await connect([...hub.urls], { prefer: 'tcp' });
    assert.equal(bus.info?.transport, 'tcp');
    await bus.close();
    const ws = await connect([...hub.urls], { prefer: ['websocket', 'tcp'] });
    assert.equal(ws.info?.transport, 'websocket');
    await ws.close();
  });

  test('an address that does not answer is skipped', async () => {
    const bus = await connect([`unix://${join(dir, 'nobody.sock')}`, 'tcp://127.0.0.1:1', hub.url]);
    assert.equal(bus.info?.transport, 'websocket');
    await bus.close();
  });

  test('crossbus://host:port asks the hub for its listeners and takes the fastest', async () => {
    const bus = await connect(`crossbus://127.0.0.1:${hub.port}`);
    assert.equal(bus.info?.transport, 'unix');
    await bus.close();
  });
});

describe('half-open connections', () => {
  test('a peer that goes silent mid-connection is dropped by the heartbeat, on both sides', async () => {
    const hub = await startHub({ insecure: true, port: 0, heartbeatMs: 300, listeners: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] });
    const [host, port] = (hub.urls[1] as string).slice('tcp://'.length).split(':');
    // A proxy that, once told to, forwards nothing either way and closes nothing: a half-open path.
    let blackhole = false;
    const proxy = createServer((down) => {
      const up = netConnect({ host, port: Number(port) });
      for (const [from, to] of [
        [down, up],
        [up, down],
      ] as const) {
        from.on('data', (d) => {
          if (!blackhole) to.write(d);
        });
        from.on('error', () => {});
      }
      down.on('close', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyPort = (proxy.address() as import('node:net').AddressInfo).port;
    try {
      const bus = await connect(`tcp://127.0.0.1:${proxyPort}`, { reconnect: false });
      const hubDropped = new Promise<number>((resolve) => {
        const t0 = Date.now();
        hub.broker.events.on('disconnection', () => resolve(Date.now() - t0));
      });
      const clientLost = new Promise<number>((resolve) => {
        const t0 = Date.now();
        bus.on('closed', () => resolve(Date.now() - t0));
      });
      blackhole = true;
      const [hubMs, clientMs] = await Promise.all([hubDropped, clientLost]);
      assert.ok(hubMs < 3000, `hub dropped it after ${hubMs} ms`);
      assert.ok(clientMs < 3000, `client saw it after ${clientMs} ms`);
    } finally {
      proxy.close();
      await hub.close();
    }
  });
});
