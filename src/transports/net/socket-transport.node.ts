import type { Socket } from 'node:net';
import { ConnectionError } from '../../core/errors/index.js';
import { CLOSE_NORMAL, type Transport, type TransportCloseInfo, type TransportHandlers } from '../../core/transport/transport.js';
import { DEFAULT_SOCKET_CLOSE_GRACE_MS } from './defaults.js';

/** Which kind of socket a SocketTransport wraps: the scheme of its URL. */
export type SocketKind = 'tcp' | 'unix' | 'tls';

/** Close code of a socket that failed (WebSocket's "abnormal closure"): sockets have no codes of their own. */
const CLOSE_ABNORMAL = 1006;

/**
 * One TCP, Unix-domain or TLS socket as a byte-stream `Transport` (`framing: 'stream'`): the
 * client and the broker reframe it, and the handshake and records run on top unchanged. Writes go
 * straight to the socket; `bufferedAmount` is what the socket still holds, and `drain` fires when
 * a write leaves it empty. A socket carries no close code: the peer sees 1000 (ended) or 1006
 * (failed); the hub says why in an ERROR frame before it closes.
 */
export class SocketTransport implements Transport {
  readonly framing = 'stream' as const;
  /** A TLS client certificate the hub verified (`sha256/<hex>`), for the hub's identity mapping. */
  readonly peerCertificate: string | undefined;
  #handlers: TransportHandlers | undefined;
  /** Chunks that arrived before setHandlers (a refusal the hub sends at once must not be lost). */
  #early: Uint8Array[] = [];
  #closed = false;
  /** A close that came before setHandlers, reported there after the early chunks. */
  #earlyClose: TransportCloseInfo | undefined;
  #error: unknown;

  constructor(
    readonly kind: SocketKind,
    private readonly socket: Socket,
    readonly peer: string,
    peerCertificate?: string,
  ) {
    this.peerCertificate = peerCertificate;
    socket.on('data', (data: Buffer) => {
      // A plain view, not the Buffer: the decoder cuts frames out of it, and Buffer.subarray is slower.
      const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const h = this.#handlers;
      if (h !== undefined) h.message(chunk);
      else this.#early.push(chunk);
    });
    socket.on('error', (error: Error) => {
      this.#error = error;
    });
    socket.on('close', () => {
      const error = this.#error;
      this.#finish(
        error === undefined
          ? { local: false, code: CLOSE_NORMAL, reason: '' }
          : { local: false, code: CLOSE_ABNORMAL, reason: (error as Error).message, error },
      );
    });
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    if (early.length > 0) {
      this.#early = [];
      for (const chunk of early) handlers.message(chunk);
    }
    const closed = this.#earlyClose;
    if (closed !== undefined) {
      this.#earlyClose = undefined;
      this.#handlers = undefined;
      handlers.close(closed);
    }
  }

  send(chunk: Uint8Array): void {
    if (this.#closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', `${this.kind} socket is closed`);
    this.socket.write(chunk, this.#written);
  }

  /** One long-lived write callback (no closure per write): the buffer emptied, say so. */
  readonly #written = (): void => {
    if (this.socket.writableLength === 0) this.#handlers?.drain?.();
  };

  bufferedAmount(): number {
    return this.socket.writableLength;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.#closed) return;
    // What is queued goes out first (a refusal's ERROR frame); a peer that never reads is cut off.
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), DEFAULT_SOCKET_CLOSE_GRACE_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
    this.#finish({ local: true, code, reason });
  }

  #finish(info: TransportCloseInfo): void {
    if (this.#closed) return;
    this.#closed = true;
    const h = this.#handlers;
    if (h === undefined) {
      if (!info.local) this.#earlyClose = info;
      return;
    }
    this.#handlers = undefined;
    h.close(info);
  }
}

/** Sets what every crossbus socket wants: no Nagle delay (frames are batched above), OS keepalive. */
export function tuneSocket(socket: Socket, keepAliveMs: number): void {
  socket.setNoDelay(true);
  if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
}
