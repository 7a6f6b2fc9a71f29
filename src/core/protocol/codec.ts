import { ProtocolError, ValidationError } from '../errors/index.js';
import type { FrameLimits } from '../limits.js';
import { Kind, PROTOCOL_VERSION, PayloadType, isKind, type Envelope, type Headers } from './envelope.js';
import { FrameWriter } from './frame-writer.js';
import {
  FIXED_HEADER_BYTES,
  FLAG_HEADERS,
  FLAG_PAYLOAD_MASK,
  FLAG_RESERVED_MASK,
  FLAG_SECURITY,
  LENGTH_PREFIX_BYTES,
  MAX_SAFE_HIGH_WORD,
  MIN_BODY_BYTES,
  OFF_FLAGS,
  OFF_GROUP_LEN,
  OFF_ID,
  OFF_KIND,
  OFF_REPLY_LEN,
  OFF_RESERVED,
  OFF_SEQ,
  OFF_SID,
  OFF_TIMESTAMP,
  OFF_TOPIC_LEN,
  OFF_VERSION,
} from './layout.js';
import { readUtf8, utf8Length, writeUtf8 } from './utf8.js';
import { DEFAULT_FRAME_LIMITS } from '../defaults.js';

const TWO_32 = 0x1_0000_0000;

function tooLarge(size: number, limit: number): ProtocolError {
  return new ProtocolError('CB_ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${limit} bytes`, {
    details: { size, limit },
  });
}

function malformed(reason: string): ProtocolError {
  return new ProtocolError('CB_ERR_FRAME_MALFORMED', `malformed frame: ${reason}`, { details: { reason } });
}

function checkU32(name: string, v: number): void {
  if (!(v >= 0 && v <= 0xffff_ffff && Number.isInteger(v))) {
    throw new ValidationError('CB_ERR_PROTOCOL', `${name} must be an integer in 0..2^32-1`, { details: { field: name } });
  }
}
function checkU53(name: string, v: number): void {
  if (!(v >= 0 && Number.isSafeInteger(v))) {
    throw new ValidationError('CB_ERR_PROTOCOL', `${name} must be a safe non-negative integer`, { details: { field: name } });
  }
}

/**
 * Appends one frame to `w`. Validates every limit first and writes nothing on error, so a
 * rejected message never corrupts a batch.
 */
