import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffDelay } from '../../src/client/backoff.js';
import { DEFAULT_RECONNECT } from '../../src/client/defaults.js';

const seed = Number(process.env.FC_SEED ?? 20261122);

test('backoff grows exponentially and is capped', () => {
  const noJitter = { ...DEFAULT_RECONNECT, jitter: 0 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, noJitter)),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
});

test('jitter removes at most its fraction of the delay', () => {
  assert.equal(
    backoffDelay(3, DEFAULT_RECONNECT, () => 0),
    800,
  );
  assert.equal(
    backoffDelay(3, DEFAULT_RECONNECT, () => 0.999999),
    400,
  );
});

test(`backoff stays within [base*(1-jitter), base] for any attempt and options (seed ${seed})`, () => {
  fc.assert(
    fc.property(
      fc.nat(60),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 100_000 }),
      fc.double({ min: 1, max: 4, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (attempt, initialDelayMs, extra, factor, jitter, r) => {
        const opts = { initialDelayMs, maxDelayMs: initialDelayMs + extra, factor, jitter, maxAttempts: Infinity };
        const base = Math.min(opts.maxDelayMs, initialDelayMs * factor ** attempt);
        const d = backoffDelay(attempt, opts, () => r);
        assert.ok(d <= Math.round(base) && d >= Math.floor(base * (1 - jitter)), `${d} outside [${base * (1 - jitter)}, ${base}]`);
      },
    ),
    { seed, numRuns: 500 },
  );
});
