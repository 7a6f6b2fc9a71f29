import { hubSecurity } from '../helpers/security.js';
import { describe, test } from 'node:test';
import { until } from '../helpers/wait.js';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import type { Transport } from '../../src/core/transport/transport.js';
import { StallableTransport, hello, openSession, tick } from '../helpers/recording-transport.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from '../../src/core/defaults.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { connectWith } from '../../src/client/index.js';
import { createMemoryPair, memoryConnector } from '../../src/transports/memory/memory-transport.js';

describe('broker', () => {
  test('WELCOME carries the limits; anything before HELLO is refused', async () => {
    const broker = new Broker({ heartbeatMs: 0, maxTopicLength: 100 });
    const t = await openSession(broker);
    const welcome = JSON.parse(new TextDecoder().decode(t.received[0]!.payload));
    assert.equal(welcome.limits.maxTopicLength, 100);
    assert.equal(welcome.version, 1);
    const t2 = new StallableTransport();
    broker.accept(t2);
    t2.inject(envelope(Kind.PUBLISH, { topic: 'a' }));
    await tick();
    assert.deepEqual(t2.errors(), ['CB_ERR_HANDSHAKE_REQUIRED']);
    assert.ok(t2.closed);
    await broker.close(10);
  });

  test('handshake timeout closes silent peers', async (ctx) => {
    ctx.mock.timers.enable({ apis: ['setTimeout'] });
    const broker = new Broker({ heartbeatMs: 0, handshakeTimeoutMs: 20 });
    const t = new StallableTransport();
    broker.accept(t);
    ctx.mock.timers.tick(19);
    await tick();
    assert.equal(t.closed, undefined, 'not before the timeout');
    ctx.mock.timers.tick(1);
    await tick();
    assert.deepEqual(t.errors(), ['CB_ERR_HANDSHAKE_TIMEOUT']);
    assert.ok(t.closed);
    ctx.mock.timers.reset();
    await broker.close(10);
  });

  test('an unsupported auth scheme or version is refused with a code', async () => {
    const secure = new Broker({ heartbeatMs: 0, security: hubSecurity().security });
    const t = new StallableTransport();
    secure.accept(t);
    t.inject(
      envelope(Kind.HELLO, {
        payloadType: PayloadType.JSON,
        payload: new TextEncoder().encode(JSON.stringify({ versions: [1], name: 'test', auth: { scheme: 'psk-ecdhe' } })),
      }),
    );
    await tick();
    assert.deepEqual(t.errors(), ['CB_ERR_AUTH_FAILED']);
    await secure.close(10);
    const broker = new Broker({ heartbeatMs: 0 });
    const t2 = new StallableTransport();
    broker.accept(t2);
    t2.inject(
      envelope(Kind.HELLO, {
        payloadType: PayloadType.JSON,
        payload: new TextEncoder().encode(JSON.stringify({ versions: [7], name: 'x' })),
      }),
    );
    await tick();
    assert.deepEqual(t2.errors(), ['CB_ERR_UNSUPPORTED_VERSION']);
    await broker.close(10);
  });

  test('subscription limit: the Nth is accepted, the N+1th refused', async () => {
    const broker = new Broker({ heartbeatMs: 0, maxSubscriptions: 3 });
    const t = await openSession(broker);
    for (let sid = 1; sid <= 4; sid++) t.inject(envelope(Kind.SUBSCRIBE, { id: 10 + sid, sid, topic: `s.${sid}` }));
    await tick();
    assert.equal(t.received.filter((e) => e.kind === Kind.OK).length, 3);
    assert.deepEqual(t.errors(), ['CB_ERR_SUBSCRIPTION_LIMIT']);
    assert.equal(t.received.find((e) => e.kind === Kind.ERROR)!.id, 14, 'the error answers the refused operation');
    await broker.close(10);
  });

  test('slow consumer, policy disconnect: the stalled one is cut off, others unaffected', async () => {
    const events: string[] = [];
    const broker = new Broker({ heartbeatMs: 0, maxQueuedMessages: 50, transportHighWaterBytes: 1024 });
    broker.events.on('slow-consumer', (e) => events.push(e.policy));
    const slow = await openSession(broker);
    const fast = await openSession(broker);
    const pub = await openSession(broker);
    slow.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'load.>' }));
    fast.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'load.>' }));
    await tick();
    slow.stalled = true;
    for (let i = 0; i < 500; i++) {
      pub.inject(envelope(Kind.PUBLISH, { topic: 'load.x', payloadType: PayloadType.BYTES, payload: new Uint8Array(100) }));
      if (i % 10 === 0) await tick();
    }
    await tick();
    assert.equal(fast.received.filter((e) => e.kind === Kind.MESSAGE).length, 500);
    assert.deepEqual(events, ['disconnect']);
    assert.equal(slow.closed?.code, 4008);
    slow.resume();
    assert.ok(slow.errors().includes('CB_ERR_SLOW_CONSUMER'));
    assert.equal(broker.stats().connections.length, 2);
    await broker.close(10);
  });

  test('slow consumer, policy drop: the queue bound holds exactly, drops are reported, the peer stays', async () => {
    const broker = new Broker({ heartbeatMs: 0, maxQueuedMessages: 50, transportHighWaterBytes: 1, slowConsumerPolicy: 'drop' });
    const slow = await openSession(broker);
    const pub = await openSession(broker);
    slow.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'load.>' }));
    await tick();
    slow.stalled = true;
    slow.buffered = 1; // the transport already holds something: the broker keeps frames in its own queue
    for (let i = 0; i < 200; i++)
      pub.inject(envelope(Kind.PUBLISH, { topic: 'load.x', payloadType: PayloadType.BYTES, payload: new Uint8Array([i]) }));
    await tick();
    const stats = broker.stats().connections.find((c) => c.queuedMessages > 0)!;
    assert.equal(stats.queuedMessages, 51, '50 messages plus the slow-consumer notice');
    assert.equal(slow.closed, undefined);
    slow.resume();
    await tick();
    await tick();
    const msgs = slow.received.filter((e) => e.kind === Kind.MESSAGE);
    assert.equal(msgs.length, 50);
    assert.deepEqual(
      msgs.map((m) => m.payload[0]),
      Array.from({ length: 50 }, (_, i) => i),
      'the oldest are kept, in order',
    );
    assert.deepEqual(slow.errors(), ['CB_ERR_SLOW_CONSUMER', 'CB_ERR_SLOW_CONSUMER']);
    const summary = slow.received.filter((e) => e.kind === Kind.ERROR).map((e) => JSON.parse(new TextDecoder().decode(e.payload)))[1];
    assert.equal(summary.details.dropped, 150);
    await broker.close(10);
  });

  test('options are validated and conflicting options rejected; the caller object is not mutated', () => {
    assert.throws(
      () => new Broker({ maxFrameBytes: -1 }),
      (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
    );
    assert.throws(
      () => new Broker({ maxQueuedBytes: 2048, maxFrameBytes: 4096 }),
      (e) => isCrossbusError(e, 'CB_ERR_CONFLICTING_OPTIONS'),
    );
    assert.throws(
      () => new Broker({ slowConsumerPolicy: 'explode' as 'drop' }),
      (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
    );
    const opts = Object.freeze({ heartbeatMs: 0, maxFrameBytes: 4096 });
    const b = new Broker(opts);
    assert.equal(b.options.limits.maxFrameBytes, 4096);
    void b.close(1);
  });

  test('heartbeat: a silent peer is pinged, then dropped', async (ctx) => {
    // The heartbeat runs every heartbeatMs / 2 and measures silence with Date.now().
    ctx.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
    const broker = new Broker({ heartbeatMs: 30 });
    const t = await openSession(broker);
    ctx.mock.timers.tick(45); // silent for more than heartbeatMs
    await tick();
    assert.ok(
      t.received.some((e) => e.kind === Kind.PING),
      'pinged',
    );
    assert.equal(t.closed, undefined, 'not dropped yet');
    ctx.mock.timers.tick(30); // silent for more than twice heartbeatMs
    await tick();
    assert.ok(t.closed, 'dropped');
    assert.ok(t.errors().includes('CB_ERR_CONNECTION_LOST'));
    ctx.mock.timers.reset();
    await broker.close(10);
  });
});

