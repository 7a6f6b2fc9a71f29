import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamMessage } from '../../src/client/index.js';
import { FileCatalog } from '../../src/node/streams/file-catalog.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';
import { startStreamHub, take } from '../helpers/stream-hub.js';
import { StreamService } from '../../src/core/streams/stream-service.js';
import { MemoryCatalog } from '../../src/core/streams/memory-catalog.js';
import { silentLogger } from '../../src/core/util/logger.js';
import { until } from '../helpers/wait.js';
import { DEFAULT_MAX_DUPLICATE_IDS } from '../../src/core/defaults.js';

describe('streams: management', () => {
  test('create is idempotent; a different config, overlapping topics and bad options are refused with codes', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const info = await bus.streams.create({ name: 'ORDERS', topics: ['orders.>'], maxMessages: 10 });
    assert.equal(info.name, 'ORDERS');
    assert.equal(info.duplicateWindowMs, 120_000);
    assert.equal(info.durability, 'fsync');
    assert.deepEqual(info.state, { firstSeq: 1, lastSeq: 0, messages: 0, bytes: 0 });
    assert.equal((await bus.streams.create({ name: 'ORDERS', topics: ['orders.>'], maxMessages: 10 })).name, 'ORDERS');
    await rejectsWithCode(bus.streams.create({ name: 'ORDERS', topics: ['orders.>'], maxMessages: 11 }), 'CB_ERR_STREAM_EXISTS');
    const overlap = await rejectsWithCode(bus.streams.create({ name: 'OTHER', topics: ['*.created'] }), 'CB_ERR_STREAM_EXISTS');
    assert.equal(overlap.details?.stream, 'ORDERS');
    await rejectsWithCode(bus.streams.create({ name: 'bad name', topics: ['x'] }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.create({ name: 'X', topics: [] }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.create({ name: 'X', topics: ['a..b'] }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.create({ name: 'X', topics: ['x'], maxAgeMs: 0 }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.create({ name: 'X', topics: ['x'], durability: 'sometimes' as never }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.create({ name: 'X', topics: ['x'], unknown: 1 } as never), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.streams.info('NOPE'), 'CB_ERR_STREAM_NOT_FOUND');
    await rejectsWithCode(bus.streams.create({ name: 'X.DLQ', topics: ['x'] }), 'CB_ERR_INVALID_OPTION');
    assert.deepEqual(
      (await bus.streams.list()).map((s) => s.name),
      ['ORDERS', 'ORDERS.DLQ'],
    );
    await bus.streams.delete('ORDERS');
    await rejectsWithCode(bus.streams.info('ORDERS'), 'CB_ERR_STREAM_NOT_FOUND');
    await rejectsWithCode(bus.publish('orders.x', 1, { durable: true }), 'CB_ERR_NO_STREAM');
    assert.deepEqual(
      hub.events.map((e) => e.action),
      ['created', 'deleted'],
    );
    await hub.close();
  });

  test('a hub without stream storage refuses stream operations and durable publishes', async () => {
    const { Broker } = await import('../../src/core/broker/broker.js');
    const { connectWith } = await import('../../src/client/index.js');
    const { memoryConnector } = await import('../../src/transports/memory/memory-transport.js');
    const broker = new Broker({ heartbeatMs: 0 });
    const bus = await connectWith(memoryConnector(broker), {});
    await rejectsWithCode(bus.streams.list(), 'CB_ERR_STREAMS_UNAVAILABLE');
    await rejectsWithCode(bus.publish('a', 1, { durable: true }), 'CB_ERR_STREAMS_UNAVAILABLE');
    const c = bus.consume('S');
    await rejectsWithCode(c.ready, 'CB_ERR_STREAMS_UNAVAILABLE');
    await bus.publish('a', 1, { ack: true }); // the rest still works
    await bus.close();
    await broker.close(10);
  });

  test('retention by count and bytes applies as messages arrive', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'C', topics: ['c.>'], maxMessages: 3 });
    for (let i = 1; i <= 5; i++) await bus.publish('c.x', i, { durable: true });
    const st = (await bus.streams.info('C')).state;
    assert.equal(st.firstSeq, 3);
    assert.equal(st.lastSeq, 5);
    assert.equal(st.messages, 3); // exactly at the limit
    assert.deepEqual(
      (await bus.streams.read('C')).map((m) => m.data),
      [3, 4, 5],
    );
    const purged = await bus.streams.purge('C', { upToSeq: 4 });
    assert.equal(purged.purged, 2);
    assert.deepEqual(
      (await bus.streams.read('C')).map((m) => m.seq),
      [5],
    );
    await hub.close();
  });

  test('a plain publish on a stream topic is stored too; headers pass through, control headers do not', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'P', topics: ['p.*'] });
    await bus.publish('p.a', { v: 1 }, { headers: { traceparent: '00-abc-def-01' } });
    await bus.publish('p.b', new Uint8Array([1, 2, 3]), { durable: true, msgId: 'x1', headers: { k: 'v' } });
    await until(() => hub.service.info('P')!.state.messages === 2);
    const [a, b] = await bus.streams.read('P');
    assert.deepEqual(a!.data, { v: 1 });
    assert.deepEqual(a!.headers, { traceparent: '00-abc-def-01' });
    assert.deepEqual(b!.data, new Uint8Array([1, 2, 3]));
    assert.deepEqual(b!.headers, { k: 'v' });
    assert.equal(b!.msgId, 'x1');
    await hub.close();
  });
});