export function encodeInto(w: FrameWriter, env: Envelope, limits: FrameLimits = DEFAULT_FRAME_LIMITS): void {
  const topicLen = utf8Length(env.topic);
  const replyLen = utf8Length(env.replyTo);
  const groupLen = utf8Length(env.group);
  if (topicLen > limits.maxTopicLength || replyLen > limits.maxTopicLength) {
    throw new ValidationError('CB_ERR_TOPIC_TOO_LONG', `topic is longer than ${limits.maxTopicLength} bytes`, {
      details: { length: Math.max(topicLen, replyLen), limit: limits.maxTopicLength },
    });
  }
  if (groupLen > 255) throw new ValidationError('CB_ERR_PROTOCOL', 'group name is longer than 255 bytes');
  checkU32('id', env.id);
  checkU32('sid', env.sid);
  checkU53('seq', env.seq);
  checkU53('timestamp', env.timestamp);

  let headersBytes = 0;
  let headerCount = 0;
  const headers = env.headers;
  if (headers !== undefined) {
    let payloadBytes = 0;
    for (const name in headers) {
      const value = headers[name];
      if (typeof value !== 'string' || name.length === 0) {
        throw new ValidationError('CB_ERR_HEADER_INVALID', `header ${JSON.stringify(name)} must have a non-empty name and a string value`);
      }
      const nl = utf8Length(name);
      const vl = utf8Length(value);
      if (nl > 0xffff || vl > 0xffff) throw new ValidationError('CB_ERR_HEADERS_TOO_LARGE', 'a header is longer than 65535 bytes');
      headerCount++;
      payloadBytes += nl + vl;
      headersBytes += 4 + nl + vl;
    }
    if (headerCount > limits.maxHeaderCount) {
      throw new ValidationError('CB_ERR_HEADERS_TOO_MANY', `${headerCount} headers exceed the limit of ${limits.maxHeaderCount}`, {
        details: { count: headerCount, limit: limits.maxHeaderCount },
      });
    }
    if (payloadBytes > limits.maxHeaderBytes) {
      throw new ValidationError(
        'CB_ERR_HEADERS_TOO_LARGE',
        `headers of ${payloadBytes} bytes exceed the limit of ${limits.maxHeaderBytes}`,
        {
          details: { size: payloadBytes, limit: limits.maxHeaderBytes },
        },
      );
    }
    if (headerCount > 0) headersBytes += 2;
  }
  const payload = env.payload;
  const payloadText = env.payloadText;
  const payloadLen = payloadText === undefined ? payload.length : utf8Length(payloadText);
  const bodyLen = FIXED_HEADER_BYTES - LENGTH_PREFIX_BYTES + topicLen + replyLen + groupLen + headersBytes + payloadLen;
  if (bodyLen > limits.maxFrameBytes) throw tooLarge(bodyLen, limits.maxFrameBytes);

  w.ensure(bodyLen + LENGTH_PREFIX_BYTES);
  const b = w.bytes;
  const v = w.view;
  const o = w.length;
  v.setUint32(o, bodyLen);
  b[o + OFF_VERSION] = PROTOCOL_VERSION;
  b[o + OFF_KIND] = env.kind;
  b[o + OFF_FLAGS] = (env.payloadType & FLAG_PAYLOAD_MASK) | (headerCount > 0 ? FLAG_HEADERS : 0);
  b[o + OFF_RESERVED] = 0;
  v.setUint32(o + OFF_ID, env.id);
  v.setUint32(o + OFF_SID, env.sid);
  v.setUint32(o + OFF_SEQ, Math.floor(env.seq / TWO_32));
  v.setUint32(o + OFF_SEQ + 4, env.seq >>> 0);
  v.setUint32(o + OFF_TIMESTAMP, Math.floor(env.timestamp / TWO_32));
  v.setUint32(o + OFF_TIMESTAMP + 4, env.timestamp >>> 0);
  v.setUint16(o + OFF_TOPIC_LEN, topicLen);
  v.setUint16(o + OFF_REPLY_LEN, replyLen);
  b[o + OFF_GROUP_LEN] = groupLen;
  let p = o + FIXED_HEADER_BYTES;
  if (topicLen) p += writeUtf8(b, p, env.topic);
  if (replyLen) p += writeUtf8(b, p, env.replyTo);
  if (groupLen) p += writeUtf8(b, p, env.group);
  if (headerCount > 0 && headers !== undefined) {
    v.setUint16(p, headerCount);
    p += 2;
    for (const name in headers) {
      const value = headers[name] as string;
      const nl = writeUtf8(b, p + 2, name);
      v.setUint16(p, nl);
      p += 2 + nl;
      const vl = writeUtf8(b, p + 2, value);
      v.setUint16(p, vl);
      p += 2 + vl;
    }
  }
  if (payloadText === undefined) b.set(payload, p);
  else writeUtf8(b, p, payloadText);
  w.length = o + LENGTH_PREFIX_BYTES + bodyLen;
}