describe('client against an in-process broker', () => {
  test('publish and subscribe reject at once on bad input; nothing is sent', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const bus = await connectWith(memoryConnector(broker), { name: 'c', reconnect: false });
    await assert.rejects(bus.publish('a.*', 1), (e) => isCrossbusError(e, 'CB_ERR_TOPIC_INVALID'));
    await assert.rejects(bus.publish('a..b', 1), (e) => isCrossbusError(e, 'CB_ERR_TOPIC_INVALID'));
    await assert.rejects(
      bus.publish('a', () => 1),
      (e) => isCrossbusError(e, 'CB_ERR_PAYLOAD_INVALID'),
    );
    await assert.rejects(bus.publish('a', new Uint8Array(2 * 1024 * 1024)), (e) => isCrossbusError(e, 'CB_ERR_FRAME_TOO_LARGE'));
    const sub = bus.subscribe('a.>.b');
    await assert.rejects(sub.ready, (e) => isCrossbusError(e, 'CB_ERR_TOPIC_INVALID'));
    assert.equal(sub.closed, true);
    await bus.flush();
    assert.equal(broker.stats().messagesIn, 0);
    await bus.close();
    await assert.rejects(bus.publish('a', 1), (e) => isCrossbusError(e, 'CB_ERR_CONNECTION_CLOSED'));
    await broker.close(10);
  });

  test('the hub refuses what the client cannot check: subscription limit surfaces on sub.ready', async () => {
    const broker = new Broker({ heartbeatMs: 0, maxSubscriptions: 1 });
    const bus = await connectWith(memoryConnector(broker), { name: 'c', reconnect: false });
    await bus.subscribe('a').ready;
    await assert.rejects(bus.subscribe('b').ready, (e) => isCrossbusError(e, 'CB_ERR_SUBSCRIPTION_LIMIT'));
    await bus.close();
    await broker.close(10);
  });

  test('publish with ack resolves once routed; drain lets a running handler finish', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const a = await connectWith(memoryConnector(broker), { name: 'a', reconnect: false });
    const b = await connectWith(memoryConnector(broker), { name: 'b', reconnect: false });
    let started = false;
    let finished = false;
    // Slow on purpose: drain must wait for it.
    await b.serve('slow.job', async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 50));
      finished = true;
      return 'done';
    }).ready;
    await a.publish('x.y', 1, { ack: true });
    const reply = a.request('slow.job', null, { timeoutMs: 2000 });
    await until(() => started, 2_000, 'the handler to start');
    await b.drain();
    assert.equal(finished, true);
    assert.equal(await reply, 'done');
    assert.equal(b.state, 'closed');
    await a.close();
    await broker.close(10);
  });

  test('client options are validated', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    await assert.rejects(connectWith(memoryConnector(broker), { maxPendingBytes: -5 }), (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'));
    await assert.rejects(connectWith(memoryConnector(broker), { reconnect: { initialDelayMs: 10_000, maxDelayMs: 100 } }), (e) =>
      isCrossbusError(e, 'CB_ERR_CONFLICTING_OPTIONS'),
    );
    await broker.close(10);
  });
});

