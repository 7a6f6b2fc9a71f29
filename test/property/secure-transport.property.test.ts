/**
 * The record layer end to end through SecureTransport over an in-memory pair: whatever batches the
 * sender writes (any sizes, any re-keying interval, stream or message framing underneath), the
 * receiver gets exactly the same frames in the same order; and any single changed byte in the
 * stream of records ends the connection with a security code before anything after it is seen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SecureTransport } from '../../src/core/security/secure-transport.js';
import { RecordOpener, RecordSealer, type RecordSuite } from '../../src/core/security/record.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import type { Transport, TransportHandlers } from '../../src/core/transport/transport.js';
import type { CrossbusError } from '../../src/core/errors/index.js';
import { reframe } from '../../src/core/transport/reframe.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const seed = Number(process.env.FC_SEED ?? 20261122);
const params = { seed, numRuns: 150, verbose: 1 as const };
const crypto = createNodeCryptoProvider();
const SECRET = new Uint8Array(32).fill(3);

/** A transport whose sent chunks are collected, to be fed to the receiver by hand. */
class Wire implements Transport {
  readonly kind = 'wire';
  readonly peer = 'wire';
  handlers: TransportHandlers | undefined;
  readonly sent: Uint8Array[] = [];
  constructor(readonly framing: 'message' | 'stream') {}
  setHandlers(h: TransportHandlers): void {
    this.handlers = h;
  }
  send(chunk: Uint8Array): void {
    this.sent.push(chunk);
  }
  bufferedAmount(): number {
    return 0;
  }
  close(): void {}
}

function frame(i: number, size: number): Uint8Array {
  return encodeFrame(
    envelope(Kind.PUBLISH, { topic: `t.${i}`, payloadType: PayloadType.BYTES, payload: new Uint8Array(size).fill(i & 0xff) }),
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits bytes at the given cut points (a stream transport may cut anywhere). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out.filter((c) => c.length > 0);
}

const batches = fc.array(fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 });

function run(mode: RecordSuite, framing: 'message' | 'stream', plan: number[][], rekeyAfter: number, cuts: number[]) {
  const sendWire = new Wire('message');
  const sender = new SecureTransport(sendWire, DEFAULT_FRAME_LIMITS, () => assert.fail('sender failed'));
  sender.setHandlers({ message: () => {}, close: () => {} });
  sender.protectOutbound(new RecordSealer(crypto, mode, SECRET, { afterRecords: rekeyAfter, afterMs: 1e12, afterBytes: 2 ** 40 }));
  const expected: string[] = [];
  let n = 0;
  for (const batch of plan) {
    const frames = batch.map((size) => {
      expected.push(`t.${n}:${size}`);
      return frame(n++, size);
    });
    sender.send(concat(frames));
  }
  const recvWire = new Wire(framing);
  const errors: CrossbusError[] = [];
  // A stream is reframed below the record layer, as the broker and the bus do.
  const below = reframe(recvWire, () => DEFAULT_FRAME_LIMITS.maxFrameBytes);
  const receiver = new SecureTransport(below, DEFAULT_FRAME_LIMITS, (e) => errors.push(e));
  const got: string[] = [];
  receiver.setHandlers({
    message: (chunk) => readFrames(chunk, DEFAULT_FRAME_LIMITS, (env) => got.push(`${env.topic}:${env.payload.length}`)),
    close: () => {},
  });
  receiver.protectInbound(new RecordOpener(crypto, mode, SECRET, 30_000));
  const stream = concat(sendWire.sent);
  const chunks = framing === 'stream' ? split(stream, cuts) : sendWire.sent;
  return { stream, chunks, recvWire, got, errors, expected };
}

for (const mode of ['aes-256-gcm', 'aes-256-gmac', 'hmac-sha256'] as RecordSuite[]) {
  for (const framing of ['message', 'stream'] as const) {
    test(`records (${mode}, ${framing} framing): any batches, any re-key interval, arrive intact and in order (seed ${seed})`, () => {
      fc.assert(
        fc.property(batches, fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(), { maxLength: 20 }), (plan, rekeyAfter, cuts) => {
          const r = run(mode, framing, plan, rekeyAfter, cuts);
          for (const c of r.chunks) r.recvWire.handlers!.message(c);
          assert.deepEqual(r.errors, []);
          assert.deepEqual(r.got, r.expected);
        }),
        params,
      );
    });
  }

  test(`records (${mode}): one changed byte anywhere stops delivery at that record with CB_ERR_INTEGRITY (seed ${seed})`, () => {
    fc.assert(
      fc.property(batches, fc.nat(), fc.integer({ min: 1, max: 255 }), (plan, at, xor) => {
        const r = run(mode, 'message', plan, 3, []);
        const records = r.chunks.map((c) => c.slice());
        const total = records.reduce((a, c) => a + c.length, 0);
        let pos = at % total;
        let k = 0;
        while (pos >= records[k]!.length) {
          pos -= records[k]!.length;
          k++;
        }
        records[k]![pos] = records[k]![pos]! ^ xor;
        const before = plan.slice(0, k).reduce((a, b) => a + b.length, 0);
        for (const c of records) r.recvWire.handlers!.message(c);
        assert.equal(r.errors.length, 1, 'exactly one failure');
        // Every byte but the tag is authenticated, so any change is an integrity failure, never a 'replay'.
        assert.equal(r.errors[0]!.code, 'CB_ERR_INTEGRITY');
        assert.deepEqual(r.got, r.expected.slice(0, before), 'only the records before the damaged one were delivered');
      }),
      params,
    );
  });
}
