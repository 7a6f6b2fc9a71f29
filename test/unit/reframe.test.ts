/**
 * The reframing adapter: a byte stream cut and joined anywhere comes out as chunks of whole
 * frames, with no copy when a chunk already is whole frames; an oversize length prefix is handed
 * up for the layer above to refuse, and nothing after it is read; a stream that ends inside a
 * frame says so when it closes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { reframe } from '../../src/core/transport/reframe.js';
import { SecureTransport } from '../../src/core/security/secure-transport.js';
import type { TransportCloseInfo } from '../../src/core/transport/transport.js';
import { HandFedStream as HandFed } from '../helpers/hand-fed-stream.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import { RECORD_HEADROOM } from '../../src/core/protocol/layout.js';
import { createMemoryPair } from '../../src/transports/memory/memory-transport.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const seed = Number(process.env.FC_SEED ?? 20261203);
const params = { seed, numRuns: 300, verbose: 1 as const };

const frame = (i: number, size: number): Uint8Array =>
  encodeFrame(envelope(Kind.PUBLISH, { topic: `t.${i}`, payloadType: PayloadType.BYTES, payload: new Uint8Array(size).fill(i & 0xff) }));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function adapt(maxBody = DEFAULT_FRAME_LIMITS.maxFrameBytes) {
  const raw = new HandFed();
  const t = reframe(raw, () => maxBody);
  const up: Uint8Array[] = [];
  const closes: TransportCloseInfo[] = [];
  let drains = 0;
  t.setHandlers({ message: (c) => up.push(c), close: (i) => closes.push(i), drain: () => drains++ });
  const topics = (): string[] => {
    const out: string[] = [];
    for (const c of up) readFrames(c, DEFAULT_FRAME_LIMITS, (env) => out.push(env.topic));
    return out;
  };
  return { raw, t, up, closes, topics, drains: () => drains };
}

describe('reframe', () => {
  test('a message transport is returned as it is', () => {
    const [a] = createMemoryPair();
    assert.equal(
      reframe(a, () => 100),
      a,
    );
  });

  test('describes and drives the transport below it, as a message transport', () => {
    const { raw, t, drains } = adapt();
    assert.deepEqual(
      [t.kind, t.framing, t.peer, t.origin, t.vouchedOrigin],
      ['hand', 'message', 'hand:peer', 'https://a.example', 'https://b.example'],
    );
    const chunk = new Uint8Array(8);
    t.send(chunk, 78);
    assert.deepEqual(raw.sent, [[chunk, 78]]);
    assert.equal(t.bufferedAmount(), 42);
    t.close(4000, 'x');
    assert.deepEqual(raw.closed, [[4000, 'x']]);
    raw.handlers!.drain!();
    assert.equal(drains(), 1);
  });

  test('a chunk of whole frames goes up as it is, without a copy', () => {
    const { raw, up, topics } = adapt();
    const chunk = concat([frame(0, 10), frame(1, 20)]);
    raw.push(chunk);
    assert.equal(up.length, 1);
    assert.equal(up[0], chunk);
    assert.deepEqual(topics(), ['t.0', 't.1']);
  });

  test('frames cut at every byte, and at every pair of cuts, come out whole and in order', () => {
    const all = concat([frame(0, 3), frame(1, 40), frame(2, 0), frame(3, 200)]);
    for (let a = 1; a < all.length; a++) {
      for (const b of [a + 1, a + 5, Math.floor((a + all.length) / 2)]) {
        if (b >= all.length) continue;
        const { raw, topics } = adapt();
        raw.push(all.slice(0, a), all.slice(a, b), all.slice(b));
        assert.deepEqual(topics(), ['t.0', 't.1', 't.2', 't.3'], `cuts ${a}, ${b}`);
      }
    }
  });

  test(`any split and join of any frames: the chunks handed up are whole frames, and all of them (seed ${seed})`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (sizes, cuts) => {
          const frames = sizes.map((n, i) => frame(i, n));
          const all = concat(frames);
          const at = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((x, y) => x - y);
          const { raw, up, topics } = adapt();
          let prev = 0;
          for (const p of [...at, all.length]) {
            raw.push(all.slice(prev, p));
            prev = p;
          }
          assert.deepEqual(
            topics(),
            sizes.map((_, i) => `t.${i}`),
          );
          assert.deepEqual(concat(up), all);
        },
      ),
      params,
    );
  });

  test('the bound is the largest frame plus a record around it: at the edge it is buffered, one byte over it is not', () => {
    const edge = 100 + 4 + RECORD_HEADROOM;
    const at = adapt(100);
    at.raw.push(Uint8Array.from([0, 0, 0, edge]));
    assert.equal(at.up.length, 0, 'waits for the body');
    const over = adapt(100);
    over.raw.push(Uint8Array.from([0, 0, 0, edge + 1]));
    assert.equal(over.up.length, 1, 'handed up at once, for the layer above to refuse');
  });

  test('an oversize length prefix is handed up as it is, before its body arrives; nothing after it is read', () => {
    for (const pieces of [
      [[0, 0, 1, 0]],
      [
        [0, 0],
        [1, 0],
      ],
      [
        [0, 0, 1],
        [0, 1, 2],
      ],
    ]) {
      const { raw, up } = adapt(100);
      raw.push(frame(0, 1));
      for (const p of pieces) raw.push(Uint8Array.from(p));
      raw.push(frame(1, 1));
      assert.equal(up.length, 2, JSON.stringify(pieces));
      assert.throws(
        () => readFrames(up[1]!, { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: 100 }, () => {}),
        (e: { code?: string }) => e.code === 'CB_ERR_FRAME_TOO_LARGE',
      );
    }
  });

  test('the limit is asked at every frame: a client adopts the hub limits after WELCOME', () => {
    let max = 0;
    const raw = new HandFed();
    const up: Uint8Array[] = [];
    reframe(raw, () => max).setHandlers({ message: (c) => up.push(c), close: () => {} });
    const big = frame(0, 200);
    max = big.length;
    raw.push(big.slice(0, 3), big.slice(3));
    assert.deepEqual(up, [big]);
  });

  test('a stream that ends inside a frame closes with CB_ERR_FRAME_TRUNCATED; a clean end or a local close does not', () => {
    const cut = adapt();
    cut.raw.push(frame(0, 30).slice(0, 20));
    cut.raw.handlers!.close({ local: false, code: 1006, reason: '' });
    assert.equal((cut.closes[0]?.error as { code?: string } | undefined)?.code, 'CB_ERR_FRAME_TRUNCATED');
    const clean = adapt();
    clean.raw.push(frame(0, 30));
    clean.raw.handlers!.close({ local: false, code: 1000, reason: '' });
    assert.equal(clean.closes[0]?.error, undefined);
    const local = adapt();
    local.raw.push(frame(0, 30).slice(0, 9));
    local.raw.handlers!.close({ local: true, code: 1000, reason: '' });
    assert.equal(local.closes[0]?.error, undefined);
  });
});

describe('reframe: what a refused prefix leaves behind', () => {
  test('whole frames in the same chunk as an oversize prefix go up first, on their own, and once', () => {
    const { raw, up } = adapt(100);
    const good = frame(0, 1);
    raw.push(concat([good, Uint8Array.of(0, 0, 1, 0)]));
    assert.deepEqual(up, [good, Uint8Array.of(0, 0, 1, 0)]);
  });

  test('through the record layer before protection, the frames before the refused prefix are read exactly once', () => {
    const raw = new HandFed();
    const secure = new SecureTransport(
      reframe(raw, () => 100),
      { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: 100 },
      () => assert.fail('no security failure before protection'),
    );
    const topics: string[] = [];
    const errors: string[] = [];
    secure.setHandlers({
      message: (c) => {
        try {
          readFrames(c, { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: 100 }, (env) => topics.push(env.topic));
        } catch (err) {
          errors.push((err as { code: string }).code);
        }
      },
      close: () => {},
    });
    raw.push(concat([frame(0, 1), frame(1, 1), Uint8Array.of(0, 0, 1, 0)]));
    assert.deepEqual(topics, ['t.0', 't.1']);
    assert.deepEqual(errors, ['CB_ERR_FRAME_TOO_LARGE']);
  });

  test('an unfinished frame holds only the bytes that arrived, not the length its prefix declares', () => {
    const before = process.memoryUsage().arrayBuffers;
    const held = Array.from({ length: 100 }, () => {
      const a = adapt();
      a.raw.push(Uint8Array.of(0, 0x0f, 0, 0, 1, 2, 3)); // declares ~1 MiB, sends 7 bytes
      return a;
    });
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 10 * 1024 * 1024, `100 prefixes of ~1 MiB frames hold ${grown} bytes`);
    assert.equal(held.length, 100);
  });
});
