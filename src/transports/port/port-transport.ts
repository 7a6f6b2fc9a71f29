/**
 * A transport over anything that speaks postMessage and message events: a MessagePort (the
 * private channel a window, iframe or popup gets after the handshake; a SharedWorker's port), a
 * dedicated Worker and its global scope, and Node's worker_threads ports and workers. Frames
 * travel as transferred ArrayBuffers (no copy when the chunk owns its buffer); the only other
 * message is a small close notice, so both ends learn the code and reason. Runtime-neutral.
 */
import { ConnectionError } from '../../core/errors/index.js';
import { closeNotice, isCloseNotice } from '../../core/transport/close-notice.js';
import { PostedBytes } from '../../core/transport/posted-bytes.js';
import {
  CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, type Transport, type TransportCloseInfo, type TransportHandlers,
} from '../../core/transport/transport.js';

// The close notice (`{ crossbus: 'close', code, reason }`) is the only message that is not bytes;
// anything else is a protocol error.
export { CLOSE_NOTICE } from '../../core/transport/close-notice.js';

type Listener = (data: unknown) => void;

/** Chunks up to this size are cloned rather than transferred: a transfer costs more than a small copy. */
const CLONE_BELOW_BYTES = 4096;

/** What the transport needs from a port, worker or worker scope (browser or Node). */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Browser style: events carry `data`. */
  addEventListener?(type: string, listener: (ev: { data?: unknown }) => void): void;
  removeEventListener?(type: string, listener: (ev: { data?: unknown }) => void): void;
  /** Node style (worker_threads): the listener gets the data itself. */
  on?(type: string, listener: Listener): unknown;
  off?(type: string, listener: Listener): unknown;
  start?(): void;
  close?(): void;
}

export interface PortTransportInfo {
  /** @default 'port' */
  kind?: string;
  /** @default 'port' */
  peer?: string;
  /** The peer's origin as the runtime reported it (logs, allow-lists). @default none */
  origin?: string;
  /** The peer's origin when the runtime guarantees it (see Transport.vouchedOrigin). @default none */
  vouchedOrigin?: string;
  /** Close the port itself on close (false for a worker scope, which cannot be closed). @default true */
  closePort?: boolean;
}


class PortTransport implements Transport {
  readonly kind: string;
  readonly framing = 'message' as const;
  readonly peer: string;
  readonly origin: string | undefined;
  readonly vouchedOrigin: string | undefined;
  private handlers: TransportHandlers | undefined;
  private early: unknown[] = [];
  private closed = false;
  private readonly posted = new PostedBytes(() => {
    if (!this.closed) this.handlers?.drain?.();
  });
  private pendingClose: TransportCloseInfo | undefined;
  private readonly detach: () => void;

  constructor(private readonly port: PortLike, private readonly info: PortTransportInfo) {
    this.kind = info.kind ?? 'port';
    this.peer = info.peer ?? 'port';
    this.origin = info.origin;
    this.vouchedOrigin = info.vouchedOrigin;
    const onData: Listener = (data) => this.receive(data);
    const onEvent = (ev: { data?: unknown }): void => this.receive(ev.data);
    const onGone = (): void => this.finish({ local: false, code: CLOSE_GOING_AWAY, reason: 'the other end of the port closed' });
    if (typeof port.addEventListener === 'function') {
      port.addEventListener('message', onEvent);
      port.addEventListener('close', onGone);
      this.detach = () => {
        port.removeEventListener?.('message', onEvent);
        port.removeEventListener?.('close', onGone);
      };
    } else if (typeof port.on === 'function') {
      port.on('message', onData);
      port.on('close', onGone);
      port.on('exit', onGone);
      this.detach = () => {
        port.off?.('message', onData);
        port.off?.('close', onGone);
        port.off?.('exit', onGone);
      };
    } else {
      throw new TypeError('a port needs addEventListener or on');
    }
    port.start?.();
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const queued = this.early;
    this.early = [];
    for (const d of queued) this.receive(d);
    if (this.pendingClose !== undefined) handlers.close(this.pendingClose);
  }

  send(chunk: Uint8Array): void {
    if (this.closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', `${this.kind} transport is closed`);
    // A clone copies a view's whole buffer, and a transfer takes it from its owner: unless the
    // chunk is all of its buffer, post a copy of just its bytes.
    const n = chunk.byteLength; // read first: a transfer detaches the chunk
    const owned = chunk.byteOffset === 0 && n === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    if (n <= CLONE_BELOW_BYTES) this.port.postMessage(owned ? chunk : chunk.slice());
    else {
      const buf = owned ? (chunk.buffer as ArrayBuffer) : chunk.slice().buffer;
      this.port.postMessage(buf, [buf]);
    }
    // postMessage never blocks; count the bytes until the event loop turns, so writers still yield.
    this.posted.add(n);
  }

  bufferedAmount(): number {
    return this.posted.amount;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.closed) return;
    try {
      this.port.postMessage(closeNotice(code, reason));
    } catch {
      /* the other end is gone already */
    }
    this.finish({ local: true, code, reason });
  }

  private receive(data: unknown): void {
    if (this.closed) return;
    if (this.handlers === undefined) {
      this.early.push(data);
      return;
    }
    if (data instanceof ArrayBuffer) this.handlers.message(new Uint8Array(data));
    else if (data instanceof Uint8Array) this.handlers.message(data);
    else if (isCloseNotice(data)) this.finish({ local: false, code: data.code, reason: data.reason });
    else {
      // A private channel carrying something that is neither a frame nor a close notice: the peer is broken or hostile.
      this.close(CLOSE_PROTOCOL_ERROR, 'CB_ERR_PROTOCOL');
    }
  }

  private finish(info: TransportCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    if (this.info.closePort !== false) {
      try {
        this.port.close?.();
      } catch {
        /* already closed */
      }
    }
    // Frames that arrived before the close notice were delivered in order above.
    if (this.handlers !== undefined) this.handlers.close(info);
    else this.pendingClose = info;
  }
}

/** A Transport over a port, worker or worker scope. */
export function createPortTransport(port: PortLike, info: PortTransportInfo = {}): Transport {
  return new PortTransport(port, info);
}
