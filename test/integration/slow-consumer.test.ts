/**
 * Slow consumers: a subscriber that stops reading must not hold up anybody else, and is handled
 * per the hub's slowConsumerPolicy.
 *
 * The first test runs a real hub process configured through its CLI flags. The others run the hub
 * in-process with `startHub` (still over real WebSockets on 127.0.0.1) because they also watch the
 * broker's 'slow-consumer' events and stats.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, type Hub } from '../../src/hub/index.js';
import type { SlowConsumerPolicy } from '../../src/hub/index.js';
import { Kind } from '../../src/core/protocol/envelope.js';
import type { Bus } from '../../src/node/index.js';
import { RawClient } from '../helpers/raw-ws.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 20_000 };
const PAYLOAD_BYTES = 256;
/** 20 MiB of payload in total. */
const TOTAL_MESSAGES = Math.ceil((20 * 1024 * 1024) / PAYLOAD_BYTES);
/** How far the publisher may run ahead of the fast subscriber (keeps the fast one's queue small). */
const WINDOW = 2_000;

const hubs: Hub[] = [];
after(async () => {
  await Promise.allSettled(hubs.map((h) => h.close()));
});

interface Scenario {
  hub: Hub;
  stalled: RawClient;
  fast: Bus;
  pub: Bus;
  slowEvents: Array<{ name: string; policy: string }>;
  disconnections: Array<{ name: string; code: number; reason: string }>;
  fastCount: () => number;
  fastInOrder: () => boolean;
  /** Publishes TOTAL_MESSAGES 256-byte messages to load.data, paced by the fast subscriber. */
  publishAll(onOverflow?: () => void): Promise<number>;
}

async function setUp(policy: SlowConsumerPolicy): Promise<Scenario> {
  const hub = await startHub({
    host: '127.0.0.1',
    port: 0,
    slowConsumerPolicy: policy,
    maxQueuedBytes: 2 * 1024 * 1024,
    transportHighWaterBytes: 256 * 1024,
    heartbeatMs: 0,
    shutdownTimeoutMs: 200,
    // Routing under load is what is tested here; the security layer has its own suites.
    insecure: true,
  });
  hubs.push(hub);
  const slowEvents: Scenario['slowEvents'] = [];
  const disconnections: Scenario['disconnections'] = [];
  hub.broker.events.on('slow-consumer', (e) => slowEvents.push({ name: e.name, policy: e.policy }));
  hub.broker.events.on('disconnection', (e) => disconnections.push({ name: e.name, code: e.code, reason: e.reason }));

  // The stalled subscriber: handshake and SUBSCRIBE by hand, then stop reading.
  const stalled = await RawClient.handshake(hub.url, 'stalled', { keepMessages: false });
  await stalled.subscribe(1, 'load.>');
  stalled.pause();

  const fast = await openBus(hub.url, { name: 'fast' });
  let fastCount = 0;
  let inOrder = true;
  await fast.subscribe<Uint8Array>('load.>', (m) => {
    const seq = new DataView(m.bytes.buffer, m.bytes.byteOffset, 4).getUint32(0);
    if (seq !== fastCount) inOrder = false;
    fastCount++;
  }).ready;
  const pub = await openBus(hub.url, { name: 'publisher' });

  return {
    hub,
    stalled,
    fast,
    pub,
    slowEvents,
    disconnections,
    fastCount: () => fastCount,
    fastInOrder: () => inOrder,
    async publishAll(onOverflow) {
      let notified = false;
      return publishPaced(
        pub,
        () => fastCount,
        () => {
          if (!notified && slowEvents.length > 0) {
            notified = true;
            onOverflow?.();
          }
        },
      );
    },
  };
}

/**
 * Publishes TOTAL_MESSAGES numbered 256-byte messages to load.data, never more than WINDOW ahead
 * of the fast subscriber; `afterEach` runs after every publish.
 */
