/**
 * The streams a hub holds, by name, and the topic index that tells which stream captures a
 * published topic. A dead-letter stream is reached through its source (`<NAME>.DLQ`).
 */
import { SubscriptionIndex } from '../routing/subscription-index.js';
import { DLQ_SUFFIX, isDeadLetterName } from './config.js';
import type { Stream } from './stream.js';

interface Indexed {
  readonly pattern: string;
  readonly stream: Stream;
}

export class StreamTable<S> {
  readonly #streams = new Map<string, Stream<S>>();
  readonly #index = new SubscriptionIndex<Indexed>();

  /** User streams held (dead-letter streams are not counted). */
  get size(): number {
    return this.#streams.size;
  }

  names(): string[] {
    return [...this.#streams.keys()];
  }

  /** The user streams, in creation order. */
  values(): IterableIterator<Stream<S>> {
    return this.#streams.values();
  }

  /** A user stream by name. */
  get(name: string): Stream<S> | undefined {
    return this.#streams.get(name);
  }

  /** A user stream, or a dead-letter stream by its `<NAME>.DLQ` name. */
  find(name: string): Stream<S> | undefined {
    if (isDeadLetterName(name)) return this.#streams.get(name.slice(0, -DLQ_SUFFIX.length))?.deadLetters;
    return this.#streams.get(name);
  }

  /** The stream that captures a published topic (streams' topics never overlap: one at most). */
  capturing(topic: string): Stream<S> | undefined {
    return (this.#index.match(topic).plain[0] as Indexed | undefined)?.stream as Stream<S> | undefined;
  }

  /** The topics whose grants decide access to a stream (a dead-letter stream: its source's). */
  topicsOf(stream: Stream<S>): readonly string[] {
    return stream.deadLetterOf === undefined ? stream.config.topics : (this.#streams.get(stream.deadLetterOf)?.config.topics ?? []);
  }

  /** Holds a user stream and starts capturing its topics. */
  add(stream: Stream<S>): void {
    this.#streams.set(stream.name, stream);
    for (const topic of stream.config.topics) this.#index.add({ pattern: topic, stream });
  }

  /** Forgets a user stream and stops capturing its topics. */
  remove(stream: Stream<S>): void {
    this.#streams.delete(stream.name);
    for (const topic of stream.config.topics) this.#index.remove(this.#indexEntry(stream, topic));
  }

  #indexEntry(stream: Stream<S>, topic: string): Indexed {
    // The index keeps the entries it was given: find ours again to remove it.
    const entry = this.#index.match(topic).plain.find((e) => e.stream === stream && e.pattern === topic);
    return entry ?? { pattern: topic, stream };
  }
}
