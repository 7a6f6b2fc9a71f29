import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool, resolvePoolOptions, type PoolFactory, type PoolOptions } from '../../src/core/pool/index.js';
import {
  DEFAULT_POOL_ACQUIRE_TIMEOUT_MS,
  DEFAULT_POOL_IDLE_TIMEOUT_MS,
  DEFAULT_POOL_MAX_SIZE,
  DEFAULT_POOL_MIN_SIZE,
  DEFAULT_POOL_RETRY_ATTEMPTS,
  DEFAULT_POOL_RETRY_DELAY_MS,
} from '../../src/core/defaults.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

interface Res {
  readonly id: number;
  healthy: boolean;
  destroyed: boolean;
}

/** A factory of numbered resources that records what the pool did with them. */
function factory(overrides: Partial<PoolFactory<Res>> = {}): PoolFactory<Res> & { made: Res[] } {
  const made: Res[] = [];
  return {
    made,
    create: async () => {
      const r = { id: made.length + 1, healthy: true, destroyed: false };
      made.push(r);
      return r;
    },
    destroy: (r) => {
      r.destroyed = true;
    },
    validate: (r) => r.healthy,
    ...overrides,
  };
}

async function open(options: PoolOptions = {}, f = factory()): Promise<{ pool: Pool<Res>; f: typeof f }> {
  const pool = new Pool(f, { retryDelay: 5, ...options });
  await pool.ready();
  return { pool, f };
}

describe('pool options', () => {
  test('the spec defaults, from one place', () => {
    const o = resolvePoolOptions();
    assert.equal(o.maxSize, DEFAULT_POOL_MAX_SIZE);
    assert.equal(o.minSize, DEFAULT_POOL_MIN_SIZE);
    assert.equal(o.acquireTimeout, DEFAULT_POOL_ACQUIRE_TIMEOUT_MS);
    assert.equal(o.idleTimeout, DEFAULT_POOL_IDLE_TIMEOUT_MS);
    assert.equal(o.retryAttempts, DEFAULT_POOL_RETRY_ATTEMPTS);
    assert.equal(o.retryDelay, DEFAULT_POOL_RETRY_DELAY_MS);
    assert.deepEqual(
      [o.maxSize, o.minSize, o.acquireTimeout, o.idleTimeout, o.retryAttempts, o.retryDelay],
      [10, 2, 30_000, 300_000, 3, 1_000],
    );
  });

  test('conflicting and invalid options are refused with typed errors', () => {
    assert.throws(() => resolvePoolOptions({ minSize: 5, maxSize: 4 }), { code: 'CB_ERR_CONFLICTING_OPTIONS' });
    for (const bad of [
      { maxSize: 0 },
      { maxSize: -1 },
      { minSize: -1 },
      { maxSize: 1.5 },
      { acquireTimeout: -1 },
      { idleTimeout: Number.NaN },
      { retryAttempts: -1 },
      { retryDelay: Infinity },
      { maxCreateRate: 0 },
      { name: '' },
    ] as PoolOptions[]) {
      assert.throws(() => resolvePoolOptions(bad), { code: 'CB_ERR_INVALID_OPTION' }, JSON.stringify(bad));
    }
    assert.throws(() => new Pool({} as PoolFactory<Res>), { code: 'CB_ERR_INVALID_OPTION' });
  });

  test('edges are accepted: maxSize 1 lowers the default minSize, zero minSize, infinite timeouts', () => {
    assert.equal(resolvePoolOptions({ maxSize: 1 }).minSize, 1);
    assert.equal(resolvePoolOptions({ minSize: 0 }).minSize, 0);
    assert.equal(resolvePoolOptions({ acquireTimeout: Infinity, idleTimeout: Infinity }).idleTimeout, Infinity);
  });

  test("the caller's options are never mutated", () => {
    const given = Object.freeze({ maxSize: 3 });
    const o = resolvePoolOptions(given);
    assert.deepEqual(given, { maxSize: 3 });
    assert.ok(Object.isFrozen(o));
  });
});

