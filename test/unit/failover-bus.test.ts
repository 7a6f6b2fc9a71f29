/**
 * A Bus over several in-process hubs (Brokers over memory transports): the first connection on
 * the preferred hub, a move when it dies or goes silent, subscriptions and services on the next
 * hub, the return once the preferred one has been healthy for recoveryMs, and the events, state
 * and metrics that show it. The real-process version, with durable streams and SIGKILL, is
 * test/integration/failover.test.ts.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { ConnectionError } from '../../src/core/errors/index.js';
import type { Transport, TransportConnector, TransportHandlers } from '../../src/core/transport/transport.js';
import { createMemoryPair } from '../../src/transports/memory/memory-transport.js';
import { connectWith, type FailoverBus, type MoveEvent, type EndpointEvent } from '../../src/client/index.js';
import { until } from '../helpers/wait.js';

/** A client end whose incoming bytes can be dropped: a hub that is up but does not answer. */
class MutableEnd implements Transport {
  readonly kind = 'memory';
  readonly framing = 'message' as const;
  readonly peer = 'memory:hub';
  constructor(
    readonly inner: Transport,
    readonly hub: MemHub,
  ) {}
  setHandlers(h: TransportHandlers): void {
    this.inner.setHandlers({ ...h, message: (chunk) => (this.hub.muted ? undefined : h.message(chunk)) });
  }
  send(chunk: Uint8Array, headroom?: number): void {
    this.inner.send(chunk, headroom);
  }
  bufferedAmount(): number {
    return this.inner.bufferedAmount();
  }
  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
}

class MemHub {
  broker = new Broker({ heartbeatMs: 0 });
  up = true;
  muted = false;
  /** Refuses every handshake for good, as a hub without this app's credentials would. */
  refuse = false;
  accepted = 0;
  readonly ends = new Set<Transport>();
  readonly connector: TransportConnector = async () => {
    if (!this.up) throw new ConnectionError('CB_ERR_CONNECTION_FAILED', 'hub is down');
    const [client, server] = createMemoryPair(['memory:client', 'memory:hub']);
    this.ends.add(server);
    this.accepted++;
    if (this.refuse) {
      server.close(4003, 'CB_ERR_ORIGIN_REFUSED');
      return client;
    }
    this.broker.accept(server);
    return new MutableEnd(client, this);
  };
  kill(): void {
    this.up = false;
    for (const s of this.ends) s.close(1006, 'killed');
    this.ends.clear();
    void this.broker.close(10);
  }
  revive(): void {
    this.broker = new Broker({ heartbeatMs: 0 });
    this.up = true;
    this.muted = false;
  }
}

