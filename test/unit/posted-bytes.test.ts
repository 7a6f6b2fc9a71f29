import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostedBytes, POSTED_BYTES_SLACK } from '../../src/core/transport/posted-bytes.js';

/** A scheduler the test runs by hand, to see exactly what was scheduled. */
function manual(): { schedule: (fn: () => void) => void; run(): number } {
  let queue: Array<() => void> = [];
  return {
    schedule: (fn) => void queue.push(fn),
    run() {
      const q = queue;
      queue = [];
      for (const fn of q) fn();
      return q.length;
    },
  };
}

test('posts up to the slack count as written: nothing buffered, nothing scheduled', () => {
  const s = manual();
  let drains = 0;
  const p = new PostedBytes(() => drains++, s.schedule);
  for (let i = 0; i < 64; i++) p.add(1024);
  assert.equal(64 * 1024, POSTED_BYTES_SLACK);
  assert.equal(p.amount, 0);
  assert.equal(s.run(), 0);
  assert.equal(drains, 0);
});

test('past the slack, writers see every posted byte until the next turn, then drain fires once', () => {
  const s = manual();
  let drains = 0;
  const p = new PostedBytes(() => drains++, s.schedule);
  p.add(POSTED_BYTES_SLACK);
  assert.equal(p.amount, 0);
  p.add(1);
  assert.equal(p.amount, POSTED_BYTES_SLACK + 1);
  p.add(100_000);
  assert.equal(p.amount, POSTED_BYTES_SLACK + 100_001);
  assert.equal(s.run(), 1, 'one reset scheduled, however many posts');
  assert.equal(p.amount, 0);
  assert.equal(drains, 1);
  p.add(10);
  assert.equal(p.amount, 0);
  assert.equal(s.run(), 0);
});

test('one large post is buffered at once', () => {
  const s = manual();
  const p = new PostedBytes(() => {}, s.schedule);
  p.add(POSTED_BYTES_SLACK * 4);
  assert.equal(p.amount, POSTED_BYTES_SLACK * 4);
  s.run();
  assert.equal(p.amount, 0);
});
