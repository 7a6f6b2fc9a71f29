/**
 * How a hub learns of the messages other hubs append to a shared JetStream log: an ordered
 * consumer of the log's subjects, headers only, from the first sequence the hub has not seen.
 *
 * Why a consumer rather than a plain subscription on the subjects, or polling: a plain
 * subscription sees a publish before (and whether or not) JetStream stores it, and without its
 * sequence, so a woken consumer could read too early and miss it; polling stream info costs a
 * request per log per interval and adds its delay to every delivery. The ordered consumer hands
 * over each stored message, in order, with its sequence, topic and crossbus headers, and no body
 * (a few dozen bytes per message); nats.js recreates it at the next sequence when its server goes
 * away, so no message is skipped.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg, OrderedConsumerOptions } from 'nats';
import type { Logger } from '../../core/util/logger.js';
import { unrefTimer } from '../../core/util/timers.js';

/** Pause before the watch is started again after it failed (no stream, no JetStream). */
const RESTART_MS = 1000;

export class AppendWatch {
  #next: number;
  #iter: ConsumerMessages | undefined;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly filter: string,
    /** The first sequence to hand over. */
    startSeq: number,
    private readonly onMessage: (m: JsMsg) => void,
    private readonly logger: Logger,
    /** The connection was closed by its owner: the watch ends (it cannot come back). */
    private readonly connectionClosed: () => boolean,
  ) {
    this.#next = startSeq;
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped && !this.connectionClosed()) {
      try {
        const opts: Partial<OrderedConsumerOptions> = {
          filterSubjects: this.filter,
          deliver_policy: 'by_start_sequence' as OrderedConsumerOptions['deliver_policy'],
          opt_start_seq: this.#next,
          headers_only: true,
        };
        const consumer = await this.js.consumers.get(this.stream, opts);
        if (this.#stopped) return;
        this.#iter = await consumer.consume({ max_messages: 512 });
        if (this.#stopped) {
          this.#iter.stop();
          return;
        }
        for await (const m of this.#iter) {
          if (m.seq < this.#next) continue;
          this.#next = m.seq + 1;
          this.onMessage(m);
        }
      } catch (err) {
        if (this.#stopped || this.connectionClosed()) return;
        this.logger.warn({ stream: this.stream, error: String(err) }, 'stream: watching the JetStream log failed; watching again');
      }
      if (this.#stopped || this.connectionClosed()) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = unrefTimer(setTimeout(resolve, RESTART_MS));
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
    this.#iter?.stop();
    await this.#done.catch(() => {});
  }
}
