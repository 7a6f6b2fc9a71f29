/**
 * The stream operations `crossbus stream edit` and `crossbus consumer add` stand on (update,
 * add-consumer), and the requests the hub answers itself on reserved `$SYS.` topics.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { STATS_TOPIC } from '../../src/core/broker/system-requests.js';
import { createError } from '../../src/core/errors/index.js';
import { connectWith } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

describe('streams: update', () => {
  test('changes topics and limits; messages and durable positions stay; members are ended and consume again', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'U', topics: ['u.a'], maxMessages: 100 });
    for (let i = 1; i <= 3; i++) await bus.publish('u.a', i, { durable: true });
    const c = bus.consume<number>('U', { durable: 'w' });
    const first = await c[Symbol.asyncIterator]().next();
    await first.value.ack();
    await until(async () => (await bus.streams.info('U')).consumers[0]?.ackFloor === 1, 2_000, 'the ack');

    const info = await bus.streams.update({ name: 'U', topics: ['u.a', 'u.b'], maxMessages: 2 });
    assert.deepEqual([info.topics, info.maxMessages], [['u.a', 'u.b'], 2]);
    await until(() => c.error?.code === 'CB_ERR_STREAM_CLOSED', 2_000, 'the member to be ended');
    // The new topic is captured; the new limit applies.
    assert.equal((await bus.publish('u.b', 4, { durable: true })).seq, 4);
    const after = await bus.streams.info('U');
    assert.deepEqual([after.state.firstSeq, after.state.lastSeq], [3, 4]);
    // The durable consumer kept its position: it goes on after seq 1 (2 was dropped by the limit).
    const again = bus.consume<number>('U', { durable: 'w' });
    const next = await again[Symbol.asyncIterator]().next();
    assert.equal(next.value.seq, 3);
    again.close();

    // The same config again changes nothing; an unknown stream and overlapping topics are refused.
    assert.equal((await bus.streams.update({ name: 'U', topics: ['u.a', 'u.b'], maxMessages: 2 })).state.lastSeq, 4);
    await rejectsWithCode(bus.streams.update({ name: 'NOPE', topics: ['n'] }), 'CB_ERR_STREAM_NOT_FOUND');
    await bus.streams.create({ name: 'V', topics: ['v.>'] });
    await rejectsWithCode(bus.streams.update({ name: 'U', topics: ['v.x'] }), 'CB_ERR_STREAM_EXISTS');
    assert.deepEqual(
      hub.events.map((e) => e.action).filter((a) => a === 'updated'),
      ['updated'],
    );
    await hub.close();
  });

  test('needs subscribe grants over the old topics and the new ones', async () => {
    const doc = testConfigDocument();
    const { security } = hubSecurity(doc);
    const hub = await startStreamHub({ security });
    const admin = await hub.connect({ name: 'test', secret: doc.apps.test.secret });
    const orders = await hub.connect({ name: 'orders', secret: doc.apps.orders.secret });
    await orders.streams.create({ name: 'ORD', topics: ['orders.a'] });
    await admin.streams.create({ name: 'BILL', topics: ['billing.>'] });
    await rejectsWithCode(orders.streams.update({ name: 'ORD', topics: ['orders.a', 'billing2.x'] }), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.streams.update({ name: 'BILL', topics: ['orders.x'] }), 'CB_ERR_FORBIDDEN');
    assert.deepEqual((await orders.streams.update({ name: 'ORD', topics: ['orders.>'] })).topics, ['orders.>']);
    await hub.close();
  });
});

describe('streams: add-consumer', () => {
  test('a durable consumer without members waits at its start; idempotent; limits and names checked', async () => {
    const hub = await startStreamHub({ maxConsumersPerStream: 2 });
    const bus = await hub.connect();
    await bus.streams.create({ name: 'A', topics: ['a.>'] });
    for (let i = 1; i <= 3; i++) await bus.publish('a.x', i, { durable: true });
    const added = await bus.streams.addConsumer('A', { durable: 'late', deliver: 'new' });
    assert.deepEqual([added.stream, added.durable, added.members, added.ackFloor], ['A', 'late', 0, 3]);
    assert.equal((await bus.streams.addConsumer('A', { durable: 'late', deliver: 'all' })).ackFloor, 3, 'the existing one stays');
    await bus.publish('a.x', 4, { durable: true });
    const c = bus.consume<number>('A', { durable: 'late' });
    const m = await c[Symbol.asyncIterator]().next();
    assert.equal(m.value.data, 4);
    c.close();
    await bus.streams.addConsumer('A', { durable: 'second' });
    await rejectsWithCode(bus.streams.addConsumer('A', { durable: 'third' }), 'CB_ERR_STREAM_LIMIT');
    await rejectsWithCode(bus.streams.addConsumer('A', { durable: 'bad name' }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.addConsumer('NOPE', { durable: 'x' }), 'CB_ERR_STREAM_NOT_FOUND');
    assert.ok(hub.events.some((e) => e.action === 'consumer-created' && e.details?.durable === 'late'));
    await hub.close();
  });
});

describe('system requests ($SYS.)', () => {
  test('answered by the hub itself for an app with the request grant; refused without it; never routed', async () => {
    const doc = testConfigDocument();
    const { security } = hubSecurity(doc);
    let asked = 0;
    const broker = new Broker({
      heartbeatMs: 0,
      security,
      systemResponders: {
        [STATS_TOPIC]: () => ({ asked: ++asked }),
        '$SYS.REQ.BROKEN': () => {
          throw new Error('no stats today');
        },
      },
    });
    const connect = (name: 'test' | 'orders') =>
      connectWith(memoryConnector(broker), { name, secret: doc.apps[name].secret, security: { crypto: createNodeCryptoProvider() } });
    const admin = await connect('test');
    const orders = await connect('orders');
    const spy = admin.subscribe('$SYS.>');
    await spy.ready;
    let spied = 0;
    void (async () => {
      for await (const _ of spy) spied++;
    })();
    assert.deepEqual(await admin.request(STATS_TOPIC), { asked: 1 });
    await rejectsWithCode(orders.request(STATS_TOPIC), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(admin.request('$SYS.REQ.BROKEN'), 'CB_ERR_INTERNAL');
    // A reserved topic nobody answers is routed as usual: the spy gets it, and nobody replies.
    await rejectsWithCode(admin.request('$SYS.REQ.UNKNOWN', undefined, { timeoutMs: 200 }), 'CB_ERR_TIMEOUT');
    await until(() => spied === 1, 2_000, 'the spy to see the unknown request');
    assert.equal(asked, 1, 'the refused request was not answered');
    await admin.close();
    await orders.close();
    await broker.close(10);
  });

  test('a responder gets the asking app and the JSON payload, may answer later, and its typed errors reach the requester', async () => {
    const doc = testConfigDocument();
    const { security } = hubSecurity(doc);
    const seen: unknown[] = [];
    let release!: () => void;
    const later = new Promise<void>((resolve) => {
      release = resolve;
    });
    const broker = new Broker({
      heartbeatMs: 0,
      security,
      systemResponders: {
        '$SYS.REQ.ECHO': async (r) => {
          seen.push({ app: r.app, data: r.data });
          await later;
          return { echoed: r.data };
        },
        '$SYS.REQ.TYPED': async () => {
          throw createError('CB_ERR_CONFIG_INVALID', 'no such setting', { details: { path: 'a.b' } });
        },
        '$SYS.REQ.PLAIN': () => Promise.reject(new Error('boom')),
      },
    });
    const bus = await connectWith(memoryConnector(broker), {
      name: 'test',
      secret: doc.apps.test.secret,
      security: { crypto: createNodeCryptoProvider() },
    });
    const answer = bus.request('$SYS.REQ.ECHO', { x: 1 });
    await until(() => seen.length === 1, 2_000, 'the responder to be asked');
    assert.deepEqual(seen, [{ app: 'test', data: { x: 1 } }]);
    release();
    assert.deepEqual(await answer, { echoed: { x: 1 } });
    const typed = await rejectsWithCode(bus.request('$SYS.REQ.TYPED'), 'CB_ERR_CONFIG_INVALID');
    assert.deepEqual(typed.details, { path: 'a.b' });
    assert.match(typed.message, /no such setting/);
    await rejectsWithCode(bus.request('$SYS.REQ.PLAIN'), 'CB_ERR_INTERNAL');
    await bus.close();
    await broker.close(10);
  });
});
