/**
 * Dead-lettering: a message a consumer gave up on (maxDeliver reached, or terminated) is stored
 * in its stream's dead-letter stream with where it came from and why, in cb-dlq-* headers.
 */
import type { Headers } from '../protocol/envelope.js';
import type { HostLink } from './host-link.js';
import type { StoredMessage } from './storage.js';
import type { Stream } from './stream.js';
import { HEADER_DLQ_ATTEMPTS, HEADER_DLQ_REASON, HEADER_DLQ_SEQ, HEADER_DLQ_STREAM, HEADER_DLQ_TIME } from './wire.js';

export class DeadLetters<S> {
  readonly #host: HostLink<S>;
  readonly #clock: () => number;
  /** Dead letters stored (or, for a dead-letter stream's own, dropped), by source stream: a metric. */
  readonly counts = new Map<string, number>();

  constructor(host: HostLink<S>, clock: () => number) {
    this.#host = host;
    this.#clock = clock;
  }

  /** Stores a dead letter of `stream`; rejects when it could not be stored (the consumer retries later). */
  async store(stream: Stream<S>, msg: StoredMessage, reason: string, attempts: number): Promise<void> {
    const dlq = stream.deadLetters;
    if (dlq === undefined) {
      this.#count(stream.name);
      // A dead letter of a dead letter: it has nowhere else to go, so it is settled and reported.
      this.#host.get().emit({ action: 'dead-letter', stream: stream.name, details: { seq: msg.seq, reason, attempts, dropped: true } });
      return;
    }
    const headers: Headers = {
      ...msg.headers,
      [HEADER_DLQ_REASON]: reason,
      [HEADER_DLQ_ATTEMPTS]: String(attempts),
      [HEADER_DLQ_STREAM]: stream.name,
      [HEADER_DLQ_SEQ]: String(msg.seq),
      [HEADER_DLQ_TIME]: String(msg.time),
    };
    const r = await dlq.append(
      { time: this.#clock(), topic: msg.topic, headers, payloadType: msg.payloadType, payload: msg.payload },
      this.#clock,
    );
    this.#count(stream.name);
    this.#host
      .get()
      .emit({ action: 'dead-letter', stream: stream.name, details: { seq: msg.seq, reason, attempts, deadLetterSeq: r.seq } });
  }

  #count(stream: string): void {
    this.counts.set(stream, (this.counts.get(stream) ?? 0) + 1);
  }
}
