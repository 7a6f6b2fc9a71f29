import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, encodeFrame, encodeInto, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../../src/core/protocol/envelope.js';
import { FrameWriter } from '../../src/core/protocol/frame-writer.js';
import { reframedStream } from '../helpers/hand-fed-stream.js';
import type { FrameLimits } from '../../src/core/limits.js';
import { FIXED_HEADER_BYTES, OFF_FLAGS, OFF_KIND, OFF_RESERVED, OFF_SEQ, OFF_VERSION } from '../../src/core/protocol/layout.js';
import { isCrossbusError, type ErrorCode } from '../../src/core/errors/index.js';
import { DEFAULT_FRAME_LIMITS, DEFAULT_MAX_FRAME_BYTES } from '../../src/core/defaults.js';

const limits = (o: Partial<FrameLimits> = {}): FrameLimits => ({ ...DEFAULT_FRAME_LIMITS, ...o });
const hasCode = (code: ErrorCode) => (e: unknown) => isCrossbusError(e, code);

const full: Envelope = envelope(Kind.PUBLISH, {
  id: 0xffff_ffff,
  sid: 7,
  seq: Number.MAX_SAFE_INTEGER,
  timestamp: 1_763_000_000_000,
  topic: 'orders.created.eü',
  replyTo: '_INBOX.abc.1',
  group: 'pricing',
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'correlation-id': 'c-1', 'x-ünï': 'välue' },
  payloadType: PayloadType.JSON,
  payload: new TextEncoder().encode('{"id":1}'),
});

function plain(e: Envelope): unknown {
  return { ...e, headers: e.headers ? { ...e.headers } : undefined, payload: [...e.payload] };
}

