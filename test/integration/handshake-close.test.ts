/**
 * What the client does when a hub closes the WebSocket during the crossbus handshake (after the
 * WebSocket opened, before WELCOME) -- which a real hub does to every connection it accepts while
 * it is shutting down (Broker.accept closes with 1001 CB_ERR_HUB_SHUTTING_DOWN), and when it
 * refuses a HELLO. These tests stand in for such a hub with a small fake server on the port of a
 * killed hub process, because the timing has to be exact. Needs `npm run build` first.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CrossbusError } from '../../src/node/index.js';
import { connect } from '../../src/node/index.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { until, sleep } from '../helpers/wait.js';

const T = { timeout: 20_000 };

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
});

/** A WebSocket server that runs `onConnection` for each connection (its 1-based index given). */
async function fakeHub(
  port: number,
  onConnection: (ws: WebSocket, n: number) => void,
): Promise<{ connections: () => number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  wss.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  let n = 0;
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('error', () => {});
    onConnection(ws, ++n);
  });
  const handle = {
    connections: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

describe('hub closes the connection during the handshake', () => {
  test('one failed handshake leads to one reconnect attempt, not two parallel loops', {
    ...T,
  }, async () => {
    const hub = await startHubProcess(['--insecure']);
    const port = hub.port;
    const reconnecting: number[] = [];
    const bus = await openBus(hub.url, {
      name: 'double-loop',
      timeoutMs: 4_000,
      reconnect: { initialDelayMs: 50, maxDelayMs: 50, factor: 1, jitter: 0 },
    });
    try {
      bus.on('reconnecting', (e) => reconnecting.push(e.attempt));
      await hub.stop('SIGKILL');
      await until(() => bus.state === 'reconnecting', 5_000, 'reconnecting');
      // Connection 1: refuse after HELLO (like a hub that closes during the handshake).
      // Connections 2+: accept HELLO but never answer, so each attempt stays pending.
      const fake = await fakeHub(port, (ws, n) => {
        if (n === 1) ws.once('message', () => ws.close(1001, 'CB_ERR_HUB_SHUTTING_DOWN'));
      });
      await until(() => fake.connections() >= 2, 5_000, 'the retry after the refused handshake');
      await sleep(500); // ten reconnect delays: room for any extra attempt to show up
      assert.equal(
        fake.connections(),
        2,
        `one refused handshake must lead to exactly one new attempt (saw ${fake.connections()} connections; reconnecting events ${JSON.stringify(reconnecting)})`,
      );
    } finally {
      await closeBus(bus);
    }
  });

  test('a connection closed right after the WebSocket opens: connect() rejects with a typed error, no unhandled rejection', {
    ...T,
  }, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    // Answers the upgrade and sends a close frame in the same write: the client sees 'open' and
    // then, at once, a closing socket -- exactly what a shutting-down hub does, without the race.
    const server: Server = createServer((socket: Socket) => {
      socket.on('error', () => {});
      socket.once('data', (req) => {
        const key = /sec-websocket-key:\s*(\S+)/i.exec(req.toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        const reason = Buffer.from('CB_ERR_HUB_SHUTTING_DOWN');
        const close = Buffer.concat([Buffer.from([0x88, 2 + reason.length, 0x03, 0xe9]), reason]);
        socket.write(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
              'latin1',
            ),
            close,
          ]),
        );
        setTimeout(() => socket.destroy(), 200).unref();
      });
    });
    server.unref();
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    try {
      for (let i = 0; i < 3; i++) {
        let err: unknown;
        await connect(`ws://127.0.0.1:${port}`, { reconnect: false, timeoutMs: 2_000 }).then(
          (b) => {
            void b.close();
            assert.fail('connect should fail');
          },
          (e: unknown) => (err = e),
        );
        assert.ok(err instanceof CrossbusError, `a typed error: ${String(err)}`);
      }
      await sleep(100);
      assert.deepEqual(unhandled.map(String), [], 'no unhandled rejections');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
