import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, formatCount, formatEta, formatProgress, progressWanted, PROGRESS_THRESHOLD } from '../../src/cli/progress.js';

/** A stream that records writes, and a clock the test moves. */
function fixture(isTTY: boolean) {
  let t = 1_000_000;
  const writes: string[] = [];
  return {
    writes,
    stream: { isTTY, write: (s: string) => void writes.push(s) },
    now: () => t,
    advance: (ms: number) => void (t += ms),
  };
}

describe('progress formatting', () => {
  test('the line from the issue', () => {
    assert.equal(formatProgress(4200, 10_000, 1355, 10), '[####------] 42% 4200/10000  3.1k msg/s  ETA 2s');
  });

  test('no rate or ETA before time has passed; none of ETA when done', () => {
    assert.equal(formatProgress(0, 100, 0, 10), '[----------] 0% 0/100');
    assert.equal(formatProgress(100, 100, 2000, 10), '[##########] 100% 100/100  50 msg/s');
  });

  test('an empty run reads as done; more than expected is capped at 100%', () => {
    assert.equal(formatProgress(0, 0, 0, 4), '[####] 100% 0/0');
    assert.match(formatProgress(150, 100, 1000, 4), /^\[####\] 100% 150\/100/);
  });

  test('counts and durations', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(2.5), '2.5');
    assert.equal(formatCount(950), '950');
    assert.equal(formatCount(3100), '3.1k');
    assert.equal(formatCount(42_000), '42k');
    assert.equal(formatCount(1_234_567), '1.2M');
    assert.equal(formatCount(Infinity), '?');
    assert.equal(formatEta(1), '1s');
    assert.equal(formatEta(59_000), '59s');
    assert.equal(formatEta(192_000), '3m 12s');
    assert.equal(formatEta(7_500_000), '2h 05m');
  });

  test('shown for more than 1000 messages unless --progress / --no-progress say otherwise', () => {
    assert.equal(progressWanted(undefined, PROGRESS_THRESHOLD), false);
    assert.equal(progressWanted(undefined, PROGRESS_THRESHOLD + 1), true);
    assert.equal(progressWanted(true, 3), true);
    assert.equal(progressWanted(false, 1_000_000), false);
  });
});

describe('ProgressBar on a terminal', () => {
  test('redraws in place at most every 100 ms and ends the line on finish', () => {
    const f = fixture(true);
    const bar = new ProgressBar({ total: 1000, stream: f.stream, now: f.now, width: 10 });
    bar.update(1);
    assert.equal(f.writes.length, 1);
    assert.match(f.writes[0]!, /^\r\[----------\] 0% 1\/1000/);
    for (let i = 2; i <= 50; i++) {
      f.advance(1);
      bar.update(i);
    }
    assert.equal(f.writes.length, 1, 'no redraw within 100 ms');
    f.advance(60);
    bar.update(500);
    assert.equal(f.writes.length, 2);
    assert.match(f.writes[1]!, /^\r\[#####-----\] 50% 500\/1000 .*ETA/);
    f.advance(10);
    bar.update(1000);
    assert.equal(f.writes.length, 2, 'still throttled');
    bar.finish();
    assert.equal(f.writes.length, 4);
    assert.match(f.writes[2]!, /^\r\[##########\] 100% 1000\/1000 {2}/);
    assert.equal(f.writes[3], '\n');
    bar.update(2000);
    bar.finish();
    assert.equal(f.writes.length, 4, 'nothing after finish');
  });

  test('a shorter line blanks out the rest of a longer one', () => {
    const f = fixture(true);
    const bar = new ProgressBar({ total: 100, stream: f.stream, now: f.now, width: 4, label: 'x' });
    f.advance(1);
    bar.update(1); // with a rate and an ETA
    const first = f.writes[0]!;
    bar.finish(); // done: no ETA, so shorter
    const last = f.writes[1]!;
    assert.ok(last.length >= first.length, `${JSON.stringify(last)} covers ${JSON.stringify(first)}`);
    assert.match(last, /^\rx \[####\] 100% 1\/1 .* +$/);
  });
});

describe('ProgressBar elsewhere (not a TTY)', () => {
  test('prints a line per 10% of progress, and the end', () => {
    const f = fixture(false);
    const bar = new ProgressBar({ total: 10_000, stream: f.stream, now: f.now, label: 'replay ORDERS' });
    for (let i = 1; i <= 10_000; i++) {
      if (i % 100 === 0) f.advance(10);
      bar.update(i);
    }
    bar.finish();
    assert.equal(f.writes.length, 11, f.writes.join(''));
    assert.ok(f.writes.every((w) => w.endsWith('\n') && !w.includes('\r')));
    assert.match(f.writes[0]!, /^replay ORDERS \[-+\] 0% 1\/10000\n$/);
    assert.match(f.writes[5]!, /^replay ORDERS \[#{10}-{10}\] 50% 5000\/10000 {2}10k msg\/s {2}ETA 1s\n$/);
    assert.match(f.writes[10]!, /100% 10000\/10000/);
  });

  test('a run that ends short of its estimate reads 100% of what came', () => {
    const f = fixture(false);
    const bar = new ProgressBar({ total: 100, stream: f.stream, now: f.now });
    bar.update(95);
    bar.finish();
    assert.equal(f.writes.length, 2);
    assert.match(f.writes[1]!, /100% 95\/95/);
  });

  test('an aborted run (finish(false)) shows where it stopped', () => {
    const f = fixture(false);
    const bar = new ProgressBar({ total: 100, stream: f.stream, now: f.now });
    bar.update(5);
    bar.update(7);
    bar.finish(false);
    assert.equal(f.writes.length, 2);
    assert.match(f.writes[1]!, / 7% 7\/100/);
  });

  test('more than expected grows the total', () => {
    const f = fixture(false);
    const bar = new ProgressBar({ total: 10, stream: f.stream, now: f.now });
    bar.update(12);
    assert.equal(bar.count, 12);
    assert.match(f.writes[0]!, /100% 12\/12/);
  });
});
