/**
 * Reads a document's stream strictly in order: one ephemeral consumer from the next sequence
 * number needed, each message handed to the document once, in seq order, and acknowledged only
 * after it was applied. A delivery at or below the last applied seq (a redelivery) is
 * acknowledged and skipped. After a reconnect the consumer is opened again from the next seq, not
 * from where it first started. Runtime-neutral.
 */
import { isCrossbusError, type CrossbusError, createError } from '../../core/errors/index.js';
import type { StreamConsumer } from '../consumer.js';
import type { Bus } from '../bus.js';
import type { StreamMessage } from '../stream-message.js';

/** What the feed hands over and asks. */
export interface FeedHandler {
  /**
   * Message `msg`, the next in order. `gap` is true when messages between the last applied one
   * and this one are gone from the stream (purged or expired): the handler decides what that
   * means (a snapshot to reload from). Awaited before the next message.
   */
  apply(msg: StreamMessage<unknown>, gap: boolean): void | Promise<void>;
  /** Reading stopped: the consumer was refused or ended by the hub, or `apply` threw. */
  failed(error: CrossbusError): void;
}

export interface FeedOptions {
  /** The stream to read. */
  stream: string;
  /** Messages up to this seq are applied already; reading starts after it. */
  afterSeq: number;
  /** @default DEFAULT_SYNC_MAX_ACK_PENDING */
  maxAckPending: number;
}

export class OrderedFeed {
  readonly #bus: Bus;
  readonly #handler: FeedHandler;
  readonly #stream: string;
  readonly #maxAckPending: number;
  #last: number;
  #consumer: StreamConsumer<unknown> | undefined;
  #offConnected: (() => void) | undefined;
  #closed = false;

  constructor(bus: Bus, options: FeedOptions, handler: FeedHandler) {
    this.#bus = bus;
    this.#handler = handler;
    this.#stream = options.stream;
    this.#maxAckPending = options.maxAckPending;
    this.#last = options.afterSeq;
  }

  /** The seq of the last message applied. */
  get lastSeq(): number {
    return this.#last;
  }

  /** Starts reading (again, after a failed start); resolves once the hub attached the consumer (rejects when it refused it). */
  start(): Promise<void> {
    this.#offConnected ??= this.#bus.on('connected', (e) => {
      if (e.reconnected) this.#open();
    });
    return this.#open().ready;
  }

  /** Jumps ahead: messages up to `seq` count as applied (a snapshot at `seq` was loaded), and reading goes on after it. */
  skipTo(seq: number): void {
    if (seq > this.#last) this.#last = seq;
  }

  /** Reads again from after `afterSeq` (a reload from an older snapshot): the consumer is opened anew. */
  restart(afterSeq: number): void {
    if (this.#closed) return;
    this.#last = afterSeq;
    this.#open();
  }

  #open(): StreamConsumer<unknown> {
    this.#consumer?.unsubscribe();
    const consumer = this.#bus.consume<unknown>(this.#stream, {
      deliver: { seq: this.#last + 1 },
      maxAckPending: this.#maxAckPending,
    });
    this.#consumer = consumer;
    void this.#run(consumer);
    return consumer;
  }

  async #run(consumer: StreamConsumer<unknown>): Promise<void> {
    try {
      for await (const msg of consumer) {
        if (consumer !== this.#consumer) break;
        if (msg.seq > this.#last) {
          const gap = msg.seq !== this.#last + 1;
          await this.#handler.apply(msg, gap);
          if (consumer !== this.#consumer) break;
          this.#last = Math.max(this.#last, msg.seq);
        }
        // Not awaited: the next message need not wait for the hub's confirmation of this one.
        msg.ack().catch(() => {});
      }
    } catch (err) {
      if (consumer !== this.#consumer || this.#closed) return;
      // A lost connection ends nothing: the consumer is opened again once reconnected.
      if (isCrossbusError(err) && err.code === 'CB_ERR_CONNECTION_LOST') return;
      this.#handler.failed(isCrossbusError(err) ? err : createError('CB_ERR_INTERNAL', 'applying a log entry failed', { cause: err }));
    }
  }

  close(): void {
    this.#closed = true;
    this.#offConnected?.();
    const consumer = this.#consumer;
    this.#consumer = undefined;
    consumer?.unsubscribe();
  }
}
