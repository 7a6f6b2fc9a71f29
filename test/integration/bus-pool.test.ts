/**
 * BusPool against real hub processes: buses spread over two hubs, each bus usable for requests,
 * and a hub killed under the pool: the buses it held fail validation and are replaced on the
 * other hub without the caller seeing an error. Needs `npm run build` first.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BusPool, type Bus } from '../../src/node/index.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';
import { rejectsWithCode } from '../helpers/rejects.js';

const T = { timeout: 30_000 };

async function twoHubs(): Promise<{ a: HubProcess; b: HubProcess; secret: string }> {
  // One config for both, as in a deployment: the same app secret is valid on every hub.
  const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const [a, b] = await Promise.all([startHubProcess([], { config }), startHubProcess([], { config })]);
  return { a, b, secret: config.apps.test.secret };
}

function servesEcho(bus: Bus): Promise<void> {
  return bus.serve<{ n: number }>('pool.echo', (m) => ({ n: m.data.n, hub: bus.info?.hubId })).ready;
}

describe('BusPool', () => {
  test('spreads buses over the hubs in turn and every pooled bus works', T, async () => {
    const { a, b, secret } = await twoHubs();
    const pool = new BusPool({
      endpoints: [a.url, b.url],
      minSize: 4,
      maxSize: 4,
      connectOptions: { name: 'test', secret, timeoutMs: 5_000 },
    });
    try {
      await pool.ready();
      assert.deepEqual(pool.load(), [2, 2]);
      const buses = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
      const hubIds = new Set(buses.map((bus) => bus.info?.hubId));
      assert.equal(hubIds.size, 2, 'buses on both hubs');
      for (const bus of buses) assert.equal(bus.state, 'connected');
      // Each bus answers its own request through its hub.
      for (const bus of buses) await servesEcho(bus);
      const replies = await Promise.all(buses.map((bus, n) => bus.request<{ n: number; hub: string }>('pool.echo', { n })));
      assert.deepEqual(
        replies.map((r) => r.n),
        [0, 1, 2, 3],
      );
      assert.deepEqual(
        replies.map((r) => r.hub),
        buses.map((bus) => bus.info?.hubId),
      );
      // The pool is exhausted now: a fifth caller times out with the typed error.
      await rejectsWithCode(pool.acquire({ timeout: 50 }), 'CB_ERR_POOL_TIMEOUT');
      for (const bus of buses) pool.release(bus);
      assert.equal(pool.stats().available, 4);
    } finally {
      await pool.close();
    }
  });

  test('least-loaded fills the emptier hub', T, async () => {
    const { a, b, secret } = await twoHubs();
    const pool = new BusPool({
      endpoints: [a.url, b.url],
      strategy: 'least-loaded',
      minSize: 3,
      maxSize: 4,
      connectOptions: { name: 'test', secret, timeoutMs: 5_000 },
    });
    try {
      await pool.ready();
      const load = pool.load();
      assert.equal((load[0] ?? 0) + (load[1] ?? 0), 3);
      assert.ok(Math.abs((load[0] ?? 0) - (load[1] ?? 0)) <= 1, `balanced: ${load.join(',')}`);
    } finally {
      await pool.close();
    }
  });

  test('a hub killed under the pool: its buses are replaced on the other hub, unnoticed', T, async () => {
    const { a, b, secret } = await twoHubs();
    const pool = new BusPool({
      endpoints: [a.url, b.url],
      minSize: 2,
      maxSize: 2,
      retryDelay: 50,
      connectOptions: { name: 'test', secret, timeoutMs: 2_000, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
    });
    try {
      await pool.ready();
      const failed: unknown[] = [];
      pool.events.on('failed', ({ error }) => failed.push(error));
      const onB = await Promise.all([pool.acquire(), pool.acquire()]).then((buses) => {
        for (const bus of buses) pool.release(bus);
        return buses.filter((bus) => pool.endpointOf(bus) === b.url);
      });
      assert.equal(onB.length, 1);
      b.kill();
      await until(() => onB.every((bus) => bus.state !== 'connected'), 10_000, 'the bus on the killed hub notices');
      // Both resources handed out now are connected, to the surviving hub.
      const buses = await Promise.all([pool.acquire(), pool.acquire()]);
      for (const bus of buses) {
        assert.equal(bus.state, 'connected');
        assert.equal(pool.endpointOf(bus), a.url);
        await servesEcho(bus);
        const reply = await bus.request<{ n: number }>('pool.echo', { n: 7 });
        assert.equal(reply.n, 7);
      }
      assert.equal(failed.length, 1, 'the bus of the killed hub failed validation');
      assert.deepEqual(pool.load(), [2, 0]);
      for (const bus of buses) pool.release(bus);
    } finally {
      await pool.close();
    }
    assert.equal(pool.stats().size, 0);
  });
});