/** Encodes one envelope into a fresh frame (length prefix included). */
export function encodeFrame(env: Envelope, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Uint8Array {
  const w = new FrameWriter(256);
  encodeInto(w, env, limits);
  return w.bytes.slice(0, w.length);
}

/**
 * Decodes the frame whose length prefix starts at `start` and that ends at `end` (exclusive),
 * as located by a frame reader. Never throws anything but a ProtocolError.
 */
export function decodeFrameAt(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: FrameLimits = DEFAULT_FRAME_LIMITS,
  view: DataView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
): Envelope {
  const bodyLen = end - start - LENGTH_PREFIX_BYTES;
  if (bodyLen < MIN_BODY_BYTES) throw malformed(`body of ${bodyLen} bytes is shorter than the ${MIN_BODY_BYTES}-byte fixed header`);
  const version = buf[start + OFF_VERSION] as number;
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'CB_ERR_UNSUPPORTED_VERSION',
      `protocol version ${version} is not supported (this side speaks ${PROTOCOL_VERSION})`,
      {
        details: { version, supported: [PROTOCOL_VERSION] },
      },
    );
  }
  const kind = buf[start + OFF_KIND] as number;
  if (!isKind(kind)) throw new ProtocolError('CB_ERR_UNKNOWN_KIND', `unknown frame kind ${kind}`, { details: { kind } });
  const flags = buf[start + OFF_FLAGS] as number;
  if ((flags & FLAG_RESERVED_MASK) !== 0 || buf[start + OFF_RESERVED] !== 0) throw malformed('reserved bits are set');
  // Security blocks belong to SEALED records, which the record layer reads before anything
  // decodes their contents; a frame that reaches this decoder with one is refused, never forwarded.
  if (flags & FLAG_SECURITY)
    throw malformed(kind === Kind.SEALED ? 'a SEALED record where no secure session is open' : 'security block outside a SEALED record');
  const payloadType = (flags & FLAG_PAYLOAD_MASK) as PayloadType;
  if (payloadType > PayloadType.BYTES) throw malformed(`unknown payload type ${payloadType}`);

  const v = view;
  const id = v.getUint32(start + OFF_ID);
  const sid = v.getUint32(start + OFF_SID);
  const seqHi = v.getUint32(start + OFF_SEQ);
  const tsHi = v.getUint32(start + OFF_TIMESTAMP);
  if (seqHi > MAX_SAFE_HIGH_WORD || tsHi > MAX_SAFE_HIGH_WORD) throw malformed('seq or timestamp is not below 2^53');
  const seq = seqHi * TWO_32 + v.getUint32(start + OFF_SEQ + 4);
  const timestamp = tsHi * TWO_32 + v.getUint32(start + OFF_TIMESTAMP + 4);
  const topicLen = v.getUint16(start + OFF_TOPIC_LEN);
  const replyLen = v.getUint16(start + OFF_REPLY_LEN);
  const groupLen = buf[start + OFF_GROUP_LEN] as number;
  if (topicLen > limits.maxTopicLength || replyLen > limits.maxTopicLength) {
    throw new ProtocolError('CB_ERR_TOPIC_TOO_LONG', `topic is longer than ${limits.maxTopicLength} bytes`, {
      details: { length: Math.max(topicLen, replyLen), limit: limits.maxTopicLength },
    });
  }
  let p = start + FIXED_HEADER_BYTES;
  if (p + topicLen + replyLen + groupLen > end) throw malformed('string lengths run past the end of the frame');
  let topic: string, replyTo: string, group: string;
  try {
    topic = readUtf8(buf, p, (p += topicLen));
    replyTo = readUtf8(buf, p, (p += replyLen));
    group = readUtf8(buf, p, (p += groupLen));
  } catch (cause) {
    throw new ProtocolError('CB_ERR_FRAME_MALFORMED', 'malformed frame: invalid UTF-8 in topic, replyTo or group', { cause });
  }

  let headers: Headers | undefined;
  if (flags & FLAG_HEADERS) {
    if (p + 2 > end) throw malformed('header count runs past the end of the frame');
    const count = v.getUint16(p);
    p += 2;
    if (count === 0) throw malformed('headers flag set with zero headers');
    if (count > limits.maxHeaderCount) {
      throw new ProtocolError('CB_ERR_HEADERS_TOO_MANY', `${count} headers exceed the limit of ${limits.maxHeaderCount}`, {
        details: { count, limit: limits.maxHeaderCount },
      });
    }
    headers = Object.create(null) as Headers;
    let total = 0;
    for (let i = 0; i < count; i++) {
      if (p + 2 > end) throw malformed('header runs past the end of the frame');
      const nl = v.getUint16(p);
      p += 2;
      if (nl === 0) throw malformed('empty header name');
      if (p + nl + 2 > end) throw malformed('header runs past the end of the frame');
      const nameStart = p;
      p += nl;
      const vl = v.getUint16(p);
      p += 2;
      if (p + vl > end) throw malformed('header runs past the end of the frame');
      total += nl + vl;
      if (total > limits.maxHeaderBytes) {
        throw new ProtocolError('CB_ERR_HEADERS_TOO_LARGE', `headers exceed the limit of ${limits.maxHeaderBytes} bytes`, {
          details: { limit: limits.maxHeaderBytes },
        });
      }
      try {
        headers[readUtf8(buf, nameStart, nameStart + nl)] = readUtf8(buf, p, p + vl);
      } catch (cause) {
        throw new ProtocolError('CB_ERR_FRAME_MALFORMED', 'malformed frame: invalid UTF-8 in a header', { cause });
      }
      p += vl;
    }
  }

  if (payloadType === PayloadType.NONE && p !== end) throw malformed('payload bytes present with payload type NONE');
  return {
    kind,
    id,
    sid,
    seq,
    timestamp,
    topic,
    replyTo,
    group,
    headers,
    payloadType,
    payload: buf.subarray(p, end),
    payloadText: undefined,
  };
}

