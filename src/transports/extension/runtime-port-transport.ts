/**
 * A transport over a Chrome extension port (`chrome.runtime.Port`). Chrome serializes extension
 * messages as JSON, so frames travel as base64 strings, one batch per message: `{ f: '<base64>' }`.
 * A close notice carries the code and reason; a port Chrome disconnects (the service worker was
 * stopped, the tab closed) closes the transport at once with CLOSE_GOING_AWAY.
 */
import { ConnectionError } from '../../core/errors/index.js';
import { fromBase64, toBase64 } from '../../core/security/bytes.js';
import { CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, type Transport, type TransportCloseInfo, type TransportHandlers } from '../../core/transport/transport.js';
import type { RuntimePort } from './chrome-types.js';
import { closeNotice, isCloseNotice } from '../../core/transport/close-notice.js';
import { PostedBytes } from '../../core/transport/posted-bytes.js';

export interface RuntimePortInfo {
  peer?: string;
  origin?: string;
  vouchedOrigin?: string;
}

interface FrameMessage { f: string }

function isFrame(d: unknown): d is FrameMessage {
  return typeof d === 'object' && d !== null && typeof (d as FrameMessage).f === 'string' && Object.keys(d).length === 1;
}

class RuntimePortTransport implements Transport {
  readonly kind = 'extension';
  readonly framing = 'message' as const;
  readonly peer: string;
  readonly origin: string | undefined;
  readonly vouchedOrigin: string | undefined;
  private handlers: TransportHandlers | undefined;
  private early: unknown[] = [];
  private pendingClose: TransportCloseInfo | undefined;
  private closed = false;
  private readonly posted = new PostedBytes(() => {
    if (!this.closed) this.handlers?.drain?.();
  });

  constructor(private readonly port: RuntimePort, info: RuntimePortInfo) {
    this.peer = info.peer ?? `extension port ${port.name}`;
    this.origin = info.origin;
    this.vouchedOrigin = info.vouchedOrigin;
    port.onMessage.addListener(this.onMessage);
    port.onDisconnect.addListener(this.onDisconnect);
  }

  private readonly onMessage = (data: unknown): void => this.receive(data);

  private readonly onDisconnect = (): void => {
    this.finish({ local: false, code: CLOSE_GOING_AWAY, reason: 'the extension port disconnected' });
  };

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const queued = this.early;
    this.early = [];
    for (const d of queued) this.receive(d);
    if (this.pendingClose !== undefined) handlers.close(this.pendingClose);
  }

  send(chunk: Uint8Array): void {
    if (this.closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'extension transport is closed');
    try {
      this.port.postMessage({ f: toBase64(chunk) } satisfies FrameMessage);
    } catch (err) {
      this.finish({ local: false, code: CLOSE_GOING_AWAY, reason: 'the extension port is gone', error: err });
      return;
    }
    // postMessage never blocks; count the bytes until the event loop turns, so writers still yield.
    this.posted.add(chunk.byteLength);
  }

  bufferedAmount(): number {
    return this.posted.amount;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.closed) return;
    try {
      this.port.postMessage(closeNotice(code, reason));
    } catch {
      /* gone */
    }
    this.finish({ local: true, code, reason });
    try {
      this.port.disconnect();
    } catch {
      /* gone */
    }
  }

  private receive(data: unknown): void {
    if (this.closed) return;
    if (this.handlers === undefined) {
      this.early.push(data);
      return;
    }
    if (isFrame(data)) {
      const bytes = fromBase64(data.f);
      if (bytes !== undefined) {
        this.handlers.message(bytes);
        return;
      }
    } else if (isCloseNotice(data)) {
      this.finish({ local: false, code: data.code, reason: data.reason });
      return;
    }
    this.close(CLOSE_PROTOCOL_ERROR, 'CB_ERR_PROTOCOL');
  }

  private finish(info: TransportCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.port.onMessage.removeListener(this.onMessage);
    this.port.onDisconnect.removeListener(this.onDisconnect);
    if (this.handlers !== undefined) this.handlers.close(info);
    else this.pendingClose = info;
  }
}

export function createRuntimePortTransport(port: RuntimePort, info: RuntimePortInfo = {}): Transport {
  return new RuntimePortTransport(port, info);
}
