/**
 * One stored record:
 *
 *   u32 length (bytes after this 8-byte prefix) | u32 CRC-32 of those bytes | u64 seq | u64 time | frame
 *
 * The body is an ordinary crossbus PUBLISH frame (src/core/protocol/codec.ts), so a record can be
 * sent as is and the codec's checks apply; the msgId travels in the `cb-msg-id` header. The
 * checksum covers seq and time too, so a flipped sequence number is caught like a flipped payload.
 */
import { decodeFrameAt, encodeFrame } from '../../core/protocol/codec.js';
import { Kind, envelope, type Headers } from '../../core/protocol/envelope.js';
import {
  FIXED_HEADER_BYTES,
  MIN_BODY_BYTES,
  LENGTH_PREFIX_BYTES,
  OFF_SEQ,
  OFF_TIMESTAMP,
  OFF_TOPIC_LEN,
} from '../../core/protocol/layout.js';
import { readUtf8 } from '../../core/protocol/utf8.js';
import { WIRE_MAX_FRAME_BYTES, WIRE_MAX_HEADER_COUNT, WIRE_MAX_TOPIC_LENGTH, type FrameLimits } from '../../core/limits.js';
import type { AppendInput, StoredMessage } from '../../core/streams/storage.js';
import { crc32 } from 'node:zlib';

/** The header that carries `msgId` inside a stored frame (reserved in stored messages). */
export const MSG_ID_HEADER = 'cb-msg-id';
export const RECORD_PREFIX_BYTES = 8;
export const RECORD_HEADER_BYTES = 24;
/** The smallest valid `length` field: seq, time and the smallest frame. */
export const MIN_RECORD_LENGTH = 16 + LENGTH_PREFIX_BYTES + MIN_BODY_BYTES;

/** The hub validated messages with its own limits before they got here; storage only needs the wire's. */
const STORAGE_LIMITS: FrameLimits = Object.freeze({
  maxFrameBytes: WIRE_MAX_FRAME_BYTES,
  maxTopicLength: WIRE_MAX_TOPIC_LENGTH,
  maxHeaderCount: WIRE_MAX_HEADER_COUNT,
  maxHeaderBytes: WIRE_MAX_FRAME_BYTES,
});

const TWO_32 = 2 ** 32;

/**
 * Encodes a message into a record with seq and time left at zero: encoding (and its validation)
 * happens when `append` is called, the sequence number only when the batch is written.
 */
export function encodeRecord(msg: AppendInput): Uint8Array {
  let headers: Headers | undefined = msg.headers;
  if (msg.msgId !== undefined) headers = { ...msg.headers, [MSG_ID_HEADER]: msg.msgId };
  const frame = encodeFrame(
    envelope(Kind.PUBLISH, {
      topic: msg.topic,
      headers,
      payloadType: msg.payloadType,
      payload: msg.payload,
    }),
    STORAGE_LIMITS,
  );
  const out = new Uint8Array(RECORD_HEADER_BYTES + frame.length);
  new DataView(out.buffer).setUint32(0, 16 + frame.length);
  out.set(frame, RECORD_HEADER_BYTES);
  return out;
}

/** Writes seq and time (in the record header and in the frame) and the checksum. */
export function sealRecord(rec: Uint8Array, seq: number, time: number): void {
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  for (const [at, value] of [
    [8, seq],
    [16, time],
    [RECORD_HEADER_BYTES + OFF_SEQ, seq],
    [RECORD_HEADER_BYTES + OFF_TIMESTAMP, time],
  ] as const) {
    v.setUint32(at, Math.floor(value / TWO_32));
    v.setUint32(at + 4, value >>> 0);
  }
  v.setUint32(4, crc32(rec.subarray(RECORD_PREFIX_BYTES)));
}

/** What a record at an offset turned out to be. */
export type RecordCheck =
  | { ok: true; end: number; seq: number; time: number }
  | { ok: false; reason: 'incomplete' | 'bad-length' | 'bad-checksum' };

/** Checks the record starting at `p` of `buf` (framing and checksum; the body is decoded later). */
export function checkRecord(buf: Uint8Array, p: number, view: DataView): RecordCheck {
  if (p + RECORD_PREFIX_BYTES > buf.length) return { ok: false, reason: 'incomplete' };
  const len = view.getUint32(p);
  if (len < MIN_RECORD_LENGTH) return { ok: false, reason: 'bad-length' };
  const end = p + RECORD_PREFIX_BYTES + len;
  if (end > buf.length) return { ok: false, reason: 'incomplete' };
  if (crc32(buf.subarray(p + RECORD_PREFIX_BYTES, end)) !== view.getUint32(p + 4)) return { ok: false, reason: 'bad-checksum' };
  const seq = view.getUint32(p + 8) * TWO_32 + view.getUint32(p + 12);
  const time = view.getUint32(p + 16) * TWO_32 + view.getUint32(p + 20);
  return { ok: true, end, seq, time };
}

/** Decodes a record already checked by `checkRecord`. The payload is a view into `buf`. */
export function decodeRecord(buf: Uint8Array, p: number, end: number, seq: number, time: number): StoredMessage {
  const env = decodeFrameAt(buf, p + RECORD_HEADER_BYTES, end, STORAGE_LIMITS);
  const msg: StoredMessage = { seq, time, topic: env.topic, payloadType: env.payloadType, payload: env.payload };
  if (env.headers !== undefined) {
    const { [MSG_ID_HEADER]: msgId, ...rest } = env.headers;
    if (msgId !== undefined) msg.msgId = msgId;
    if (Object.keys(rest).length > 0) msg.headers = rest;
  }
  return msg;
}

/**
 * The topic of the record at `p` of `buf`, read without decoding the rest: what the per-topic
 * index needs from every record. The record was checked (`checkRecord`) when it was read or written.
 */
export function recordTopic(buf: Uint8Array, p: number): string {
  const frame = p + RECORD_HEADER_BYTES;
  const len = ((buf[frame + OFF_TOPIC_LEN] as number) << 8) | (buf[frame + OFF_TOPIC_LEN + 1] as number);
  return readUtf8(buf, frame + FIXED_HEADER_BYTES, frame + FIXED_HEADER_BYTES + len);
}