describe('client while disconnected', () => {
  test('publishes are kept up to reconnectBufferBytes, refused beyond it, and the kept ones arrive after the reconnect', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    let allow = true;
    let lastServerSide: Transport | undefined;
    const acceptor = {
      accept: (t: Transport) => {
        lastServerSide = t;
        broker.accept(t);
      },
    };
    const base = memoryConnector(acceptor);
    const connector = async () => {
      if (!allow) throw new Error('hub unreachable');
      return base();
    };
    const receiver = await connectWith(memoryConnector(broker), { name: 'rx', reconnect: false });
    const got: number[] = [];
    await receiver.subscribe('buf.x', (m) => void got.push((m.data as { i: number }).i)).ready;
    const bus = await connectWith(connector, { name: 'tx', reconnectBufferBytes: 2000, reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
    allow = false;
    lastServerSide!.close(1001, 'test: hub side goes away');
    await until(() => bus.state === 'reconnecting', 2_000, 'reconnecting');
    assert.equal(bus.state, 'reconnecting');
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      await bus.publish('buf.x', { i, pad: 'x'.repeat(200) }).then(
        () => outcomes.push('ok'),
        (e) => outcomes.push(e.code),
      );
    }
    const accepted = outcomes.filter((o) => o === 'ok').length;
    assert.ok(accepted > 0 && accepted < 40, `some accepted, some refused: ${accepted}`);
    assert.deepEqual(outcomes.slice(accepted), Array(40 - accepted).fill('CB_ERR_BACKPRESSURE'), 'refusals come after the buffer is full');
    allow = true;
    await new Promise<void>((resolve) => bus.on('connected', () => resolve()));
    // The hub routed all the bus sent before its PONG, and the receiver's PONG comes after those.
    await bus.flush();
    await receiver.flush();
    assert.deepEqual(
      got,
      Array.from({ length: accepted }, (_, i) => i),
      'exactly the accepted ones, in order',
    );
    await bus.close();
    await receiver.close();
    await broker.close(10);
  });
});

