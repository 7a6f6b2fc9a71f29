import { CrossbusError, createError } from '../errors/index.js';
import { readFrameBoundaries } from '../protocol/codec.js';
import { Kind } from '../protocol/envelope.js';
import { OFF_KIND, RECORD_HEADROOM } from '../protocol/layout.js';
import type { FrameLimits } from '../limits.js';
import type { Transport, TransportHandlers } from '../transport/transport.js';
import { type Awaitable, isPromise } from './crypto.js';
import { SerialQueue } from './maybe.js';
import type { RecordOpener, RecordSealer } from './record.js';

/**
 * SEALED records that may arrive before the receiving side has its keys: a peer that has not
 * finished authenticating gets room for one maximal record, no more (a memory bound before auth).
 */
const MAX_EARLY_RECORDS = 8;
/**
 * Plaintext per record at most (unless one frame alone is bigger). Large writes become several
 * records, so a record never outgrows what the peer accepts and the peer's memory per record stays small.
 */
export const MAX_RECORD_PLAINTEXT = 64 * 1024;

/**
 * Wraps a transport with the record layer, STARTTLS style: frames pass through untouched during
 * the handshake; after `protectOutbound`/`protectInbound`, every write becomes one SEALED record
 * and every received record is verified and opened before anything above sees it. Once inbound
 * protection is on, a plaintext frame is an attack and ends the connection.
 *
 * Above it the broker and the client keep speaking plain frames: security is one layer, not a
 * concern scattered through routing.
 */
export class SecureTransport implements Transport {
  readonly kind: string;
  readonly framing = 'message' as const;
  readonly peer: string;
  private upper: TransportHandlers | undefined;
  private sealer: RecordSealer | undefined;
  private opener: RecordOpener | undefined;
  /** Limits for whole records: a frame of maxFrameBytes plus the record's overhead. */
  private recordLimits: FrameLimits;
  private readonly sendQueue = new SerialQueue();
  private readonly receiveQueue = new SerialQueue();
  private early: Uint8Array[] = [];
  private sealingBytes = 0;
  private failed = false;
  private closed = false;

  constructor(
    readonly inner: Transport,
    private limits: FrameLimits,
    /** Called once when a record fails (integrity, replay, skew) or a plaintext frame arrives too late. */
    private readonly onSecurityError: (error: CrossbusError) => void,
  ) {
    this.kind = inner.kind;
    this.peer = inner.peer;
    this.recordLimits = recordLimitsOf(limits);
    // A byte stream must be reframed first (see reframe()): records are read whole.
    if (inner.framing !== 'message')
      throw createError('CB_ERR_INVALID_OPTION', 'the record layer needs whole frames: wrap a stream transport with reframe() first');
  }

  /** Adopts the limits the peer announced (the client learns the hub's in WELCOME). */
  setLimits(limits: FrameLimits): void {
    this.limits = limits;
    this.recordLimits = recordLimitsOf(limits);
  }

  get protectedInbound(): boolean {
    return this.opener !== undefined;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.upper = handlers;
    this.inner.setHandlers({
      message: (chunk) => this.onChunk(chunk),
      close: (info) => {
        this.closed = true;
        handlers.close(info);
      },
      drain: () => handlers.drain?.(),
    });
  }

  /** From now on everything sent is sealed. */
  protectOutbound(sealer: RecordSealer): void {
    this.sealer = sealer;
  }

  /** From now on only SEALED records are accepted; records that came early are opened now. */
  protectInbound(opener: RecordOpener): void {
    this.opener = opener;
    const early = this.early;
    this.early = [];
    for (const rec of early) this.openRecord(rec, 0, rec.length);
  }

  send(chunk: Uint8Array, headroom = 0): void {
    const sealer = this.sealer;
    if (sealer === undefined) {
      this.inner.send(chunk);
      return;
    }
    if (this.closed) throw createError('CB_ERR_CONNECTION_CLOSED', 'connection is closed');
    const max = Math.min(MAX_RECORD_PLAINTEXT, this.limits.maxFrameBytes);
    if (chunk.length <= max) {
      this.sealAndSend(sealer, chunk, headroom);
      return;
    }
    // Cut at frame boundaries; a frame larger than `max` goes alone (it fits the peer's frame limit).
    // Only the first record has the caller's headroom before it; the others follow other frames.
    let start = 0;
    let p = 0;
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (p < chunk.length) {
      const end = p + 4 + view.getUint32(p);
      if (end - start > max && p > start) {
        this.sealAndSend(sealer, chunk.subarray(start, p), start === 0 ? headroom : 0);
        start = p;
      }
      p = end;
    }
    if (start < chunk.length) this.sealAndSend(sealer, chunk.subarray(start), start === 0 ? headroom : 0);
  }

