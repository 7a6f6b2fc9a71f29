import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTextEdit, diffText, invertTextEdit, mergeText } from '../../src/core/sync/index.js';
import { codeOf } from '../helpers/rejects.js';

describe('text edits', () => {
  test('diff, apply and invert round trip', () => {
    const cases: Array<[string, string]> = [
      ['', ''],
      ['', 'abc'],
      ['abc', ''],
      ['hello world', 'hello brave new world'],
      ['line 1\nline 2\nline 3\n', 'line 1\nline two\nline 3\nline 4\n'],
      ['😀 smile', '😁 smile'],
    ];
    for (const [a, b] of cases) {
      const edit = diffText(a, b);
      assert.equal(applyTextEdit(a, edit), b, JSON.stringify([a, b]));
      assert.equal(applyTextEdit(b, invertTextEdit(edit)), a);
    }
  });

  test('the edit is retain/insert/delete, deletes carry their text, and covers the whole old text', () => {
    assert.deepEqual(diffText('abcdef', 'abXdef'), [2, { d: 'c' }, 'X', 3]);
    assert.deepEqual(diffText('same', 'same'), [4]);
    assert.deepEqual(diffText('', ''), []);
  });

  test('surrogate pairs are never split', () => {
    const edit = diffText('a😀b', 'a😁b');
    for (const step of edit) {
      const s = typeof step === 'string' ? step : typeof step === 'number' ? '' : step.d;
      if (s.length > 0) assert.ok(!/^[\udc00-\udfff]/.test(s) && !/[\ud800-\udbff]$/.test(s), JSON.stringify(edit));
    }
  });

  test('an edit made on another text is refused, not applied (CB_ERR_SYNC_DELTA)', () => {
    const edit = diffText('hello', 'help');
    for (const other of ['helxx', 'hello!', 'hell']) {
      assert.throws(
        () => applyTextEdit(other, edit),
        (e: unknown) => codeOf(e) === 'CB_ERR_SYNC_DELTA',
      );
    }
  });
});

describe('three-way text merge', () => {
  const base = 'one\ntwo\nthree\nfour\n';

  test('edits of different lines merge', () => {
    const ours = 'ONE\ntwo\nthree\nfour\n';
    const theirs = 'one\ntwo\nthree\nFOUR\n';
    assert.deepEqual(mergeText(ours, base, theirs), { clean: true, text: 'ONE\ntwo\nthree\nFOUR\n' });
  });

  test('the same edit on both sides is not a conflict', () => {
    const both = 'one\n2\nthree\nfour\n';
    assert.deepEqual(mergeText(both, base, both), { clean: true, text: both });
    assert.deepEqual(mergeText('one\n2\nthree\nfour\nfive\n', base, both), { clean: true, text: 'one\n2\nthree\nfour\nfive\n' });
  });

  test('different edits of one line conflict', () => {
    assert.deepEqual(mergeText('one\nTWO\nthree\nfour\n', base, 'one\nzwei\nthree\nfour\n'), { clean: false });
  });

  test('one side unchanged takes the other; CRLF and a missing last newline come through', () => {
    assert.deepEqual(mergeText(base, base, 'x'), { clean: true, text: 'x' });
    assert.deepEqual(mergeText('x', base, base), { clean: true, text: 'x' });
    const crlf = 'a\r\nb\r\nc';
    assert.deepEqual(mergeText('A\r\nb\r\nc', crlf, 'a\r\nb\r\nC'), { clean: true, text: 'A\r\nb\r\nC' });
  });
});
