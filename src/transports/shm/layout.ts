/**
 * Where everything lives in the SharedArrayBuffer two ends of a shared-memory connection share:
 * a header of 32-bit words (Atomics need an Int32Array), then one byte ring per direction.
 * Ring 0 carries side 0 (the connecting side) to side 1 (the accepting side); ring 1 the other
 * way. Words one side writes often (a ring's head, its tail) sit on different cache lines, so
 * that the two threads do not slow each other down by writing next to each other.
 */
import { createError } from '../../core/errors/index.js';

/** 'CBSH': tells a crossbus shared-memory buffer from any other SharedArrayBuffer. */
export const SHM_MAGIC = 0x43425348;
/** Bumped whenever this layout changes, so that two builds that disagree refuse each other. */
export const SHM_VERSION = 1;

export const W_MAGIC = 0;
export const W_VERSION = 1;
export const W_CAPACITY = 2;

/** Per side (0, 1): what that side writes about itself. */
const SIDE_BASE = 16;
const SIDE_WORDS = 48;
/** A counter the side bumps while it is alive (see ShmTransportOptions.livenessMs). */
export const S_BEAT = 0;
/** The close code the side sent, once its ring is closed. */
export const S_CLOSE_CODE = 1;
/** How many bytes of UTF-8 close reason follow at S_REASON. */
export const S_REASON_LEN = 2;
export const S_REASON = 4;
/** Room for a close reason, as in a WebSocket close frame. */
export const MAX_REASON_BYTES = 123;

/** Per ring (0, 1). */
const RING_BASE = SIDE_BASE + 2 * SIDE_WORDS;
const RING_WORDS = 32;
/** Bytes ever written (wraps at 2^32); only the writer stores it. */
export const R_HEAD = 0;
/** 1 while the reader sleeps on R_HEAD, 2 while it waits for a wake-up message on the port instead. */
export const R_READER_WAITING = 1;
/** Set by the writer once it will write no more (its close code and reason are in its side's words). */
export const R_CLOSED = 2;
/** Bytes ever read (wraps at 2^32); only the reader stores it. */
export const R_TAIL = 16;
/** 1 while the writer sleeps on R_TAIL waiting for room. */
export const R_WRITER_WAITING = 17;

export const HEADER_WORDS = RING_BASE + 2 * RING_WORDS;
export const HEADER_BYTES = HEADER_WORDS * 4;

/** The smallest and largest ring: a power of two, so that a position is a mask away from an index. */
export const MIN_RING_BYTES = 1024;
export const MAX_RING_BYTES = 1 << 30;

export function sideWord(side: 0 | 1, word: number): number {
  return SIDE_BASE + side * SIDE_WORDS + word;
}

export function ringWord(ring: 0 | 1, word: number): number {
  return RING_BASE + ring * RING_WORDS + word;
}

export function ringDataOffset(ring: 0 | 1, capacity: number): number {
  return HEADER_BYTES + ring * capacity;
}

/** A new buffer for one connection, with rings of `ringBytes` each (a power of two). */
export function createShmBuffer(ringBytes: number): SharedArrayBuffer {
  if (typeof SharedArrayBuffer !== 'function') {
    throw createError(
      'CB_ERR_CONNECTION_FAILED',
      'this runtime has no SharedArrayBuffer (a browser needs cross-origin isolation: COOP same-origin and COEP require-corp)',
    );
  }
  if (!Number.isInteger(ringBytes) || ringBytes < MIN_RING_BYTES || ringBytes > MAX_RING_BYTES || (ringBytes & (ringBytes - 1)) !== 0) {
    throw createError('CB_ERR_INVALID_OPTION', `ringBytes must be a power of two from ${MIN_RING_BYTES} to ${MAX_RING_BYTES}`, {
      details: { ringBytes },
    });
  }
  const sab = new SharedArrayBuffer(HEADER_BYTES + 2 * ringBytes);
  const words = new Int32Array(sab, 0, HEADER_WORDS);
  words[W_VERSION] = SHM_VERSION;
  words[W_CAPACITY] = ringBytes;
  Atomics.store(words, W_MAGIC, SHM_MAGIC);
  return sab;
}

/** The ring capacity of a buffer handed over by a peer, after checking it is one of ours. */
export function checkShmBuffer(sab: unknown): number {
  if (typeof SharedArrayBuffer !== 'function' || !(sab instanceof SharedArrayBuffer) || sab.byteLength < HEADER_BYTES) {
    throw createError('CB_ERR_PROTOCOL', 'not a crossbus shared-memory buffer');
  }
  const words = new Int32Array(sab, 0, HEADER_WORDS);
  const capacity = words[W_CAPACITY] as number;
  if (Atomics.load(words, W_MAGIC) !== SHM_MAGIC || words[W_VERSION] !== SHM_VERSION) {
    throw createError('CB_ERR_PROTOCOL', 'not a crossbus shared-memory buffer of this version', {
      details: { version: words[W_VERSION] },
    });
  }
  if (
    capacity < MIN_RING_BYTES ||
    capacity > MAX_RING_BYTES ||
    (capacity & (capacity - 1)) !== 0 ||
    sab.byteLength !== HEADER_BYTES + 2 * capacity
  ) {
    throw createError('CB_ERR_PROTOCOL', 'a crossbus shared-memory buffer with a wrong size', { details: { capacity } });
  }
  return capacity;
}

/** Writes `side`'s close code and reason (cut to MAX_REASON_BYTES, never inside a character). */
export function writeCloseNotice(words: Int32Array, side: 0 | 1, code: number, reason: string): void {
  const bytes = new TextEncoder().encode(reason);
  let n = Math.min(bytes.length, MAX_REASON_BYTES);
  while (n > 0 && n < bytes.length && ((bytes[n] as number) & 0xc0) === 0x80) n--;
  new Uint8Array(words.buffer, sideWord(side, S_REASON) * 4, MAX_REASON_BYTES).set(bytes.subarray(0, n));
  Atomics.store(words, sideWord(side, S_REASON_LEN), n);
  Atomics.store(words, sideWord(side, S_CLOSE_CODE), code);
}

/** The close code (0 when none was written) and reason `side` wrote. */
export function readCloseNotice(words: Int32Array, side: 0 | 1): { code: number; reason: string } {
  const code = Atomics.load(words, sideWord(side, S_CLOSE_CODE));
  const n = Math.min(Atomics.load(words, sideWord(side, S_REASON_LEN)), MAX_REASON_BYTES);
  // Decoded from a copy: TextDecoder refuses views of shared memory.
  const reason = new TextDecoder().decode(new Uint8Array(words.buffer, sideWord(side, S_REASON) * 4, n).slice());
  return { code, reason };
}