describe('client reconnect loop', () => {
  test('one refused handshake leads to one reconnect attempt, not two parallel loops (on mock time)', async (ctx) => {
    // The reconnect delays run on mocked setTimeout, so every attempt that could have been made
    // within ten delays has been made once the time is advanced: no wall-clock wait.
    ctx.mock.timers.enable({ apis: ['setTimeout'] });
    const broker = new Broker({ heartbeatMs: 0 });
    let attempts = 0;
    let first: Transport | undefined;
    const connector = async (): Promise<Transport> => {
      attempts++;
      const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
      if (attempts === 1) {
        first = server;
        broker.accept(server);
      } else if (attempts === 2) {
        // Refuses after HELLO, like a hub that closes during the handshake.
        server.setHandlers({ message: () => server.close(1001, 'CB_ERR_HUB_SHUTTING_DOWN'), close: () => {} });
      } else {
        server.setHandlers({ message: () => {}, close: () => {} }); // never answers: the attempt stays pending
      }
      return client;
    };
    const bus = await connectWith(connector, { timeoutMs: 4_000, reconnect: { initialDelayMs: 50, maxDelayMs: 50, factor: 1, jitter: 0 } });
    const reconnecting: number[] = [];
    bus.on('reconnecting', (e) => reconnecting.push(e.attempt));
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await tick();
    };
    first!.close(1001, 'test: hub side goes away');
    await settle();
    assert.equal(bus.state, 'reconnecting');
    ctx.mock.timers.tick(50); // attempt 2: refused during the handshake
    await settle();
    assert.equal(attempts, 2);
    for (let k = 0; k < 10; k++) {
      ctx.mock.timers.tick(50);
      await settle();
    }
    assert.equal(
      attempts,
      3,
      `one refused handshake must lead to exactly one new attempt (reconnecting events ${JSON.stringify(reconnecting)})`,
    );
    ctx.mock.timers.reset();
    await bus.close();
    await broker.close(10);
  });
});

describe('weighted service groups', () => {
  test('over every run of sum(weights) messages each member gets exactly its weight', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const pub = await connectWith(memoryConnector(broker), { name: 'pub', reconnect: false });
    const m1 = await connectWith(memoryConnector(broker), { name: 'v1', reconnect: false });
    const m2 = await connectWith(memoryConnector(broker), { name: 'v2', reconnect: false });
    const counts = [0, 0];
    await m1.subscribe('svc.x', () => void counts[0]!++, { group: 'svc', weight: 1 }).ready;
    await m2.subscribe('svc.x', () => void counts[1]!++, { group: 'svc', weight: 3 }).ready;
    for (let i = 0; i < 400; i++) await pub.publish('svc.x', i);
    await pub.flush();
    await m1.flush();
    await m2.flush();
    assert.deepEqual(counts, [100, 300]);
    await Promise.all([pub.close(), m1.close(), m2.close()]);
    await broker.close(10);
  });

  test('bad weights are refused: locally, and by the hub for raw frames', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const bus = await connectWith(memoryConnector(broker), { name: 'c', reconnect: false });
    await assert.rejects(bus.subscribe('a', { weight: 2 }).ready, (e) => isCrossbusError(e, 'CB_ERR_CONFLICTING_OPTIONS'));
    await assert.rejects(bus.subscribe('a', { group: 'g', weight: 0 }).ready, (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'));
    await assert.rejects(bus.subscribe('a', { group: 'g', weight: 1001 }).ready, (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'));
    await bus.subscribe('a', { group: 'g', weight: 1000 }).ready;
    await bus.close();
    const t = await openSession(broker);
    const opts = (o: unknown) => ({ payloadType: PayloadType.JSON, payload: new TextEncoder().encode(JSON.stringify(o)) });
    t.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'a', group: 'g', ...opts({ weight: 0 }) }));
    t.inject(envelope(Kind.SUBSCRIBE, { id: 2, sid: 2, topic: 'a', ...opts({ weight: 2 }) }));
    t.inject(
      envelope(Kind.SUBSCRIBE, {
        id: 3,
        sid: 3,
        topic: 'a',
        group: 'g',
        payloadType: PayloadType.JSON,
        payload: new TextEncoder().encode('{'),
      }),
    );
    t.inject(envelope(Kind.SUBSCRIBE, { id: 4, sid: 4, topic: 'a', group: 'g', ...opts({ weight: 5 }) }));
    await tick();
    assert.deepEqual(t.errors(), ['CB_ERR_PROTOCOL', 'CB_ERR_PROTOCOL', 'CB_ERR_PROTOCOL']);
    assert.equal(t.received.filter((e) => e.kind === Kind.OK).length, 1);
    await broker.close(10);
  });
});

