/**
 * The parts of failover that need no hub: latency statistics, the endpoint state machine on a
 * test's clock, the weighted balancer (its distribution over a bounded number of seeded draws),
 * and the checks on a server list.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EndpointHealth,
  HubSet,
  LatencyStats,
  effectiveWeights,
  pickEndpoint,
  resolveFailoverOptions,
  resolveServers,
  type EndpointState,
  type HealthPolicy,
} from '../../src/client/failover/index.js';
import { CrossbusError, type TransportConnector } from '../../src/client/index.js';

/** mulberry32: a small seeded PRNG. */
function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LatencyStats', () => {
  test('the EWMA starts at the first sample and moves by alpha', () => {
    const s = new LatencyStats(0.25, 8);
    assert.ok(Number.isNaN(s.ewma));
    assert.ok(Number.isNaN(s.percentile(0.5)));
    s.add(100);
    assert.equal(s.ewma, 100);
    s.add(200);
    assert.equal(s.ewma, 125);
    s.add(0);
    assert.equal(s.ewma, 93.75);
    assert.equal(s.count, 3);
  });

  test('percentiles are nearest-rank over the window, and old samples age out', () => {
    const s = new LatencyStats(0.2, 100);
    for (let i = 1; i <= 100; i++) s.add(i);
    assert.equal(s.percentile(0.5), 50);
    assert.equal(s.percentile(0.99), 99);
    assert.equal(s.percentile(1), 100);
    assert.equal(s.percentile(0), 1);
    for (let i = 0; i < 100; i++) s.add(1000);
    assert.equal(s.percentile(0.5), 1000);
  });

  test('property: percentiles are samples of the window, ordered by q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 64 }),
        (xs, size) => {
          const s = new LatencyStats(0.2, size);
          for (const x of xs) s.add(x);
          const window = xs.slice(-size);
          const p50 = s.percentile(0.5);
          const p99 = s.percentile(0.99);
          assert.ok(window.includes(p50) && window.includes(p99));
          assert.ok(p50 <= p99);
          assert.ok(s.ewma >= Math.min(...xs) - 1e-6 && s.ewma <= Math.max(...xs) + 1e-6);
        },
      ),
      { seed: 17, numRuns: 200 },
    );
  });
});

const POLICY: HealthPolicy = { maxMissed: 2, recoveryMs: 1_000, degradedRttMs: 100, ewmaAlpha: 0.5, windowSize: 16 };

function machine(policy = POLICY): { h: EndpointHealth; moves: string[] } {
  const moves: string[] = [];
  const h = new EndpointHealth(policy, 0, (from, to, cause) => moves.push(`${from}>${to}:${cause}`));
  return { h, moves };
}

