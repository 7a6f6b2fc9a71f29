/**
 * A KV watcher: an async iterable of entries over an ephemeral stream consumer. It starts with
 * the newest revision of each matching key (or every revision kept, or none), then follows every
 * write in revision order. Each delivery is acknowledged when the iterator takes it, so a watcher
 * that is not read holds at most the consumer's `maxAckPending` entries. After a reconnect or a
 * hub restart the consumer re-attaches just after the last revision it delivered, and anything
 * delivered twice across the gap is skipped. Runtime-neutral.
 */
import { createError } from '../../core/errors/index.js';
import type { DeliverPolicy } from '../../core/streams/config.js';
import { patternMatches } from '../../core/routing/pattern-match.js';
import type { Bus } from '../bus.js';
import type { StreamConsumer } from '../consumer.js';
import type { StreamMessage } from '../stream-message.js';
import { type KvEntry, entryOf } from '../../core/kv/entry.js';
import { bucketTopics } from '../../core/kv/names.js';

export interface KvWatchOptions {
  /** Start with every revision the bucket keeps, not only the newest of each key. @default false */
  includeHistory?: boolean;
  /** Start with nothing: only writes made after the watcher attached. @default false */
  updatesOnly?: boolean;
  /** Leave out deletes and purges. @default false */
  ignoreDeletes?: boolean;
}

export class KvWatcher<T = unknown> implements AsyncIterable<KvEntry<T>> {
  readonly #bucket: string;
  /** The topic pattern keys must match; undefined: every key of the bucket. */
  readonly #pattern: string | undefined;
  readonly #ignoreDeletes: boolean;
  readonly #consumer: StreamConsumer<unknown>;
  readonly #messages: AsyncIterator<StreamMessage<unknown>>;
  /** The last revision delivered. */
  #last = 0;

  /** @internal use `bucket.watch()` */
  constructor(bus: Bus, bucket: string, stream: string, topicPattern: string, options: KvWatchOptions) {
    if (options.includeHistory === true && options.updatesOnly === true) {
      throw createError('CB_ERR_CONFLICTING_OPTIONS', 'includeHistory and updatesOnly exclude each other', {
        details: { option: 'updatesOnly' },
      });
    }
    this.#bucket = bucket;
    this.#pattern = topicPattern === bucketTopics(bucket) ? undefined : topicPattern;
    this.#ignoreDeletes = options.ignoreDeletes === true;
    const deliver: DeliverPolicy = options.updatesOnly === true ? 'new' : options.includeHistory === true ? 'all' : 'last-per-topic';
    this.#consumer = bus.consume<unknown>(stream, { deliver });
    this.#messages = this.#consumer[Symbol.asyncIterator]();
  }

  /** Settles once the hub attached the watcher (rejects with the hub's refusal). */
  get ready(): Promise<void> {
    return this.#consumer.ready;
  }

  /** The next entry; done once the watcher is stopped or its bus closed. */
  async next(): Promise<IteratorResult<KvEntry<T>, undefined>> {
    for (;;) {
      const r = await this.#messages.next();
      if (r.done === true) return { done: true, value: undefined };
      const msg = r.value;
      msg.ack().catch(() => {}); // a lost ack only means the hub sends it again: skipped below
      if (msg.seq <= this.#last) continue;
      this.#last = msg.seq;
      this.#consumer.resumeAfter(msg.seq);
      if (this.#pattern !== undefined && !patternMatches(this.#pattern, msg.topic)) continue;
      const entry = entryOf<T>(this.#bucket, msg);
      if (this.#ignoreDeletes && entry.operation !== 'put') continue;
      return { done: false, value: entry };
    }
  }

  /** Stops watching: the iterator ends. */
  stop(): void {
    this.#consumer.unsubscribe();
  }

  [Symbol.asyncIterator](): AsyncIterator<KvEntry<T>, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        this.stop();
        return { done: true, value: undefined };
      },
    };
  }
}
