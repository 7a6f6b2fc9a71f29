import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coarseClock } from '../../src/core/util/coarse-clock.js';

test('coarseClock reads the clock once per job and again in the next one', async () => {
  let t = 1000;
  let reads = 0;
  const now = coarseClock(() => {
    reads++;
    return t;
  });
  assert.equal(now(), 1000);
  t = 2000;
  assert.equal(now(), 1000, 'same job: the first value');
  assert.equal(reads, 1);
  await Promise.resolve();
  assert.equal(now(), 2000, 'next job: read again');
  assert.equal(now(), 2000);
  assert.equal(reads, 2);
  await new Promise((r) => setImmediate(r));
  t = 3000;
  assert.equal(now(), 3000);
  assert.equal(reads, 3);
});