describe('EndpointHealth on an injected clock', () => {
  test('probing, healthy, degraded on one miss, down on the second', () => {
    const { h, moves } = machine();
    assert.equal(h.state, 'probing');
    h.answer(5, 0);
    assert.equal(h.state, 'healthy');
    h.miss(10);
    assert.equal(h.state, 'degraded');
    h.miss(20);
    assert.equal(h.state, 'down');
    assert.deepEqual(moves, ['probing>healthy:answer', 'healthy>degraded:missed', 'degraded>down:missed']);
    assert.equal(h.missedTotal, 2);
  });

  test('an answer between misses resets the count: misses must be in a row', () => {
    const { h } = machine();
    h.answer(5, 0);
    for (let t = 1; t < 50; t += 2) {
      h.miss(t);
      h.answer(5, t + 1);
    }
    assert.equal(h.state, 'healthy');
    assert.equal(h.missed, 0);
  });

  test('back from down through probing: healthy only after recoveryMs without a miss', () => {
    const { h, moves } = machine();
    h.answer(5, 0);
    h.fail(100);
    assert.equal(h.state, 'down');
    h.answer(5, 200);
    assert.equal(h.state, 'probing');
    h.answer(5, 700);
    assert.equal(h.state, 'probing');
    h.miss(900); // a miss restarts the hysteresis
    h.answer(5, 1_100);
    h.answer(5, 2_000);
    assert.equal(h.state, 'probing', 'only 900 ms of answers since the miss');
    h.answer(5, 2_100);
    assert.equal(h.state, 'healthy');
    assert.deepEqual(moves.slice(-3), ['healthy>down:failed', 'down>probing:answer', 'probing>healthy:recovered']);
  });

  test('the second miss of a recovering endpoint makes it down again', () => {
    const { h } = machine();
    h.fail(0);
    h.answer(5, 10);
    h.miss(20);
    assert.equal(h.state, 'probing');
    h.miss(30);
    assert.equal(h.state, 'down');
  });

  test('a latency average above degradedRttMs is degraded, and healthy again below it', () => {
    const { h, moves } = machine();
    h.answer(50, 0);
    h.answer(400, 1); // ewma 225
    assert.equal(h.state, 'degraded');
    h.answer(10, 2); // 117.5
    h.answer(10, 3); // 63.75
    assert.equal(h.state, 'healthy');
    assert.deepEqual(moves, ['probing>healthy:answer', 'healthy>degraded:slow', 'degraded>healthy:answer']);
  });

  test('property: every transition is between different states, and down only by misses in a row or a failure', () => {
    const step = fc.oneof(
      fc.record({ k: fc.constant('answer' as const), rtt: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ k: fc.constant('miss' as const) }),
      fc.record({ k: fc.constant('fail' as const) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(step, fc.integer({ min: 0, max: 600 })), { maxLength: 80 }), (steps) => {
        const seen: { from: EndpointState; to: EndpointState; cause: string }[] = [];
        const h = new EndpointHealth(POLICY, 0, (from, to, cause) => seen.push({ from, to, cause }));
        let now = 0;
        let inRow = 0;
        for (const [s, dt] of steps) {
          now += dt;
          const before = seen.length;
          if (s.k === 'answer') h.answer(s.rtt, now);
          else if (s.k === 'miss') h.miss(now);
          else h.fail(now);
          inRow = s.k === 'miss' ? inRow + 1 : 0;
          for (const t of seen.slice(before)) {
            assert.notEqual(t.from, t.to);
            if (t.to === 'down') assert.ok(s.k === 'fail' || inRow >= POLICY.maxMissed);
          }
        }
      }),
      { seed: 17, numRuns: 300 },
    );
  });
});

const none: (url: string) => TransportConnector = () => async () => {
  throw new Error('not used');
};