describe('pool lifecycle', () => {
  test('initialises minSize resources, then reuses a released one', async () => {
    const { pool, f } = await open({ minSize: 2, maxSize: 3 });
    assert.equal(f.made.length, 2);
    assert.equal(pool.stats().available, 2);
    const a = await pool.acquire();
    pool.release(a);
    const b = await pool.acquire();
    assert.equal(b, a, 'the most recently released resource comes back first');
    assert.equal(f.made.length, 2);
    assert.equal(pool.stats().acquired, 1);
    pool.release(b);
    await pool.close();
  });

  test('emits a typed event per state and counts them in crossbus_pool_* metrics', async () => {
    const { pool } = await open({ minSize: 1, maxSize: 1, name: 'p1' });
    const seen: string[] = [];
    pool.events.on('acquired', (r) => seen.push(`acquired ${r.id}`));
    pool.events.on('busy', (r) => seen.push(`busy ${r.id}`));
    pool.events.on('available', (r) => seen.push(`available ${r.id}`));
    pool.events.on('failed', ({ resource }) => seen.push(`failed ${resource.id}`));
    pool.events.on('closed', (r) => seen.push(`closed ${r.id}`));
    const result = await pool.use((r) => {
      assert.equal(pool.stats().busy, 1);
      return r.id * 10;
    });
    assert.equal(result, 10);
    const r = await pool.acquire();
    pool.destroy(r, new Error('broken'));
    await until(() => pool.stats().available === 1, 2_000, 'the replacement');
    assert.deepEqual(seen, ['acquired 1', 'busy 1', 'available 1', 'acquired 1', 'failed 1', 'closed 1', 'available 2']);
    const metrics = pool.metrics();
    for (const m of metrics) assert.match(m.name, /^crossbus_pool_/);
    const acquires = metrics.find((m) => m.name === 'crossbus_pool_acquires_total');
    assert.deepEqual(acquires?.type === 'counter' ? acquires.read() : undefined, [{ labels: { pool: 'p1' }, value: 2 }]);
    const byState = metrics.find((m) => m.name === 'crossbus_pool_resources');
    assert.equal(byState?.type === 'gauge' ? byState.read().find((s) => s.labels.state === 'AVAILABLE')?.value : -1, 1);
    await pool.close();
  });

  test('release of a resource the pool did not hand out is a typed error', async () => {
    const { pool } = await open({ minSize: 1 });
    assert.throws(() => pool.release({ id: 99, healthy: true, destroyed: false }), { code: 'CB_ERR_INVALID_OPTION' });
    const r = await pool.acquire();
    pool.release(r);
    assert.throws(() => pool.release(r), { code: 'CB_ERR_INVALID_OPTION' }, 'a second release');
    await pool.close();
  });
});

