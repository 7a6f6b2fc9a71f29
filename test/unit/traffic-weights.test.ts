/**
 * What deployments steer and watch per connection (src/core/broker/traffic.ts): traffic weights
 * on service-group members (0 drains a member of new requests, its requests in flight finish),
 * per-connection request and reply counts, and the hub's own requests to one chosen connection.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith, type Bus } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { pickMember } from '../../src/core/broker/router.js';
import type { RouteSubscription } from '../../src/core/broker/session.js';
import { MAX_TRAFFIC_WEIGHT } from '../../src/core/broker/traffic.js';
import type { CrossbusError } from '../../src/core/errors/index.js';
import { until } from '../helpers/wait.js';

async function setup(n: number): Promise<{ broker: Broker; client: Bus; members: Bus[]; ids: string[]; close(): Promise<void> }> {
  const broker = new Broker({ heartbeatMs: 0 });
  const ids: string[] = [];
  broker.events.on('connection', (e) => ids.push(e.connectionId));
  const members: Bus[] = [];
  for (let i = 0; i < n; i++) {
    const bus = await connectWith(memoryConnector(broker), { name: `m${i}`, reconnect: false });
    await bus.serve('svc.who', () => i, { group: 'svc' });
    members.push(bus);
  }
  const client = await connectWith(memoryConnector(broker), { name: 'client', reconnect: false });
  return {
    broker,
    client,
    members,
    ids,
    async close() {
      for (const b of [...members, client]) await b.close();
      await broker.close(0);
    },
  };
}

async function tally(client: Bus, n: number, members: number): Promise<number[]> {
  const counts = new Array<number>(members).fill(0);
  for (let i = 0; i < n; i++) {
    const r = await client.request<number>('svc.who', null, { timeoutMs: 2_000 });
    counts[r]!++;
  }
  return counts;
}

describe('traffic weights', () => {
  test('weights split a group exactly over each cycle; 0 takes no new requests; back to 1 takes turns again', async () => {
    const h = await setup(3);
    try {
      assert.deepEqual(await tally(h.client, 6, 3), [2, 2, 2]);
      assert.equal(h.broker.setTrafficWeight(h.ids[0]!, 3), true);
      assert.equal(h.broker.setTrafficWeight(h.ids[1]!, 1), true);
      assert.equal(h.broker.setTrafficWeight(h.ids[2]!, 0), true);
      assert.deepEqual(await tally(h.client, 40, 3), [30, 10, 0]);
      h.broker.setTrafficWeight(h.ids[0]!, 0);
      h.broker.setTrafficWeight(h.ids[1]!, 0);
      await assert.rejects(
        h.client.request('svc.who', null, { timeoutMs: 2_000 }),
        (e: CrossbusError) => e.code === 'CB_ERR_NO_RESPONDERS',
      );
      for (const id of h.ids.slice(0, 3)) h.broker.setTrafficWeight(id, 1);
      assert.deepEqual(await tally(h.client, 3, 3), [1, 1, 1]);
    } finally {
      await h.close();
    }
  });

  test('a weight out of range is CB_ERR_INVALID_OPTION; an unknown connection is false', async () => {
    const h = await setup(1);
    try {
      for (const bad of [-1, 1.5, MAX_TRAFFIC_WEIGHT + 1, Number.NaN])
        assert.throws(
          () => h.broker.setTrafficWeight(h.ids[0]!, bad),
          (e: CrossbusError) => e.code === 'CB_ERR_INVALID_OPTION',
        );
      assert.equal(h.broker.setTrafficWeight(h.ids[0]!, MAX_TRAFFIC_WEIGHT), true);
      assert.equal(h.broker.setTrafficWeight('nobody', 1), false);
      assert.equal(h.broker.replyStats('nobody'), undefined);
    } finally {
      await h.close();
    }
  });

  test('a member drained to 0 finishes the request it holds', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const ids: string[] = [];
    broker.events.on('connection', (e) => ids.push(e.connectionId));
    const slow = await connectWith(memoryConnector(broker), { name: 'slow', reconnect: false });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started = false;
    await slow.serve(
      'svc.slow',
      async () => {
        started = true;
        await held;
        return 'done';
      },
      { group: 'svc' },
    );
    const client = await connectWith(memoryConnector(broker), { name: 'client', reconnect: false });
    try {
      const pending = client.request<string>('svc.slow', null, { timeoutMs: 5_000 });
      await until(() => started);
      broker.setTrafficWeight(ids[0]!, 0);
      await assert.rejects(client.request('svc.slow', null, { timeoutMs: 2_000 }), (e: CrossbusError) => e.code === 'CB_ERR_NO_RESPONDERS');
      release();
      assert.equal(await pending, 'done');
    } finally {
      await client.close();
      await slow.close();
      await broker.close(0);
    }
  });

  test('pickMember multiplies each member by its connection weight', () => {
    const sub = (weight: number, traffic: number) =>
      ({ weight, session: { routing: { trafficWeight: traffic } } }) as unknown as RouteSubscription;
    const members = [sub(1, 1), sub(2, 3), sub(1, 0)];
    const counts = [0, 0, 0];
    for (let c = 0; c < 7; c++) counts[pickMember(members, c)]!++;
    assert.deepEqual(counts, [1, 6, 0]);
  });
});

describe('reply stats', () => {
  test('requests, replies, errors and latency per watched connection', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const ids: string[] = [];
    broker.events.on('connection', (e) => ids.push(e.connectionId));
    const svc = await connectWith(memoryConnector(broker), { name: 'svc', reconnect: false });
    let n = 0;
    await svc.serve('svc.flaky', () => {
      if (++n % 4 === 0) throw new Error('every fourth fails');
      return n;
    });
    const client = await connectWith(memoryConnector(broker), { name: 'client', reconnect: false });
    try {
      await client.request('svc.flaky', null);
      assert.deepEqual(broker.replyStats(ids[0]!)?.requests, 0, 'nothing counted before it is watched');
      for (let i = 0; i < 8; i++) await client.request('svc.flaky', null).catch(() => {});
      const s = broker.replyStats(ids[0]!)!;
      assert.equal(s.requests, 8);
      assert.equal(s.replies, 8);
      assert.equal(s.errors, 2);
      assert.equal(s.latency.count, 8);
      assert.equal(s.abandoned, 0);
    } finally {
      await client.close();
      await svc.close();
      await broker.close(0);
    }
  });
});

describe("the hub's own requests to one connection", () => {
  test('reaches a member drained to 0; answers, handler errors, timeouts and no such topic', async () => {
    const h = await setup(2);
    try {
      await h.members[1]!.serve('svc.fail', () => {
        throw new Error('smoke failed');
      });
      await h.members[1]!.serve('svc.hang', () => new Promise(() => {}));
      h.broker.setTrafficWeight(h.ids[1]!, 0);
      const ok = await h.broker.requestConnection(h.ids[1]!, 'svc.who', null, 2_000);
      assert.deepEqual(ok, { ok: true, data: 1 });
      const failed = await h.broker.requestConnection(h.ids[1]!, 'svc.fail', null, 2_000);
      assert.equal(failed.ok, false);
      assert.equal(!failed.ok && failed.error.code, 'CB_ERR_HANDLER_FAILED');
      assert.match(!failed.ok ? failed.error.message : '', /smoke failed/);
      const hung = await h.broker.requestConnection(h.ids[1]!, 'svc.hang', null, 50);
      assert.equal(!hung.ok && hung.error.code, 'CB_ERR_TIMEOUT');
      const none = await h.broker.requestConnection(h.ids[0]!, 'svc.fail', null, 2_000);
      assert.equal(!none.ok && none.error.code, 'CB_ERR_NO_RESPONDERS');
      const gone = await h.broker.requestConnection('nobody', 'svc.who', null, 2_000);
      assert.equal(!gone.ok && gone.error.code, 'CB_ERR_CONNECTION_CLOSED');
      // The group's traffic never went to the drained member meanwhile.
      assert.deepEqual(await tally(h.client, 4, 2), [4, 0]);
    } finally {
      await h.close();
    }
  });
});
