import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hlc, VersionVector, clampHlc, compareHlc, formatHlc, parseHlc, replicaIdProblem } from '../../src/core/sync/index.js';
import { codeOf } from '../helpers/rejects.js';

describe('hybrid logical clock', () => {
  test('fixed width: string order is clock order, ties broken by replica id', () => {
    const a = formatHlc(5, 0, 'b');
    assert.equal(a, '000000000005:0000:b');
    assert.ok(compareHlc(formatHlc(5, 1, 'a'), formatHlc(5, 0, 'z')) > 0);
    assert.ok(compareHlc(formatHlc(0x10, 0, 'a'), formatHlc(0xf, 0xffff, 'z')) > 0);
    assert.ok(compareHlc(formatHlc(5, 1, 'a'), formatHlc(5, 1, 'b')) < 0);
    assert.deepEqual(parseHlc('00000000000a:0002:r-1'), { wall: 10, counter: 2, replica: 'r-1' });
    for (const bad of ['', '0000000000a:0002:r', '00000000000a:0002:', '00000000000A:0002:r', '00000000000a:0002:a:b', 5]) {
      assert.equal(parseHlc(bad), undefined, String(bad));
    }
  });

  test('never goes backwards, even when the wall clock does', () => {
    let now = 1000;
    const hlc = new Hlc('a', () => now);
    const seen: string[] = [hlc.now()];
    now = 500;
    seen.push(hlc.now(), hlc.now());
    now = 2000;
    seen.push(hlc.now());
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `${seen[i]} after ${seen[i - 1]}`);
    assert.equal(parseHlc(seen[1])?.wall, 1000);
    assert.equal(parseHlc(seen[3])?.wall, 2000);
  });

  test('moves past every time it receives, so causality survives skew', () => {
    const fast = new Hlc('fast', () => 10_000_000);
    const slow = new Hlc('slow', () => 1_000); // an hour and more behind
    const sent = fast.now();
    slow.receive(sent);
    const reply = slow.now();
    assert.ok(reply > sent, 'a change made after seeing another orders after it');
    fast.receive(reply);
    assert.ok(fast.now() > reply);
    slow.receive('garbage');
    assert.ok(slow.now() > reply);
  });

  test('clampHlc: a wall time past the ceiling is set to it, counter and replica kept; others are left', () => {
    assert.equal(clampHlc(formatHlc(5_000, 3, 'r'), 4_000), formatHlc(4_000, 3, 'r'));
    assert.equal(clampHlc(formatHlc(4_000, 3, 'r'), 4_000), formatHlc(4_000, 3, 'r'));
    assert.equal(clampHlc(formatHlc(10, 0, 'r'), 4_000), formatHlc(10, 0, 'r'));
    assert.equal(clampHlc('garbage', 4_000), 'garbage');
  });

  test('a full counter carries into the next millisecond', () => {
    const hlc = new Hlc('a', () => 7);
    let last = '';
    for (let i = 0; i < 0x10002; i++) last = hlc.now();
    assert.equal(parseHlc(last)?.wall, 8);
  });

  test('replica ids: 1 to 64 letters, digits, _ or -', () => {
    assert.equal(replicaIdProblem('r-1_A'), undefined);
    for (const bad of ['', 'a:b', 'a b', 'x'.repeat(65), 7]) assert.notEqual(replicaIdProblem(bad), undefined);
    assert.throws(
      () => new Hlc('a:b'),
      (e: unknown) => codeOf(e) === 'CB_ERR_PAYLOAD_INVALID',
    );
  });
});

describe('version vector', () => {
  test('counts the highest rseq per replica; duplicates are what it has', () => {
    const vv = new VersionVector();
    vv.observe('a', 2);
    vv.observe('a', 1);
    vv.observe('b', 5);
    assert.equal(vv.get('a'), 2);
    assert.equal(vv.get('zz'), 0);
    assert.ok(vv.has('a', 2) && vv.has('a', 1) && !vv.has('a', 3));
    assert.deepEqual(vv.toJSON(), { a: 2, b: 5 });
    const other = VersionVector.from({ a: 1, b: 5 });
    assert.ok(vv.covers(other) && !other.covers(vv));
    const copy = vv.clone();
    copy.observe('c', 1);
    assert.equal(vv.get('c'), 0);
    assert.equal(vv.size, 2);
  });

  test('trim: forgets replicas last seen at or before the floor, oldest first, down to the bound', () => {
    const vv = new VersionVector();
    vv.observe('c', 1, 3);
    vv.observe('a', 4, 2);
    vv.observe('b', 2, 2);
    vv.observe('d', 1, 9);
    assert.equal(vv.trim(4, 100), 0, 'within the bound');
    assert.equal(vv.trim(1, 2), 2, 'only those at or before the floor: a and b (ties by id)');
    assert.deepEqual(vv.toJSON(), { c: 1, d: 1 });
    assert.equal(vv.trim(1, 3), 1);
    assert.deepEqual([vv.toJSON(), vv.lastSeqJSON()], [{ d: 1 }, { d: 9 }]);
    const copy = VersionVector.from(vv.toJSON(), vv.lastSeqJSON());
    assert.deepEqual(copy.lastSeqJSON(), { d: 9 });
    assert.throws(
      () => VersionVector.from({ a: 1 }, { b: 2 }),
      (e: unknown) => codeOf(e) === 'CB_ERR_PAYLOAD_INVALID',
    );
    assert.throws(
      () => VersionVector.from({ a: 1 }, { a: -1 }),
      (e: unknown) => codeOf(e) === 'CB_ERR_PAYLOAD_INVALID',
    );
  });

  test('from() refuses anything but replica ids to counts', () => {
    for (const bad of [null, [], { 'a:b': 1 }, { a: -1 }, { a: 1.5 }]) {
      assert.throws(
        () => VersionVector.from(bad),
        (e: unknown) => codeOf(e) === 'CB_ERR_PAYLOAD_INVALID',
      );
    }
  });
});
