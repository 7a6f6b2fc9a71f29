/**
 * A key-value bucket on a durable stream: `bus.kv.bucket('config')`. Revisions are stream
 * sequence numbers; `create`, `update` and a `delete` with a revision are compare-and-set
 * publishes the hub decides atomically (the `cb-expect-last-seq` header), so of two clients
 * updating the same revision exactly one wins and the other gets CB_ERR_SEQ_MISMATCH.
 * Every write is a durable publish: acknowledged once stored as the bucket's durability promises,
 * resent with the same msgId after a reconnect and stored once. Runtime-neutral.
 */
import { createError, isCrossbusError } from '../../core/errors/index.js';
import type { Headers } from '../../core/protocol/envelope.js';
import { HEADER_EXPECT_LAST_SEQ } from '../../core/streams/wire.js';
import type { Bus } from '../bus.js';
import type { StreamRecord } from '../streams.js';
import { HEADER_KV_OP, type KvEntry, entryOf } from '../../core/kv/entry.js';
import { keyTopic, patternTopic } from '../../core/kv/names.js';
import { type KvBucketStatus, statusOf } from '../../core/kv/options.js';
import { KvWatcher, type KvWatchOptions } from './watcher.js';

export class KvBucket {
  readonly #bus: Bus;

  /** @internal use `bus.kv.bucket()` */
  constructor(
    bus: Bus,
    /** The bucket's name. */
    readonly name: string,
    /** Its stream: `KV_<name>`. */
    readonly stream: string,
  ) {
    this.#bus = bus;
  }

