import { CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, type Transport, type TransportCloseInfo, type TransportHandlers } from './transport.js';
import { closeNotice, isCloseNotice } from './close-notice.js';
import { PostedBytes } from './posted-bytes.js';

/**
 * What every transport over a postMessage-style channel (MessagePorts and workers, Chrome
 * extension ports) does alike: messages that arrive before the handlers are set wait for them,
 * a close notice carries the code and reason to the other end, anything that is neither a frame
 * nor a close notice is a protocol error, close is reported exactly once, and `bufferedAmount`
 * counts what was posted (postMessage never blocks). Subclasses say how a frame is posted and
 * read, and how to let go of the channel.
 */
export abstract class PostedMessageTransport implements Transport {
  abstract readonly kind: string;
  readonly framing = 'message' as const;
  #handlers: TransportHandlers | undefined;
  #early: unknown[] = [];
  #pendingClose: TransportCloseInfo | undefined;
  protected closed = false;
  readonly #posted = new PostedBytes(() => {
    if (!this.closed) this.#handlers?.drain?.();
  });

  abstract readonly peer: string;
  abstract readonly origin: string | undefined;
  abstract readonly vouchedOrigin: string | undefined;

  abstract send(chunk: Uint8Array): void;
  /** Posts a message that is not a frame (the close notice); may throw when the channel is gone. */
  protected abstract post(message: unknown): void;
  /** The frame in a received message, or undefined when it is not one. */
  protected abstract frameOf(data: unknown): Uint8Array | undefined;
  /** Stops listening (called once, when the transport closes either way). */
  protected abstract detach(): void;
  /** Lets go of the channel after a local close. */
  protected abstract release(): void;

  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const queued = this.#early;
    this.#early = [];
    for (const d of queued) this.receive(d);
    if (this.#pendingClose !== undefined) handlers.close(this.#pendingClose);
  }

  bufferedAmount(): number {
    return this.#posted.amount;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.closed) return;
    try {
      this.post(closeNotice(code, reason));
    } catch {
      /* the other end is gone already */
    }
    this.finish({ local: true, code, reason });
    this.release();
  }

  /** Counts `bytes` just posted. */
  protected sent(bytes: number): void {
    this.#posted.add(bytes);
  }

  protected receive(data: unknown): void {
    if (this.closed) return;
    if (this.#handlers === undefined) {
      this.#early.push(data);
      return;
    }
    const frame = this.frameOf(data);
    if (frame !== undefined) this.#handlers.message(frame);
    else if (isCloseNotice(data)) this.finish({ local: false, code: data.code, reason: data.reason });
    // A private channel carrying something that is neither a frame nor a close notice: the peer is broken or hostile.
    else this.close(CLOSE_PROTOCOL_ERROR, 'CB_ERR_PROTOCOL');
  }

  protected finish(info: TransportCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    // Frames that arrived before the close notice were delivered in order above.
    if (this.#handlers !== undefined) this.#handlers.close(info);
    else this.#pendingClose = info;
  }
}