describe('streams: limits', () => {
  test('maxStreams and maxConsumersPerStream refuse the one past the bound; msgId length is checked by the hub', async () => {
    const hub = await startStreamHub({ maxStreams: 2, maxConsumersPerStream: 2 });
    const bus = await hub.connect();
    await bus.streams.create({ name: 'A', topics: ['a'] });
    await bus.streams.create({ name: 'B', topics: ['b'] });
    const e = await rejectsWithCode(bus.streams.create({ name: 'C', topics: ['c'] }), 'CB_ERR_STREAM_LIMIT');
    assert.equal(e.details?.limit, 2);
    await bus.streams.create({ name: 'A', topics: ['a'] }); // idempotent create is not a new stream
    await bus.consume('A', { durable: 'one' }).ready;
    await bus.consume('A').ready;
    await rejectsWithCode(bus.consume('A', { durable: 'three' }).ready, 'CB_ERR_STREAM_LIMIT');
    await bus.consume('A', { durable: 'one' }).ready; // joining an existing consumer is fine
    assert.throws(
      () => new (hub.service.constructor as never as new (o: unknown) => unknown)({ catalog: {}, maxStreams: 0 }),
      /maxStreams/,
    );
    // The client refuses an over-long msgId before sending; the hub refuses it too when a peer skips that check.
    await rejectsWithCode(bus.publish('a', 1, { durable: true, msgId: 'x'.repeat(257) }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(
      bus.publish('a', 1, { ack: true, headers: { 'cb-durable': '1', 'cb-msg-id': 'x'.repeat(257) } }),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal((await bus.publish('a', 1, { durable: true, msgId: 'x'.repeat(256) })).seq, 1);
    await hub.close();
  });

  test('age retention runs on its own timer when nothing is published', async () => {
    const hub = await startStreamHub({ retentionIntervalMs: 20 });
    const bus = await hub.connect();
    await bus.streams.create({ name: 'AGE', topics: ['age'], maxAgeMs: 60 });
    await bus.publish('age', 1, { durable: true });
    await bus.publish('age', 2, { durable: true });
    assert.equal((await bus.streams.info('AGE')).state.messages, 2);
    await until(() => hub.service.info('AGE')!.state.messages === 0, 2_000, 'messages to age out');
    const st = (await bus.streams.info('AGE')).state;
    assert.deepEqual([st.firstSeq, st.lastSeq], [3, 2]);
    await hub.close();
  });
});

describe('streams: idempotent publish', () => {
  test('the same msgId inside the window returns the first seq; after the window it is stored again', async () => {
    let now = Date.now();
    const hub = await startStreamHub({ clock: () => now });
    const bus = await hub.connect();
    await bus.streams.create({ name: 'D', topics: ['d.>'], duplicateWindowMs: 150 });
    assert.deepEqual(await bus.publish('d.x', 1, { durable: true, msgId: 'a' }), { stream: 'D', seq: 1, duplicate: false });
    assert.deepEqual(await bus.publish('d.x', 2, { durable: true, msgId: 'a' }), { stream: 'D', seq: 1, duplicate: true });
    assert.deepEqual(await bus.publish('d.x', 3, { durable: true, msgId: 'b' }), { stream: 'D', seq: 2, duplicate: false });
    // Concurrent duplicates while the first is being stored: one copy, one seq.
    const acks = await Promise.all([1, 2, 3].map((i) => bus.publish('d.x', i, { durable: true, msgId: 'c' })));
    assert.deepEqual(
      acks.map((a) => a.seq),
      [3, 3, 3],
    );
    assert.deepEqual(
      acks.map((a) => a.duplicate),
      [false, true, true],
    );
    now += 200; // past the window
    assert.deepEqual(await bus.publish('d.x', 4, { durable: true, msgId: 'a' }), { stream: 'D', seq: 4, duplicate: false });
    assert.deepEqual(
      (await bus.streams.read('D')).map((m) => m.data),
      [1, 3, 1, 4],
    );
    await rejectsWithCode(bus.publish('d.x', 1, { durable: true, msgId: '' }), 'CB_ERR_INVALID_OPTION');
    await hub.close();
  });

  test('the duplicate window remembers at most maxDuplicateIds ids: at the edge nothing is forgotten, past it the oldest are', async () => {
    assert.throws(() => new StreamService({ catalog: new MemoryCatalog(), maxDuplicateIds: 0 }), { code: 'CB_ERR_INVALID_OPTION' });
    assert.equal(DEFAULT_MAX_DUPLICATE_IDS, 100_000);
    const logged: Array<Record<string, unknown> | undefined> = [];
    const logger = {
      ...silentLogger,
      warn: (f: Record<string, unknown> | string) => void logged.push(typeof f === 'string' ? undefined : f),
    };
    const hub = await startStreamHub({ maxDuplicateIds: 3, logger });
    const bus = await hub.connect();
    await bus.streams.create({ name: 'B', topics: ['b.>'] });
    for (const id of ['a', 'b', 'c']) await bus.publish('b.x', id, { durable: true, msgId: id });
    // Exactly at the limit: every id is still known.
    for (const id of ['a', 'b', 'c']) assert.equal((await bus.publish('b.x', id, { durable: true, msgId: id })).duplicate, true);
    assert.deepEqual((await bus.streams.info('B')).duplicates, { remembered: 3, forgottenEarly: 0 });
    assert.equal(logged.length, 0);
    // One more: the oldest ('a') is forgotten before its window ends, and is stored again.
    await bus.publish('b.x', 'd', { durable: true, msgId: 'd' });
    assert.deepEqual((await bus.streams.info('B')).duplicates, { remembered: 3, forgottenEarly: 1 });
    assert.equal((await bus.publish('b.x', 'd', { durable: true, msgId: 'd' })).duplicate, true);
    assert.equal((await bus.publish('b.x', 'c', { durable: true, msgId: 'c' })).duplicate, true);
    assert.deepEqual(await bus.publish('b.x', 'a again', { durable: true, msgId: 'a' }), { stream: 'B', seq: 5, duplicate: false });
    assert.equal(logged.length, 1, 'warned once');
    const warning = logged[0] as Record<string, unknown> | undefined;
    assert.equal(warning?.stream, 'B');
    assert.equal(warning?.maxDuplicateIds, 3);
    await hub.close();
  });

  test('the warning about forgotten ids comes once even when several are forgotten before it is checked', async () => {
    const logged: Array<Record<string, unknown> | undefined> = [];
    const logger = {
      ...silentLogger,
      warn: (f: Record<string, unknown> | string) => void logged.push(typeof f === 'string' ? undefined : f),
    };
    const hub = await startStreamHub({ maxDuplicateIds: 1, logger });
    const bus = await hub.connect();
    await bus.streams.create({ name: 'C', topics: ['c.>'] });
    // Stored in one batch: the ids are remembered (and the older ones forgotten) before any publish is answered.
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => bus.publish('c.x', id, { durable: true, msgId: id })));
    assert.equal((await bus.streams.info('C')).duplicates?.forgottenEarly, 3);
    assert.equal(logged.length, 1);
    await hub.close();
  });

  test('duplicateWindowMs 0 never de-duplicates', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'Z', topics: ['z'], duplicateWindowMs: 0 });
    await bus.publish('z', 1, { durable: true, msgId: 'a' });
    assert.equal((await bus.publish('z', 1, { durable: true, msgId: 'a' })).duplicate, false);
    await hub.close();
  });
});

