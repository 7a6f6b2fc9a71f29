/**
 * Each listener bounds the protocol handshake with its own `handshakeTimeoutMs`, the hub's being
 * the default (and the WebSocket listener's): a real hub with a TCP listener from its config file,
 * a Unix-socket listener given in code and its WebSocket one, each reached by a client that opens
 * the connection and never says HELLO. Each is told CB_ERR_HANDSHAKE_TIMEOUT with its listener's
 * bound, and closed no sooner than that bound.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { readFrames } from '../../src/core/protocol/codec.js';
import { Kind } from '../../src/core/protocol/envelope.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';
import { startHub } from '../../src/hub/hub.js';
import { rejectsWithCode } from '../helpers/rejects.js';

const SECRET = Buffer.alloc(32, 4).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'crossbus-hs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Silent {
  /** From the moment the client started connecting until the hub closed the connection. */
  ms: number;
  errors: Array<{ code: string; details?: { timeoutMs?: number } }>;
}

function errorsIn(bytes: Uint8Array): Silent['errors'] {
  const out: Silent['errors'] = [];
  readFrames(bytes, DEFAULT_FRAME_LIMITS, (env) => {
    if (env.kind === Kind.ERROR) out.push(JSON.parse(new TextDecoder().decode(env.payload)));
  });
  return out;
}

/** Opens a TCP or Unix connection, says nothing, and reports what the hub said before it closed. */
function silentSocket(url: string): Promise<Silent> {
  const t0 = Date.now();
  const socket = url.startsWith('unix://')
    ? netConnect({ path: url.slice('unix://'.length) })
    : netConnect({ host: '127.0.0.1', port: Number(url.split(':').pop()) });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  return new Promise((resolve) =>
    socket.once('close', () => resolve({ ms: Date.now() - t0, errors: errorsIn(new Uint8Array(Buffer.concat(chunks))) })),
  );
}

/** The same over WebSocket. */
function silentWebSocket(url: string): Promise<Silent> {
  const t0 = Date.now();
  const ws = new WebSocket(url);
  const errors: Silent['errors'] = [];
  ws.on('message', (data: Buffer) => errors.push(...errorsIn(new Uint8Array(data))));
  ws.on('error', () => {});
  return new Promise((resolve) => ws.once('close', () => resolve({ ms: Date.now() - t0, errors })));
}

describe('handshake timeout per listener', () => {
  test('a client that never says HELLO is closed by each listener at its own bound', { timeout: 20_000 }, async () => {
    const configFile = join(dir, 'hub.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        apps: { a: { secret: SECRET } },
        listeners: [{ kind: 'tcp', host: '127.0.0.1', port: 0, handshakeTimeoutMs: 300 }],
      }),
      { mode: 0o600 },
    );
    const hub = await startHub({
      port: 0,
      configFile,
      handshakeTimeoutMs: 2_000,
      listeners: [{ kind: 'unix', path: join(dir, 'hub.sock'), handshakeTimeoutMs: 900 }],
    });
    try {
      const [ws, tcp, unix] = hub.urls as [string, string, string];
      assert.ok(tcp.startsWith('tcp://') && unix.startsWith('unix://'), hub.urls.join(', '));
      const order: string[] = [];
      const seen = (name: string) => (r: Silent) => {
        order.push(name);
        return r;
      };
      const [overTcp, overUnix, overWs] = await Promise.all([
        silentSocket(tcp).then(seen('tcp')),
        silentSocket(unix).then(seen('unix')),
        silentWebSocket(ws).then(seen('websocket')),
      ]);
      for (const [name, r, bound] of [
        ['tcp', overTcp, 300],
        ['unix', overUnix, 900],
        ['websocket', overWs, 2_000],
      ] as const) {
        assert.deepEqual(
          r.errors.map((e) => [e.code, e.details?.timeoutMs]),
          [['CB_ERR_HANDSHAKE_TIMEOUT', bound]],
          `${name}: told why, with its own bound`,
        );
        assert.ok(r.ms >= bound, `${name} closed after ${r.ms} ms, before its bound of ${bound} ms`);
      }
      assert.deepEqual(order, ['tcp', 'unix', 'websocket']);
    } finally {
      await hub.close();
    }
  });

  test('startHub refuses a bad listener timeout with CB_ERR_INVALID_OPTION', async () => {
    for (const handshakeTimeoutMs of [0, 3_600_001]) {
      await rejectsWithCode(
        startHub({
          insecure: true,
          port: 0,
          listeners: [
            { kind: 'tcp', host: '127.0.0.1', port: 0 },
            { kind: 'tcp', host: '127.0.0.1', port: 0, handshakeTimeoutMs },
          ],
        }),
        'CB_ERR_INVALID_OPTION',
      );
    }
  });
});
