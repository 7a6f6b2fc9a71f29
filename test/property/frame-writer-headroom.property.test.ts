/**
 * FrameWriter's headroom and the record layer's in-place sealing together: whatever the sizes of
 * the batches, the writer's buffer growth and its slab, every batch handed out keeps `headroom`
 * free bytes before it that belong to it alone, so sealing a record around one batch (writing
 * its header and tag there) never corrupts another batch or record, sent or not yet sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeInto, readFrames } from '../../src/core/protocol/codec.js';
import { envelope, Kind } from '../../src/core/protocol/envelope.js';
import { FrameWriter } from '../../src/core/protocol/frame-writer.js';
import { RECORD_HEADROOM } from '../../src/core/protocol/layout.js';
import { RecordOpener, RecordSealer, type RecordSuite } from '../../src/core/security/record.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const seed = Number(process.env.FC_SEED ?? 20261129);
const params = { seed, numRuns: 200, verbose: 1 as const };
const NO_REKEY = { afterRecords: 1e9, afterMs: 1e12, afterBytes: 2 ** 40 };
const SECRET = new Uint8Array(32).fill(9);

/** Batches of frames: each batch is a list of payload sizes (small ones use the slab, big ones the buffer). */
const batches = fc.array(
  fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1000, max: 9000 })), { minLength: 1, maxLength: 6 }),
  { minLength: 1, maxLength: 12 },
);

function fill(w: FrameWriter, sizes: number[], tag: number): void {
  for (const [i, n] of sizes.entries()) {
    encodeInto(w, envelope(Kind.PUBLISH, { topic: `t.${tag}.${i}`, payload: new Uint8Array(n).fill((tag * 31 + i) & 0xff) }));
  }
}

test(`every batch owns the headroom before it: overwriting it never touches another batch (seed ${seed})`, () => {
  fc.assert(
    fc.property(fc.integer({ min: 16, max: 8192 }), fc.constantFrom(0, 1, RECORD_HEADROOM), batches, (initialSize, headroom, list) => {
      const w = new FrameWriter(initialSize, headroom);
      const taken: Array<{ chunk: Uint8Array; copy: Uint8Array }> = [];
      for (const [b, sizes] of list.entries()) {
        fill(w, sizes, b);
        const chunk = w.take();
        assert.ok(chunk.byteOffset >= headroom, 'room before the batch');
        taken.push({ chunk, copy: chunk.slice() });
        // What a record layer does with the headroom: write all of it.
        new Uint8Array(chunk.buffer, chunk.byteOffset - headroom, headroom).fill(0xee);
      }
      for (const { chunk, copy } of taken) assert.deepEqual(chunk, copy);
    }),
    params,
  );
});

for (const mode of ['hmac-sha256', 'aes-256-gmac', 'aes-256-gcm'] as RecordSuite[]) {
  test(`${mode} records sealed around the writer's batches all open to their frames (seed ${seed})`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 8192 }), batches, (initialSize, list) => {
        const crypto = createNodeCryptoProvider();
        const sealer = new RecordSealer(crypto, mode, SECRET, NO_REKEY);
        const opener = new RecordOpener(crypto, mode, SECRET, 30_000);
        const w = new FrameWriter(initialSize, RECORD_HEADROOM);
        const sent: Array<{ record: Uint8Array; frames: Uint8Array }> = [];
        for (const [b, sizes] of list.entries()) {
          fill(w, sizes, b);
          const chunk = w.take();
          const frames = chunk.slice();
          const record = sealer.seal(chunk, RECORD_HEADROOM) as Uint8Array;
          assert.equal(record.buffer, chunk.buffer, 'built around the batch');
          sent.push({ record, frames });
        }
        // Opened only now: no later batch or seal may have changed an earlier record.
        for (const { record, frames } of sent) {
          const opened = opener.open(record, 0, record.length) as Uint8Array;
          assert.deepEqual(opened, frames);
          let n = 0;
          readFrames(opened, DEFAULT_FRAME_LIMITS, () => n++);
          assert.ok(n > 0);
        }
      }),
      params,
    );
  });
}
