import { ProtocolError } from '../errors/index.js';
import type { FrameLimits } from '../limits.js';
import { readFrameBoundaries, readFrames, readLengthPrefix, type FrameHandler } from './codec.js';
import { LENGTH_PREFIX_BYTES } from './layout.js';

/**
 * Reassembles frames from a byte stream (TCP, Unix sockets, shared-memory rings) where chunk
 * boundaries mean nothing. An oversize length prefix is rejected as soon as its 4 bytes arrive,
 * so a peer cannot make us buffer more than one frame's limit. A partial frame that never
 * completes is the transport's idle timeout to handle; the reader itself never blocks.
 */
export class StreamFrameReader {
  private pending: Uint8Array | undefined;

  constructor(private readonly limits: FrameLimits) {}

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  push(chunk: Uint8Array, onFrame: FrameHandler): void {
    this.collect(chunk, (whole) => readFrames(whole, this.limits, onFrame));
  }

  /** Like push, but hands over each whole frame's bounds without decoding it. */
  pushRaw(chunk: Uint8Array, onFrame: (buf: Uint8Array, start: number, end: number) => void): void {
    this.collect(chunk, (whole) => readFrameBoundaries(whole, this.limits, onFrame));
  }

  private collect(chunk: Uint8Array, onWhole: (whole: Uint8Array) => void): void {
    let data = chunk;
    if (this.pending !== undefined) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending);
      joined.set(chunk, this.pending.length);
      data = joined;
      this.pending = undefined;
    }
    // Find the end of the last whole frame, checking each prefix against the limit.
    let p = 0;
    while (p + LENGTH_PREFIX_BYTES <= data.length) {
      const bodyLen = readLengthPrefix(data, p, this.limits);
      const end = p + LENGTH_PREFIX_BYTES + bodyLen;
      if (end > data.length) break;
      p = end;
    }
    if (p > 0) onWhole(p === data.length ? data : data.subarray(0, p));
    // Copy the remainder so we do not pin the caller's (possibly large, reused) chunk.
    if (p < data.length) this.pending = data.slice(p);
  }

  /** Call at end of stream: leftover bytes mean the peer stopped mid-frame. */
  end(): void {
    if (this.pending !== undefined && this.pending.length > 0) {
      const have = this.pending.length;
      this.pending = undefined;
      throw new ProtocolError('CB_ERR_FRAME_TRUNCATED', `stream ended inside a frame (${have} bytes pending)`, { details: { have } });
    }
  }
}
