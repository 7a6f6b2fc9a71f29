/**
 * A transport over a Chrome extension port (`chrome.runtime.Port`). Chrome serializes extension
 * messages as JSON, so frames travel as base64 strings, one batch per message: `{ f: '<base64>' }`.
 * A close notice carries the code and reason; a port Chrome disconnects (the service worker was
 * stopped, the tab closed) closes the transport at once with CLOSE_GOING_AWAY.
 */
import { ConnectionError } from '../../core/errors/index.js';
import { fromBase64, toBase64 } from '../../core/security/bytes.js';
import { CLOSE_GOING_AWAY, type Transport } from '../../core/transport/transport.js';
import { PostedMessageTransport } from '../../core/transport/posted-message-transport.js';
import type { RuntimePort } from './chrome-types.js';

export interface RuntimePortInfo {
  peer?: string;
  origin?: string;
  vouchedOrigin?: string;
}

interface FrameMessage {
  f: string;
}

function isFrame(d: unknown): d is FrameMessage {
  return typeof d === 'object' && d !== null && typeof (d as FrameMessage).f === 'string' && Object.keys(d).length === 1;
}

class RuntimePortTransport extends PostedMessageTransport {
  readonly kind = 'extension';
  readonly peer: string;
  readonly origin: string | undefined;
  readonly vouchedOrigin: string | undefined;

  constructor(
    private readonly port: RuntimePort,
    info: RuntimePortInfo,
  ) {
    super();
    this.peer = info.peer ?? `extension port ${port.name}`;
    this.origin = info.origin;
    this.vouchedOrigin = info.vouchedOrigin;
    port.onMessage.addListener(this.#onMessage);
    port.onDisconnect.addListener(this.#onDisconnect);
  }

  readonly #onMessage = (data: unknown): void => this.receive(data);

  readonly #onDisconnect = (): void => {
    this.finish({ local: false, code: CLOSE_GOING_AWAY, reason: 'the extension port disconnected' });
  };

  send(chunk: Uint8Array): void {
    if (this.closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'extension transport is closed');
    try {
      this.port.postMessage({ f: toBase64(chunk) } satisfies FrameMessage);
    } catch (err) {
      // Chrome throws once the port is disconnected (the service worker stopped): that is a close.
      this.finish({ local: false, code: CLOSE_GOING_AWAY, reason: 'the extension port is gone', error: err });
      return;
    }
    this.sent(chunk.byteLength);
  }

  protected post(message: unknown): void {
    this.port.postMessage(message);
  }

  protected frameOf(data: unknown): Uint8Array | undefined {
    return isFrame(data) ? fromBase64(data.f) : undefined;
  }

  protected detach(): void {
    this.port.onMessage.removeListener(this.#onMessage);
    this.port.onDisconnect.removeListener(this.#onDisconnect);
  }

  protected release(): void {
    try {
      this.port.disconnect();
    } catch {
      /* gone */
    }
  }
}

export function createRuntimePortTransport(port: RuntimePort, info: RuntimePortInfo = {}): Transport {
  return new RuntimePortTransport(port, info);
}
