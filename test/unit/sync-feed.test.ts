/**
 * The sync client's reading and sending, against an in-process hub with streams: the ordered feed
 * hands every log entry over once, in seq order, whatever the apply's timing, across a lost
 * connection and past a purged stretch; the publisher sends one change at a time, again after a
 * lost acknowledgement (stored once), and hands back a change the hub will never take.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamMessage } from '../../src/client/index.js';
import { OrderedFeed } from '../../src/client/sync/ordered-feed.js';
import { ChangePublisher } from '../../src/client/sync/publisher.js';
import { connectWith } from '../../src/client/index.js';
import { createMemoryPair } from '../../src/transports/memory/memory-transport.js';
import type { CrossbusError } from '../../src/core/errors/index.js';
import type { PublishAck } from '../../src/core/streams/wire.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

/** A fixed sequence of small delays (ms), so that applies finish out of step with deliveries. */
const delays = (i: number): number => (i * 7919) % 5;

async function publishN(bus: { publish: (t: string, d: unknown, o: { durable: true }) => Promise<PublishAck> }, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await bus.publish('log.doc', { i }, { durable: true });
}

describe('sync: the ordered feed', () => {
  test('every entry once, in seq order, though applies take varying time and many are delivered ahead', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'DOC', topics: ['log.>'] });
    await publishN(bus, 120);
    const seen: number[] = [];
    let busy = false;
    const feed = new OrderedFeed(
      bus,
      { stream: 'DOC', afterSeq: 20, maxAckPending: 16 },
      {
        async apply(msg) {
          assert.equal(busy, false, 'one apply at a time');
          busy = true;
          await new Promise((r) => setTimeout(r, delays(msg.seq)));
          seen.push(msg.seq);
          busy = false;
        },
        failed: (e) => assert.fail(e),
      },
    );
    await feed.start();
    await publishN(bus, 30); // more while it reads
    await until(() => feed.lastSeq === 150, 5_000, 'entry 150 applied');
    assert.deepEqual(
      seen,
      Array.from({ length: 130 }, (_, i) => i + 21),
    );
    feed.close();
    await hub.close();
  });

  test('after a lost connection, reading goes on from the next entry: none twice, none skipped', async () => {
    const hub = await startStreamHub();
    const admin = await hub.connect();
    await admin.streams.create({ name: 'DOC', topics: ['log.>'] });
    let current: ReturnType<typeof createMemoryPair>[0] | undefined;
    let attempts = 0;
    const bus = await connectWith(
      async () => {
        attempts++;
        const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
        hub.broker.accept(server);
        current = client;
        return client;
      },
      { reconnect: { initialDelayMs: 5, maxDelayMs: 10 }, requestTimeoutMs: 3_000 },
    );
    const seen: number[] = [];
    const feed = new OrderedFeed(
      bus,
      { stream: 'DOC', afterSeq: 0, maxAckPending: 4 },
      {
        apply: (msg: StreamMessage<unknown>) => {
          seen.push(msg.seq);
          if (msg.seq === 10) current?.close(1001, 'cut'); // mid-stream, with deliveries in flight
        },
        failed: (e) => assert.fail(e),
      },
    );
    await feed.start();
    await publishN(admin, 40);
    await until(() => feed.lastSeq === 40, 5_000, 'entry 40 applied');
    assert.ok(attempts >= 2, 'it reconnected');
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    feed.close();
    await bus.close();
    await hub.close();
  });

  test('entries purged before they were read: the first one after them says so (gap)', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'DOC', topics: ['log.>'] });
    await publishN(bus, 12);
    await bus.streams.purge('DOC', { upToSeq: 8 });
    const seen: Array<[number, boolean]> = [];
    const feed = new OrderedFeed(
      bus,
      { stream: 'DOC', afterSeq: 3, maxAckPending: 8 },
      {
        apply: (msg, gap) => void seen.push([msg.seq, gap]),
        failed: (e) => assert.fail(e),
      },
    );
    await feed.start();
    await until(() => feed.lastSeq === 12, 3_000, 'entry 12');
    assert.deepEqual(seen, [
      [9, true],
      [10, false],
      [11, false],
      [12, false],
    ]);
    feed.close();
    await hub.close();
  });

  test('an apply that throws stops the reading and says why', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'DOC', topics: ['log.>'] });
    await publishN(bus, 5);
    let failure: CrossbusError | undefined;
    const seen: number[] = [];
    const feed = new OrderedFeed(
      bus,
      { stream: 'DOC', afterSeq: 0, maxAckPending: 8 },
      {
        apply: (msg) => {
          if (msg.seq === 3) throw new Error('broken entry');
          seen.push(msg.seq);
        },
        failed: (e) => {
          failure = e;
        },
      },
    );
    await feed.start();
    await until(() => failure !== undefined, 3_000, 'the failure');
    assert.equal(failure?.code, 'CB_ERR_INTERNAL');
    assert.deepEqual(seen, [1, 2]);
    assert.equal(feed.lastSeq, 2);
    feed.close();
    await hub.close();
  });
});