describe('streams: consumers', () => {
  test('deliver policies: all, new, last-per-topic, { seq }, { time }', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'S', topics: ['s.*'] });
    for (const [t, v] of [
      ['s.a', 1],
      ['s.b', 2],
      ['s.a', 3],
      ['s.c', 4],
      ['s.b', 5],
    ] as const)
      await bus.publish(t, v, { durable: true });
    const seqs = async (deliver: never, n: number): Promise<number[]> => {
      const c = bus.consume('S', { deliver });
      await c.ready;
      const got = await take(c[Symbol.asyncIterator](), n);
      c.close();
      return got.map((m) => m.seq);
    };
    assert.deepEqual(await seqs('all' as never, 5), [1, 2, 3, 4, 5]);
    assert.deepEqual(await seqs('last-per-topic' as never, 3), [3, 4, 5]);
    assert.deepEqual(await seqs({ seq: 4 } as never, 2), [4, 5]);
    const t4 = (await bus.streams.read('S', { fromSeq: 4, maxMessages: 1 }))[0]!.time;
    const fromTime = await seqs({ time: t4 } as never, 1);
    assert.ok(fromTime[0]! <= 4, `deliver by time starts at or before seq 4, got ${fromTime[0]}`);
    const fresh = bus.consume('S', { deliver: 'new' });
    await fresh.ready;
    await bus.publish('s.z', 6, { durable: true });
    assert.deepEqual(
      (await take(fresh[Symbol.asyncIterator](), 1)).map((m) => m.data),
      [6],
    );
    await rejectsWithCode(bus.consume('S', { deliver: 'first' as never }).ready, 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(bus.consume('NOPE').ready, 'CB_ERR_STREAM_NOT_FOUND');
    await hub.close();
  });

  test('ack, nak with a delay, term and maxDeliver: dead letters carry the original and why', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'W', topics: ['w.>'] });
    for (let i = 1; i <= 3; i++) await bus.publish(`w.${i}`, { i }, { durable: true, headers: { h: String(i) } });
    const c = bus.consume<{ i: number }>('W', { durable: 'work', maxDeliver: 2, ackWaitMs: 5_000 });
    const it = c[Symbol.asyncIterator]();
    const first = await take(it, 3);
    assert.deepEqual(
      first.map((m) => [m.seq, m.deliveryCount]),
      [
        [1, 1],
        [2, 1],
        [3, 1],
      ],
    );
    await first[0]!.ack();
    const nakAt = Date.now();
    await first[1]!.nak({ delayMs: 80 });
    await first[2]!.term('cannot parse');
    const [again] = await take(it, 1);
    assert.equal(again!.seq, 2);
    assert.equal(again!.deliveryCount, 2);
    assert.ok(Date.now() - nakAt >= 75, 'the nak delay was applied');
    await again!.nak(); // the 2nd delivery of 2: it goes to the dead letters
    await until(() => (hub.service.info('W.DLQ')?.state.messages ?? 0) === 2, 3_000, 'two dead letters');
    const dead = await bus.streams.read('W.DLQ');
    assert.deepEqual(
      dead.map((d) => [
        d.topic,
        d.headers?.['cb-dlq-reason'],
        d.headers?.['cb-dlq-attempts'],
        d.headers?.['cb-dlq-seq'],
        d.headers?.['cb-dlq-stream'],
      ]),
      [
        ['w.3', 'term: cannot parse', '1', '3', 'W'],
        ['w.2', 'max-deliver', '2', '2', 'W'],
      ],
    );
    assert.deepEqual(
      dead.map((d) => d.data),
      [{ i: 3 }, { i: 2 }],
    );
    assert.equal(dead[0]!.headers?.h, '3');
    const stored = await bus.streams.read('W');
    assert.equal(dead[1]!.headers?.['cb-dlq-time'], String(stored[1]!.time));
    const info = await bus.streams.info('W');
    assert.deepEqual(info.consumers, [{ durable: 'work', ackFloor: 3, pending: 0, waiting: 0, members: 1 }]);
    assert.equal(hub.events.filter((e) => e.action === 'dead-letter').length, 2);
    // The dead-letter stream is a stream: it can be consumed.
    const dlq = bus.consume('W.DLQ');
    assert.deepEqual(
      (await take(dlq[Symbol.asyncIterator](), 2)).map((m) => m.topic),
      ['w.3', 'w.2'],
    );
    await hub.close();
  });

  test('backoff timing: redeliveries wait ackWaitMs plus backoffMs[n-1] (the last step repeats)', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'T', topics: ['t'] });
    await bus.publish('t', 'x', { durable: true });
    const arrivals: Array<[number, number]> = [];
    const c = bus.consume('T', { ackWaitMs: 50, backoffMs: [100, 200], maxDeliver: 4 }, (m) => {
      arrivals.push([m.deliveryCount, Date.now()]);
    });
    await c.ready;
    await until(() => arrivals.length === 4, 5_000, 'four deliveries');
    const gaps = arrivals.slice(1).map(([, t], i) => t - arrivals[i]![1]);
    assert.deepEqual(
      arrivals.map(([n]) => n),
      [1, 2, 3, 4],
    );
    // Lower bounds are exact (timers never fire early); upper bounds leave room for a busy machine.
    const expected = [50 + 100, 50 + 200, 50 + 200];
    gaps.forEach((g, i) => {
      assert.ok(g >= expected[i]! - 5, `gap ${i + 1} is ${g} ms, expected >= ${expected[i]}`);
      assert.ok(g < expected[i]! + 1_000, `gap ${i + 1} is ${g} ms, expected about ${expected[i]}`);
    });
    await until(() => (hub.service.info('T.DLQ')?.state.messages ?? 0) === 1, 3_000, 'the dead letter');
    await hub.close();
  });

  test('a late ack (after the delivery went to another member) is refused with CB_ERR_ACK_STALE; a double ack too', async () => {
    const hub = await startStreamHub();
    const a = await hub.connect();
    const b = await hub.connect();
    await a.streams.create({ name: 'L', topics: ['l'] });
    const ca = a.consume('L', { durable: 'shared', ackWaitMs: 80 });
    await ca.ready;
    const cb = b.consume('L', { durable: 'shared', ackWaitMs: 80 });
    await cb.ready;
    await a.publish('l', 1, { durable: true });
    // It goes to a first; when a's delivery times out, round robin hands it to b.
    const [m1] = await take(ca[Symbol.asyncIterator](), 1);
    const [m2] = await take(cb[Symbol.asyncIterator](), 1);
    assert.equal(m2!.seq, 1);
    assert.equal(m2!.deliveryCount, 2);
    assert.notEqual(m2!.token, m1!.token);
    const stale = await rejectsWithCode(m1!.ack(), 'CB_ERR_ACK_STALE');
    assert.equal(stale.details?.seq, 1);
    await m2!.ack();
    await rejectsWithCode(m2!.ack(), 'CB_ERR_ACK_STALE');
    // Settled: the hub holds nothing that could come again (a redelivery is made only of what it
    // holds), and a round trip on each connection brings anything it sent before.
    for (const bus of [a, b]) {
      assert.deepEqual((await bus.streams.info('L')).consumers, [{ durable: 'shared', ackFloor: 1, pending: 0, waiting: 0, members: 2 }]);
    }
    assert.equal(ca.pending + cb.pending, 0);
    await hub.close();
  });

  test('an ack after ackWaitMs expired on the same member is refused as stale and the message comes again', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'E', topics: ['e'] });
    await bus.publish('e', 1, { durable: true });
    const c = bus.consume('E', { ackWaitMs: 40 });
    const it = c[Symbol.asyncIterator]();
    const [m1] = await take(it, 1);
    const [m2] = await take(it, 1); // redelivered after 40 ms
    assert.equal(m2!.deliveryCount, 2);
    await rejectsWithCode(m1!.ack(), 'CB_ERR_ACK_STALE');
    await m2!.ack();
    await hub.close();
  });

  test('several clients share one durable consumer and split the work; every message is settled once', async () => {
    const hub = await startStreamHub();
    const pub = await hub.connect();
    await pub.streams.create({ name: 'J', topics: ['j'] });
    const workers = await Promise.all([hub.connect(), hub.connect(), hub.connect()]);
    const seen = new Map<number, number>();
    const perWorker = [0, 0, 0];
    const consumers = workers.map((w, k) =>
      w.consume('J', { durable: 'jobs', maxAckPending: 10 }, async (m) => {
        seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
        perWorker[k]!++;
        await m.ack();
      }),
    );
    await Promise.all(consumers.map((c) => c.ready));
    const N = 300;
    await Promise.all(Array.from({ length: N }, (_, i) => pub.publish('j', i, { durable: true })));
    await until(() => seen.size === N, 5_000, 'all messages');
    // Everything settled at the hub (nothing left to deliver again), then a round trip on each
    // worker's connection: whatever the hub sent a worker before has arrived.
    await until(async () => (await pub.streams.info('J')).consumers[0]?.ackFloor === N, 5_000, 'every ack at the hub');
    for (const w of workers) await w.streams.info('J');
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'no message was delivered twice',
    );
    assert.ok(
      perWorker.every((n) => n > 0),
      `every worker got some: ${perWorker}`,
    );
    const info = await pub.streams.info('J');
    assert.deepEqual(info.consumers, [{ durable: 'jobs', ackFloor: N, pending: 0, waiting: 0, members: 3 }]);
    await hub.close();
  });

  test('maxAckPending bounds what is delivered and not settled', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'F', topics: ['f'] });
    for (let i = 0; i < 20; i++) await bus.publish('f', i, { durable: true });
    const got: StreamMessage[] = [];
    const c = bus.consume('F', { maxAckPending: 5 }, (m) => {
      got.push(m);
    });
    await c.ready;
    // The consumer hands out what fits in one go; a round trip on the same connection brings all
    // it sent, and the hub's own count says what it holds.
    await until(() => got.length >= 5, 2_000, 'the first deliveries');
    assert.equal((await bus.streams.info('F')).consumers[0]?.pending, 5);
    assert.equal(got.length, 5);
    await got[0]!.ack();
    await until(() => got.length >= 6, 2_000, 'one more after an ack');
    const after = (await bus.streams.info('F')).consumers[0];
    assert.deepEqual([after?.ackFloor, after?.pending, after?.waiting], [1, 5, 0]);
    assert.equal(got.length, 6);
    await hub.close();
  });

  test('a durable consumer resumes after its client leaves; unsettled messages come again, acked ones do not', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'R', topics: ['r'] });
    for (let i = 1; i <= 6; i++) await bus.publish('r', i, { durable: true });
    const c1 = bus.consume('R', { durable: 'resume' });
    const first = await take(c1[Symbol.asyncIterator](), 4);
    await first[0]!.ack();
    await first[1]!.ack();
    await first[3]!.ack(); // 3 stays unsettled
    c1.close();
    await bus.flush(); // the hub processed the leave: what c1 held goes out again
    const again = await hub.connect();
    const c2 = again.consume('R', { durable: 'resume' });
    const rest = await take(c2[Symbol.asyncIterator](), 3);
    // 5 and 6 had been delivered to the first client too (the hub sends ahead, up to maxAckPending).
    assert.deepEqual(
      rest.map((m) => [m.seq, m.deliveryCount]),
      [
        [3, 2],
        [5, 2],
        [6, 2],
      ],
    );
    await hub.close();
  });
});