describe('pool exhaustion', () => {
  test('fails with CB_ERR_POOL_TIMEOUT (retryable) after acquireTimeout and never exceeds maxSize', async () => {
    const { pool, f } = await open({ minSize: 0, maxSize: 2, acquireTimeout: 40 });
    const held = [await pool.acquire(), await pool.acquire()];
    const started = Date.now();
    const err = await rejectsWithCode(pool.acquire(), 'CB_ERR_POOL_TIMEOUT');
    assert.ok(Date.now() - started >= 35, 'waited about acquireTimeout');
    assert.equal(err.retryable, true);
    assert.equal(f.made.length, 2);
    assert.equal(pool.stats().timeouts, 1);
    assert.equal(pool.stats().waiting, 0);
    // A per-call timeout overrides the pool's.
    await rejectsWithCode(pool.acquire({ timeout: 0 }), 'CB_ERR_POOL_TIMEOUT');
    for (const r of held) pool.release(r);
    await pool.close();
  });

  test('waiters time out in the order they queued, each after its own acquireTimeout', async () => {
    const { pool } = await open({ minSize: 1, maxSize: 1, acquireTimeout: 40 });
    const r = await pool.acquire();
    const outcomes: string[] = [];
    const track = (name: string, p: Promise<Res>): Promise<void> =>
      p.then(
        () => void outcomes.push(`${name} got it`),
        (e: CrossbusError) => void outcomes.push(`${name} ${e.code} after ${Date.now() - started} ms`),
      );
    const started = Date.now();
    const first = track('first', pool.acquire());
    await until(() => Date.now() - started >= 20, 1_000, '20 ms');
    const second = track('second', pool.acquire());
    const third = track('third', pool.acquire({ timeout: Infinity }));
    await first;
    assert.equal(outcomes.length, 1, 'only the first timed out so far');
    await second;
    assert.match(outcomes[0] ?? '', /^first CB_ERR_POOL_TIMEOUT/);
    assert.match(outcomes[1] ?? '', /^second CB_ERR_POOL_TIMEOUT after (\d+)/);
    assert.ok(Number(/after (\d+)/.exec(outcomes[1] ?? '')?.[1]) >= 55, outcomes[1]);
    pool.release(r);
    await third;
    assert.equal(outcomes[2], 'third got it');
    pool.release(r);
    await pool.close();
  });

  test('waiters are served strictly in order', async () => {
    const { pool } = await open({ minSize: 1, maxSize: 1 });
    const r = await pool.acquire();
    const order: number[] = [];
    const waiting = [1, 2, 3, 4].map((n) =>
      pool.acquire().then((got) => {
        order.push(n);
        pool.release(got);
      }),
    );
    pool.release(r);
    await Promise.all(waiting);
    assert.deepEqual(order, [1, 2, 3, 4]);
    await pool.close();
  });

  test('an acquire can be cancelled with an AbortSignal; the next waiter gets the resource', async () => {
    const { pool } = await open({ minSize: 1, maxSize: 1 });
    const r = await pool.acquire();
    const controller = new AbortController();
    const cancelled = pool.acquire({ signal: controller.signal });
    const next = pool.acquire();
    assert.equal(pool.stats().waiting, 2);
    controller.abort(new CrossbusError('CB_ERR_TIMEOUT', 'gave up'));
    await rejectsWithCode(cancelled, 'CB_ERR_TIMEOUT');
    assert.equal(pool.stats().waiting, 1);
    pool.release(r);
    assert.equal(await next, r);
    pool.release(r);
    // Already aborted: rejects at once without taking a resource.
    await assert.rejects(pool.acquire({ signal: AbortSignal.abort(new Error('no')) }), /no/);
    assert.equal(pool.stats().available, 1);
    await pool.close();
  });
});