describe('codec', () => {
  test('round-trips every field', () => {
    assert.deepEqual(plain(decodeFrame(encodeFrame(full))), plain(full));
  });

  test('a minimal frame is the fixed header only', () => {
    const f = encodeFrame(envelope(Kind.PING));
    assert.equal(f.length, FIXED_HEADER_BYTES);
    assert.equal(decodeFrame(f).kind, Kind.PING);
  });

  test('many frames back to back in one chunk, with exact bounds', () => {
    const w = new FrameWriter(16);
    for (let i = 0; i < 100; i++) encodeInto(w, envelope(Kind.PUBLISH, { topic: `t.${i}`, payload: new Uint8Array([i]) }));
    const chunk = w.take();
    const seen: number[] = [];
    let last = 0;
    readFrames(chunk, DEFAULT_FRAME_LIMITS, (env, buf, start, end) => {
      assert.equal(start, last);
      last = end;
      assert.equal(buf, chunk);
      seen.push(env.payload[0]!);
    });
    assert.equal(last, chunk.length);
    assert.deepEqual(
      seen,
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('frame size limit: exactly at the limit passes, one byte over fails on both sides', () => {
    const max = 1000;
    const over = FIXED_HEADER_BYTES - 4 + 't'.length;
    const at = envelope(Kind.PUBLISH, { topic: 't', payload: new Uint8Array(max - over) });
    const f = encodeFrame(at, limits({ maxFrameBytes: max }));
    assert.equal(f.length, max + 4);
    assert.equal(decodeFrame(f, limits({ maxFrameBytes: max })).payload.length, max - over);
    const big = envelope(Kind.PUBLISH, { topic: 't', payload: new Uint8Array(max - over + 1) });
    assert.throws(() => encodeFrame(big, limits({ maxFrameBytes: max })), hasCode('CB_ERR_FRAME_TOO_LARGE'));
    assert.throws(() => decodeFrame(encodeFrame(big), limits({ maxFrameBytes: max })), hasCode('CB_ERR_FRAME_TOO_LARGE'));
  });

  test('default frame limit is 1 MiB', () => {
    assert.equal(DEFAULT_MAX_FRAME_BYTES, 1024 * 1024);
  });

  test('topic length limit at its edge', () => {
    const l = limits({ maxTopicLength: 8 });
    assert.equal(decodeFrame(encodeFrame(envelope(Kind.PUBLISH, { topic: 'abcd.efg' }), l), l).topic, 'abcd.efg');
    assert.throws(() => encodeFrame(envelope(Kind.PUBLISH, { topic: 'abcd.efgh' }), l), hasCode('CB_ERR_TOPIC_TOO_LONG'));
    assert.throws(() => decodeFrame(encodeFrame(envelope(Kind.PUBLISH, { topic: 'abcd.efgh' })), l), hasCode('CB_ERR_TOPIC_TOO_LONG'));
  });

  test('header count and size limits at their edge', () => {
    const h = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i}`, 'v']));
    const l = limits({ maxHeaderCount: 3, maxHeaderBytes: 12 });
    assert.equal(Object.keys(decodeFrame(encodeFrame(envelope(Kind.PUBLISH, { topic: 't', headers: h(3) }), l), l).headers!).length, 3);
    assert.throws(() => encodeFrame(envelope(Kind.PUBLISH, { topic: 't', headers: h(4) }), l), hasCode('CB_ERR_HEADERS_TOO_MANY'));
    assert.throws(
      () => decodeFrame(encodeFrame(envelope(Kind.PUBLISH, { topic: 't', headers: h(4) })), l),
      hasCode('CB_ERR_HEADERS_TOO_MANY'),
    );
    const exact = { abcde: 'fghijkl' }; // 12 bytes
    assert.deepEqual({ ...decodeFrame(encodeFrame(envelope(Kind.PUBLISH, { topic: 't', headers: exact }), l), l).headers }, exact);
    assert.throws(
      () => encodeFrame(envelope(Kind.PUBLISH, { topic: 't', headers: { abcde: 'fghijklm' } }), l),
      hasCode('CB_ERR_HEADERS_TOO_LARGE'),
    );
    assert.throws(
      () => decodeFrame(encodeFrame(envelope(Kind.PUBLISH, { topic: 't', headers: { abcde: 'fghijklm' } })), l),
      hasCode('CB_ERR_HEADERS_TOO_LARGE'),
    );
  });

  test('a rejected frame leaves the batch untouched', () => {
    const w = new FrameWriter(64);
    encodeInto(w, envelope(Kind.PING));
    const before = w.length;
    assert.throws(() =>
      encodeInto(w, envelope(Kind.PUBLISH, { topic: 't', payload: new Uint8Array(2000) }), limits({ maxFrameBytes: 100 })),
    );
    assert.equal(w.length, before);
  });

  test('truncated chunks are CB_ERR_FRAME_TRUNCATED', () => {
    const f = encodeFrame(full);
    for (const cut of [1, 3, 4, 10, f.length - 1]) {
      assert.throws(() => decodeFrame(f.subarray(0, cut)), hasCode('CB_ERR_FRAME_TRUNCATED'), `cut at ${cut}`);
    }
  });

  test('wrong version, unknown kind, reserved bits, bad payload type, lying lengths', () => {
    const f = () => Uint8Array.from(encodeFrame(full));
    let b = f();
    b[OFF_VERSION] = 9;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_UNSUPPORTED_VERSION'));
    b = f();
    b[OFF_KIND] = 200;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_UNKNOWN_KIND'));
    b = f();
    b[OFF_KIND] = 0;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_UNKNOWN_KIND'));
    b = f();
    b[OFF_FLAGS] = b[OFF_FLAGS]! | 0x80;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_FRAME_MALFORMED'));
    b = f();
    b[OFF_RESERVED] = 1;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_FRAME_MALFORMED'));
    b = f();
    b[OFF_FLAGS] = (b[OFF_FLAGS]! & ~3) | 3;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_FRAME_MALFORMED'));
    b = f();
    b[OFF_SEQ] = 0xff;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_FRAME_MALFORMED'));
    const small = encodeFrame(envelope(Kind.PUBLISH, { topic: 'a' }));
    b = Uint8Array.from(small);
    new DataView(b.buffer).setUint16(32, 500); // topic length past the end
    assert.throws(() => decodeFrame(b, limits({ maxTopicLength: 1000 })), hasCode('CB_ERR_FRAME_MALFORMED'));
    const tooShort = new Uint8Array([0, 0, 0, 3, 1, 3, 0]);
    assert.throws(() => decodeFrame(tooShort), hasCode('CB_ERR_FRAME_MALFORMED'));
  });

  test('a security block outside the record layer is malformed (bit 3 on any frame the codec reads)', () => {
    const b = Uint8Array.from(encodeFrame(envelope(Kind.PUBLISH, { topic: 'a', payload: new Uint8Array([1]) })));
    b[OFF_FLAGS] = b[OFF_FLAGS]! | 0x08;
    assert.throws(
      () => decodeFrame(b),
      (e: unknown) => isCrossbusError(e, 'CB_ERR_FRAME_MALFORMED') && /outside a SEALED record/.test((e as Error).message),
    );
    const sealed = Uint8Array.from(encodeFrame(envelope(Kind.SEALED, { seq: 1, payload: new Uint8Array(40) })));
    sealed[OFF_FLAGS] = sealed[OFF_FLAGS]! | 0x08;
    assert.throws(
      () => decodeFrame(sealed),
      (e: unknown) => isCrossbusError(e, 'CB_ERR_FRAME_MALFORMED') && /no secure session/.test((e as Error).message),
    );
  });

  test('invalid UTF-8 in a topic is malformed, not a crash', () => {
    const b = Uint8Array.from(encodeFrame(envelope(Kind.PUBLISH, { topic: 'ab' })));
    b[FIXED_HEADER_BYTES] = 0xff;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_FRAME_MALFORMED'));
  });

  test('payload bytes with payload type NONE are malformed', () => {
    const b = Uint8Array.from(
      encodeFrame(envelope(Kind.PUBLISH, { topic: 'a', payloadType: PayloadType.BYTES, payload: new Uint8Array([1]) })),
    );
    b[6] = b[6]! & ~3;
    assert.throws(() => decodeFrame(b), hasCode('CB_ERR_FRAME_MALFORMED'));
  });

  test('encoder refuses out-of-range numbers', () => {
    assert.throws(() => encodeFrame(envelope(Kind.PUBLISH, { topic: 't', id: -1 })), hasCode('CB_ERR_PROTOCOL'));
    assert.throws(() => encodeFrame(envelope(Kind.PUBLISH, { topic: 't', seq: 2 ** 53 })), hasCode('CB_ERR_PROTOCOL'));
  });
});

describe('stream framing (the reframing adapter)', () => {
  test('reassembles frames split at every byte boundary', () => {
    const w = new FrameWriter();
    for (let i = 0; i < 5; i++) encodeInto(w, envelope(Kind.PUBLISH, { topic: `s.${i}`, payload: new Uint8Array(i * 10) }));
    const all = w.take();
    for (let cut = 1; cut < all.length; cut += 7) {
      const r = reframedStream(DEFAULT_FRAME_LIMITS);
      r.raw.push(all.slice(0, cut), all.slice(cut));
      assert.deepEqual(
        r.envelopes().map((e) => e.topic),
        ['s.0', 's.1', 's.2', 's.3', 's.4'],
      );
      r.raw.end();
      assert.equal(r.closes[0]?.error, undefined, 'nothing left over');
    }
  });

  test('rejects an oversize length prefix before buffering the body', () => {
    const r = reframedStream(limits({ maxFrameBytes: 100 }));
    r.raw.push(new Uint8Array([0, 0, 1, 0]));
    assert.throws(() => r.envelopes(), hasCode('CB_ERR_FRAME_TOO_LARGE'));
  });

  test('end of stream inside a frame is CB_ERR_FRAME_TRUNCATED', () => {
    const r = reframedStream(DEFAULT_FRAME_LIMITS);
    r.raw.push(encodeFrame(full).subarray(0, 20));
    assert.deepEqual(r.chunks, [], 'no frame expected');
    r.raw.end();
    assert.ok(hasCode('CB_ERR_FRAME_TRUNCATED')(r.closes[0]?.error));
  });
});