const FAST = { heartbeatMs: 40, recoveryMs: 300, maxMissed: 2 };
const RECONNECT = { initialDelayMs: 10, maxDelayMs: 50 };
const open: FailoverBus[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

async function twoHubs(failover: Record<string, unknown> = FAST) {
  const a = new MemHub();
  const b = new MemHub();
  const bus = await connectWith(
    [
      { connector: a.connector, name: 'a', weight: 1 },
      { connector: b.connector, name: 'b', weight: 0 },
    ],
    {
      reconnect: RECONNECT,
      failover,
    },
  );
  open.push(bus);
  const moves: MoveEvent[] = [];
  const changes: EndpointEvent[] = [];
  bus.on('move', (m) => moves.push(m));
  bus.on('endpoint', (e) => changes.push(e));
  return { a, b, bus, moves, changes };
}

describe('failover over in-process hubs', () => {
  test('connects to the preferred hub and measures both hubs', async () => {
    const { bus } = await twoHubs();
    assert.equal(bus.hub, 'a');
    assert.equal(bus.preferredHub, 'a');
    await until(() => bus.hubs().every((h) => h.state === 'healthy' && h.rttMs >= 0), 3_000, 'both hubs healthy with a round trip');
    const [a, b] = bus.hubs();
    assert.equal(a!.current, true);
    assert.equal(b!.current, false);
    assert.ok(a!.p99Ms >= a!.p50Ms);
    const names = bus.metrics().map((m) => m.name);
    assert.ok(names.includes('crossbus_client_hub_rtt_p99_seconds'));
    const current = bus.metrics().find((m) => m.name === 'crossbus_client_hub_current')!;
    assert.deepEqual(
      (current.read() as { labels: { hub: string }; value: number }[]).map((s) => [s.labels.hub, s.value]),
      [
        ['a', 1],
        ['b', 0],
      ],
    );
  });

  test('a dead hub: the bus moves with its subscriptions and services, then returns after recoveryMs', async () => {
    const { a, bus, moves } = await twoHubs();
    const got: number[] = [];
    bus.subscribe<number>('t.x', (m) => {
      got.push(m.data);
    });
    bus.serve<number>('svc.double', (m) => m.data * 2);
    await bus.flush();
    await until(() => bus.hubs()[1]!.state === 'healthy', 3_000, 'standby healthy');

    a.kill();
    await until(() => bus.hub === 'b', 3_000, 'moved to b');
    assert.deepEqual(moves.at(-1), { from: 'a', to: 'b', reason: 'failover' });
    assert.equal(bus.hubs()[0]!.state, 'down');
    await bus.publish('t.x', 1);
    assert.equal(await bus.request<number>('svc.double', 21), 42);
    await until(() => got.includes(1), 2_000, 'message on b');

    a.revive();
    const revivedAt = Date.now();
    await until(() => bus.hub === 'a', 5_000, 'back on a');
    assert.ok(Date.now() - revivedAt >= FAST.recoveryMs, 'not before recoveryMs');
    assert.deepEqual(moves.at(-1), { from: 'b', to: 'a', reason: 'return' });
    await bus.publish('t.x', 2);
    assert.equal(await bus.request<number>('svc.double', 5), 10);
    await until(() => got.includes(2), 2_000, 'message on a again');
    assert.deepEqual(
      moves.map((m) => m.reason),
      ['failover', 'return'],
    );
  });

  test('a silent hub is down after two missed heartbeats and the bus moves off it', async () => {
    const { a, bus, changes } = await twoHubs();
    await until(() => bus.hubs().every((h) => h.state === 'healthy'), 3_000, 'both healthy');
    const mutedAt = Date.now();
    a.muted = true;
    await until(() => bus.hub === 'b', 3_000, 'moved to b');
    // Two missed heartbeats (40 ms each, started up to one interval late) and the move.
    assert.ok(Date.now() - mutedAt < 3 * FAST.heartbeatMs + 1_000, `took ${Date.now() - mutedAt} ms`);
    const downs = changes.filter((c) => c.name === 'a' && c.to === 'down');
    assert.equal(downs[0]!.cause, 'missed');
    assert.ok(
      changes.some((c) => c.name === 'a' && c.to === 'degraded'),
      'degraded after the first miss',
    );
  });

  test('the first connection skips a dead preferred hub', async () => {
    const a = new MemHub();
    const b = new MemHub();
    a.up = false;
    const bus = await connectWith(
      [
        { connector: a.connector, name: 'a', weight: 5 },
        { connector: b.connector, name: 'b', weight: 0 },
      ],
      {
        reconnect: RECONNECT,
        failover: FAST,
      },
    );
    open.push(bus);
    assert.equal(bus.hub, 'b');
    assert.equal(bus.hubs()[0]!.state, 'down');
  });

  test('with watchStandbys false only the preferred hub is watched while away', async () => {
    const { a, b, bus } = await twoHubs({ ...FAST, watchStandbys: false });
    await bus.flush();
    assert.equal(b.accepted, 0, 'no standby connection to b');
    a.kill();
    await until(() => bus.hub === 'b', 3_000, 'moved to b');
    a.revive();
    await until(() => a.accepted > 0 && bus.hub === 'a', 5_000, 'back on a');
  });

  test('a hub that refuses the client for good is skipped, at the first connection and later', async () => {
    const a = new MemHub();
    const b = new MemHub();
    a.refuse = true;
    const bus = await connectWith(
      [
        { connector: a.connector, name: 'a', weight: 1 },
        { connector: b.connector, name: 'b', weight: 0 },
      ],
      {
        reconnect: RECONNECT,
        failover: FAST,
      },
    );
    open.push(bus);
    assert.equal(bus.hub, 'b');

    // Now b dies and a still refuses: the bus keeps trying (it does not close on a's refusal),
    // and takes b again when b is back.
    b.kill();
    await until(() => bus.hub === undefined, 3_000, 'off b');
    await until(() => a.accepted >= 3, 3_000, 'a tried again');
    assert.equal(bus.state, 'reconnecting');
    b.revive();
    await until(() => bus.hub === 'b', 5_000, 'back on b');
  });

  test('when every hub refuses, connect rejects with the refusal', async () => {
    const a = new MemHub();
    const b = new MemHub();
    a.refuse = b.refuse = true;
    await assert.rejects(connectWith([{ connector: a.connector }, { connector: b.connector }], { failover: FAST }), {
      code: 'CB_ERR_ORIGIN_REFUSED',
    });
    assert.equal(a.accepted + b.accepted, 2);
  });

  test('when no hub answers, connect rejects with the last error and bad lists are refused', async () => {
    const a = new MemHub();
    a.up = false;
    await assert.rejects(connectWith([{ connector: a.connector }], { failover: FAST }), { code: 'CB_ERR_CONNECTION_FAILED' });
    await assert.rejects(connectWith([{ connector: a.connector }], { reconnect: false }), { code: 'CB_ERR_CONFLICTING_OPTIONS' });
    await assert.rejects(connectWith([], {}), { code: 'CB_ERR_INVALID_OPTION' });
    await assert.rejects(connectWith([{ url: 'http://x' }], {}), { code: 'CB_ERR_INVALID_OPTION' });
  });
});