describe('async-iterator subscriptions', () => {
  test('hold at most maxPending unread messages: the oldest are kept, the rest dropped and reported', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const bus = await connectWith(memoryConnector(broker), { name: 'it', reconnect: false });
    const errors: string[] = [];
    bus.on('error', (e) => errors.push(e.error.code));
    const sub = bus.subscribe('it.x', { maxPending: 5 });
    await sub.ready;
    for (let i = 0; i < 8; i++) await bus.publish('it.x', i);
    await bus.flush();
    await tick();
    assert.equal(sub.pending, 5);
    assert.equal(sub.dropped, 3);
    assert.deepEqual(errors, ['CB_ERR_SLOW_CONSUMER']);
    const got: unknown[] = [];
    for await (const m of sub) {
      got.push(m.data);
      if (got.length === 5) break; // break ends the subscription
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.equal(sub.closed, true);
    await bus.close();
    await broker.close(10);
  });

  test('an iterator ends when the bus closes', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const bus = await connectWith(memoryConnector(broker), { name: 'it', reconnect: false });
    const sub = bus.subscribe('it.y');
    await sub.ready;
    const consumed = (async () => {
      let n = 0;
      for await (const _m of sub) n++;
      return n;
    })();
    await bus.publish('it.y', 1);
    await bus.flush();
    await tick();
    await bus.close();
    assert.equal(await consumed, 1);
    await broker.close(10);
  });
});

describe('connection limit', () => {
  test('the Nth connection is accepted, the N+1th refused with CB_ERR_TOO_MANY_CONNECTIONS, and a freed slot is reusable', async () => {
    const broker = new Broker({ heartbeatMs: 0, maxConnections: 2 });
    const a = await connectWith(memoryConnector(broker), { name: 'a', reconnect: false });
    const b = await connectWith(memoryConnector(broker), { name: 'b', reconnect: false });
    await assert.rejects(
      connectWith(memoryConnector(broker), { name: 'c', reconnect: false }),
      (e) => isCrossbusError(e, 'CB_ERR_TOO_MANY_CONNECTIONS') && (e as { retryable: boolean }).retryable === true,
    );
    const raw = new StallableTransport();
    broker.accept(raw);
    assert.deepEqual(raw.errors(), ['CB_ERR_TOO_MANY_CONNECTIONS']);
    assert.equal(raw.closed?.code, 1013);
    await a.close();
    await tick();
    const c = await connectWith(memoryConnector(broker), { name: 'c', reconnect: false });
    assert.equal(c.state, 'connected');
    assert.equal(broker.stats().connections.length, 2);
    await Promise.all([b.close(), c.close()]);
    await broker.close(10);
  });
});

