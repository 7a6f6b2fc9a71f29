/**
 * A StreamCatalog in JetStream, shared by the hubs of a cluster: stream configurations and
 * durable consumers' positions are values of the KV bucket `<prefix>_catalog` (keys in
 * jetstream-names.ts), and each stream's logs are JetStream streams (jetstream-storage.ts). A hub
 * that opens later sees the streams others created, with their messages and consumers.
 *
 * Gets are answered by the bucket's leader (no direct gets), so a hub reads what another saved.
 * Each save is one KV put: atomic, the old value or the new one.
 */
import type { JetStreamManager, KV, NatsConnection } from 'nats';
import type { CatalogWatcher, StoragePart, StoredConsumer, StreamCatalog } from '../../core/streams/catalog.js';
import { unrefTimer } from '../../core/util/timers.js';
import { DLQ_SUFFIX, type ResolvedStreamConfig, resolveConsumerConfig, resolveStreamConfig } from '../../core/streams/config.js';
import type { RetentionLimits, StreamStorage } from '../../core/streams/storage.js';
import { type Logger, silentLogger } from '../../core/util/logger.js';
import {
  DEFAULT_JETSTREAM_CATALOG_POLL_MS,
  DEFAULT_JETSTREAM_OPEN_TIMEOUT_MS,
  DEFAULT_JETSTREAM_PREFIX,
  DEFAULT_JETSTREAM_TIMEOUT_MS,
} from '../defaults.js';
import { validConsumerState } from '../streams/file-catalog.js';
import type { DiscardPolicy } from './jetstream-config.js';
import { JS_STREAM_NOT_FOUND, jetStreamFailure, jsErrCode, retrying, whileLeaderless } from './jetstream-errors.js';
import { catalogBucket, catalogKeys, checkPrefix, logNames } from './jetstream-names.js';
import { JetStreamStorage, defaultReplicas } from './jetstream-storage.js';

export interface JetStreamCatalogOptions {
  /** Names of the bucket, streams and subjects (hubs sharing streams use the same). @default DEFAULT_JETSTREAM_PREFIX */
  prefix?: string;
  /** Replicas of the bucket and of every stream. @default 3, or the number of servers of a smaller cluster */
  replicas?: number;
  /** At a stream's `maxMessages`/`maxBytes`: 'old' drops the oldest, 'new' refuses appends. @default 'old' */
  discard?: DiscardPolicy;
  /** How long a publish or request waits for JetStream. @default DEFAULT_JETSTREAM_TIMEOUT_MS */
  timeoutMs?: number;
  /** How long opening the catalog keeps trying while JetStream does not answer. @default DEFAULT_JETSTREAM_OPEN_TIMEOUT_MS */
  openTimeoutMs?: number;
  /** How often each log refreshes its cached state from stream info. @default DEFAULT_JETSTREAM_REFRESH_MS */
  refreshIntervalMs?: number;
  /** How often a watching hub reads the saved configs for other hubs' changes. @default DEFAULT_JETSTREAM_CATALOG_POLL_MS */
  watchIntervalMs?: number;
  /** Unreadable saved configs and consumers are reported here. @default silentLogger */
  logger?: Logger;
}

interface Handles {
  jsm: JetStreamManager;
  kv: KV;
}

const text = new TextDecoder();
const bytes = new TextEncoder();

export class JetStreamCatalog implements StreamCatalog {
  readonly #nc: NatsConnection;
  readonly #o: JetStreamCatalogOptions;
  readonly #prefix: string;
  readonly #logger: Logger;
  #handles: Promise<Handles> | undefined;

  /** How long one JetStream call (with its retries while a stream has no leader) may take. */
  readonly #timeoutMs: number;

  /** Over the hub's NATS connection (the caller keeps it: the catalog never closes it). */
  constructor(nc: NatsConnection, options: JetStreamCatalogOptions = {}) {
    this.#nc = nc;
    this.#o = options;
    this.#prefix = checkPrefix(options.prefix ?? DEFAULT_JETSTREAM_PREFIX);
    this.#logger = options.logger ?? silentLogger;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_JETSTREAM_TIMEOUT_MS;
  }

  readonly shared = true;
  /** Each stream's config as this hub last saw or wrote it: the watch reports only others' changes. */
  readonly #known = new Map<string, string>();
  /**
   * When this hub last created, changed or deleted each stream (a count of its own writes): a poll
   * that began reading before then holds a stale view of that stream, and reports nothing of it
   * (it would have closed a stream just created here, or opened again one just deleted).
   */
  readonly #touched = new Map<string, number>();
  #writes = 0;
  /** Streams this hub is writing right now (how many writes each): a poll says nothing of them. */
  readonly #writing = new Map<string, number>();

