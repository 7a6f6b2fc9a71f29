import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ABUSE_SLOWDOWN_AFTER, DEFAULT_ABUSE_VIOLATIONS_PER_WINDOW, DEFAULT_ABUSE_WINDOW_MS } from '../../src/core/defaults.js';
import { AbuseTracker, RateLimiter, TokenBucket, type RateDecision } from '../../src/core/security/rate-limit.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { DEFAULT_MAX_TOPIC_BUCKETS } from '../../src/core/defaults.js';

/** A hand-driven clock: tests move time explicitly instead of sleeping. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}
const invalidOption = (err: unknown): boolean => isCrossbusError(err, 'CB_ERR_INVALID_OPTION');
const refused = (d: RateDecision): Extract<RateDecision, { ok: false }> => {
  assert.equal(d.ok, false);
  return d as Extract<RateDecision, { ok: false }>;
};

describe('TokenBucket', () => {
  test('exactly burst pass at once, the next is refused with the time to one token', () => {
    const c = clock();
    const b = new TokenBucket({ perSecond: 10, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) assert.equal(b.take(), 0, `message ${i}`);
    assert.equal(b.take(), 100);
  });

  test('refill after the advertised time lets exactly one more through', () => {
    const c = clock();
    const b = new TokenBucket({ perSecond: 3, burst: 2 }, c.now);
    b.take();
    b.take();
    const wait = b.take();
    assert.equal(wait, 334); // ceil(1000 / 3)
    c.advance(wait - 1);
    assert.ok(b.take() > 0, 'one ms early is still refused');
    c.advance(1);
    assert.equal(b.take(), 0);
    assert.ok(b.take() > 0);
  });

  test('refill is continuous and capped at burst', () => {
    const c = clock();
    const b = new TokenBucket({ perSecond: 1000, burst: 10 }, c.now);
    for (let i = 0; i < 10; i++) b.take();
    c.advance(3.5);
    assert.ok(Math.abs(b.level() - 3.5) < 1e-9);
    c.advance(60_000);
    assert.equal(b.level(), 10);
  });

  test('fractional rates, many cycles: waiting the advertised time always suffices', () => {
    const c = clock();
    const b = new TokenBucket({ perSecond: 7.3, burst: 1 }, c.now);
    for (let i = 0; i < 1000; i++) {
      const wait = b.take();
      if (wait > 0) {
        c.advance(wait);
        assert.equal(b.take(), 0, `cycle ${i}`);
      }
    }
  });

  test('n tokens, n above burst and a clock going backwards', () => {
    const c = clock();
    const b = new TokenBucket({ perSecond: 10, burst: 5 }, c.now);
    assert.equal(b.take(3), 0);
    assert.equal(b.take(3), 100);
    assert.equal(b.take(6), Infinity);
    c.advance(-10_000);
    assert.equal(b.take(2), 0);
    c.advance(100);
    assert.equal(b.take(), 0);
  });

  test('slowdown divides the refill rate', () => {
    const c = clock();
    const b = new TokenBucket({ perSecond: 10, burst: 1 }, c.now);
    b.take();
    assert.equal(b.take(1, 4), 400);
    c.advance(100);
    assert.ok(b.take(1, 4) > 0);
    c.advance(300);
    assert.equal(b.take(1, 4), 0);
  });

  test('invalid rates and counts are refused', () => {
    for (const rate of [
      { perSecond: 0, burst: 1 },
      { perSecond: -1, burst: 1 },
      { perSecond: Infinity, burst: 1 },
      { perSecond: 1, burst: 0.5 },
      { perSecond: 1, burst: NaN },
      null,
    ]) {
      assert.throws(() => new TokenBucket(rate as never), invalidOption, JSON.stringify(rate));
    }
    const b = new TokenBucket({ perSecond: 1, burst: 1 });
    assert.throws(() => b.take(0), invalidOption);
    assert.throws(() => b.take(1, 0.5), invalidOption);
  });
});

describe('RateLimiter', () => {
  test('app buckets are shared per app and separate between apps', () => {
    const c = clock();
    const rl = new RateLimiter({ rate: { perSecond: 10, burst: 3 } }, c.now);
    // Three calls, as if from three connections of app a: one shared bucket.
    for (let i = 0; i < 3; i++) assert.deepEqual(rl.check('a', `t.${i}`), { ok: true });
    assert.deepEqual(refused(rl.check('a', 't.x')), { ok: false, retryAfterMs: 100, scope: 'app' });
    assert.deepEqual(rl.check('b', 't.x'), { ok: true });
  });

  test("an app's own rate overrides the hub default", () => {
    const c = clock();
    const apps = new Map([
      ['fast', { rate: { perSecond: 100, burst: 5 } }],
      ['plain', {}],
    ]);
    const rl = new RateLimiter({ rate: { perSecond: 1, burst: 1 }, apps }, c.now);
    for (let i = 0; i < 5; i++) assert.equal(rl.check('fast', 'x').ok, true);
    assert.equal(refused(rl.check('fast', 'x')).retryAfterMs, 10);
    assert.equal(rl.check('plain', 'x').ok, true);
    assert.equal(refused(rl.check('plain', 'x')).retryAfterMs, 1000);
  });

  test('a topic rule limits only matching topics, and a refusal takes no tokens', () => {
    const c = clock();
    const rl = new RateLimiter(
      {
        rate: { perSecond: 100, burst: 10 },
        topicRates: [
          { pattern: 'orders.*.created', perSecond: 1, burst: 2 },
          { pattern: 'logs.>', perSecond: 2, burst: 1 },
        ],
      },
      c.now,
    );
    assert.equal(rl.check('a', 'orders.eu.created').ok, true);
    assert.equal(rl.check('a', 'orders.us.created').ok, true);
    assert.deepEqual(refused(rl.check('a', 'orders.eu.created')), {
      ok: false,
      retryAfterMs: 1000,
      scope: 'topic',
      rule: 'orders.*.created',
    });
    // Not matching: only the app bucket applies (8 tokens left of 10).
    assert.equal(rl.check('a', 'orders.eu.updated').ok, true);
    assert.equal(rl.check('a', 'orders.created').ok, true);
    assert.equal(rl.check('a', 'logs.a.b').ok, true);
    assert.equal(refused(rl.check('a', 'logs.c')).rule, 'logs.>');
    assert.equal(rl.check('a', 'logs').ok, true, "'>' needs at least one token");
    // Per app: b has its own topic bucket.
    assert.equal(rl.check('b', 'orders.eu.created').ok, true);
    // 6 app tokens used so far, 4 left; refusals above took none.
    for (let i = 0; i < 4; i++) assert.equal(rl.check('a', `misc.${i}`).ok, true, `misc ${i}`);
    assert.equal(refused(rl.check('a', 'misc.x')).scope, 'app');
  });

  test('when several buckets refuse, the longest wait is reported', () => {
    const c = clock();
    const rl = new RateLimiter({ rate: { perSecond: 10, burst: 1 }, topicRates: [{ pattern: 'x', perSecond: 1, burst: 1 }] }, c.now);
    assert.equal(rl.check('a', 'x').ok, true);
    assert.deepEqual(refused(rl.check('a', 'x')), { ok: false, retryAfterMs: 1000, scope: 'topic', rule: 'x' });
    c.advance(100);
    assert.deepEqual(refused(rl.check('a', 'x')), { ok: false, retryAfterMs: 900, scope: 'topic', rule: 'x' });
    assert.equal(rl.check('a', 'y').ok, true, 'the refused x took no app token');
  });

  test('the number of (app, rule) buckets is bounded, least recently used dropped first', () => {
    const c = clock();
    const rl = new RateLimiter({ topicRates: [{ pattern: '>', perSecond: 1, burst: 1 }], maxTopicBuckets: 3 }, c.now);
    for (const app of ['a', 'b', 'c']) rl.check(app, 't');
    assert.equal(rl.check('a', 't').ok, false); // touches a: b is now the oldest
    rl.check('d', 't');
    assert.equal(rl.topicBucketCount, 3);
    assert.equal(rl.check('a', 't').ok, false, 'a was kept');
    assert.equal(rl.check('b', 't').ok, true, 'b was dropped and starts full again');
    assert.equal(DEFAULT_MAX_TOPIC_BUCKETS, 10_000);
  });

  test('reconfigure keeps levels of surviving rules, drops removed ones, applies new rates', () => {
    const c = clock();
    const rl = new RateLimiter(
      {
        rate: { perSecond: 1, burst: 5 },
        topicRates: [
          { pattern: 'a.>', perSecond: 1, burst: 2 },
          { pattern: 'b.>', perSecond: 1, burst: 1 },
        ],
      },
      c.now,
    );
    rl.check('x', 'a.1');
    rl.check('x', 'a.2');
    rl.check('x', 'b.1');
    assert.equal(rl.topicBucketCount, 2);
    rl.reconfigure({ rate: { perSecond: 1, burst: 10 }, topicRates: [{ pattern: 'a.>', perSecond: 1, burst: 4 }] });
    assert.equal(rl.topicBucketCount, 1);
    assert.equal(refused(rl.check('x', 'a.3')).rule, 'a.>', 'the emptied a.> bucket was not refilled');
    assert.equal(rl.check('x', 'b.2').ok, true, 'b.> no longer limits');
    // App bucket kept its level (5 - 3 = 2 left after b.2 took one: 1) under the new burst.
    assert.equal(rl.check('x', 'c').ok, true);
    assert.equal(refused(rl.check('x', 'c')).scope, 'app');
    // Invalid options change nothing.
    assert.throws(() => rl.reconfigure({ rate: { perSecond: 0, burst: 1 } }), invalidOption);
    c.advance(1000);
    assert.equal(rl.check('x', 'c').ok, true);
  });

  test('reconfigure caps a kept level at a smaller burst', () => {
    const c = clock();
    const rl = new RateLimiter({ rate: { perSecond: 1, burst: 10 } }, c.now);
    rl.check('x', 't');
    rl.reconfigure({ rate: { perSecond: 1, burst: 2 } });
    assert.equal(rl.check('x', 't').ok, true);
    assert.equal(rl.check('x', 't').ok, true);
    assert.equal(rl.check('x', 't').ok, false);
  });

  test("the caller's objects are copied, never kept or changed", () => {
    const c = clock();
    const rate = { perSecond: 1, burst: 1 };
    const topicRates = [{ pattern: 't', perSecond: 1, burst: 1 }];
    const rl = new RateLimiter({ rate, topicRates }, c.now);
    assert.deepEqual(rate, { perSecond: 1, burst: 1 });
    rate.burst = 100;
    topicRates.length = 0;
    assert.equal(rl.check('a', 't').ok, true);
    assert.equal(refused(rl.check('a', 't')).scope, 'app', 'still burst 1');
  });

  test('invalid options are rejected', () => {
    const bad: unknown[] = [
      { rate: { perSecond: 0, burst: 1 } },
      { apps: new Map([['a', { rate: { perSecond: 1, burst: 0 } }]]) },
      { topicRates: [{ pattern: 'a..b', perSecond: 1, burst: 1 }] },
      { topicRates: [{ pattern: 'a.>.b', perSecond: 1, burst: 1 }] },
      { topicRates: [{ pattern: 42, perSecond: 1, burst: 1 }] },
      {
        topicRates: [
          { pattern: 'a', perSecond: 1, burst: 1 },
          { pattern: 'a', perSecond: 2, burst: 1 },
        ],
      },
      { topicRates: [{ pattern: 'a', perSecond: -1, burst: 1 }] },
      { maxTopicBuckets: 0 },
      { maxTopicBuckets: 1.5 },
    ];
    for (const o of bad) assert.throws(() => new RateLimiter(o as never), invalidOption);
  });

  test('an abuse penalty divides the refill rate', () => {
    const c = clock();
    const abuse = new AbuseTracker({ slowdownAfter: 2, violationsPerWindow: 100, windowMs: 60_000 }, c.now);
    const rl = new RateLimiter({ rate: { perSecond: 10, burst: 1 }, abuse }, c.now);
    assert.equal(rl.check('a', 't').ok, true);
    assert.equal(refused(rl.check('a', 't')).retryAfterMs, 100);
    abuse.violation('a', 'rate');
    abuse.violation('a', 'rate');
    assert.equal(abuse.penaltyFactor('a'), 2);
    assert.equal(refused(rl.check('a', 't')).retryAfterMs, 200);
    c.advance(100);
    assert.equal(rl.check('a', 't').ok, false, 'half a token after 100 ms at half rate');
    c.advance(100);
    assert.equal(rl.check('a', 't').ok, true);
    assert.equal(rl.check('b', 't').ok, true);
    assert.equal(refused(rl.check('b', 't')).retryAfterMs, 100, 'other apps are not penalised');
    rl.reconfigure({ rate: { perSecond: 10, burst: 1 } });
    assert.equal(refused(rl.check('a', 't')).retryAfterMs, 200, 'a reload keeps the tracker');
  });
});

describe('AbuseTracker', () => {
  test('defaults', () => {
    assert.equal(DEFAULT_ABUSE_VIOLATIONS_PER_WINDOW, 50);
    assert.equal(DEFAULT_ABUSE_WINDOW_MS, 10_000);
    assert.equal(DEFAULT_ABUSE_SLOWDOWN_AFTER, 10);
  });

  test('slows at the threshold, halves per further 10, disconnects at violationsPerWindow', () => {
    const c = clock();
    const t = new AbuseTracker({}, c.now);
    const verdicts = Array.from({ length: 50 }, () => t.violation('a', 'invalid'));
    assert.deepEqual(verdicts[8], { action: 'none', count: 9, penaltyFactor: 1 });
    assert.deepEqual(verdicts[9], { action: 'slow', count: 10, penaltyFactor: 2 });
    assert.deepEqual(verdicts[18], { action: 'slow', count: 19, penaltyFactor: 2 });
    assert.deepEqual(verdicts[19], { action: 'slow', count: 20, penaltyFactor: 4 });
    assert.deepEqual(verdicts[29], { action: 'slow', count: 30, penaltyFactor: 8 });
    assert.deepEqual(verdicts[39], { action: 'slow', count: 40, penaltyFactor: 16 });
    assert.deepEqual(verdicts[48], { action: 'slow', count: 49, penaltyFactor: 16 });
    assert.deepEqual(verdicts[49], { action: 'disconnect', count: 50, penaltyFactor: 16 });
    assert.equal(t.violation('a', 'rate').action, 'disconnect', 'stays abusive within the window');
    assert.equal(t.count('b'), 0);
  });

  test('the penalty factor never exceeds 16', () => {
    const t = new AbuseTracker({ slowdownAfter: 1, violationsPerWindow: 1000 }, clock().now);
    let last = 0;
    for (let i = 0; i < 999; i++) last = t.violation('a', 'forbidden').penaltyFactor;
    assert.equal(last, 16);
  });

  test('violations slide out of the window and the penalty decays', () => {
    const c = clock();
    const t = new AbuseTracker({ windowMs: 1000, slowdownAfter: 2, violationsPerWindow: 4 }, c.now);
    t.violation('a', 'rate');
    c.advance(500);
    assert.equal(t.violation('a', 'rate').action, 'slow');
    assert.equal(t.penaltyFactor('a'), 2);
    c.advance(500); // the first one is now exactly windowMs old: gone
    assert.equal(t.count('a'), 1);
    assert.equal(t.penaltyFactor('a'), 1);
    for (let i = 0; i < 3; i++) t.violation('a', 'integrity');
    assert.equal(t.count('a'), 4);
    c.advance(1000);
    assert.equal(t.count('a'), 0, 'a whole quiet window clears everything');
    assert.deepEqual(t.violation('a', 'rate'), { action: 'none', count: 1, penaltyFactor: 1 });
  });

  test('reconfigure keeps counted violations under the new thresholds', () => {
    const t = new AbuseTracker({ slowdownAfter: 5, violationsPerWindow: 10 }, clock().now);
    for (let i = 0; i < 3; i++) t.violation('a', 'rate');
    t.reconfigure({ slowdownAfter: 2, violationsPerWindow: 4 });
    assert.deepEqual(t.violation('a', 'rate'), { action: 'disconnect', count: 4, penaltyFactor: 2 });
    assert.throws(() => t.reconfigure({ windowMs: 0 }), invalidOption);
  });

  test('invalid options are rejected', () => {
    for (const o of [
      { violationsPerWindow: 0 },
      { violationsPerWindow: 2.5 },
      { windowMs: -1 },
      { windowMs: Infinity },
      { slowdownAfter: 0 },
      { slowdownAfter: NaN },
    ]) {
      assert.throws(() => new AbuseTracker(o), invalidOption, JSON.stringify(o));
    }
  });
});