describe('sync: the change publisher', () => {
  test('one message at a time; an acknowledgement lost with the connection: sent again, stored once', async () => {
    const hub = await startStreamHub();
    const admin = await hub.connect();
    await admin.streams.create({ name: 'DOC', topics: ['log.>'] });
    let attempt = 0;
    let armed = false;
    const bus = await connectWith(
      async () => {
        const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
        hub.broker.accept(server);
        if (++attempt > 1) return client;
        // The first connection dies as the hub's answer arrives: stored, never acknowledged.
        const cut: typeof client = Object.create(client);
        cut.setHandlers = (h) =>
          client.setHandlers({
            ...h,
            message: (chunk) => {
              if (!armed) return h.message(chunk);
              armed = false;
              client.close(1001, 'cut before the acknowledgement');
            },
          });
        return cut;
      },
      { reconnect: { initialDelayMs: 5, maxDelayMs: 10 }, requestTimeoutMs: 3_000 },
    );
    const stored: Array<[string, PublishAck]> = [];
    const publisher = new ChangePublisher(bus, 'log.doc', 20, {
      stored: (id, ack) => void stored.push([id, ack]),
      refused: (_id, e) => assert.fail(e),
      stopped: (_id, e) => assert.fail(e),
    });
    armed = true;
    publisher.send('r1:1', new Uint8Array([1]));
    assert.equal(publisher.busy, true);
    assert.throws(() => publisher.send('r1:2', new Uint8Array([2])), { code: 'CB_ERR_INTERNAL' });
    await until(() => stored.length === 1, 5_000, 'the first stored');
    assert.equal(publisher.busy, false);
    assert.ok(attempt >= 2, 'it reconnected');
    publisher.send('r1:2', new Uint8Array([2]));
    await until(() => stored.length === 2, 3_000, 'the second stored');
    assert.deepEqual(
      stored.map(([id, a]) => [id, a.seq]),
      [
        ['r1:1', 1],
        ['r1:2', 2],
      ],
    );
    assert.equal(stored[0]?.[1].duplicate, true, 'the resend found it stored');
    assert.deepEqual(
      (await admin.streams.read('DOC')).map((r) => r.msgId),
      ['r1:1', 'r1:2'],
    );
    publisher.close();
    await bus.close();
    await hub.close();
  });

  test('an app that may not publish there: the change is handed back with CB_ERR_FORBIDDEN', async () => {
    const doc = testConfigDocument();
    const { security } = hubSecurity(doc);
    const hub = await startStreamHub({ security });
    const orders = await hub.connect({ name: 'orders', secret: doc.apps.orders.secret });
    await orders.streams.create({ name: 'ORD', topics: ['orders.>'] });
    let refused: [string, CrossbusError] | undefined;
    const publisher = new ChangePublisher(orders, 'orders.admin.doc', 20, {
      stored: () => assert.fail('stored'),
      refused: (id, e) => {
        refused = [id, e];
      },
      stopped: (_id, e) => assert.fail(e),
    });
    publisher.send('r:1', new Uint8Array([1]));
    await until(() => refused !== undefined, 3_000, 'the refusal');
    assert.equal(refused?.[0], 'r:1');
    assert.equal(refused?.[1].code, 'CB_ERR_FORBIDDEN');
    assert.equal(publisher.busy, false);
    await hub.close();
  });

  test('the bus closes: sending stops, the change is still unsent', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    await bus.streams.create({ name: 'DOC', topics: ['log.>'] });
    let stopped: CrossbusError | undefined;
    const publisher = new ChangePublisher(bus, 'log.doc', 20, {
      stored: () => {},
      refused: (_id, e) => assert.fail(e),
      stopped: (_id, e) => {
        stopped = e;
      },
    });
    await bus.close();
    publisher.send('r:1', new Uint8Array([1]));
    await until(() => stopped !== undefined, 3_000, 'stopped');
    assert.equal(stopped?.code, 'CB_ERR_CONNECTION_CLOSED');
    await hub.close();
  });
});
