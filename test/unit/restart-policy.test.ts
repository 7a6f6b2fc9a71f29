/**
 * The supervisor's restart policy on a fake clock: the first restart of a series is immediate,
 * the ones after it grow by the factor up to the maximum, a healthy run starts a new series, and a
 * crash loop (too many restarts within the window) stops restarts; the window slides.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from '../../src/node/apps/restart-policy.js';
import {
  DEFAULT_CRASH_LOOP_RESTARTS,
  DEFAULT_RESTART_FIRST_DELAY_MS,
  DEFAULT_RESTART_INITIAL_DELAY_MS,
  DEFAULT_RESTART_MAX_DELAY_MS,
  DEFAULT_RESTART_RESET_AFTER_MS,
} from '../../src/node/apps/defaults.js';

/** Exits right after each start (a crash), `runMs` after it started; returns the delays decided. */
function crashes(policy: RestartPolicy, count: number, runMs = 0, start = 0): Array<number | 'crash-loop'> {
  let now = start;
  const out: Array<number | 'crash-loop'> = [];
  for (let i = 0; i < count; i++) {
    const startedAt = now;
    now += runMs;
    const d = policy.onExit(now, startedAt);
    out.push(d.action === 'restart' ? d.delayMs : 'crash-loop');
    if (d.action === 'restart') now += d.delayMs;
  }
  return out;
}

describe('RestartPolicy', () => {
  test('the first restart is immediate; the ones after it grow by the factor and stop at the maximum', () => {
    const p = new RestartPolicy({ initialDelayMs: 100, factor: 3, maxDelayMs: 1000, crashLoopRestarts: 100, crashLoopWindowMs: 1 });
    assert.deepEqual(crashes(p, 6, 0), [0, 100, 300, 900, 1000, 1000]);
  });

  test('the defaults: at once, then the initial delay, doubled; crash loop after the default number of restarts', () => {
    assert.equal(DEFAULT_RESTART_FIRST_DELAY_MS, 0);
    const p = new RestartPolicy();
    const delays = crashes(p, DEFAULT_CRASH_LOOP_RESTARTS + 1);
    assert.deepEqual(delays.slice(0, 4), [
      0,
      DEFAULT_RESTART_INITIAL_DELAY_MS,
      DEFAULT_RESTART_INITIAL_DELAY_MS * 2,
      DEFAULT_RESTART_INITIAL_DELAY_MS * 4,
    ]);
    assert.equal(delays[DEFAULT_CRASH_LOOP_RESTARTS], 'crash-loop');
    assert.ok((delays.slice(0, -1) as number[]).every((d) => d <= DEFAULT_RESTART_MAX_DELAY_MS));
  });

  test('a crash after a healthy run of the default resetAfterMs is restarted at once, one a moment sooner is not', () => {
    const p = new RestartPolicy();
    assert.deepEqual(crashes(p, 1, DEFAULT_RESTART_RESET_AFTER_MS), [0]);
    assert.deepEqual(crashes(p, 1, DEFAULT_RESTART_RESET_AFTER_MS - 1, 100_000), [DEFAULT_RESTART_INITIAL_DELAY_MS]);
    assert.deepEqual(crashes(p, 1, DEFAULT_RESTART_RESET_AFTER_MS, 200_000), [0]);
  });

  test('a run as long as resetAfterMs starts a new series', () => {
    const p = new RestartPolicy({ initialDelayMs: 10, factor: 2, resetAfterMs: 1000, crashLoopRestarts: 100 });
    assert.deepEqual(crashes(p, 3, 0), [0, 10, 20]);
    assert.deepEqual(crashes(p, 1, 999, 10_000), [40]);
    assert.deepEqual(crashes(p, 2, 1000, 20_000), [0, 0]);
    assert.deepEqual(crashes(p, 2, 0, 30_000), [10, 20]);
  });

  test('firstDelayMs: the first restart of a series waits that long; 0 is the edge', () => {
    const p = new RestartPolicy({ firstDelayMs: 50, initialDelayMs: 10, factor: 2, crashLoopRestarts: 100 });
    assert.deepEqual(crashes(p, 3, 0), [50, 10, 20]);
    const edge = new RestartPolicy({ firstDelayMs: 0, initialDelayMs: 0, factor: 2, maxDelayMs: 0, crashLoopRestarts: 100 });
    assert.deepEqual(crashes(edge, 3, 0), [0, 0, 0]);
  });

  test('crash loop: more than N restarts within the window; restarts spread wider are fine', () => {
    const tight = new RestartPolicy({ initialDelayMs: 1, factor: 1, crashLoopRestarts: 3, crashLoopWindowMs: 1000 });
    assert.deepEqual(crashes(tight, 4, 0), [0, 1, 1, 'crash-loop']);
    const decision = tight.onExit(10, 10);
    assert.deepEqual(decision, { action: 'crash-loop', restarts: 3, windowMs: 1000 });

    // Each run lasts 400 ms: at most 3 exits fall within any 1000 ms, so no loop at the bound.
    const spread = new RestartPolicy({ initialDelayMs: 1, factor: 1, crashLoopRestarts: 3, crashLoopWindowMs: 1000 });
    assert.deepEqual(crashes(spread, 20, 400), [0, ...new Array<number>(19).fill(1)]);
  });

  test('reset forgets the history', () => {
    const p = new RestartPolicy({ initialDelayMs: 5, factor: 2, crashLoopRestarts: 2 });
    assert.deepEqual(crashes(p, 3), [0, 5, 'crash-loop']);
    p.reset();
    assert.deepEqual(crashes(p, 2, 0, 100), [0, 5]);
  });

  test('bad options are typed errors naming the option', () => {
    for (const [options, name] of [
      [{ initialDelayMs: -1 }, 'initialDelayMs'],
      [{ firstDelayMs: -1 }, 'firstDelayMs'],
      [{ initialDelayMs: 500, maxDelayMs: 100 }, 'maxDelayMs'],
      [{ firstDelayMs: 500, maxDelayMs: 100 }, 'maxDelayMs'],
      [{ factor: 0.5 }, 'factor'],
      [{ crashLoopRestarts: 0 }, 'crashLoopRestarts'],
      [{ crashLoopWindowMs: Number.NaN }, 'crashLoopWindowMs'],
    ] as const) {
      assert.throws(
        () => new RestartPolicy(options),
        (err: Error & { code?: string }) => err.code === 'CB_ERR_CONFIG_INVALID' && err.message.includes(name),
      );
    }
  });
});