/** Decodes exactly one whole frame (length prefix included). */
export function decodeFrame(frame: Uint8Array, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Envelope {
  const envs: Envelope[] = [];
  readFrames(frame, limits, (env) => envs.push(env));
  if (envs.length !== 1) throw malformed(`expected one frame, found ${envs.length}`);
  return envs[0] as Envelope;
}

/** Reads the u32 length prefix at `p` and enforces the frame size limit on it. */
export function readLengthPrefix(buf: Uint8Array, p: number, limits: FrameLimits): number {
  const bodyLen =
    (buf[p] as number) * 0x1000000 + (((buf[p + 1] as number) << 16) | ((buf[p + 2] as number) << 8) | (buf[p + 3] as number));
  if (bodyLen > limits.maxFrameBytes) throw tooLarge(bodyLen, limits.maxFrameBytes);
  return bodyLen;
}

/**
 * Callback for each frame found in a chunk: the decoded envelope plus where the raw frame lies,
 * so a router can forward the exact bytes without re-encoding them.
 */
export type FrameHandler = (env: Envelope, chunk: Uint8Array, start: number, end: number) => void;

/**
 * Reads a chunk that holds whole frames back to back (message-oriented transports such as
 * WebSocket or postMessage). A chunk that ends inside a frame is CB_ERR_FRAME_TRUNCATED: on such
 * transports nothing more will arrive to complete it, so waiting would hang.
 * Frames before a bad one are delivered; the bad one throws.
 */
/** Where the frame starting at `p` ends; throws when the chunk does not hold all of it. */
function frameEnd(chunk: Uint8Array, p: number, limits: FrameLimits): number {
  const n = chunk.length;
  if (p + LENGTH_PREFIX_BYTES > n) {
    throw new ProtocolError('CB_ERR_FRAME_TRUNCATED', `chunk ends inside a length prefix (${n - p} of 4 bytes)`, {
      details: { have: n - p, need: LENGTH_PREFIX_BYTES },
    });
  }
  const bodyLen = readLengthPrefix(chunk, p, limits);
  const end = p + LENGTH_PREFIX_BYTES + bodyLen;
  if (end > n) {
    throw new ProtocolError('CB_ERR_FRAME_TRUNCATED', `frame declares ${bodyLen} bytes but only ${n - p - LENGTH_PREFIX_BYTES} arrived`, {
      details: { declared: bodyLen, have: n - p - LENGTH_PREFIX_BYTES },
    });
  }
  return end;
}

export function readFrames(chunk: Uint8Array, limits: FrameLimits, onFrame: FrameHandler): number {
  const n = chunk.length;
  let p = 0;
  let count = 0;
  // One view per chunk, not per frame: a chunk often holds hundreds of small frames.
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  while (p < n) {
    const end = frameEnd(chunk, p, limits);
    onFrame(decodeFrameAt(chunk, p, end, limits, view), chunk, p, end);
    count++;
    p = end;
  }
  return count;
}

/** Like readFrames, but only finds each frame's bounds (the security layer opens records itself). */
export function readFrameBoundaries(
  chunk: Uint8Array,
  limits: FrameLimits,
  onFrame: (buf: Uint8Array, start: number, end: number) => void,
): number {
  const n = chunk.length;
  let p = 0;
  let count = 0;
  while (p < n) {
    const end = frameEnd(chunk, p, limits);
    onFrame(chunk, p, end);
    count++;
    p = end;
  }
  return count;
}
