/**
 * forwardDurablePublishes: a storage-less hub (a page, an extension's service worker) hands
 * durable publishes to a hub with streams. Acks come from the storing hub; a publish resent after
 * the forwarding hub died is stored once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { bridge, connectWith, forwardDurablePublishes, type Bus } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import type { Transport, TransportConnector } from '../../src/core/transport/transport.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

test('a durable publish through a forwarding hub is stored on the other hub and acknowledged with its seq; msgIds deduplicate; no plain copy crosses the bridge', async () => {
  const store = await startStreamHub();
  const admin = await store.connect();
  await admin.streams.create({ name: 'ORDERS', topics: ['orders.>'] });
  const remote = await store.connect();
  const link = await store.connect();
  const edge = new Broker({ heartbeatMs: 0, streams: forwardDurablePublishes(remote) });
  const local = await connectWith(memoryConnector(edge), { reconnect: false });
  const b = bridge(local, link, { exports: ['orders.>'], imports: ['orders.>'] });
  await b.ready;
  const client = await connectWith(memoryConnector(edge), { reconnect: false });
  const seenAtEdge: unknown[] = [];
  let barrierAtEdge = false;
  await client.subscribe('orders.>', (m) => {
    if (m.topic === 'orders.barrier') barrierAtEdge = true;
    else seenAtEdge.push(m.data);
  }).ready;
  try {
    assert.deepEqual(await client.publish('orders.created', { id: 1 }, { durable: true, msgId: 'o-1' }), {
      stream: 'ORDERS',
      seq: 1,
      duplicate: false,
    });
    assert.deepEqual(await client.publish('orders.created', { id: 1 }, { durable: true, msgId: 'o-1' }), {
      stream: 'ORDERS',
      seq: 1,
      duplicate: true,
    });
    assert.deepEqual(await client.publish('orders.bytes', new Uint8Array([1, 2]), { durable: true }), {
      stream: 'ORDERS',
      seq: 2,
      duplicate: false,
    });
    await client.publish('orders.plain', { plain: true });
    await until(() => seenAtEdge.length >= 4, 2000, 'local deliveries');
    await until(async () => (await admin.streams.info('ORDERS')).state.messages === 3, 2000, 'the plain publish captured');
    const records = await admin.streams.read('ORDERS');
    assert.deepEqual(
      records.map((r) => [r.topic, r.data, r.msgId !== undefined]),
      [
        ['orders.created', { id: 1 }, true],
        ['orders.bytes', new Uint8Array([1, 2]), true],
        ['orders.plain', { plain: true }, false],
      ],
      'each durable publish stored once (the bridge does not send a plain copy); the plain one crossed the bridge',
    );
    // A barrier from the storing hub's side, imported through the bridge: the storing hub routes
    // to the bridge in order, so any copy it sent back before has reached the edge before it.
    await admin.publish('orders.barrier', null);
    await until(() => barrierAtEdge, 2000, 'the barrier at the edge');
    assert.equal(seenAtEdge.length, 4, 'nothing came back through the bridge');
    await assert.rejects(client.streams.info('ORDERS'), { code: 'CB_ERR_STREAMS_UNAVAILABLE' });
    await assert.rejects(client.publish('nowhere.x', 1, { durable: true }), { code: 'CB_ERR_NO_STREAM' });
  } finally {
    b.close();
    await client.close();
    await local.close();
    await edge.close(10);
    await store.close();
  }
});

test('the forwarding hub dies mid-stream (a stopped service worker): the client resends what was not acknowledged; every publish is stored exactly once', async () => {
  const store = await startStreamHub();
  const admin = await store.connect();
  await admin.streams.create({ name: 'EVENTS', topics: ['events.>'] });
  const forwarded = [0, 0];
  let died: Promise<void> | undefined;
  const edgeHub = (n: 0 | 1): Broker => {
    const f = forwardDurablePublishes<object>(store.connect());
    return new Broker({
      heartbeatMs: 0,
      streams: {
        ...f,
        capture: (s, env) => {
          forwarded[n]!++;
          f.capture(s, env);
          // Chrome stops the worker after it forwarded some: its hub and its connection to the
          // storing hub go at once, before the storing hub's answer to this one can come back.
          if (n === 0 && forwarded[0] === 50) died = kill();
        },
      },
    });
  };
  let edge = edgeHub(0);
  const kill = async (): Promise<void> => {
    const dying = edge;
    edge = edgeHub(1);
    await dying.close(0);
  };
  const connector: TransportConnector = async (): Promise<Transport> => memoryConnector(edge)();
  const client: Bus = await connectWith(connector, { reconnect: { initialDelayMs: 5, maxDelayMs: 20 }, requestTimeoutMs: 10_000 });
  try {
    const N = 300;
    const acks: Array<Promise<{ seq: number }>> = [];
    for (let i = 0; i < N; i++) acks.push(client.publish(`events.e${i % 7}`, { i }, { durable: true, msgId: `m-${i}` }));
    const settled = await Promise.all(acks);
    assert.ok(died !== undefined, 'the first hub died mid-stream');
    await died;
    assert.ok(forwarded[0]! + forwarded[1]! > N, `some publishes were resent after the first hub died (${forwarded.join(' + ')})`);
    const records = await admin.streams.read('EVENTS', { maxMessages: 1000 });
    assert.equal(records.length, N, 'stored exactly once each');
    assert.deepEqual(new Set(records.map((r) => r.msgId)).size, N);
    const bySeq = new Map(records.map((r) => [r.seq, (r.data as { i: number }).i]));
    settled.forEach((ack, i) => assert.equal(bySeq.get(ack.seq), i, `ack of ${i} names its record`));
  } finally {
    await client.close();
    await edge.close(10);
    await store.close();
  }
});
