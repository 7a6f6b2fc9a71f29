/**
 * The port transport through the shared contract suites: over Node's MessageChannel (the same
 * API a browser MessagePort has), plain and authenticated, and a hub in a real worker thread.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { memoryStreams, runBusContract, runTransportContract } from './transport-contract.js';
import { Broker } from '../../src/core/broker/broker.js';
import { createPortTransport, workerConnector, type PortLike } from '../../src/transports/port/index.js';
import { connectWith } from '../../src/client/index.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';

runTransportContract('port (MessageChannel)', async () => {
  const { port1, port2 } = new MessageChannel();
  const client = createPortTransport(port1 as unknown as PortLike, { peer: 'hub' });
  const server = createPortTransport(port2 as unknown as PortLike, { peer: 'client' });
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
    },
  };
});

function portConnector(broker: Broker) {
  return async () => {
    const { port1, port2 } = new MessageChannel();
    broker.accept(createPortTransport(port2 as unknown as PortLike, { peer: 'client' }));
    return createPortTransport(port1 as unknown as PortLike, { peer: 'hub' });
  };
}

runBusContract('port (MessageChannel)', async () => {
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, streams });
  return {
    connector: portConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
  };
});

runBusContract('port (MessageChannel), authenticated and encrypted', async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security, streams });
  return {
    connector: portConnector(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
    credentials: { name: 'test', secret: doc.apps.test.secret, security: { crypto: createNodeCryptoProvider() } },
  };
});

const WORKER = fileURLToPath(new URL('../fixtures/port-hub-worker.ts', import.meta.url));
let worker: Worker | undefined;
after(async () => {
  await worker?.terminate();
});

test('a hub in a real worker thread: pub/sub and request/reply over ports; the worker ending closes the connection', async () => {
  // The worker runs TypeScript through tsx, registered inside the worker before the import.
  worker = new Worker(
    `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(WORKER).href)}); })`,
    { eval: true },
  );
  await new Promise<void>((resolve, reject) => {
    worker!.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    worker!.once('error', reject);
  });
  const connector = workerConnector(worker as unknown as PortLike);
  const a = await connectWith(connector, { reconnect: false });
  const b = await connectWith(connector, { reconnect: false });
  const got: unknown[] = [];
  const sub = b.subscribe('w.>', (m) => got.push(m.data));
  await sub.ready;
  b.serve('w.echo', (m) => ({ echo: m.data }));
  await b.flush();
  await a.publish('w.x', { n: 1 });
  await a.publish('w.bytes', new Uint8Array([1, 2, 3]));
  assert.deepEqual(await a.request('w.echo', 'hi'), { echo: 'hi' });
  await a.flush();
  await b.flush();
  assert.deepEqual(got.slice(0, 2), [{ n: 1 }, new Uint8Array([1, 2, 3])]);
  const closed = new Promise<unknown>((resolve) => a.on('closed', (e) => resolve(e.error)));
  await worker.terminate();
  worker = undefined;
  const err = (await closed) as { code?: string };
  assert.equal(err?.code, 'CB_ERR_CONNECTION_LOST');
  await b.close();
});
