import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'fflate';
import {
  DEFAULT_SYNC_COMPRESS_THRESHOLD,
  DEFAULT_SYNC_MAX_BATCH_BYTES,
  DEFAULT_SYNC_MAX_INFLATED_BYTES,
  decodeBatch,
  encodeBatch,
  formatHlc,
  type Change,
} from '../../src/core/sync/index.js';
import { codeOf } from '../helpers/rejects.js';

function change(rseq: number, value: unknown = rseq): Change {
  return { replica: 'a', rseq, base: 0, hlc: formatHlc(1000, rseq, 'a'), ops: [{ type: 'update', path: '/v', value, timestamp: 1000 }] };
}

function throwsCode(fn: () => unknown, code: string, message?: string): void {
  assert.throws(fn, (e: unknown) => codeOf(e) === code, message);
}

describe('batches', () => {
  test('small batches go as JSON (header 0), larger ones deflated (header 1); both decode', () => {
    const small = [change(1)];
    const raw = encodeBatch(small);
    assert.equal(raw[0], 0);
    assert.deepEqual(decodeBatch(raw), small);
    const large = Array.from({ length: 50 }, (_, i) => change(i + 1, 'the same words again '.repeat(5)));
    const packed = encodeBatch(large);
    assert.equal(packed[0], 1);
    assert.ok(packed.length < JSON.stringify(large).length / 5);
    assert.deepEqual(decodeBatch(packed), large);
  });

  test('compressThreshold at its edge: JSON of exactly the threshold is deflated, one byte less is not', () => {
    const batch = [change(1)];
    const n = new TextEncoder().encode(JSON.stringify(batch)).length;
    assert.equal(encodeBatch(batch, { compressThreshold: n })[0], 1);
    assert.equal(encodeBatch(batch, { compressThreshold: n + 1 })[0], 0);
    assert.equal(encodeBatch(batch, { compressThreshold: Number.POSITIVE_INFINITY })[0], 0);
    assert.equal(DEFAULT_SYNC_COMPRESS_THRESHOLD, 1024);
  });

  test('maxBatchBytes at its edge, on both ends', () => {
    const batch = [change(1)];
    const size = encodeBatch(batch, { compressThreshold: Number.POSITIVE_INFINITY }).length;
    const fits = encodeBatch(batch, { compressThreshold: Number.POSITIVE_INFINITY, maxBatchBytes: size });
    assert.equal(fits.length, size);
    throwsCode(() => encodeBatch(batch, { compressThreshold: Number.POSITIVE_INFINITY, maxBatchBytes: size - 1 }), 'CB_ERR_SYNC_TOO_LARGE');
    assert.deepEqual(decodeBatch(fits, { maxBatchBytes: size }), batch);
    throwsCode(() => decodeBatch(fits, { maxBatchBytes: size - 1 }), 'CB_ERR_SYNC_TOO_LARGE');
    assert.equal(DEFAULT_SYNC_MAX_BATCH_BYTES, 1024 * 1024);
  });

  test('a decompression bomb stops at maxInflatedBytes without inflating it all', () => {
    const json = new TextEncoder().encode(`[${'0,'.repeat(20 * 1024 * 1024)}0]`);
    const bomb = deflateSync(json, { level: 9 });
    const bytes = new Uint8Array(bomb.length + 1);
    bytes[0] = 1;
    bytes.set(bomb, 1);
    assert.ok(bytes.length < 100_000, `${bytes.length} bytes claim ${json.length}`);
    throwsCode(() => decodeBatch(bytes), 'CB_ERR_SYNC_TOO_LARGE');
    // Stopping at the cap, not after inflating it all: with a small cap it takes a fraction of a full inflate.
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) inflateSync(bomb);
    const full = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 5; i++) {
      assert.throws(
        () => decodeBatch(bytes, { maxInflatedBytes: 64 * 1024, maxBatchBytes: bytes.length }),
        (e: unknown) => codeOf(e) === 'CB_ERR_SYNC_TOO_LARGE' && /inflated/.test((e as Error).message),
      );
    }
    const capped = performance.now() - t1;
    assert.ok(capped < full / 4, `capped ${capped.toFixed(1)} ms, full ${full.toFixed(1)} ms`);
    assert.equal(DEFAULT_SYNC_MAX_INFLATED_BYTES, 16 * 1024 * 1024);
    const small = encodeBatch([change(1, 'x'.repeat(5000))]);
    const inflated = JSON.stringify([change(1, 'x'.repeat(5000))]).length;
    assert.equal(decodeBatch(small, { maxInflatedBytes: inflated, maxBatchBytes: 1024 }).length, 1);
    throwsCode(() => decodeBatch(small, { maxInflatedBytes: inflated - 1, maxBatchBytes: 1024 }), 'CB_ERR_SYNC_TOO_LARGE');
  });

  test('malformed batches are CB_ERR_PAYLOAD_INVALID', () => {
    const enc = new TextEncoder();
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['unknown header', new Uint8Array([7, 0x5b, 0x5d])],
      ['not JSON', new Uint8Array([0, ...enc.encode('[nope')])],
      ['not UTF-8', new Uint8Array([0, 0x5b, 0x22, 0xff, 0x22, 0x5d])],
      ['not an array', new Uint8Array([0, ...enc.encode('{}')])],
      ['bad deflate', new Uint8Array([1, 0xff, 0xff, 0xff])],
      ['truncated deflate', encodeBatch(Array.from({ length: 40 }, (_, i) => change(i + 1))).subarray(0, 20)],
      ['malformed change', new Uint8Array([0, ...enc.encode('[{"replica":"a"}]')])],
    ];
    for (const [name, bytes] of cases) throwsCode(() => decodeBatch(bytes), 'CB_ERR_PAYLOAD_INVALID', name);
    try {
      decodeBatch(new Uint8Array([0, ...enc.encode(JSON.stringify([change(1), { ...change(2), ops: [{ type: 'move' }] }]))]));
    } catch (e) {
      assert.equal((e as { details: { index: number } }).details.index, 1);
    }
  });

  test('options are checked', () => {
    throwsCode(() => encodeBatch([], { compressThreshold: -1 }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => decodeBatch(new Uint8Array([0]), { maxBatchBytes: 1 }), 'CB_ERR_INVALID_OPTION');
    throwsCode(() => decodeBatch(new Uint8Array([0]), { maxBatchBytes: 100, maxInflatedBytes: 99 }), 'CB_ERR_CONFLICTING_OPTIONS');
  });
});
