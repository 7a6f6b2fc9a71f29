import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import {
  DEFAULT_SYNC_CHUNK_AVG_BYTES,
  DEFAULT_SYNC_CHUNK_MAX_BYTES,
  DEFAULT_SYNC_CHUNK_MIN_BYTES,
  applyChunkEdit,
  chunk,
  chunkIds,
  diffBinary,
  resolveChunkOptions,
} from '../../src/core/sync/index.js';
import { codeOf } from '../helpers/rejects.js';

const crypto = createNodeCryptoProvider();

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = s >>> 24;
  }
  return out;
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

describe('content-defined chunking', () => {
  test('chunks cover the file in order within min and max; none for an empty file', () => {
    const bytes = randomBytes(300_000, 1);
    const chunks = chunk(bytes);
    assert.equal(chunks[0]?.start, 0);
    assert.equal(chunks.at(-1)?.end, bytes.length);
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (i > 0) assert.equal(c.start, chunks[i - 1]!.end);
      const size = c.end - c.start;
      assert.ok(size <= DEFAULT_SYNC_CHUNK_MAX_BYTES);
      if (i < chunks.length - 1) assert.ok(size >= DEFAULT_SYNC_CHUNK_MIN_BYTES, `chunk ${i} is ${size}`);
    }
    const mean = bytes.length / chunks.length;
    assert.ok(mean > DEFAULT_SYNC_CHUNK_AVG_BYTES / 2 && mean < DEFAULT_SYNC_CHUNK_AVG_BYTES * 2, `mean ${mean}`);
    assert.deepEqual(chunk(new Uint8Array(0)), []);
  });

  test('maxBytes forces a boundary on data without one (all zeros)', () => {
    const chunks = chunk(new Uint8Array(200_000));
    assert.ok(chunks.every((c) => c.end - c.start <= DEFAULT_SYNC_CHUNK_MAX_BYTES));
  });

  test('an insertion changes only the chunks around it: boundaries depend on content', () => {
    const bytes = randomBytes(400_000, 2);
    const edited = splice(bytes, 200_000, 0, new Uint8Array([1, 2, 3, 4, 5]));
    const before = new Set(chunk(bytes).map((c) => `${c.end - 200_000 > 0 ? c.end + 5 : c.end}`));
    const after = chunk(edited).map((c) => `${c.end}`);
    const shared = after.filter((e) => before.has(e)).length;
    assert.ok(shared >= after.length - 2, `${shared} of ${after.length} boundaries kept`);
  });

  test('options: defaults, and every bad value is typed', () => {
    assert.deepEqual(resolveChunkOptions(), { minBytes: 2048, avgBytes: 8192, maxBytes: 65536 });
    for (const o of [{ minBytes: 63 }, { avgBytes: 3000 }, { maxBytes: 1.5 }, { maxBytes: 2 ** 31 }]) {
      assert.throws(
        () => resolveChunkOptions(o),
        (e: unknown) => codeOf(e) === 'CB_ERR_INVALID_OPTION',
        JSON.stringify(o),
      );
    }
    assert.throws(
      () => resolveChunkOptions({ minBytes: 4096, avgBytes: 2048 }),
      (e: unknown) => codeOf(e) === 'CB_ERR_CONFLICTING_OPTIONS',
    );
    assert.doesNotThrow(() => chunk(randomBytes(1000, 3), { minBytes: 64, avgBytes: 64, maxBytes: 64 }));
  });

  test('chunk identity is SHA-256 from the injected provider (Node and WebCrypto agree)', async () => {
    const bytes = randomBytes(50_000, 4);
    const chunks = chunk(bytes);
    const a = await chunkIds(bytes, chunks, crypto);
    const b = await chunkIds(bytes, chunks, createWebCryptoProvider());
    assert.deepEqual(a, b);
    assert.ok(a.every((id) => /^[\w-]{43}$/.test(id)));
  });
});

describe('chunk edits', () => {
  test('a small edit of a large file carries only the chunks it changed', async () => {
    const before = randomBytes(1_000_000, 5);
    const after = splice(before, 500_000, 10, new TextEncoder().encode('a small change'));
    const edit = await diffBinary(before, after, crypto);
    const carried = edit.parts.reduce((n, p) => n + ('data' in p ? p.data.length : 0), 0);
    assert.ok(carried < 3 * DEFAULT_SYNC_CHUNK_MAX_BYTES, `carried ${carried} base64 characters`);
    const { bytes, back } = applyChunkEdit(before, edit);
    assert.deepEqual(bytes, after);
    assert.deepEqual(applyChunkEdit(bytes, back).bytes, before);
  });

  test('round trips: empty files, equal files, unrelated files, appends and truncations', async () => {
    const cases: Array<[Uint8Array, Uint8Array]> = [
      [new Uint8Array(0), randomBytes(10_000, 6)],
      [randomBytes(10_000, 6), new Uint8Array(0)],
      [randomBytes(30_000, 7), randomBytes(30_000, 7)],
      [randomBytes(30_000, 8), randomBytes(20_000, 9)],
      [randomBytes(30_000, 10), splice(randomBytes(30_000, 10), 30_000, 0, randomBytes(5000, 11))],
      [randomBytes(30_000, 12), randomBytes(30_000, 12).slice(0, 12_345)],
    ];
    for (const [a, b] of cases) {
      const edit = await diffBinary(a, b, crypto, { minBytes: 256, avgBytes: 1024, maxBytes: 4096 });
      const { bytes, back } = applyChunkEdit(a, edit);
      assert.deepEqual(bytes, b);
      assert.deepEqual(applyChunkEdit(b, back).bytes, a);
    }
    const same = await diffBinary(randomBytes(30_000, 7), randomBytes(30_000, 7), crypto);
    assert.deepEqual(same.parts, [{ at: 0, len: 30_000 }]);
  });

  test('an edit that does not fit the file is CB_ERR_SYNC_DELTA', () => {
    const file = randomBytes(100, 13);
    for (const edit of [
      { from: 99, parts: [] },
      { from: 100, parts: [{ at: 90, len: 11 }] },
      { from: 100, parts: [{ data: '***' }] },
    ]) {
      assert.throws(
        () => applyChunkEdit(file, edit),
        (e: unknown) => codeOf(e) === 'CB_ERR_SYNC_DELTA',
      );
    }
  });
});