  /** The newest value of `key`, or undefined when it has none (never put, deleted, purged or expired). */
  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    const e = await this.entry<T>(key);
    return e?.operation === 'put' ? e : undefined;
  }

  /** The newest revision of `key`, a tombstone included; undefined when the bucket holds none. */
  async entry<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    const r = await this.#bus.streams.last(this.stream, keyTopic(this.name, key));
    return r === undefined ? undefined : entryOf<T>(this.name, r);
  }

  /** Sets `key` to `value` (a JSON value or a Uint8Array); resolves with its revision. */
  async put(key: string, value: unknown): Promise<number> {
    return this.#write(key, checkValue(value), undefined, undefined);
  }

  /** Sets `key` only when it has no value (never set, deleted or purged); CB_ERR_SEQ_MISMATCH when it has one. */
  async create(key: string, value: unknown): Promise<number> {
    checkValue(value);
    try {
      return await this.#write(key, value, undefined, 0);
    } catch (err) {
      if (!isMismatch(err)) throw err;
      // Its last revision may be a tombstone: then it is absent, and created over that revision.
      const last = await this.entry(key);
      if (last !== undefined && last.operation !== 'put') return this.#write(key, value, undefined, last.revision);
      throw createError('CB_ERR_SEQ_MISMATCH', `key ${JSON.stringify(key)} exists (revision ${last?.revision ?? '?'})`, {
        details: { bucket: this.name, key, revision: last?.revision },
        cause: err,
      });
    }
  }

  /** Sets `key` only when its newest revision is `revision`; CB_ERR_SEQ_MISMATCH when another write came first. */
  async update(key: string, value: unknown, revision: number): Promise<number> {
    return this.#write(key, checkValue(value), undefined, checkRevision(revision));
  }

  /** Deletes `key` (a tombstone; its history stays); with `revision`, only when that is its newest. */
  async delete(key: string, options: { revision?: number } = {}): Promise<number> {
    const expect = options.revision === undefined ? undefined : checkRevision(options.revision);
    return this.#write(key, undefined, 'del', expect);
  }

  /** Deletes `key` and every older revision of it: one tombstone is all that stays. */
  async purge(key: string, options: { revision?: number } = {}): Promise<number> {
    const expect = options.revision === undefined ? undefined : checkRevision(options.revision);
    const revision = await this.#write(key, undefined, 'purge', expect);
    await this.#bus.streams.purgeTopic(this.stream, keyTopic(this.name, key), { keep: 1 });
    return revision;
  }

  /** The keys that have a value, those matching `pattern` (default `>`: all), sorted. */
  async keys(pattern = '>'): Promise<string[]> {
    const keys: string[] = [];
    for (const e of await this.#newest(pattern)) if (e.operation === 'put') keys.push(e.key);
    return keys.sort();
  }

  /** The newest revision (tombstones included) of every key matching `pattern`, in revision order. */
  async #newest(pattern: string): Promise<KvEntry[]> {
    const topicPattern = patternTopic(this.name, pattern);
    return this.#entries((fromSeq) => this.#bus.streams.lastPerTopic(this.stream, { pattern: topicPattern, fromSeq }));
  }

  /** Every revision the bucket keeps of `key`, oldest first (at most `history`, tombstones included). */
  async history<T = unknown>(key: string): Promise<KvEntry<T>[]> {
    const topic = keyTopic(this.name, key);
    return this.#entries<T>((fromSeq) => this.#bus.streams.read(this.stream, { fromSeq, topic }));
  }

  /** Every entry of the pages `read` gives, each from one past the last seq of the page before, until one is empty. */
  async #entries<T = unknown>(read: (fromSeq: number) => Promise<StreamRecord[]>): Promise<KvEntry<T>[]> {
    const out: KvEntry<T>[] = [];
    for (let fromSeq = 1; ; ) {
      const page = await read(fromSeq);
      if (page.length === 0) return out;
      for (const r of page) out.push(entryOf<T>(this.name, r));
      fromSeq = (page[page.length - 1] as StreamRecord).seq + 1;
    }
  }

  /**
   * Watches the keys matching `pattern` (default `>`): first the newest revision of each (unless
   * `updatesOnly`), then every write in revision order. A watcher survives reconnects and hub
   * restarts and goes on after the last revision it delivered.
   */
  watch<T = unknown>(pattern = '>', options: KvWatchOptions = {}): KvWatcher<T> {
    return new KvWatcher<T>(this.#bus, this.name, this.stream, patternTopic(this.name, pattern), options);
  }

  /** The bucket's settings and how much it holds. */
  async status(): Promise<KvBucketStatus> {
    return statusOf(this.name, await this.#bus.streams.info(this.stream));
  }

  async #write(key: string, value: unknown, op: 'del' | 'purge' | undefined, expect: number | undefined): Promise<number> {
    const topic = keyTopic(this.name, key);
    let headers: Headers | undefined;
    if (op !== undefined) headers = { [HEADER_KV_OP]: op };
    if (expect !== undefined) headers = { ...headers, [HEADER_EXPECT_LAST_SEQ]: String(expect) };
    try {
      const ack = await this.#bus.publish(topic, value, headers === undefined ? { durable: true } : { durable: true, headers });
      return ack.seq;
    } catch (err) {
      if (!isMismatch(err) || expect === 0) throw err;
      const actual = (err.details as { actual?: number } | undefined)?.actual;
      throw createError('CB_ERR_SEQ_MISMATCH', `key ${JSON.stringify(key)} is at revision ${actual}, not ${expect}`, {
        details: { bucket: this.name, key, expected: expect, actual },
        cause: err,
      });
    }
  }
}

function isMismatch(err: unknown): err is { code: string; details?: Record<string, unknown> } {
  return isCrossbusError(err) && err.code === 'CB_ERR_SEQ_MISMATCH';
}

function checkValue(value: unknown): unknown {
  if (value === undefined)
    throw createError('CB_ERR_INVALID_OPTION', 'a value must be given (delete removes a key)', { details: { option: 'value' } });
  return value;
}

function checkRevision(revision: unknown): number {
  if (!Number.isSafeInteger(revision) || (revision as number) < 0) {
    throw createError('CB_ERR_INVALID_OPTION', `revision must be an integer >= 0, got ${String(revision)}`, {
      details: { option: 'revision' },
    });
  }
  return revision as number;
}