describe('weighted balancer', () => {
  const ep = (weight: number, state: EndpointState = 'healthy', rttMs = Number.NaN, changedAt = 0) => ({ weight, state, rttMs, changedAt });

  test('draws follow the configured weights (20,000 seeded draws within 2 %)', () => {
    const random = rng(20261203);
    const list = [ep(3), ep(1), ep(6)];
    const counts = [0, 0, 0];
    const N = 20_000;
    for (let i = 0; i < N; i++) counts[pickEndpoint(list, random)]!++;
    const expected = [0.3, 0.1, 0.6];
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(counts[i]! / N - expected[i]!) < 0.02, `endpoint ${i}: ${counts[i]} of ${N}`);
  });

  test('a fleet of clients prefers the hubs in proportion to their weights (4,000 seeded clients within 3 %)', () => {
    const random = rng(99);
    const opts = resolveFailoverOptions({ random });
    const servers = resolveServers(
      [
        { url: 'ws://a', weight: 2 },
        { url: 'ws://b', weight: 1 },
        { url: 'ws://c', weight: 1 },
        { url: 'ws://dr', weight: 0 },
      ],
      32,
      none,
    );
    const counts = new Map<string, number>();
    const N = 4_000;
    for (let i = 0; i < N; i++) {
      const preferred = new HubSet(servers, opts, () => Promise.reject(new Error('not used'))).preferred;
      counts.set(preferred, (counts.get(preferred) ?? 0) + 1);
    }
    assert.ok(Math.abs(counts.get('ws://a')! / N - 0.5) < 0.03, `a: ${counts.get('ws://a')}`);
    assert.ok(Math.abs(counts.get('ws://b')! / N - 0.25) < 0.03, `b: ${counts.get('ws://b')}`);
    assert.equal(counts.get('ws://dr'), undefined, 'a backup is never preferred');
  });

  test('health scales the weights: down and probing get nothing, degraded a quarter, slower less', () => {
    assert.deepEqual(effectiveWeights([ep(2), ep(2, 'degraded'), ep(2, 'down'), ep(2, 'probing')]), [2, 0.5, 0, 0]);
    assert.deepEqual(effectiveWeights([ep(1, 'healthy', 10), ep(1, 'healthy', 40), ep(1, 'healthy', 1_000)]), [1, 0.25, 0.1]);
    const random = rng(5);
    const counts = [0, 0];
    for (let i = 0; i < 10_000; i++) counts[pickEndpoint([ep(1, 'healthy', 10), ep(1, 'healthy', 40)], random)]!++;
    assert.ok(Math.abs(counts[0]! / 10_000 - 0.8) < 0.02, `fast hub: ${counts[0]}`);
  });

  test('without an answering weighted hub: a backup, then an unknown one, then the one down longest', () => {
    const random = rng(1);
    assert.equal(pickEndpoint([ep(1, 'down'), ep(0, 'probing'), ep(0, 'healthy')], random), 2);
    assert.equal(pickEndpoint([ep(1, 'down'), ep(0, 'probing'), ep(1, 'probing')], random), 1);
    assert.equal(pickEndpoint([ep(1, 'down', 1, 50), ep(1, 'down', 1, 20), ep(1, 'down', 1, 30)], random), 1);
    assert.equal(pickEndpoint([ep(1), ep(1)], random, 0), 1, 'an excluded endpoint is never drawn');
    assert.equal(pickEndpoint([], random), -1);
  });
});

describe('server list and options', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof CrossbusError, String(err));
      return err.code;
    }
    return 'no error';
  };

  test('names hide credentials and queries; duplicates, bad weights and empty lists are refused', () => {
    const [a] = resolveServers([{ url: 'wss://user:pw@hub.example:8443/bus?token=abc#x' }], 32, none);
    assert.equal(a!.name, 'wss://hub.example:8443/bus');
    assert.equal(
      code(() => resolveServers([], 32, none)),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveServers([{ url: 'ws://a' }, { url: 'ws://a/' }], 32, none)),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveServers([{ url: 'ws://a', weight: -1 }], 32, none)),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveServers([{ url: 'ws://a', weight: Number.NaN }], 32, none)),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveServers([{}], 32, none)),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveServers([{ url: 'ws://a', weight: 0 }], 32, none)),
      'CB_ERR_CONFLICTING_OPTIONS',
    );
  });

  test('maxServers is a limit with its edge: at it passes, one more is refused', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => ({ url: `ws://h${i}` }));
    assert.equal(resolveServers(list(3), 3, none).length, 3);
    assert.equal(
      code(() => resolveServers(list(4), 3, none)),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(resolveFailoverOptions().maxServers, 32);
  });

  test('failover options are checked', () => {
    assert.equal(
      code(() => resolveFailoverOptions({ heartbeatMs: 0 })),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveFailoverOptions({ maxMissed: 1.5 })),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveFailoverOptions({ ewmaAlpha: 2 })),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveFailoverOptions({ recoveryMs: -1 })),
      'CB_ERR_INVALID_OPTION',
    );
    assert.equal(
      code(() => resolveFailoverOptions({ watchStandbys: 'yes' as unknown as boolean })),
      'CB_ERR_INVALID_OPTION',
    );
    const o = resolveFailoverOptions({ heartbeatMs: 50, recoveryMs: 0 });
    assert.equal(o.heartbeatMs, 50);
    assert.equal(o.recoveryMs, 0);
    assert.equal(o.maxMissed, 2);
  });
});
