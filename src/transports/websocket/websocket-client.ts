import { ConnectionError } from '../../core/errors/index.js';
import {
  CLOSE_NORMAL,
  type Transport,
  type TransportCloseInfo,
  type TransportConnector,
  type TransportHandlers,
} from '../../core/transport/transport.js';

/**
 * The subset of the WHATWG WebSocket API we use; browsers' WebSocket and the `ws` package both
 * provide it. Runs unchanged in Node, browsers, workers and extension service workers.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;
/** How often bufferedAmount is polled to detect drain where send has no callback (browsers). */
const DRAIN_POLL_MS = 2;

class WebSocketClientTransport implements Transport {
  readonly kind = 'websocket';
  readonly framing = 'message' as const;
  private handlers: TransportHandlers | undefined;
  private closed = false;
  /**
   * What arrived before setHandlers: a hub that refuses a connection (full, busy) says why and
   * closes at once, often in the same read as the upgrade's answer, before the caller has had a
   * chance to install its handlers. Kept and replayed so that the caller learns the real reason.
   */
  private early: Uint8Array[] | undefined = [];
  private earlyClose: TransportCloseInfo | undefined;
  /** Bytes passed to send() whose write callback has not fired (Node `ws`). */
  private outstanding = 0;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ws: WebSocketLike,
    readonly peer: string,
    private readonly sendCallbacks: boolean,
  ) {
    ws.onmessage = (ev) => {
      const d = ev.data;
      // A plain view even of a Node Buffer (Buffer.subarray, used for every decoded frame, is slower).
      const chunk =
        d instanceof Uint8Array
          ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
          : d instanceof ArrayBuffer
            ? new Uint8Array(d)
            : undefined;
      if (chunk === undefined) {
        // Text frames are not part of the protocol.
        this.close(1003, 'CB_ERR_FRAME_MALFORMED');
        return;
      }
      if (this.early !== undefined) this.early.push(chunk);
      else this.handlers?.message(chunk);
    };
    ws.onclose = (ev) => this.finish({ local: false, code: ev.code, reason: ev.reason });
    ws.onerror = (err) => this.finish({ local: false, code: 1006, reason: 'transport error', error: err });
  }

  setHandlers(handlers: TransportHandlers): void {
    const early = this.early ?? [];
    const closeInfo = this.earlyClose;
    this.early = this.earlyClose = undefined;
    if (closeInfo === undefined) this.handlers = handlers;
    for (const chunk of early) handlers.message(chunk);
    if (closeInfo !== undefined) handlers.close(closeInfo);
  }

  send(chunk: Uint8Array): void {
    if (this.closed || this.ws.readyState !== OPEN) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'WebSocket is not open');
    if (this.sendCallbacks) {
      const n = chunk.length;
      this.outstanding += n;
      this.ws.send(chunk, () => {
        this.outstanding -= n;
        if (this.outstanding === 0) this.handlers?.drain?.();
      });
    } else {
      this.ws.send(chunk);
      this.pollDrain();
    }
  }

  private pollDrain(): void {
    if (this.pollTimer !== undefined) return;
    const check = (): void => {
      this.pollTimer = undefined;
      if (this.closed) return;
      if (this.ws.bufferedAmount === 0) this.handlers?.drain?.();
      else this.pollTimer = setTimeout(check, DRAIN_POLL_MS);
    };
    this.pollTimer = setTimeout(check, DRAIN_POLL_MS);
  }

  bufferedAmount(): number {
    return this.sendCallbacks ? this.outstanding : this.ws.bufferedAmount;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.closed) return;
    try {
      this.ws.close(code >= 3000 || code === CLOSE_NORMAL ? code : CLOSE_NORMAL, reason);
    } catch {
      /* already closing */
    }
    this.finish({ local: true, code, reason });
  }

  private finish(info: TransportCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    if (this.early !== undefined) {
      this.earlyClose = info;
      return;
    }
    const h = this.handlers;
    this.handlers = undefined;
    h?.close(info);
  }
}

export interface WebSocketConnectorOptions {
  /** The WebSocket constructor. @default globalThis.WebSocket */
  WebSocket?: new (
    url: string,
  ) => WebSocketLike;
  /** True when `send(data, cb)` calls back once written (the `ws` package). @default false */
  sendCallbacks?: boolean;
  /** 'nodebuffer' avoids a copy with `ws`; browsers need 'arraybuffer'. @default 'arraybuffer' */
  binaryType?: string;
}

/** Opens a WebSocket to `url` and resolves once it is open. */
export function webSocketConnector(url: string, options: WebSocketConnectorOptions = {}): TransportConnector {
  return (signal) =>
    new Promise<Transport>((resolve, reject) => {
      const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
      if (Ctor === undefined) {
        reject(new ConnectionError('CB_ERR_TRANSPORT', 'no WebSocket implementation: pass options.WebSocket'));
        return;
      }
      let ws: WebSocketLike;
      try {
        ws = new Ctor(url);
      } catch (cause) {
        reject(new ConnectionError('CB_ERR_CONNECTION_FAILED', `cannot open ${url}`, { cause }));
        return;
      }
      ws.binaryType = options.binaryType ?? 'arraybuffer';
      const onAbort = (): void => {
        try {
          ws.close();
        } catch {
          /* ignore */
        }
        reject(new ConnectionError('CB_ERR_TIMEOUT', `connecting to ${url} was aborted`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(new WebSocketClientTransport(ws, url, options.sendCallbacks ?? false));
      };
      ws.onerror = (ev) => {
        signal?.removeEventListener('abort', onAbort);
        const message = (ev as { message?: string }).message;
        reject(new ConnectionError('CB_ERR_CONNECTION_FAILED', `cannot connect to ${url}${message ? `: ${message}` : ''}`, { cause: ev }));
      };
      ws.onclose = (ev) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new ConnectionError('CB_ERR_CONNECTION_FAILED', `connection to ${url} closed during open (code ${ev.code})`));
      };
    });
}