describe('handshake queue', () => {
  test('maxPendingHandshakes are held; one more is refused at once with CB_ERR_TOO_MANY_HANDSHAKES; a finished handshake frees its place', async () => {
    const broker = new Broker({ heartbeatMs: 0, maxPendingHandshakes: 2 });
    const first = new StallableTransport();
    const second = new StallableTransport();
    broker.accept(first);
    broker.accept(second);
    assert.equal(first.closed, undefined);
    assert.equal(second.closed, undefined);
    const third = new StallableTransport();
    broker.accept(third);
    assert.deepEqual(third.errors(), ['CB_ERR_TOO_MANY_HANDSHAKES']);
    assert.equal(third.closed?.code, 1013);
    assert.equal(third.closed?.reason, 'CB_ERR_TOO_MANY_HANDSHAKES');
    first.inject(hello('a')); // its handshake ends: the place is free (open connections do not count)
    await tick();
    const fourth = new StallableTransport();
    broker.accept(fourth);
    assert.equal(fourth.closed, undefined);
    second.close(); // a handshake that ends in a close frees its place too
    const fifth = new StallableTransport();
    broker.accept(fifth);
    assert.equal(fifth.closed, undefined);
    const sixth = new StallableTransport();
    broker.accept(sixth);
    assert.deepEqual(sixth.errors(), ['CB_ERR_TOO_MANY_HANDSHAKES']);
    await broker.close(10);
  });

  test('maxPendingHandshakes must be at least 1', () => {
    assert.throws(
      () => new Broker({ maxPendingHandshakes: 0 }),
      (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
    );
    assert.equal(new Broker({ heartbeatMs: 0 }).options.maxPendingHandshakes, DEFAULT_MAX_PENDING_HANDSHAKES);
  });
});

describe('hub-wide queue bound', () => {
  async function scenario(policy: 'disconnect' | 'drop') {
    const bound = 8192;
    const broker = new Broker({
      heartbeatMs: 0,
      maxFrameBytes: 1024,
      maxTotalQueuedBytes: bound,
      transportHighWaterBytes: 1,
      slowConsumerPolicy: policy,
    });
    const events: Array<{ name: string; reason: string }> = [];
    broker.events.on('slow-consumer', (e) => events.push({ name: e.name, reason: e.reason }));
    const big = await openSession(broker);
    const small = await openSession(broker);
    const fast = await openSession(broker);
    const pub = await openSession(broker);
    big.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'x.>' }));
    small.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'x.a' }));
    fast.inject(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'x.>' }));
    await tick();
    for (const t of [big, small]) {
      t.stalled = true;
      t.buffered = 1;
    }
    let peak = 0;
    let sent = 0;
    const send = async (topic: string, n: number) => {
      for (let i = 0; i < n; i++) {
        pub.inject(envelope(Kind.PUBLISH, { topic, payloadType: PayloadType.BYTES, payload: new Uint8Array(100) }));
        sent++;
        peak = Math.max(peak, broker.stats().queuedBytes);
        assert.ok(broker.stats().queuedBytes <= bound, `hub-wide queue ${broker.stats().queuedBytes} within ${bound}`);
        await tick();
      }
    };
    await send('x.b', 20); // only `big` (and fast) queue these: big gets the larger backlog
    await send('x.a', 40);
    assert.ok(peak > bound - 2 * 140, `the bound was reached, within two frames of 140 bytes (peak ${peak})`);
    assert.equal(fast.received.filter((e) => e.kind === Kind.MESSAGE).length, sent, 'the fast subscriber got everything');
    return { broker, big, small, events, sent };
  }

  test("'disconnect': the largest backlog is closed, the others keep theirs", async () => {
    const { broker, big, small, events } = await scenario('disconnect');
    assert.equal(big.closed?.code, 4008);
    assert.equal(small.closed, undefined);
    assert.deepEqual(events[0], { name: 't', reason: 'hub-memory' });
    big.resume();
    assert.ok(big.errors().includes('CB_ERR_SLOW_CONSUMER'));
    await broker.close(10);
  });

  test("'drop': the largest backlog is discarded and reported, the connection stays", async () => {
    const { broker, big, small, events } = await scenario('drop');
    assert.equal(big.closed, undefined);
    assert.equal(small.closed, undefined);
    assert.equal(events[0]?.reason, 'hub-memory');
    big.resume();
    small.resume();
    await tick();
    await tick();
    const notices = big.received.filter((e) => e.kind === Kind.ERROR).map((e) => JSON.parse(new TextDecoder().decode(e.payload)));
    assert.equal(notices[0].code, 'CB_ERR_SLOW_CONSUMER');
    assert.equal(notices[0].details.reason, 'hub-memory');
    const summary = notices.find((n) => typeof n.details?.dropped === 'number');
    assert.ok(summary && summary.details.dropped > 0, JSON.stringify(notices));
    assert.equal(broker.stats().queuedBytes, 0, 'all queues drained');
    await broker.close(10);
  });

  test('maxTotalQueuedBytes must hold one frame', () => {
    assert.throws(
      () => new Broker({ maxFrameBytes: 4096, maxTotalQueuedBytes: 2048 }),
      (e) => isCrossbusError(e, 'CB_ERR_CONFLICTING_OPTIONS'),
    );
  });
});