describe('pool validation and creation', () => {
  test('a resource that fails validation is destroyed and replaced without the caller noticing', async () => {
    const { pool, f } = await open({ minSize: 2, maxSize: 2 });
    const failed: number[] = [];
    pool.events.on('failed', ({ resource }) => failed.push(resource.id));
    for (const r of f.made) r.healthy = false;
    const got = await pool.acquire();
    assert.equal(got.healthy, true);
    assert.ok(got.id > 2, 'a new resource');
    assert.deepEqual(failed.sort(), [1, 2]);
    assert.ok(f.made[0]?.destroyed && f.made[1]?.destroyed);
    pool.release(got);
    await pool.close();
  });

  test('asynchronous and throwing validators', async () => {
    let verdict: 'ok' | 'bad' | 'throw' = 'bad';
    const f = factory({
      validate: async (r) => {
        if (verdict === 'throw') throw new Error('validator broke');
        return verdict === 'ok' && r.healthy;
      },
    });
    const { pool } = await open({ minSize: 1, maxSize: 1 }, f);
    const first = f.made[0];
    const got = await pool.acquire();
    assert.notEqual(got, first, 'the first failed async validation');
    pool.release(got);
    verdict = 'throw';
    const third = await pool.acquire();
    assert.notEqual(third, got);
    pool.release(third);
    verdict = 'ok';
    assert.equal(await pool.acquire(), third);
    assert.equal(pool.stats().validationFailures, 2);
    await pool.close();
  });

  test('creation is retried retryAttempts times, retryDelay apart', async () => {
    let calls = 0;
    const f = factory();
    const create = f.create;
    f.create = async () => {
      calls++;
      if (calls <= 2) throw new Error(`refused ${calls}`);
      return create();
    };
    const pool = new Pool(f, { minSize: 1, retryAttempts: 3, retryDelay: 10 });
    const attempts: [number, boolean][] = [];
    pool.events.on('createFailed', (e) => attempts.push([e.attempt, e.willRetry]));
    const started = Date.now();
    await pool.ready();
    assert.ok(Date.now() - started >= 18, 'two retry delays');
    assert.deepEqual(attempts, [
      [1, true],
      [2, true],
    ]);
    await pool.close();
  });

  test('a creation that fails after every retry fails the waiter with the cause', async () => {
    const cause = new Error('hub down');
    const f = factory({
      create: async () => {
        throw cause;
      },
    });
    const pool = new Pool(f, { minSize: 0, retryAttempts: 2, retryDelay: 1 });
    const err = await rejectsWithCode(pool.acquire(), 'CB_ERR_CONNECTION_FAILED');
    assert.equal(err.cause, cause);
    assert.equal(pool.stats().createFailures, 1);
    assert.equal(pool.stats().size, 0);
    // ready() of a pool whose minimum cannot be created rejects with it too.
    const failing = new Pool(f, { minSize: 1, retryAttempts: 0 });
    await rejectsWithCode(failing.ready(), 'CB_ERR_CONNECTION_FAILED');
    await Promise.all([pool.close(), failing.close()]);
  });
});

describe('pool clean-up and shutdown', () => {
  test('idle resources past idleTimeout are destroyed, down to minSize', async () => {
    const { pool } = await open({ minSize: 1, maxSize: 3, idleTimeout: 30 });
    const held = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
    let closed = 0;
    pool.events.on('closed', () => closed++);
    for (const r of held) pool.release(r);
    await until(() => closed === 2, 3_000, 'two idle resources closed');
    assert.equal(pool.stats().size, 1);
    // Grow again and let the clean-up pass run once more: it stops at minSize again.
    const again = [await pool.acquire(), await pool.acquire()];
    for (const r of again) pool.release(r);
    await until(() => closed === 3, 3_000, 'the extra one closed');
    assert.equal(pool.stats().size, 1);
    assert.equal(pool.stats().available, 1);
    await pool.close();
  });

  test('drain() waits for held resources; waiters and new acquires fail with CB_ERR_POOL_CLOSED', async () => {
    const { pool, f } = await open({ minSize: 1, maxSize: 1 });
    const r = await pool.acquire();
    const waiter = pool.acquire();
    let drained = false;
    const draining = pool.drain().then(() => (drained = true));
    await rejectsWithCode(waiter, 'CB_ERR_POOL_CLOSED');
    await rejectsWithCode(pool.acquire(), 'CB_ERR_POOL_CLOSED');
    assert.equal(drained, false);
    assert.equal(r.destroyed, false, 'a held resource is not destroyed under its holder');
    pool.release(r);
    await draining;
    assert.ok(f.made.every((x) => x.destroyed));
  });

  test('drain() destroys resources still held after drainTimeout; their release is then a no-op', async () => {
    const { pool, f } = await open({ minSize: 2, maxSize: 2, drainTimeout: 20 });
    const r = await pool.acquire();
    await pool.drain();
    assert.ok(f.made.every((x) => x.destroyed));
    pool.release(r);
    assert.equal(pool.stats().size, 0);
    await pool.close(); // idempotent
  });

  test('close() destroys everything now, waiting for asynchronous destroys', async () => {
    let pending = 0;
    const f = factory({
      destroy: async (r) => {
        pending++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        r.destroyed = true;
        pending--;
      },
    });
    const { pool } = await open({ minSize: 2, maxSize: 3 }, f);
    await pool.acquire();
    await pool.close();
    assert.equal(pending, 0);
    assert.ok(f.made.every((x) => x.destroyed));
  });
});
