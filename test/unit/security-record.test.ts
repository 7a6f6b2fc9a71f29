/**
 * The record layer on its own: sealing and opening, every flipped bit, truncated tags, replays,
 * reordering, gaps, clock skew both ways, and re-keying — for each suite (AES-256-GCM, and the
 * integrity-only AES-256-GMAC and HMAC-SHA256), on Node's crypto and on WebCrypto.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RecordOpener, RecordSealer, type RecordSuite, RECORD_TAG_OFFSET } from '../../src/core/security/record.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/core/security/crypto.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { envelope, Kind, PayloadType } from '../../src/core/protocol/envelope.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const providers: CryptoProvider[] = [createNodeCryptoProvider(), createWebCryptoProvider()];
const SECRET = new Uint8Array(32).fill(7);
const NO_REKEY = { afterRecords: 1e9, afterMs: 1e12, afterBytes: 2 ** 40 };

function frames(n: number): Uint8Array {
  const parts = Array.from({ length: n }, (_, i) =>
    encodeFrame(
      envelope(Kind.PUBLISH, { topic: `t.${i}`, payloadType: PayloadType.JSON, payload: new TextEncoder().encode(`{"i":${i}}`) }),
    ),
  );
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

for (const sealCrypto of providers) {
  for (const openCrypto of providers) {
    for (const mode of ['aes-256-gcm', 'aes-256-gmac', 'hmac-sha256'] as RecordSuite[]) {
      describe(`records: ${mode}, sealed with ${sealCrypto.name}, opened with ${openCrypto.name}`, () => {
        test('round trip of a batch of frames; ciphertext hides the payload only when encrypting', async () => {
          const sealer = new RecordSealer(sealCrypto, mode, SECRET, NO_REKEY);
          const opener = new RecordOpener(openCrypto, mode, SECRET, 30_000);
          const plain = frames(5);
          const rec = await sealer.seal(plain);
          assert.equal(rec.length, RECORD_TAG_OFFSET + (mode === 'hmac-sha256' ? 32 : 16) + plain.length);
          const text = Buffer.from(rec).toString('latin1');
          assert.equal(text.includes('"i":3'), mode !== 'aes-256-gcm', 'payload visible on the wire only in integrity mode');
          const opened = await opener.open(rec, 0, rec.length);
          assert.deepEqual(opened, plain);
          const topics: string[] = [];
          readFrames(opened, DEFAULT_FRAME_LIMITS, (env) => topics.push(env.topic));
          assert.deepEqual(topics, ['t.0', 't.1', 't.2', 't.3', 't.4']);
        });

        test('one flipped bit anywhere in a record is CB_ERR_INTEGRITY, and the session stays in step', async () => {
          const sealer = new RecordSealer(sealCrypto, mode, SECRET, NO_REKEY);
          const plain = frames(1);
          const rec = await sealer.seal(plain);
          let checked = 0;
          for (let i = 0; i < rec.length; i++) {
            for (const bit of [0, 7]) {
              const opener = new RecordOpener(openCrypto, mode, SECRET, 30_000);
              const bad = rec.slice();
              bad[i] = (bad[i] as number) ^ (1 << bit);
              const code = await codeOf(() => opener.open(bad, 0, bad.length));
              // A flipped bit in the length prefix is a framing error for the frame reader; here the
              // record's bounds are given, so the tag check must catch it too.
              assert.equal(code, 'CB_ERR_INTEGRITY', `byte ${i} bit ${bit}`);
              checked++;
            }
          }
          assert.ok(checked >= 2 * rec.length);
        });

        test('truncated or extended tag is refused', async () => {
          const sealer = new RecordSealer(sealCrypto, mode, SECRET, NO_REKEY);
          const rec = await sealer.seal(frames(1));
          const T = mode === 'hmac-sha256' ? 32 : 16;
          // Claim a tag one byte shorter (header says T-1): the frame is still well formed.
          const bad = rec.slice();
          bad[45] = T - 1;
          new DataView(bad.buffer).setUint16(37, 7 + T - 1);
          assert.equal(await codeOf(() => new RecordOpener(openCrypto, mode, SECRET, 30_000).open(bad, 0, bad.length)), 'CB_ERR_INTEGRITY');
          assert.equal(
            await codeOf(() => new RecordOpener(openCrypto, mode, SECRET, 30_000).open(rec, 0, RECORD_TAG_OFFSET + 3)),
            'CB_ERR_INTEGRITY',
          );
        });

        test('replayed, reordered and dropped records are CB_ERR_REPLAY', async () => {
          const sealer = new RecordSealer(sealCrypto, mode, SECRET, NO_REKEY);
          const r0 = await sealer.seal(frames(1));
          const r1 = await sealer.seal(frames(2));
          const r2 = await sealer.seal(frames(3));
          let opener = new RecordOpener(openCrypto, mode, SECRET, 30_000);
          await opener.open(r0, 0, r0.length);
          assert.equal(await codeOf(() => opener.open(r0, 0, r0.length)), 'CB_ERR_REPLAY', 'replay');
          opener = new RecordOpener(openCrypto, mode, SECRET, 30_000);
          await opener.open(r0, 0, r0.length);
          assert.equal(await codeOf(() => opener.open(r2, 0, r2.length)), 'CB_ERR_REPLAY', 'gap (r1 dropped)');
          opener = new RecordOpener(openCrypto, mode, SECRET, 30_000);
          assert.equal(await codeOf(() => opener.open(r1, 0, r1.length)), 'CB_ERR_REPLAY', 'reordered (r1 before r0)');
        });

        test('timestamps outside the window either way are CB_ERR_CLOCK_SKEW; inside are fine', async () => {
          const base = 1_800_000_000_000;
          for (const [offset, expected] of [
            [31_000, 'CB_ERR_CLOCK_SKEW'],
            [-31_000, 'CB_ERR_CLOCK_SKEW'],
            [29_000, 'no error'],
            [-29_000, 'no error'],
          ] as const) {
            const sealer = new RecordSealer(sealCrypto, mode, SECRET, NO_REKEY, () => base + offset);
            const opener = new RecordOpener(openCrypto, mode, SECRET, 30_000, () => base);
            const rec = await sealer.seal(frames(1));
            assert.equal(await codeOf(() => opener.open(rec, 0, rec.length)), expected, `offset ${offset}`);
          }
        });

        test('re-keys after N records; the receiver follows; skipping an epoch is refused', async () => {
          const sealer = new RecordSealer(sealCrypto, mode, SECRET, { ...NO_REKEY, afterRecords: 3 });
          const opener = new RecordOpener(openCrypto, mode, SECRET, 30_000);
          const epochs: number[] = [];
          const records: Uint8Array[] = [];
          for (let i = 0; i < 10; i++) {
            const rec = await sealer.seal(frames(1));
            records.push(rec);
            epochs.push(new DataView(rec.buffer).getUint32(40));
            await opener.open(rec, 0, rec.length);
          }
          assert.deepEqual(epochs, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
          // A record under epoch +2 is refused before any crypto.
          const fresh = new RecordOpener(openCrypto, mode, SECRET, 30_000);
          await fresh.open(records[0]!, 0, records[0]!.length);
          const forged = records[1]!.slice();
          new DataView(forged.buffer).setUint32(40, 2);
          assert.equal(await codeOf(() => fresh.open(forged, 0, forged.length)), 'CB_ERR_INTEGRITY');
        });

        test('a record from another session (other traffic secret) does not open', async () => {
          const other = new Uint8Array(32).fill(8);
          const rec = await new RecordSealer(sealCrypto, mode, other, NO_REKEY).seal(frames(1));
          assert.equal(await codeOf(() => new RecordOpener(openCrypto, mode, SECRET, 30_000).open(rec, 0, rec.length)), 'CB_ERR_INTEGRITY');
        });
      });
    }
  }
}

test('re-keying by time', async () => {
  const c = providers[0]!;
  let now = 1_800_000_000_000;
  const sealer = new RecordSealer(c, 'aes-256-gcm', SECRET, { ...NO_REKEY, afterMs: 1000 }, () => now);
  const a = await sealer.seal(frames(1));
  now += 999;
  const b = await sealer.seal(frames(1));
  now += 1;
  const d = await sealer.seal(frames(1));
  assert.deepEqual(
    [a, b, d].map((r) => new DataView(r.buffer).getUint32(40)),
    [0, 0, 1],
  );
});

test('Node records seal and open synchronously (no promise per batch)', () => {
  const c = providers[0]!;
  const sealer = new RecordSealer(c, 'aes-256-gcm', SECRET, NO_REKEY);
  const opener = new RecordOpener(c, 'aes-256-gcm', SECRET, 30_000);
  const rec = sealer.seal(frames(2));
  assert.ok(rec instanceof Uint8Array);
  const plain = opener.open(rec, 0, rec.length);
  assert.ok(plain instanceof Uint8Array);
});

for (const crypto of providers) {
  describe(`records built in place around the plaintext (${crypto.name})`, () => {
    const withRoom = (plain: Uint8Array, room: number, junk: number): Uint8Array => {
      const buf = new Uint8Array(room + plain.length).fill(junk);
      buf.set(plain, room);
      return buf.subarray(room);
    };

    for (const [suite, T] of [
      ['hmac-sha256', 32],
      ['aes-256-gmac', 16],
    ] as const) {
      test(`integrity (${suite}) with enough headroom: no new buffer, every header byte written, opens to the frames`, async () => {
        const plain = frames(4);
        const chunk = withRoom(plain, 100, 0xff); // junk before it must not leak into the header
        const at = Date.now();
        const rec = await new RecordSealer(crypto, suite, SECRET, NO_REKEY, () => at).seal(chunk, 100);
        assert.equal(rec.buffer, chunk.buffer);
        assert.equal(rec.byteOffset + RECORD_TAG_OFFSET + T, chunk.byteOffset);
        const copied = await new RecordSealer(crypto, suite, SECRET, NO_REKEY, () => at).seal(plain.slice());
        assert.deepEqual(rec, copied, 'the same bytes as a record built in a new buffer');
        assert.deepEqual(await new RecordOpener(crypto, suite, SECRET, 30_000).open(rec, 0, rec.length), plain);
      });
    }

    test('encrypt with enough headroom: no new buffer, the ciphertext where the plaintext was, opens to the frames', async () => {
      const plain = frames(4);
      const chunk = withRoom(plain, 62, 0xff);
      const at = Date.now();
      const rec = await new RecordSealer(crypto, 'aes-256-gcm', SECRET, NO_REKEY, () => at).seal(chunk, 62);
      assert.equal(rec.buffer, chunk.buffer);
      assert.equal(rec.byteOffset, 0);
      assert.notDeepEqual(chunk, plain, 'the plaintext was replaced by its ciphertext');
      const copied = await new RecordSealer(crypto, 'aes-256-gcm', SECRET, NO_REKEY, () => at).seal(plain.slice());
      assert.deepEqual(rec, copied, 'the same bytes as a record built in a new buffer');
      assert.deepEqual(await new RecordOpener(crypto, 'aes-256-gcm', SECRET, 30_000).open(rec, 0, rec.length), plain);
    });

    test('too little headroom: a new buffer, and the plaintext and the bytes before it stay as they were', async () => {
      for (const [mode, room, given] of [
        ['hmac-sha256', 100, 77],
        ['aes-256-gmac', 100, 61],
        ['aes-256-gcm', 100, 61],
      ] as const) {
        const plain = frames(2);
        const chunk = withRoom(plain, room, 0x5a);
        const rec = await new RecordSealer(crypto, mode, SECRET, NO_REKEY).seal(chunk, given);
        assert.notEqual(rec.buffer, chunk.buffer, mode);
        assert.ok(
          new Uint8Array(chunk.buffer, 0, room).every((b) => b === 0x5a),
          `${mode}: headroom untouched`,
        );
        assert.deepEqual(chunk, plain, `${mode}: plaintext untouched`);
        assert.deepEqual(await new RecordOpener(crypto, mode, SECRET, 30_000).open(rec, 0, rec.length), plain);
      }
    });
  });
}