describe('streams: access control', () => {
  test('stream operations need subscribe grants over every topic of the stream', async () => {
    const doc = testConfigDocument();
    const { security } = hubSecurity(doc);
    const hub = await startStreamHub({ security });
    const admin = await hub.connect({ name: 'test', secret: doc.apps.test.secret });
    const orders = await hub.connect({ name: 'orders', secret: doc.apps.orders.secret });
    await orders.streams.create({ name: 'ORD', topics: ['orders.>'] });
    await rejectsWithCode(orders.streams.create({ name: 'ALL', topics: ['>'] }), 'CB_ERR_FORBIDDEN');
    await admin.streams.create({ name: 'BILL', topics: ['billing.>'] });
    await rejectsWithCode(orders.streams.info('BILL'), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.consume('BILL').ready, 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.streams.purge('BILL'), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.streams.deleteMessage('BILL', 1), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.streams.purgeTopic('BILL', 'billing.x'), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.streams.last('BILL', 'billing.x'), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(orders.streams.read('BILL.DLQ'), 'CB_ERR_FORBIDDEN');
    assert.deepEqual(
      (await orders.streams.list()).map((s) => s.name),
      ['ORD', 'ORD.DLQ'],
    );
    assert.deepEqual((await admin.streams.list()).map((s) => s.name).sort(), ['BILL', 'BILL.DLQ', 'ORD', 'ORD.DLQ']);
    // A durable publish needs the publish grant like any other.
    await rejectsWithCode(orders.publish('orders.admin.x', 1, { durable: true }), 'CB_ERR_FORBIDDEN');
    assert.equal((await orders.publish('orders.new', 1, { durable: true })).stream, 'ORD');
    await hub.close();
  });
});

describe('streams: on disk across hub restarts', () => {
  test('positions, the duplicate window and dead letters survive a restart of the service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-streams-'));
    try {
      let hub = await startStreamHub({ catalog: new FileCatalog(dir) });
      let bus = await hub.connect();
      await bus.streams.create({ name: 'K', topics: ['k'], durability: 'interval' });
      for (let i = 1; i <= 4; i++) await bus.publish('k', i, { durable: true, msgId: `id-${i}` });
      const c = bus.consume('K', { durable: 'keep' });
      const got = await take(c[Symbol.asyncIterator](), 3);
      await got[0]!.ack();
      await got[1]!.term('no');
      await until(() => (hub.service.info('K.DLQ')?.state.messages ?? 0) === 1, 2_000, 'dead letter');
      await hub.close(); // graceful: positions are saved
      hub = await startStreamHub({ catalog: new FileCatalog(dir) });
      bus = await hub.connect();
      const info = await bus.streams.info('K');
      assert.equal(info.durability, 'interval');
      assert.equal(info.state.lastSeq, 4);
      assert.deepEqual(await bus.publish('k', 99, { durable: true, msgId: 'id-2' }), { stream: 'K', seq: 2, duplicate: true });
      assert.equal((await bus.streams.info('K.DLQ')).state.messages, 1);
      const c2 = bus.consume('K', { durable: 'keep' });
      const rest = await take(c2[Symbol.asyncIterator](), 2);
      // 3 and 4 had been delivered before the restart (4 ahead of the iteration): both come again.
      assert.deepEqual(
        rest.map((m) => [m.seq, m.deliveryCount]),
        [
          [3, 2],
          [4, 2],
        ],
      );
      await hub.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('streams: durable publishes across a lost connection', () => {
  test('a durable publish unanswered when the connection drops is sent again after the reconnect and stored once', async () => {
    const { Broker } = await import('../../src/core/broker/broker.js');
    const { connectWith } = await import('../../src/client/index.js');
    const { createMemoryPair } = await import('../../src/transports/memory/memory-transport.js');
    const { StreamService } = await import('../../src/core/streams/stream-service.js');
    const { MemoryCatalog } = await import('../../src/core/streams/memory-catalog.js');
    const service = new StreamService({ catalog: new MemoryCatalog() });
    await service.open();
    const broker = new Broker({ heartbeatMs: 0, streams: service as never });
    // The first connection dies as the hub's answers to the publishes arrive: stored, never acknowledged.
    let attempt = 0;
    let armed = false;
    const connector = async () => {
      const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
      broker.accept(server);
      if (++attempt > 1) return client;
      const cut: typeof client = Object.create(client);
      cut.setHandlers = (h) =>
        client.setHandlers({
          ...h,
          message: (chunk) => {
            if (!armed) return h.message(chunk);
            armed = false;
            client.close(1001, 'cut before the acknowledgements');
          },
        });
      return cut;
    };
    const bus = await connectWith(connector, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 }, requestTimeoutMs: 5_000 });
    await bus.streams.create({ name: 'RS', topics: ['rs'] });
    armed = true;
    const acks = [1, 2, 3].map((i) => bus.publish('rs', i, { durable: true, msgId: `m${i}` }));
    const auto = bus.publish('rs', 4, { durable: true }); // no msgId: one is generated
    const done = await Promise.all([...acks, auto]);
    assert.equal(attempt >= 2, true, 'it reconnected');
    assert.deepEqual(done.map((a) => a.seq).sort(), [1, 2, 3, 4]);
    assert.ok(
      done.every((a) => a.duplicate),
      'the hub had stored them before the cut: the resends were duplicates',
    );
    const stored = await bus.streams.read('RS');
    assert.deepEqual(
      stored.map((m) => m.data),
      [1, 2, 3, 4],
      'each stored exactly once',
    );
    assert.equal(typeof stored[3]!.msgId, 'string');
    await bus.close();
    await broker.close(10);
    await service.close();
  });
});