  async load(): Promise<ResolvedStreamConfig[]> {
    const out = await this.#load();
    for (const c of out) this.#known.set(c.name, JSON.stringify(c));
    return out;
  }

  /**
   * Polls the saved configs every `watchIntervalMs` and reports what other hubs changed (a poll,
   * not a KV watch: an ordered consumer on a dead node can hold a hub deaf for long).
   */
  watchStreams(watcher: CatalogWatcher): { stop(): void; refresh(): Promise<void> } {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const interval = this.#o.watchIntervalMs ?? DEFAULT_JETSTREAM_CATALOG_POLL_MS;
    const compare = async (): Promise<void> => {
      const since = this.#writes;
      const stale = (name: string): boolean => this.#writing.has(name) || (this.#touched.get(name) ?? 0) > since;
      const seen = new Set<string>();
      for (const c of await this.#load()) {
        seen.add(c.name);
        if (stale(c.name)) continue;
        const json = JSON.stringify(c);
        if (this.#known.get(c.name) === json) continue;
        this.#known.set(c.name, json);
        if (!stopped) watcher.changed(c);
      }
      for (const name of [...this.#known.keys()])
        if (!seen.has(name) && !stale(name)) {
          this.#known.delete(name);
          if (!stopped) watcher.removed(name);
        }
    };
    // One comparison at a time: a refresh waits for the one running, then runs its own.
    let running: Promise<void> = Promise.resolve();
    const run = (): Promise<void> => (running = running.then(compare, compare));
    const poll = (): void => {
      run()
        .catch((err: unknown) => this.#logger.warn({ error: String(err) }, 'streams: the shared catalog could not be read; trying again'))
        .finally(() => {
          if (stopped) return;
          timer = setTimeout(poll, interval);
          unrefTimer(timer);
        });
    };
    timer = setTimeout(poll, interval);
    unrefTimer(timer);
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
      refresh: run,
    };
  }

  async #load(): Promise<ResolvedStreamConfig[]> {
    const out: ResolvedStreamConfig[] = [];
    for (const [key, value] of await this.#values(catalogKeys.streams, 'load')) {
      try {
        out.push(resolveStreamConfig(JSON.parse(value)));
      } catch (err) {
        this.#logger.error({ key, error: String(err) }, 'stream: its configuration cannot be read; the stream is not opened');
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async saveStream(config: ResolvedStreamConfig): Promise<void> {
    this.#known.set(config.name, JSON.stringify(config));
    await this.#ownWrite(config.name, () => this.#put(catalogKeys.stream(config.name), JSON.stringify(config), config.name));
  }

  /** The config goes first: a failure halfway leaves streams no config claims, never a config without its log. */
  async deleteStream(name: string): Promise<void> {
    this.#known.delete(name);
    await this.#ownWrite(name, async () => {
      const { jsm, kv } = await this.#ready();
      try {
        await whileLeaderless(() => kv.purge(catalogKeys.stream(name)), Date.now() + this.#timeoutMs);
        for (const stream of [name, `${name}${DLQ_SUFFIX}`]) {
          for (const [key] of await this.#values(catalogKeys.consumers(stream), 'delete'))
            await whileLeaderless(() => kv.purge(key), Date.now() + this.#timeoutMs);
        }
        for (const part of ['log', 'dlq'] as const) {
          try {
            await jsm.streams.delete(logNames(this.#prefix, name, part).stream);
          } catch (err) {
            if (jsErrCode(err) !== JS_STREAM_NOT_FOUND) throw err;
          }
        }
      } catch (err) {
        throw jetStreamFailure('delete', name, err);
      }
    });
  }

  /**
   * A write of this hub's to stream `name` in the catalog: while it runs, and for every poll that
   * began before it ended, the watch reports nothing of that stream (a poll's read may predate it).
   */
  async #ownWrite(name: string, write: () => Promise<void>): Promise<void> {
    this.#writing.set(name, (this.#writing.get(name) ?? 0) + 1);
    try {
      await write();
    } finally {
      const left = (this.#writing.get(name) ?? 1) - 1;
      if (left === 0) this.#writing.delete(name);
      else this.#writing.set(name, left);
      this.#touched.set(name, ++this.#writes);
    }
  }

  async openStorage(config: ResolvedStreamConfig, part: StoragePart): Promise<StreamStorage> {
    const { jsm } = await this.#ready();
    const { maxAgeMs, maxBytes, maxMessages, maxMessagesPerTopic } = config;
    const retention: RetentionLimits = {};
    if (part === 'log') {
      if (maxAgeMs !== undefined) retention.maxAgeMs = maxAgeMs;
      if (maxBytes !== undefined) retention.maxBytes = maxBytes;
      if (maxMessages !== undefined) retention.maxMessages = maxMessages;
      if (maxMessagesPerTopic !== undefined) retention.maxMessagesPerTopic = maxMessagesPerTopic;
    }
    const o = this.#o;
    return JetStreamStorage.open(
      this.#nc,
      {
        stream: config.name,
        part,
        retention,
        duplicateWindowMs: part === 'log' ? config.duplicateWindowMs : 0,
        prefix: this.#prefix,
        logger: this.#logger,
        ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
        ...(o.discard !== undefined && part === 'log' ? { discard: o.discard } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.refreshIntervalMs !== undefined ? { refreshIntervalMs: o.refreshIntervalMs } : {}),
      },
      jsm,
    );
  }

  async loadConsumers(stream: string): Promise<StoredConsumer[]> {
    const out: StoredConsumer[] = [];
    for (const [key, value] of await this.#values(catalogKeys.consumers(stream), 'load')) {
      try {
        const raw = JSON.parse(value) as StoredConsumer;
        const config = resolveConsumerConfig(raw.config);
        if (config.durable === undefined || !validConsumerState(raw.state)) throw new Error('not a consumer state');
        out.push({ config: { ...config, durable: config.durable }, state: raw.state });
      } catch (err) {
        this.#logger.error({ stream, key, error: String(err) }, 'stream consumer: its saved state cannot be read; it is left out');
      }
    }
    return out;
  }

  async saveConsumer(stream: string, consumer: StoredConsumer): Promise<void> {
    await this.#put(catalogKeys.consumer(stream, consumer.config.durable), JSON.stringify(consumer), stream);
  }

  async deleteConsumer(stream: string, durable: string): Promise<void> {
    const { kv } = await this.#ready();
    try {
      await whileLeaderless(() => kv.purge(catalogKeys.consumer(stream, durable)), Date.now() + this.#timeoutMs);
    } catch (err) {
      throw jetStreamFailure('delete-consumer', stream, err);
    }
  }

  /**
   * The JetStream manager and the bucket (created when missing), once; a failure is tried again
   * next time. While JetStream does not answer (timeout, unavailable: a node restarting, an
   * election), it is asked again, 250 ms doubling to 2 s apart, for up to `openTimeoutMs`.
   */
  #ready(): Promise<Handles> {
    this.#handles ??= (async () => {
      const timeout = this.#timeoutMs;
      const bucket = catalogBucket(this.#prefix);
      const failure = (err: unknown) => jetStreamFailure('open', `KV_${bucket}`, err);
      const open = async (): Promise<Handles> => {
        const jsm = await this.#nc.jetstreamManager({ timeout });
        const replicas = this.#o.replicas ?? defaultReplicas(this.#nc);
        const kv = await this.#nc.jetstream({ timeout }).views.kv(bucket, { history: 1, replicas, allow_direct: false, timeout });
        return { jsm, kv };
      };
      try {
        return await retrying(open, {
          deadline: Date.now() + (this.#o.openTimeoutMs ?? DEFAULT_JETSTREAM_OPEN_TIMEOUT_MS),
          firstWaitMs: 250,
          maxWaitMs: 2_000,
          retryable: (err) => ['timeout', 'unavailable'].includes(String(failure(err).details?.reason)),
          retrying: (err) =>
            this.#logger.warn(
              { bucket: `KV_${bucket}`, reason: failure(err).details?.reason },
              'streams: JetStream does not answer yet; trying again',
            ),
        });
      } catch (err) {
        throw failure(err);
      }
    })();
    this.#handles.catch(() => {
      this.#handles = undefined;
    });
    return this.#handles;
  }

  async #put(key: string, value: string, stream: string): Promise<void> {
    const { kv } = await this.#ready();
    try {
      await whileLeaderless(() => kv.put(key, bytes.encode(value)), Date.now() + this.#timeoutMs);
    } catch (err) {
      throw jetStreamFailure('save', stream, err);
    }
  }

  /**
   * The live values of the keys matching `filter` (deleted and purged ones left out). The keys come
   * from the bucket stream's subject list (a request, where nats.js's `keys()` would create a
   * consumer, which a dead node can hold up).
   */
  async #values(filter: string, op: string): Promise<Array<[string, string]>> {
    const { jsm, kv } = await this.#ready();
    const bucket = catalogBucket(this.#prefix);
    const subjectPrefix = `$KV.${bucket}.`;
    try {
      const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: subjectPrefix + filter });
      const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(subjectPrefix.length));
      const out: Array<[string, string]> = [];
      for (const key of keys.sort()) {
        const e = await whileLeaderless(() => kv.get(key), Date.now() + this.#timeoutMs);
        if (e !== null && e.operation === 'PUT') out.push([key, text.decode(e.value)]);
      }
      return out;
    } catch (err) {
      throw jetStreamFailure(op, `KV_${bucket}`, err);
    }
  }
}
