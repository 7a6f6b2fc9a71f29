import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { reframedStream } from '../helpers/hand-fed-stream.js';
import { Kind, PayloadType, type Envelope } from '../../src/core/protocol/envelope.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const seed = Number(process.env.FC_SEED ?? 20261122);
const params = { seed, numRuns: 400, verbose: 1 as const };

const token = fc.stringMatching(/^[a-zA-Z0-9_\-éü]{1,8}$/);
const topic = fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join('.'));
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const headers = fc.option(
  fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.string({ maxLength: 40 }), { minKeys: 1, maxKeys: 8 }),
  { nil: undefined },
);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

const arbEnvelope: fc.Arbitrary<Envelope> = fc
  .record({
    kind: fc.constantFrom(...Object.values(Kind)),
    id: u32,
    sid: u32,
    seq: u53,
    timestamp: u53,
    topic: fc.oneof(fc.constant(''), topic),
    replyTo: fc.oneof(fc.constant(''), topic),
    group: fc.oneof(fc.constant(''), token),
    headers,
    payloadType: fc.constantFrom(PayloadType.NONE, PayloadType.JSON, PayloadType.BYTES),
    payload: bytes(300),
  })
  .map((e) => (e.payloadType === PayloadType.NONE ? { ...e, payload: new Uint8Array(0) } : e));

function normal(e: Envelope): unknown {
  return { ...e, payloadText: undefined, headers: e.headers ? { ...e.headers } : undefined, payload: [...e.payload] };
}

test(`codec: encode/decode round trip (seed ${seed})`, () => {
  fc.assert(
    fc.property(arbEnvelope, (env) => {
      assert.deepEqual(normal(decodeFrame(encodeFrame(env))), normal(env));
    }),
    params,
  );
});

test(`codec: a payload given as text encodes to the same bytes as its UTF-8 (seed ${seed})`, () => {
  const text = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json(),
    fc.string({ minLength: 500, maxLength: 4200 }),
    fc
      .tuple(fc.string({ minLength: 505, maxLength: 520 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 5 }))
      .map(([a, b]) => a + b),
  );
  fc.assert(
    fc.property(arbEnvelope, text, (env, t) => {
      const asText = encodeFrame({ ...env, payloadType: PayloadType.JSON, payload: new Uint8Array(0), payloadText: t });
      const asBytes = encodeFrame({ ...env, payloadType: PayloadType.JSON, payload: new TextEncoder().encode(t), payloadText: undefined });
      assert.deepEqual(asText, asBytes);
      assert.equal(new TextDecoder().decode(decodeFrame(asText).payload), new TextDecoder().decode(new TextEncoder().encode(t)));
    }),
    { ...params, numRuns: 200 },
  );
});

test(`codec: the reframing adapter reassembles any split of a frame sequence (seed ${seed})`, () => {
  fc.assert(
    fc.property(fc.array(arbEnvelope, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (envs, cuts) => {
      const frames = envs.map((e) => encodeFrame(e));
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let o = 0;
      for (const f of frames) {
        all.set(f, o);
        o += f.length;
      }
      const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
      const r = reframedStream(DEFAULT_FRAME_LIMITS);
      let prev = 0;
      for (const p of [...points, all.length]) {
        r.raw.push(all.slice(prev, p));
        prev = p;
      }
      r.raw.end();
      assert.equal(r.closes[0]?.error, undefined);
      assert.deepEqual(r.envelopes().map(normal), envs.map(normal));
    }),
    { ...params, numRuns: 200 },
  );
});

/** The decoder's contract: on any input it returns or throws a CrossbusError; nothing else. */
function decodeAny(input: Uint8Array): void {
  try {
    readFrames(input, DEFAULT_FRAME_LIMITS, () => {});
  } catch (err) {
    if (!(err instanceof CrossbusError)) throw new Error(`decoder threw a non-crossbus error: ${String(err)}`);
    assert.match(err.code, /^CB_ERR_/);
  }
}

test(`codec: random bytes never crash the decoder (seed ${seed})`, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (input) => decodeAny(input)),
    { ...params, numRuns: 2000 },
  );
});

test(`codec: mutated valid frames never crash the decoder (seed ${seed})`, () => {
  fc.assert(
    fc.property(
      arbEnvelope,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (env, flips, cut) => {
        const f = Uint8Array.from(encodeFrame(env));
        for (const [at, value] of flips) f[at % f.length] = value;
        decodeAny(f);
        decodeAny(f.subarray(0, cut % (f.length + 1)));
      },
    ),
    { ...params, numRuns: 2000 },
  );
});
