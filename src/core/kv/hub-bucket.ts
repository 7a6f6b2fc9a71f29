/**
 * A KV bucket the hub itself reads and writes (the settings service's), straight on its stream:
 * the same format as the client's buckets (src/client/kv), so `crossbus kv` and watchers see
 * the hub's writes as any other, and the same compare-and-set (Stream.append with an expected
 * last seq). JSON values only. Isomorphic.
 */
import { createError } from '../errors/index.js';
import type { Stream } from '../streams/stream.js';
import type { AppendInput, StoredMessage } from '../streams/storage.js';
import { decodeJson, encodeJson } from '../util/json.js';
import { topicMessages } from '../streams/stream-reads.js';
import { HEADER_KV_OP, type KvEntry, entryOf } from './entry.js';
import { keyTopic, topicKey } from './names.js';

export class HubBucket {
  readonly #stream: Stream<unknown>;
  readonly #clock: () => number;

  constructor(
    readonly name: string,
    stream: Stream<unknown>,
    clock: () => number,
  ) {
    this.#stream = stream;
    this.#clock = clock;
  }

  /** The newest revision of `key` (a tombstone included), unless it expired; undefined when none. */
  async entry<T>(key: string): Promise<KvEntry<T> | undefined> {
    const m = await this.#stream.usable().lastForTopic(keyTopic(this.name, key));
    return m === undefined || this.#stream.expired(m, this.#clock()) ? undefined : this.#entryOf<T>(m);
  }

  /** Writes `value` (JSON) to `key`; with `expect`, only when that is its newest revision (0: none). */
  put(key: string, value: unknown, expect?: number): Promise<number> {
    return this.#append(key, value, undefined, expect);
  }

  /** A tombstone for `key`. */
  delete(key: string, expect?: number): Promise<number> {
    return this.#append(key, undefined, 'del', expect);
  }

  /** Calls `listener` after every write to the bucket, its own, clients' and other hubs' alike; returns the function that stops it. */
  onWrite(listener: (key: string, revision: number) => void): () => void {
    return this.#stream.onStored((topic, seq) => listener(topicKey(this.name, topic), seq));
  }

  /** Every revision kept of `key`, oldest first (through the per-topic index). */
  async history<T>(key: string): Promise<KvEntry<T>[]> {
    const out: KvEntry<T>[] = [];
    for await (const m of topicMessages(this.#stream, keyTopic(this.name, key), 1, this.#clock())) out.push(this.#entryOf<T>(m));
    return out;
  }

  async #append(key: string, value: unknown, op: 'del' | undefined, expect: number | undefined): Promise<number> {
    const topic = keyTopic(this.name, key);
    const input: AppendInput = { time: this.#clock(), topic, payloadType: 0, payload: new Uint8Array(0) };
    if (op !== undefined) input.headers = { [HEADER_KV_OP]: op };
    else {
      if (value === undefined) throw createError('CB_ERR_INVALID_OPTION', 'a value must be given', { details: { option: 'value' } });
      input.payloadType = 1;
      input.payload = encodeJson(value);
    }
    return (await this.#stream.append(input, this.#clock, expect)).seq;
  }

  #entryOf<T>(m: StoredMessage): KvEntry<T> {
    const data = m.payloadType === 1 ? decodeJson(m.payload) : undefined;
    return entryOf<T>(this.name, { seq: m.seq, time: m.time, topic: m.topic, headers: m.headers, data });
  }
}