  private sealAndSend(sealer: RecordSealer, plaintext: Uint8Array, headroom: number): void {
    const queue = this.sendQueue;
    if (queue.idle) {
      // Every delivery of a broadcast comes here: with synchronous crypto (Node) the record is
      // sealed and written at once, with no closure or promise per record.
      let record: Awaitable<Uint8Array>;
      try {
        record = sealer.seal(plaintext, headroom);
      } catch (err) {
        this.sealFailed(err);
        return;
      }
      if (!isPromise(record)) {
        if (!this.closed) this.inner.send(record);
        return;
      }
      const n = plaintext.length;
      this.sealingBytes += n;
      queue.follow(
        record,
        (r) => {
          this.sealingBytes -= n;
          if (!this.closed) this.inner.send(r);
        },
        (err) => {
          this.sealingBytes -= n;
          this.sealFailed(err);
        },
      );
      return;
    }
    this.sealingBytes += plaintext.length;
    this.sendQueue.run(
      () => sealer.seal(plaintext, headroom),
      (record) => {
        this.sealingBytes -= plaintext.length;
        if (!this.closed) this.inner.send(record);
      },
      (err) => {
        this.sealingBytes -= plaintext.length;
        this.sealFailed(err);
      },
    );
  }

  private sealFailed(err: unknown): void {
    this.fail(err instanceof CrossbusError ? err : createError('CB_ERR_INTERNAL', 'sealing a record failed', { cause: err }));
  }

  bufferedAmount(): number {
    return this.inner.bufferedAmount() + this.sealingBytes;
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }

  private onChunk(chunk: Uint8Array): void {
    if (this.failed) return;
    try {
      readFrameBoundaries(chunk, this.recordLimits, (buf, start, end) => this.onFrame(buf, start, end));
    } catch (err) {
      // Framing errors are the upper layer's to report: hand it the raw bytes, as without security.
      // Once protected, a record whose length is wrong was tampered with (or cut): an integrity failure.
      if (this.opener === undefined) this.upper?.message(chunk);
      else
        this.fail(
          createError('CB_ERR_INTEGRITY', 'a record is not framed correctly', {
            cause: err,
            details: { framing: err instanceof CrossbusError ? err.code : 'unknown' },
          }),
        );
    }
  }

  private onFrame(buf: Uint8Array, start: number, end: number): void {
    if (this.failed) return;
    if (buf[start + OFF_KIND] === Kind.SEALED) {
      if (this.opener === undefined) {
        const held = this.early.reduce((n, r) => n + r.length, 0);
        if (this.early.length >= MAX_EARLY_RECORDS || held + (end - start) > this.recordLimits.maxFrameBytes + 4) {
          return this.fail(createError('CB_ERR_PROTOCOL', 'too many records before the handshake finished'));
        }
        this.early.push(buf.slice(start, end));
        return;
      }
      this.openRecord(buf, start, end);
      return;
    }
    if (this.opener !== undefined) {
      // Until the peer's first record, its refusal of our last handshake step comes in clear.
      if (this.opener.opened === 0 && this.receiveQueue.pending === 0 && buf[start + OFF_KIND] === Kind.ERROR) {
        this.upper?.message(buf.subarray(start, end));
        return;
      }
      return this.fail(
        createError('CB_ERR_INTEGRITY', 'unprotected frame on a protected connection', { details: { kind: buf[start + OFF_KIND] } }),
      );
    }
    this.upper?.message(buf.subarray(start, end));
  }

  private openRecord(buf: Uint8Array, start: number, end: number): void {
    const opener = this.opener as RecordOpener;
    const queue = this.receiveQueue;
    if (queue.idle) {
      // Every record received comes here: with synchronous crypto (Node) it is opened and handed
      // up at once, with no closure or promise per record.
      let plain: Awaitable<Uint8Array>;
      try {
        plain = opener.open(buf, start, end);
      } catch (err) {
        this.openFailed(err);
        return;
      }
      if (!isPromise(plain)) {
        if (!this.failed) this.upper?.message(plain);
        return;
      }
      queue.follow(
        plain,
        (p) => {
          if (!this.failed) this.upper?.message(p);
        },
        (err) => this.openFailed(err),
      );
      return;
    }
    // With async crypto the bytes must outlive this call: the transport may reuse its buffer.
    const bytes = this.receiveQueue.pending > 0 ? buf.slice(start, end) : buf;
    const s = bytes === buf ? start : 0;
    const e = bytes === buf ? end : end - start;
    this.receiveQueue.run(
      () => opener.open(bytes, s, e),
      (plain) => {
        if (!this.failed) this.upper?.message(plain);
      },
      (err) => this.openFailed(err),
    );
  }

  private openFailed(err: unknown): void {
    this.fail(err instanceof CrossbusError ? err : createError('CB_ERR_INTEGRITY', 'record could not be opened', { cause: err }));
  }

  private fail(error: CrossbusError): void {
    if (this.failed) return;
    this.failed = true;
    this.onSecurityError(error);
  }
}

function recordLimitsOf(limits: FrameLimits): FrameLimits {
  return { ...limits, maxFrameBytes: limits.maxFrameBytes + 4 + RECORD_HEADROOM };
}
