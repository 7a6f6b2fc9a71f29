import type { Envelope } from '../core/protocol/envelope.js';
import { HEADER_DELIVERY, type AckPayload } from '../core/streams/wire.js';
import { Message } from './message.js';

/** Sends one settlement (ack, nak, term, progress) of a delivery; resolves when the hub confirmed it. */
export type Settler = (sid: number, seq: number, ack: AckPayload) => Promise<void>;

/**
 * A message delivered by a stream consumer. Settle it once: `ack()` when done, `nak()` to have it
 * delivered again (after `delayMs`, or the consumer's backoff), `term()` to give up on it (it goes
 * to the dead-letter stream). Each resolves when the hub confirmed it and rejects with
 * CB_ERR_ACK_STALE when this delivery is no longer current (it timed out and was given out again).
 */
export class StreamMessage<T = unknown> extends Message<T> {
  /** How many times this message has been delivered, this time included. */
  readonly deliveryCount: number;
  /** When the hub stored it (ms since the epoch). */
  readonly time: number;
  /** The delivery token: only a settlement naming it counts. */
  readonly token: number;

  constructor(
    env: Envelope,
    readonly stream: string,
    private readonly settler: Settler,
  ) {
    super(env);
    const d = env.headers?.[HEADER_DELIVERY];
    this.deliveryCount = d === undefined ? 1 : Number(d);
    this.time = env.timestamp;
    this.token = env.id;
  }

  ack(): Promise<void> {
    return this.settler(this.sid, this.seq, { token: this.token, op: 'ack' });
  }

  nak(options: { delayMs?: number } = {}): Promise<void> {
    const ack: AckPayload = { token: this.token, op: 'nak' };
    if (options.delayMs !== undefined) ack.delayMs = options.delayMs;
    return this.settler(this.sid, this.seq, ack);
  }

  term(reason?: string): Promise<void> {
    const ack: AckPayload = { token: this.token, op: 'term' };
    if (reason !== undefined) ack.reason = reason;
    return this.settler(this.sid, this.seq, ack);
  }

  /** Still working on it: restarts the ack wait. */
  working(): Promise<void> {
    return this.settler(this.sid, this.seq, { token: this.token, op: 'progress' });
  }
}
