/**
 * The pure pieces of a rollout: the DeploymentConfig schema (defaults, bounds, conflicts), the
 * per-connection weights that give a new version its percent of a group, and the judgement of one
 * analysis interval (error rate, p99 from histogram buckets, too few requests), including
 * a property test that the weights give exactly the asked share.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDeploymentConfig } from '../../src/core/apps/deploy-config.js';
import { judgeInterval, quantileMs, splitWeights, statsDelta, sumStats } from '../../src/core/apps/traffic-analysis.js';
import { ReplyStats, snapshotReplyStats } from '../../src/core/broker/traffic.js';
import { ConfigError } from '../../src/core/errors/index.js';

function problems(raw: unknown): string[] {
  try {
    parseDeploymentConfig(raw);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'CB_ERR_CONFIG_INVALID');
    return (err.details as { problems: { path: string; message: string }[] }).problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('DeploymentConfig', () => {
  test('an empty config gets every default (seed 002 §5.4 plus each strategy)', () => {
    const c = parseDeploymentConfig({});
    assert.equal(c.strategy, 'rolling');
    assert.equal(c.targetEnvironment, 'development');
    assert.equal(c.rollbackEnabled, true);
    assert.deepEqual(c.validationChecks, []);
    assert.deepEqual(c.notificationChannels, []);
    assert.equal(c.timeout, 600_000);
    assert.deepEqual(c.rolling, { maxSurge: 1, maxUnavailable: 0 });
    assert.equal(c.blueGreen.autoPromote, true);
    assert.deepEqual(
      c.canary.steps.map((s) => s.weight),
      [10, 50],
    );
    assert.deepEqual(c.canary.analysis, { intervalMs: 10_000, maxErrorRate: 0.05, maxP99Ms: 1_000, minRequests: 20, maxInconclusive: 6 });
  });

  test('bad values name their path; the caller object is not changed', () => {
    const raw = { strategy: 'sideways' };
    assert.match(problems(raw)[0]!, /^strategy: must be "blue-green", "rolling" or "canary"/);
    assert.deepEqual(raw, { strategy: 'sideways' });
    assert.match(problems({ targetEnvironment: 'prod' })[0]!, /^targetEnvironment: /);
    assert.match(problems({ rolling: { maxSurge: 0, maxUnavailable: 0 } })[0]!, /maxSurge and maxUnavailable cannot both be 0/);
    assert.match(problems({ canary: { steps: [] } })[0]!, /at least one step/);
    assert.match(
      problems({
        canary: {
          steps: [
            { weight: 50, pauseMs: 1 },
            { weight: 20, pauseMs: 1 },
          ],
        },
      })[0]!,
      /above the step before's \(50\)/,
    );
    assert.match(problems({ canary: { steps: [{ weight: 10 }] } })[0]!, /pauseMs or pause: "manual"/);
    assert.match(problems({ canary: { steps: [{ weight: 10, pauseMs: 1, pause: 'manual' }] } })[0]!, /not both/);
    assert.match(problems({ canary: { steps: [{ weight: 101, pauseMs: 1 }] } })[0]!, /weight/);
    assert.match(problems({ canary: { analysis: { maxErrorRate: 1.5 } } })[0]!, /from 0 to 1/);
    assert.match(problems({ validationChecks: ['a..b'] })[0]!, /validationChecks/);
    assert.match(problems({ notificationChannels: Array.from({ length: 17 }, (_, i) => `t${i}`) })[0]!, /at most 16/);
    assert.match(problems({ timeout: 999 })[0]!, /^timeout: /);
    assert.match(problems({ surprise: 1 })[0]!, /surprise/);
  });

  test('limits at their edges', () => {
    assert.deepEqual(problems({ timeout: 1_000, notificationChannels: Array.from({ length: 16 }, (_, i) => `t${i}`) }), []);
    assert.deepEqual(problems({ canary: { steps: Array.from({ length: 20 }, (_, i) => ({ weight: i + 1, pauseMs: 0 })) } }), []);
    assert.equal(problems({ canary: { steps: Array.from({ length: 21 }, (_, i) => ({ weight: i + 1, pauseMs: 0 })) } }).length, 1);
    assert.deepEqual(problems({ canary: { analysis: { intervalMs: 50 } } }), []);
    assert.equal(problems({ canary: { analysis: { intervalMs: 49 } } }).length, 1);
  });
});

describe('splitWeights', () => {
  test('the edges: 0 % and 100 %, and no instance on one side', () => {
    assert.deepEqual(splitWeights(0, 4, 4), { current: 1, next: 0 });
    assert.deepEqual(splitWeights(100, 4, 4), { current: 0, next: 1 });
    assert.deepEqual(splitWeights(30, 0, 2), { current: 0, next: 1 });
    assert.deepEqual(splitWeights(30, 2, 0), { current: 1, next: 0 });
    assert.deepEqual(splitWeights(25, 4, 2), { current: 3, next: 2 });
  });

  test('property: the new version gets exactly its percent of a cycle of requests', () => {
    const seed = 2112;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (p, cur, next) => {
        const w = splitWeights(p, cur, next);
        const share = (next * w.next) / (next * w.next + cur * w.current);
        assert.ok(Math.abs(share - p / 100) < 1e-9, `p=${p} cur=${cur} next=${next}: ${share}`);
        assert.ok(Number.isInteger(w.current) && Number.isInteger(w.next) && w.current > 0 && w.next > 0);
      }),
      { seed, numRuns: 500, reporter: (r) => r.failed && assert.fail(`fast-check seed ${seed}: ${r.counterexample}`) },
    );
  });
});

describe('judgeInterval', () => {
  const thresholds = { maxErrorRate: 0.05, maxP99Ms: 100, minRequests: 10 };
  const stats = (replies: number, errors: number, seconds: number, abandoned = 0) => {
    const s = new ReplyStats();
    s.requests = replies + abandoned;
    s.replies = replies;
    s.errors = errors;
    s.abandoned = abandoned;
    for (let i = 0; i < replies; i++) s.latency.observe(seconds);
    return snapshotReplyStats(s);
  };

  test('pass, fail on errors (at the threshold passes, past it fails), fail on p99, inconclusive', () => {
    assert.equal(judgeInterval(stats(100, 5, 0.01), thresholds, 0).verdict, 'pass');
    const failed = judgeInterval(stats(100, 6, 0.01), thresholds, 0);
    assert.equal(failed.verdict, 'fail');
    assert.match(failed.reason, /error rate 6\.0 %/);
    assert.equal(judgeInterval(stats(100, 0, 0.2), thresholds, 0).verdict, 'fail');
    assert.equal(judgeInterval(stats(100, 0, 0.1), thresholds, 0).verdict, 'pass', 'p99 at the threshold passes');
    assert.equal(judgeInterval(stats(9, 0, 0.01), thresholds, 0).verdict, 'inconclusive');
    assert.equal(judgeInterval(stats(0, 0, 0), thresholds, 0).p99Ms, null);
  });

  test('requests abandoned by a crash count as failures', () => {
    const r = judgeInterval(stats(20, 0, 0.01, 5), thresholds, 0);
    assert.equal(r.verdict, 'fail');
    assert.equal(r.errors, 5);
  });

  test('deltas and sums of snapshots; the quantile from buckets', () => {
    const a = stats(10, 1, 0.001);
    const b = stats(30, 4, 0.001);
    const d = statsDelta(a, b);
    assert.equal(d.replies, 20);
    assert.equal(d.errors, 3);
    assert.equal(d.latency.count, 20);
    const sum = sumStats([a, b])!;
    assert.equal(sum.replies, 40);
    assert.equal(sumStats([]), undefined);
    assert.equal(quantileMs(stats(100, 0, 0.004), 0.99), 5);
    assert.equal(quantileMs(stats(10, 0, 60), 0.99), Number.POSITIVE_INFINITY);
  });
});
