/**
 * The shared-memory transport through the shared contract suites: both ends in one thread (the
 * rings and Atomics.waitAsync work the same there), with the default rings and with the smallest
 * ring (every large chunk streamed through it in pieces); the Bus over it, plain, encrypted and
 * integrity-only; and a hub in a real worker thread reached with shmConnector.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { contractHub, runBusContract, runTransportContract } from './transport-contract.js';
import type { Broker } from '../../src/core/broker/broker.js';
import type { TransportConnector } from '../../src/core/transport/transport.js';
import { createShmBuffer, createShmTransport, shmConnector } from '../../src/transports/shm/index.js';
import type { PortLike } from '../../src/transports/port/index.js';
import { connectWith } from '../../src/client/index.js';

function shmPair(ringBytes: number) {
  const sab = createShmBuffer(ringBytes);
  const { port1, port2 } = new MessageChannel();
  const client = createShmTransport(sab, 0, { peer: 'hub', port: port1 as unknown as PortLike });
  const server = createShmTransport(sab, 1, { peer: 'client', port: port2 as unknown as PortLike });
  return { client, server };
}

for (const ringBytes of [256 * 1024, 1024]) {
  runTransportContract(`shm (one thread, ${ringBytes}-byte rings)`, async () => {
    const { client, server } = shmPair(ringBytes);
    return {
      client,
      server,
      cleanup: async () => {
        client.close();
        server.close();
      },
    };
  });
}

function shmInThread(broker: Broker): TransportConnector {
  return async () => {
    const { client, server } = shmPair(64 * 1024);
    broker.accept(server);
    return client;
  };
}

runBusContract('shm (one thread), plain', () => contractHub('plain', shmInThread));
runBusContract('shm (one thread), encrypted (Node crypto)', () => contractHub('encrypted', shmInThread));
runBusContract('shm (one thread), integrity only (WebCrypto, async)', () => contractHub('integrity', shmInThread));

const WORKER = fileURLToPath(new URL('../fixtures/shm-hub-worker.ts', import.meta.url));
let worker: Worker | undefined;
after(async () => {
  await worker?.terminate();
});

test('a hub in a real worker thread over shared memory: pub/sub, request/reply; the worker ending closes the connection', async () => {
  worker = new Worker(
    `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(WORKER).href)}); })`,
    { eval: true },
  );
  await new Promise<void>((resolve, reject) => {
    worker!.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    worker!.once('error', reject);
  });
  const connector = shmConnector(worker as unknown as PortLike, { ringBytes: 4096 });
  // `a` waits for answers in Atomics.wait first (blockingWaitMicros), `b` in its event loop only.
  const a = await connectWith(shmConnector(worker as unknown as PortLike, { ringBytes: 4096, blockingWaitMicros: 2000 }), {
    reconnect: false,
  });
  const b = await connectWith(connector, { reconnect: false });
  const got: unknown[] = [];
  const sub = b.subscribe('w.>', (m) => got.push(m.data));
  await sub.ready;
  b.serve('w.echo', (m) => ({ echo: m.data }));
  await b.flush();
  const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
  await a.publish('w.x', { n: 1 });
  await a.publish('w.big', big);
  assert.deepEqual(await a.request('w.echo', 'hi'), { echo: 'hi' });
  await a.flush();
  await b.flush();
  assert.deepEqual(got.slice(0, 2), [{ n: 1 }, big]);
  const closed = new Promise<unknown>((resolve) => a.on('closed', (e) => resolve(e.error)));
  await worker.terminate();
  worker = undefined;
  const err = (await closed) as { code?: string };
  assert.equal(err?.code, 'CB_ERR_CONNECTION_LOST');
  await b.close();
});
