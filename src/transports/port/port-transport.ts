/**
 * A transport over anything that speaks postMessage and message events: a MessagePort (the
 * private channel a window, iframe or popup gets after the handshake; a SharedWorker's port), a
 * dedicated Worker and its global scope, and Node's worker_threads ports and workers. Frames
 * travel as transferred ArrayBuffers (no copy when the chunk owns its buffer); the only other
 * message is a small close notice, so both ends learn the code and reason. Runtime-neutral.
 */
import { ConnectionError } from '../../core/errors/index.js';
import { PostedMessageTransport } from '../../core/transport/posted-message-transport.js';
import { CLOSE_GOING_AWAY, type Transport } from '../../core/transport/transport.js';

// The close notice (`{ crossbus: 'close', code, reason }`) is the only message that is not bytes;
// anything else is a protocol error.
export { CLOSE_NOTICE } from '../../core/transport/close-notice.js';

type Listener = (data: unknown) => void;

/** Chunks up to this size are cloned rather than transferred: a transfer costs more than a small copy. */
const CLONE_BELOW_BYTES = 4096;

/** What the transport needs from a port, worker or worker scope (browser or Node). */
export interface PortLike {
  /** `transfer`: what to transfer (ArrayBuffers, a MessagePort), typed loosely so that the declarations need no DOM library. */
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
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

class PortTransport extends PostedMessageTransport {
  readonly kind: string;
  readonly peer: string;
  readonly origin: string | undefined;
  readonly vouchedOrigin: string | undefined;
  readonly #unlisten: () => void;

  constructor(
    private readonly port: PortLike,
    private readonly info: PortTransportInfo,
  ) {
    super();
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
      this.#unlisten = () => {
        port.removeEventListener?.('message', onEvent);
        port.removeEventListener?.('close', onGone);
      };
    } else if (typeof port.on === 'function') {
      port.on('message', onData);
      port.on('close', onGone);
      port.on('exit', onGone);
      this.#unlisten = () => {
        port.off?.('message', onData);
        port.off?.('close', onGone);
        port.off?.('exit', onGone);
      };
    } else {
      throw new TypeError('a port needs addEventListener or on');
    }
    port.start?.();
  }

  send(chunk: Uint8Array): void {
    if (this.closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', `${this.kind} transport is closed`);
    const n = chunk.byteLength; // read first: a transfer detaches the chunk
    // A clone copies a view's whole buffer, and a transfer takes it from its owner: unless the
    // chunk is all of its buffer, post a copy of just its bytes.
    const owned = chunk.byteOffset === 0 && n === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    if (n <= CLONE_BELOW_BYTES) this.port.postMessage(owned ? chunk : chunk.slice());
    else {
      const buf = owned ? (chunk.buffer as ArrayBuffer) : chunk.slice().buffer;
      this.port.postMessage(buf, [buf]);
    }
    this.sent(n);
  }

  protected post(message: unknown): void {
    this.port.postMessage(message);
  }

  protected frameOf(data: unknown): Uint8Array | undefined {
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    return data instanceof Uint8Array ? data : undefined;
  }

  protected detach(): void {
    this.#unlisten();
    if (this.info.closePort !== false) {
      try {
        this.port.close?.();
      } catch {
        /* already closed */
      }
    }
  }

  protected release(): void {
    /* detach closed the port */
  }
}

/** A Transport over a port, worker or worker scope. */
export function createPortTransport(port: PortLike, info: PortTransportInfo = {}): Transport {
  return new PortTransport(port, info);
}
