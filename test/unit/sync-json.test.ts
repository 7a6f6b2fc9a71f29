import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fjp from 'fast-json-patch';
import {
  applyOps,
  canonicalJson,
  diffJson,
  formatPointer,
  fromJsonPatch,
  getAt,
  jsonEqual,
  parsePointer,
  toJsonPatch,
  type DeltaOperation,
} from '../../src/core/sync/index.js';
import { codeOf } from '../helpers/rejects.js';

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => codeOf(e) === code);
}

describe('JSON pointers', () => {
  test('parse and format round trip, with ~0 and ~1', () => {
    assert.deepEqual(parsePointer(''), []);
    assert.deepEqual(parsePointer('/a~1b/c~0d/'), ['a/b', 'c~d', '']);
    assert.equal(formatPointer(['a/b', 'c~d', '']), '/a~1b/c~0d/');
  });
  test('anything else is CB_ERR_SYNC_DELTA', () => {
    throwsCode(() => parsePointer('a/b'), 'CB_ERR_SYNC_DELTA');
    throwsCode(() => parsePointer('/a~2'), 'CB_ERR_SYNC_DELTA');
  });
});

describe('diffJson', () => {
  test('objects by key: updates, inserts, deletes with old values', () => {
    const ops = diffJson({ a: 1, b: { c: 2 }, gone: true }, { a: 2, b: { c: 2, d: 3 }, added: 'x' });
    assert.deepEqual(ops, [
      { type: 'update', path: '/a', value: 2, oldValue: 1, timestamp: 0 },
      { type: 'insert', path: '/b/d', value: 3, timestamp: 0 },
      { type: 'delete', path: '/gone', oldValue: true, timestamp: 0 },
      { type: 'insert', path: '/added', value: 'x', timestamp: 0 },
    ]);
  });

  test('equal documents give no ops; the same object is not even walked', () => {
    const shared = { deep: { x: [1, 2, 3] } };
    assert.deepEqual(diffJson({ a: shared }, { a: shared }), []);
    assert.deepEqual(diffJson({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
  });

  test('arrays: an element inserted or deleted in the middle is one op', () => {
    assert.deepEqual(diffJson([1, 2, 3, 4], [1, 2, 9, 3, 4]), [{ type: 'insert', path: '/2', value: 9, timestamp: 0 }]);
    assert.deepEqual(diffJson([1, 2, 3, 4], [1, 3, 4]), [{ type: 'delete', path: '/1', oldValue: 2, timestamp: 0 }]);
  });

  test('arrays: the rest pairs by index, then inserts or deletes (from the last index down) at the end of the changed stretch', () => {
    const before = [1, 2, 3, 4, 5];
    const after = [1, 7, 8];
    const ops = diffJson(before, after);
    assert.deepEqual(
      ops.map((o) => [o.type, o.path]),
      [
        ['update', '/1'],
        ['update', '/2'],
        ['delete', '/4'],
        ['delete', '/3'],
      ],
    );
    assert.deepEqual(applyOps(before, ops), after);
  });

  test('type changes replace; the root can be replaced', () => {
    assert.deepEqual(diffJson({ a: [1] }, { a: { 0: 1 } }), [{ type: 'update', path: '/a', value: { 0: 1 }, oldValue: [1], timestamp: 0 }]);
    assert.deepEqual(diffJson(1, 'x'), [{ type: 'update', path: '', value: 'x', oldValue: 1, timestamp: 0 }]);
  });

  test('long strings become text edits (textMinLength), short ones are replaced', () => {
    const long = 'x'.repeat(300);
    const [op] = diffJson({ s: long }, { s: `${long}!` });
    assert.deepEqual(op, { type: 'update', path: '/s', text: [300, '!'], timestamp: 0 });
    const [short] = diffJson({ s: 'ab' }, { s: 'abc' });
    assert.equal(short?.value, 'abc');
    const [forced] = diffJson({ s: 'ab' }, { s: 'abc' }, { textMinLength: 1, timestamp: 7 });
    assert.deepEqual(forced, { type: 'update', path: '/s', text: [2, 'c'], timestamp: 7 });
    assert.equal(diffJson({ s: long }, { s: `${long}!` }, { textMinLength: Number.POSITIVE_INFINITY })[0]?.value, `${long}!`);
    // The default edge: 256 characters on either side make a text edit, 255 on both a replacement.
    assert.ok(diffJson({ s: 'a'.repeat(256) }, { s: 'b' })[0]?.text !== undefined);
    assert.equal(diffJson({ s: 'a'.repeat(255) }, { s: 'b'.repeat(255) })[0]?.value, 'b'.repeat(255));
  });

  test('file trees: a text file is edited at its own path, a binary file replaced, a directory recursed', () => {
    const before = { src: { 'a.txt': { text: 'one\ntwo\n' }, 'b.bin': { base64: 'AAE=' } } };
    const after = { src: { 'a.txt': { text: 'one\n2\n' }, 'b.bin': { base64: 'AAI=' }, 'c.txt': { text: '' } } };
    const ops = diffJson(before, after, { files: true });
    assert.deepEqual(
      ops.map((o) => [o.type, o.path, o.text !== undefined]),
      [
        ['update', '/src/a.txt', true],
        ['update', '/src/b.bin', false],
        ['insert', '/src/c.txt', false],
      ],
    );
    assert.deepEqual(applyOps(before, ops), after);
  });

  test('keys that need escaping, and __proto__ as data', () => {
    const before = JSON.parse('{"a/b":1,"__proto__":{"x":1}}');
    const after = JSON.parse('{"a/b":2,"__proto__":{"x":2}}');
    const ops = diffJson(before, after);
    assert.deepEqual(
      ops.map((o) => o.path),
      ['/a~1b', '/__proto__/x'],
    );
    const out = applyOps(before, ops) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(JSON.parse(JSON.stringify(out)), JSON.parse(JSON.stringify(after)));
  });
});

describe('applyOps', () => {
  test('never mutates its input, and shares every subtree no op touched', () => {
    const before = { a: { x: 1 }, b: { y: [1, 2] }, c: [{ z: 1 }, { z: 2 }] };
    const frozen = JSON.stringify(before);
    const after = applyOps(before, [
      { type: 'update', path: '/a/x', value: 2, timestamp: 0 },
      { type: 'insert', path: '/c/1', value: { z: 9 }, timestamp: 0 },
    ]) as typeof before;
    assert.equal(JSON.stringify(before), frozen);
    assert.equal(after.b, before.b, 'untouched subtree shared');
    assert.equal(after.c[0], before.c[0]);
    assert.notEqual(after.a, before.a);
    assert.deepEqual(after, { a: { x: 2 }, b: { y: [1, 2] }, c: [{ z: 1 }, { z: 9 }, { z: 2 }] });
  });

  test('all or nothing: a path that does not exist throws CB_ERR_SYNC_DELTA with the op index', () => {
    const before = { a: 1 };
    assert.throws(
      () =>
        applyOps(before, [
          { type: 'update', path: '/a', value: 2, timestamp: 0 },
          { type: 'update', path: '/missing', value: 1, timestamp: 0 },
        ]),
      (e: unknown) => codeOf(e) === 'CB_ERR_SYNC_DELTA' && (e as { details: { op: number } }).details.op === 1,
    );
    assert.deepEqual(before, { a: 1 });
  });

  test('every way an op can miss is CB_ERR_SYNC_DELTA', () => {
    const doc = { a: [1, 2], s: 'x', n: 1 };
    const bad: DeltaOperation[] = [
      { type: 'delete', path: '/nope', timestamp: 0 },
      { type: 'delete', path: '/a/2', timestamp: 0 },
      { type: 'update', path: '/a/2', value: 1, timestamp: 0 },
      { type: 'insert', path: '/a/3', value: 1, timestamp: 0 },
      { type: 'insert', path: '/a/01', value: 1, timestamp: 0 },
      { type: 'insert', path: '/n/x', value: 1, timestamp: 0 },
      { type: 'update', path: '/n', text: [1], timestamp: 0 },
      { type: 'update', path: '/s', text: [2], timestamp: 0 },
      { type: 'insert', path: '/s', text: [1], timestamp: 0 },
      { type: 'update', path: '/n', timestamp: 0 },
      { type: 'delete', path: '', timestamp: 0 },
      { type: 'update', path: '/n', chunks: { from: 0, parts: [] }, timestamp: 0 },
    ];
    for (const op of bad) throwsCode(() => applyOps(doc, [op]), 'CB_ERR_SYNC_DELTA');
  });

  test('appends with "-", inserts over an existing key replace it (RFC 6902 add)', () => {
    assert.deepEqual(applyOps({ a: [1] }, [{ type: 'insert', path: '/a/-', value: 2, timestamp: 0 }]), { a: [1, 2] });
    assert.deepEqual(applyOps({ a: 1 }, [{ type: 'insert', path: '/a', value: 2, timestamp: 0 }]), { a: 2 });
  });

  test('text edits apply to strings and { text } files', () => {
    const doc = { s: 'hello', f: { text: 'abc' } };
    const out = applyOps(doc, [
      { type: 'update', path: '/s', text: [5, ' world'], timestamp: 0 },
      { type: 'update', path: '/f', text: [{ d: 'a' }, 2, 'd'], timestamp: 0 },
    ]);
    assert.deepEqual(out, { s: 'hello world', f: { text: 'bcd' } });
  });

  test('diff then apply gives the target, for random documents', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const value = (depth: number): unknown => {
      const k = rnd(depth > 2 ? 4 : 6);
      if (k === 0) return rnd(10);
      if (k === 1) return ['a', 'b', 'c', 'x'.repeat(260 + rnd(3))][rnd(4)];
      if (k === 2) return rnd(2) === 0;
      if (k === 3) return null;
      if (k === 4) return Array.from({ length: rnd(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, () => [`k${rnd(5)}`, value(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const a = value(0);
      const b = value(0);
      const ops = diffJson(a, b);
      assert.ok(jsonEqual(applyOps(a, ops), b), `case ${i}`);
      assert.ok(
        jsonEqual(fjp.applyPatch(structuredClone(a), toJsonPatch(ops, a) as fjp.Operation[], true, false).newDocument, b),
        `patch ${i}`,
      );
    }
  });
});

describe('RFC 6902 conversion', () => {
  test('toJsonPatch: add, replace, remove; text edits with the document; test ops on request', () => {
    const ops: DeltaOperation[] = [
      { type: 'insert', path: '/a', value: 1, timestamp: 0 },
      { type: 'update', path: '/b', value: 2, oldValue: 1, timestamp: 0 },
      { type: 'delete', path: '/c', oldValue: 3, timestamp: 0 },
      { type: 'update', path: '/s', text: [2, '!'], timestamp: 0 },
    ];
    assert.deepEqual(toJsonPatch(ops, { b: 1, c: 3, s: 'hi' }, { test: true }), [
      { op: 'add', path: '/a', value: 1 },
      { op: 'test', path: '/b', value: 1 },
      { op: 'replace', path: '/b', value: 2 },
      { op: 'test', path: '/c', value: 3 },
      { op: 'remove', path: '/c' },
      { op: 'replace', path: '/s', value: 'hi!' },
    ]);
    throwsCode(() => toJsonPatch(ops), 'CB_ERR_SYNC_DELTA');
  });

  test('fromJsonPatch: every op; with the document add over a key is an update, move and copy work, tests are checked', () => {
    const doc = { a: 1, list: [1, 2], o: { k: 'v' } };
    const patch = [
      { op: 'add', path: '/a', value: 5 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'replace', path: '/list/1', value: 9 },
      { op: 'remove', path: '/list/2' },
      { op: 'test', path: '/o/k', value: 'v' },
      { op: 'move', from: '/o/k', path: '/moved' },
      { op: 'copy', from: '/a', path: '/copied' },
    ];
    const ops = fromJsonPatch(patch, doc, 3);
    assert.deepEqual(
      ops.map((o) => [o.type, o.path, o.timestamp]),
      [
        ['update', '/a', 3],
        ['insert', '/list/0', 3],
        ['update', '/list/1', 3],
        ['delete', '/list/2', 3],
        ['delete', '/o/k', 3],
        ['insert', '/moved', 3],
        ['insert', '/copied', 3],
      ],
    );
    const expected = fjp.applyPatch(structuredClone(doc), patch as fjp.Operation[], true, false).newDocument;
    assert.deepEqual(applyOps(doc, ops), expected);
  });

  test('fromJsonPatch refuses what it cannot convert', () => {
    throwsCode(() => fromJsonPatch([{ op: 'test', path: '/a', value: 2 }], { a: 1 }), 'CB_ERR_SYNC_DELTA');
    throwsCode(() => fromJsonPatch([{ op: 'move', from: '/a', path: '/b' }]), 'CB_ERR_SYNC_DELTA');
    throwsCode(() => fromJsonPatch([{ op: 'add', path: '/a' }]), 'CB_ERR_SYNC_DELTA');
    throwsCode(() => fromJsonPatch([{ op: 'nope', path: '/a' }]), 'CB_ERR_SYNC_DELTA');
    throwsCode(() => fromJsonPatch([{ op: 'copy', from: '/x', path: '/b' }], {}), 'CB_ERR_SYNC_DELTA');
    assert.deepEqual(fromJsonPatch([{ op: 'test', path: '/a', value: 2 }]), []);
  });
});

describe('JSON values', () => {
  test('canonical JSON sorts keys at every depth; getAt reads own keys only', () => {
    assert.equal(canonicalJson({ b: [{ y: 1, x: 2 }], a: null }), '{"a":null,"b":[{"x":2,"y":1}]}');
    assert.equal(getAt({ a: [1, { b: 2 }] }, ['a', '1', 'b']), 2);
    assert.equal(getAt({}, ['toString']), undefined);
    assert.equal(getAt({ a: [1] }, ['a', '01']), undefined);
  });
});
