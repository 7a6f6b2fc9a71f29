/**
 * Several crossbus frames in one NATS message. A hub forwards what its clients publish; when a
 * burst of them goes to one topic, each NATS message costs both hubs (the client's protocol line,
 * its parser, a callback) and every server on the way more than the frame it carries: measured on
 * two cores (docs/BENCHMARKS.md, cluster), about half the hubs' time and a third of the servers'
 * went to NATS messages of about 180 bytes. Consecutive publishes to the same subject are
 * therefore joined into one NATS message, sent at the end of the current turn of the event loop,
 * as the NATS client would send them anyway (it too writes on a microtask). Frames carry their
 * own length, so the payload is the frames back to back and a receiver splits it without a header.
 *
 * Only a run of consecutive frames to one subject is joined: anything else (another subject, a
 * request, a reply, a publish with a header) sends the run first, so NATS sees the hub's messages in
 * the order its clients sent them, as a wildcard subscriber on another hub must.
 */

/** A run is sent once it holds this many bytes (or would pass the server's max_payload). */
export const BATCH_MAX_BYTES = 64 * 1024;

export type SendRun = (subject: string, payload: Uint8Array, frames: number) => void;

/** The run of frames waiting to be sent; `send` gets it as one payload. */
export class FrameBatch {
  #subject = '';
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #queued = false;
  readonly #send: SendRun;
  readonly #flushSoon = (): void => {
    this.#queued = false;
    this.flush();
  };

  constructor(send: SendRun) {
    this.#send = send;
  }

  /** Frames waiting. */
  get size(): number {
    return this.#parts.length;
  }

  /**
   * Adds a frame for `subject` (`limit`: the most bytes one NATS message may carry). A run to
   * another subject, or one this frame would take past the limit, is sent first. The frame is kept
   * by reference until the run is sent, within this turn of the event loop.
   */
  add(subject: string, frame: Uint8Array, limit: number): void {
    const max = Math.min(limit, BATCH_MAX_BYTES);
    if (this.#parts.length > 0 && (subject !== this.#subject || this.#bytes + frame.length > max)) this.flush();
    this.#subject = subject;
    this.#parts.push(frame);
    this.#bytes += frame.length;
    if (this.#bytes >= max) this.flush();
    else if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(this.#flushSoon);
    }
  }

  /** Sends the run now (before anything that must follow it). */
  flush(): void {
    const parts = this.#parts;
    const n = parts.length;
    if (n === 0) return;
    let payload: Uint8Array;
    if (n === 1) payload = parts[0] as Uint8Array;
    else {
      payload = new Uint8Array(this.#bytes);
      let o = 0;
      for (let i = 0; i < n; i++) {
        const part = parts[i] as Uint8Array;
        payload.set(part, o);
        o += part.length;
      }
    }
    this.#parts = [];
    this.#bytes = 0;
    this.#send(this.#subject, payload, n);
  }
}

/**
 * Calls `each` with every frame of a payload made of frames back to back (one frame: the payload
 * itself, no copy). Bytes that do not make a whole frame are handed over as they are, so that the
 * receiver's decoder refuses and counts them. Returns how many were handed over.
 */
export function eachFrame(payload: Uint8Array, each: (frame: Uint8Array) => void): number {
  const n = payload.length;
  if (n === 0) {
    each(payload);
    return 1;
  }
  let p = 0;
  let count = 0;
  while (p < n) {
    let end = n;
    if (p + 4 <= n) {
      const body =
        (payload[p] as number) * 0x1000000 +
        (((payload[p + 1] as number) << 16) | ((payload[p + 2] as number) << 8) | (payload[p + 3] as number));
      end = Math.min(n, p + 4 + body);
    }
    each(p === 0 && end === n ? payload : payload.subarray(p, end));
    count++;
    p = end;
  }
  return count;
}