async function publishPaced(pub: Bus, fastCount: () => number, afterEach: (i: number) => void): Promise<number> {
  for (let i = 0; i < TOTAL_MESSAGES; i++) {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    new DataView(payload.buffer).setUint32(0, i);
    await pub.publish('load.data', payload);
    afterEach(i);
    if (i + 1 - fastCount() > WINDOW) {
      await until(() => i + 1 - fastCount() <= WINDOW / 4, 10_000, `the fast subscriber to catch up (${fastCount()} of ${i + 1})`);
    }
  }
  return TOTAL_MESSAGES;
}

async function tearDown(s: Scenario | undefined): Promise<void> {
  if (s === undefined) return;
  s.stalled.terminate();
  await closeBus(s.fast);
  await closeBus(s.pub);
  await s.hub.close();
}

describe('slow consumer', () => {
  test(
    'hub process (--max-queue-bytes, --slow-consumer disconnect): the stalled peer is cut off, the fast one gets everything',
    T,
    async () => {
      const hub = await startHubProcess([
        '--max-queue-bytes',
        String(2 * 1024 * 1024),
        '--slow-consumer',
        'disconnect',
        '--heartbeat-ms',
        '0',
      ]);
      const stalled = await RawClient.handshake(hub.url, 'stalled', { keepMessages: false });
      let fast: Bus | undefined;
      let pub: Bus | undefined;
      try {
        await stalled.subscribe(1, 'load.>');
        stalled.pause();
        fast = await openBus(hub.url, { name: 'fast' });
        let fastCount = 0;
        let inOrder = true;
        await fast.subscribe<Uint8Array>('load.>', (m) => {
          if (new DataView(m.bytes.buffer, m.bytes.byteOffset, 4).getUint32(0) !== fastCount) inOrder = false;
          fastCount++;
        }).ready;
        pub = await openBus(hub.url, { name: 'publisher' });
        let resumed = false;
        // The hub logs the slow consumer on stderr; resume reading then, well inside its 2 s close grace.
        const published = await publishPaced(
          pub,
          () => fastCount,
          (i) => {
            if (!resumed && i % 200 === 0 && hub.stderr().includes('slow consumer')) {
              resumed = true;
              setImmediate(() => stalled.resume());
            }
          },
        );
        await until(() => fastCount >= published, 10_000, `all ${published} at the fast subscriber (have ${fastCount})`);
        assert.equal(fastCount, published);
        assert.ok(inOrder);
        stalled.resume();
        const close = await stalled.waitForClose(10_000);
        assert.deepEqual(close, { code: 4008, reason: 'CB_ERR_SLOW_CONSUMER' });
        assert.ok(
          stalled.errors().some((e) => e.code === 'CB_ERR_SLOW_CONSUMER' && e.retryable === true),
          JSON.stringify(stalled.errors()),
        );
        const warned = hub
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .some((o) => o.level === 'warn' && o.message === 'slow consumer' && (o.context as { policy?: string }).policy === 'disconnect');
        assert.ok(warned, hub.stderr());
        assert.ok(hub.alive(), 'the hub keeps serving');
      } finally {
        stalled.terminate();
        await closeBus(fast);
        await closeBus(pub);
        await hub.stop();
      }
    },
  );

  test("policy 'disconnect': the stalled connection is cut with CB_ERR_SLOW_CONSUMER / 4008; the fast one gets everything", T, async () => {
    let s: Scenario | undefined;
    try {
      s = await setUp('disconnect');
      const sc = s;
      // Resume as soon as the hub gives up on it: the hub destroys a peer that does not finish the
      // close handshake within 2 s.
      const published = await sc.publishAll(() => setImmediate(() => sc.stalled.resume()));
      await until(() => sc.fastCount() >= published, 10_000, `all ${published} messages at the fast subscriber (have ${sc.fastCount()})`);
      assert.equal(sc.fastCount(), published, 'the fast subscriber got every message exactly once');
      assert.ok(sc.fastInOrder(), 'in order');

      assert.equal(sc.slowEvents.length, 1, 'one slow-consumer event');
      assert.deepEqual(sc.slowEvents[0], { name: 'stalled', policy: 'disconnect' });
      const names = sc.hub.stats().connections.map((c) => c.name);
      assert.ok(!names.includes('stalled'), `the stalled connection is gone from the stats: ${names.join(', ')}`);
      assert.ok(names.includes('fast') && names.includes('publisher'));
      assert.ok(sc.disconnections.some((d) => d.name === 'stalled' && d.code === 4008));

      sc.stalled.resume();
      const close = await sc.stalled.waitForClose(10_000);
      const errors = sc.stalled.errors();
      const sawError = errors.some((e) => e.code === 'CB_ERR_SLOW_CONSUMER');
      const sawClose = close.code === 4008 && close.reason === 'CB_ERR_SLOW_CONSUMER';
      assert.ok(
        sawError || sawClose,
        `ERROR CB_ERR_SLOW_CONSUMER and/or close 4008 (errors ${JSON.stringify(errors)}, close ${JSON.stringify(close)})`,
      );
      // With a prompt resume, both arrive.
      assert.ok(sawError, `got the ERROR frame: ${JSON.stringify(errors)}`);
      assert.deepEqual(close, { code: 4008, reason: 'CB_ERR_SLOW_CONSUMER' });
      const err = errors.find((e) => e.code === 'CB_ERR_SLOW_CONSUMER')!;
      assert.equal(err.retryable, true);
      assert.ok(sc.stalled.count(Kind.MESSAGE) < published, 'the stalled one missed messages');
      assert.deepEqual(sc.stalled.decodeErrors, [], 'everything it did receive was well formed');
    } finally {
      await tearDown(s);
    }
  });

  test(
    "policy 'drop': the stalled connection stays, is told CB_ERR_SLOW_CONSUMER and misses messages; the fast one gets everything",
    T,
    async () => {
      let s: Scenario | undefined;
      try {
        s = await setUp('drop');
        const sc = s;
        const published = await sc.publishAll();
        await until(() => sc.fastCount() >= published, 10_000, `all ${published} messages at the fast subscriber (have ${sc.fastCount()})`);
        assert.equal(sc.fastCount(), published, 'the fast subscriber got every message exactly once');
        assert.ok(sc.fastInOrder(), 'in order');

        assert.equal(sc.slowEvents.length >= 1, true, 'the broker reported the slow consumer');
        assert.deepEqual(sc.slowEvents[0], { name: 'stalled', policy: 'drop' });
        const stalledStats = sc.hub.stats().connections.find((c) => c.name === 'stalled');
        assert.ok(stalledStats, 'the stalled connection is still there');
        assert.equal(stalledStats.state, 'open');
        assert.ok(sc.hub.stats().dropped > 0);

        sc.stalled.resume();
        // The queue drains once it reads again; the hub then says how many were dropped.
        const notice = await sc.stalled.waitForError(10_000, 'CB_ERR_SLOW_CONSUMER');
        assert.equal(notice.retryable, true);
        await until(
          () => sc.stalled.errors().some((e) => e.code === 'CB_ERR_SLOW_CONSUMER' && typeof e.details?.dropped === 'number'),
          10_000,
          `the "queue drained; N dropped" notice (${JSON.stringify(sc.stalled.errors())})`,
        );
        const drained = sc.stalled.errors().find((e) => typeof e.details?.dropped === 'number')!;
        const dropped = drained.details!.dropped as number;
        assert.ok(dropped > 0);
        // Let whatever is in flight arrive, then compare counts.
        await sc.pub.publish('load.end', new Uint8Array(PAYLOAD_BYTES));
        await until(() => sc.fastCount() === published + 1, 5_000, 'the end marker at the fast subscriber');
        await until(
          () => sc.stalled.count(Kind.MESSAGE) >= published - dropped + 1,
          5_000,
          `the stalled one to read what it was sent (${sc.stalled.count(Kind.MESSAGE)} of ${published - dropped + 1})`,
        );
        const got = sc.stalled.count(Kind.MESSAGE);
        assert.equal(got, published - dropped + 1, 'every message it was not told about arrived (plus the end marker)');
        assert.ok(got < published, `the stalled one got fewer messages (${got}) than published (${published})`);
        assert.equal(sc.stalled.isOpen, true, 'and it is still connected');
        assert.deepEqual(sc.stalled.decodeErrors, []);
      } finally {
        await tearDown(s);
      }
    },
  );
});
