/**
 * The hub's durable streams: it answers STREAM operations, stores the publishes its streams
 * capture (answering durable ones once stored), runs the consumers and settles their ACKs.
 * It reaches connections only through `StreamServiceHost`, which the broker implements, and
 * storage only through a `StreamCatalog`. Isomorphic.
 *
 * This class wires the parts and answers the broker: `PublishCapture` (publishes),
 * `StreamAdmin` (STREAM operations), `ConsumerRegistry` (members, ACKs), `StreamLoader` and
 * `StreamQuarantine` (opening streams, damaged ones), `ConsumerPositions` (saving positions),
 * `DeadLetters`, over the `StreamTable` of the streams it holds.
 */
import { HubBucket } from '../kv/hub-bucket.js';
import { type ResolvedStreamConfig, resolveStreamConfig } from './config.js';
import type { Stream } from './stream.js';
import { bucketStream, checkBucketName } from '../kv/names.js';
import { bucketStreamConfig, type KvBucketOptions } from '../kv/options.js';
import type { BrokerStreams } from './broker-streams.js';
import { ConfigError, type CrossbusError } from '../errors/index.js';
import type { Envelope } from '../protocol/envelope.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { StreamCatalog } from './catalog.js';
import { ConsumerPositions } from './consumer-positions.js';
import { ConsumerRegistry } from './consumer-registry.js';
import { DeadLetters } from './dead-letters.js';
import { streamMetrics } from './stream-metrics.js';
import type { Metric, MetricsSource } from '../metrics/metric.js';
import { HostLink } from './host-link.js';
import { PublishCapture } from './publish-capture.js';
import { StreamQuarantine } from './quarantine.js';
import { StreamAdmin } from './stream-admin.js';
import { StreamLoader } from './stream-loader.js';
import { StreamTable } from './stream-table.js';
import type { StreamInfo } from './wire.js';
import { unrefTimer } from '../util/timers.js';

export { MAX_READ_MESSAGES } from './stream-admin.js';
import {
  DEFAULT_CONSUMER_SAVE_DELAY_MS,
  DEFAULT_MAX_CONSUMERS_PER_STREAM,
  DEFAULT_MAX_DUPLICATE_IDS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_STREAMS,
  DEFAULT_RETENTION_INTERVAL_MS,
} from '../defaults.js';

/** What happened to a stream, for metrics, logs and the dashboard. */
export interface StreamEvent {
  action:
    | 'created'
    | 'updated'
    | 'deleted'
    | 'purged'
    | 'quarantined'
    | 'dead-letter'
    | 'storage-error'
    | 'consumer-created'
    | 'consumer-deleted';
  stream: string;
  details?: Record<string, unknown>;
}

/** What the service needs from the hub's router, for connections of type S. */
export interface StreamServiceHost<S> {
  /** False when the connection's queue is full enough that deliveries should wait for it to drain. */
  canSend(s: S): boolean;
  send(s: S, env: Envelope): void;
  replyError(s: S, id: number, error: CrossbusError): void;
  /** Access check for a stream operation; refuses (error, audit, strike) and returns false when not allowed. */
  admit(s: S, id: number, action: string, target: string, patterns: readonly string[]): boolean;
  /** The same check without refusing: may `s` see a stream over these patterns? */
  allowed(s: S, patterns: readonly string[]): boolean;
  /** Counts an ACK frame as processed: the client learns it with the next cumulative confirmation. */
  confirmAck(s: S, id: number): void;
  emit(event: StreamEvent): void;
}

export interface StreamServiceOptions {
  catalog: StreamCatalog;
  /** @default silentLogger */
  logger?: Logger;
  /** @default Date.now */
  clock?: () => number;
  /** Longest topic pattern a stream may name. @default 256 */
  maxTopicLength?: number;
  /** Largest frame the hub sends: `read` pages stay below it. @default 1 MiB */
  maxFrameBytes?: number;
  /** How long a durable consumer's changed position may wait before it is saved. @default 100 */
  saveDelayMs?: number;
  /** Streams one hub holds. @default DEFAULT_MAX_STREAMS */
  maxStreams?: number;
  /** Consumers (durable and ephemeral) one stream holds. @default DEFAULT_MAX_CONSUMERS_PER_STREAM */
  maxConsumersPerStream?: number;
  /** How often age retention runs when no message arrives. @default DEFAULT_RETENTION_INTERVAL_MS */
  retentionIntervalMs?: number;
  /**
   * Message ids one stream remembers for de-duplication. Past it, the oldest are forgotten before
   * their `duplicateWindowMs` ends (a retry of one of them is stored again; the hub logs it once
   * per stream and stream info counts them). Bounds the memory of a stream taking many publishes
   * with ids. @default DEFAULT_MAX_DUPLICATE_IDS
   */
  maxDuplicateIds?: number;
}

export class StreamService<S extends object = object> implements BrokerStreams<S>, MetricsSource {
  readonly #catalog: StreamCatalog;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #retentionIntervalMs: number;
  readonly #host = new HostLink<S>();
  readonly #table = new StreamTable<S>();
  readonly #positions: ConsumerPositions<S>;
  readonly #consumers: ConsumerRegistry<S>;
  readonly #quarantine: StreamQuarantine<S>;
  readonly #loader: StreamLoader<S>;
  readonly #capture: PublishCapture<S>;
  readonly #admin: StreamAdmin<S>;
  readonly #metrics: readonly Metric[];
  #retentionTimer: ReturnType<typeof setInterval> | undefined;
  #unwatchCatalog: (() => void) | undefined;
  /** Set when the catalog is shared: brings in a stream another hub created (see StreamAdmin). */
  readonly #lookup: { current: (() => Promise<void>) | undefined } = { current: undefined };
  #closed = false;

  constructor(o: StreamServiceOptions) {
    const catalog = o.catalog;
    const logger = o.logger ?? silentLogger;
    const clock = o.clock ?? Date.now;
    const maxStreams = countOption('maxStreams', o.maxStreams, DEFAULT_MAX_STREAMS);
    const maxConsumers = countOption('maxConsumersPerStream', o.maxConsumersPerStream, DEFAULT_MAX_CONSUMERS_PER_STREAM);
    const maxDuplicateIds = countOption('maxDuplicateIds', o.maxDuplicateIds, DEFAULT_MAX_DUPLICATE_IDS);
    const saveDelayMs = countOption('saveDelayMs', o.saveDelayMs, DEFAULT_CONSUMER_SAVE_DELAY_MS, 0);
    this.#retentionIntervalMs = countOption('retentionIntervalMs', o.retentionIntervalMs, DEFAULT_RETENTION_INTERVAL_MS);
    this.#catalog = catalog;
    this.#logger = logger;
    this.#clock = clock;

    const table = this.#table;
    const host = this.#host;
    this.#positions = new ConsumerPositions<S>(catalog, logger, saveDelayMs);
    const deadLetters = new DeadLetters<S>(host, clock);
    this.#metrics = streamMetrics(table, deadLetters);
    this.#consumers = new ConsumerRegistry<S>({
      table,
      host,
      catalog,
      logger,
      clock,
      maxConsumers,
      positions: this.#positions,
      deadLetters,
      onCorrupt: (stream, error) => this.#quarantine.apply(stream, error),
    });
    this.#quarantine = new StreamQuarantine<S>(logger, host, this.#consumers);
    this.#loader = new StreamLoader<S>({
      table,
      catalog,
      clock,
      maxDuplicateIds,
      consumers: this.#consumers,
      quarantine: this.#quarantine,
    });
    this.#capture = new PublishCapture<S>({ table, host, logger, clock, maxDuplicateIds, lookup: this.#lookup });
    this.#admin = new StreamAdmin<S>({
      table,
      host,
      catalog,
      maxStreams,
      maxTopicLength: o.maxTopicLength,
      maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      clock: this.#clock,
      loader: this.#loader,
      consumers: this.#consumers,
      positions: this.#positions,
      lookup: this.#lookup,
    });
  }

  /** Opens every stored stream; a damaged one is quarantined, the others work. */
  async open(): Promise<void> {
    for (const config of await this.#catalog.load()) await this.#loader.open(config);
    // A catalog shared with other hubs: their new, changed and deleted streams, one at a time.
    let follow = Promise.resolve();
    const then = (step: () => Promise<void>): void => {
      follow = follow
        .then(step)
        .catch((err: unknown) => this.#logger.warn({ error: String(err) }, 'streams: following another hub failed'));
    };
    const watch = this.#catalog.watchStreams?.({
      changed: (config) => then(() => this.#adopt(config)),
      removed: (name) => then(() => this.#forget(name)),
    });
    if (watch !== undefined) {
      this.#unwatchCatalog = () => watch.stop();
      // A stream asked for by name that this hub does not hold: read the catalog once more first.
      this.#lookup.current = async () => {
        await watch.refresh().catch(() => {});
        await follow;
      };
    }
    // Age limits apply even when nothing is published: check them on a timer too.
    this.#retentionTimer = setInterval(() => void this.#enforceAges(), this.#retentionIntervalMs);
    unrefTimer(this.#retentionTimer);
  }

  /** Another hub created or changed a stream: it is opened (again) here with that config. */
  async #adopt(config: ResolvedStreamConfig): Promise<void> {
    if (this.#closed) return;
    await this.#forget(config.name);
    await this.#loader.open(config);
  }

  /** Another hub deleted a stream: it is closed here (its members' consumers end with it). */
  async #forget(name: string): Promise<void> {
    const held = this.#table.get(name);
    if (held === undefined) return;
    this.#table.remove(held);
    await held.close().catch(() => {});
  }

  async #enforceAges(): Promise<void> {
    for (const stream of this.#table.values()) {
      if (stream.config.maxAgeMs === undefined || stream.quarantined !== undefined || stream.storage === undefined) continue;
      try {
        const dropped = await stream.storage.enforceRetention(this.#clock());
        if (dropped > 0) for (const c of stream.consumers.values()) c.pump();
      } catch (err) {
        this.#logger.warn({ stream: stream.name, error: String(err) }, 'stream: age retention failed');
      }
    }
  }

  /** @internal the broker hands itself over. */
  attach(host: StreamServiceHost<S>): void {
    this.#host.current = host;
  }

  names(): string[] {
    return this.#table.names();
  }

  /** What the streams hold, consumer lag and dead letters, for an exporter to read (see metric.ts). */
  metrics(): readonly Metric[] {
    return this.#metrics;
  }

  /**
   * A bucket the hub itself keeps (the settings service's), its stream created when missing
   * (CB_ERR_STREAM_EXISTS when it exists with other settings). Clients see it as any bucket.
   */
  async bucket(name: string, options: KvBucketOptions = {}): Promise<HubBucket> {
    checkBucketName(name);
    const stream = await this.#admin.ensure(resolveStreamConfig(bucketStreamConfig(name, options)));
    return new HubBucket(name, stream as Stream<unknown>, this.#clock);
  }

  /** The hub's bucket `name` if its stream exists, else undefined (nothing is created). */
  existingBucket(name: string): HubBucket | undefined {
    checkBucketName(name);
    const stream = this.#table.get(bucketStream(name));
    return stream === undefined ? undefined : new HubBucket(name, stream as Stream<unknown>, this.#clock);
  }

  /** Whether the streams are shared with other hubs (a cluster's catalog). */
  get shared(): boolean {
    return this.#catalog.shared === true;
  }

  info(name: string): StreamInfo | undefined {
    return this.#table.find(name)?.info();
  }

  /**
   * A routed PUBLISH: stored when a stream captures its topic. A durable publish (header
   * cb-durable) is answered once stored: OK with seq and the stream's name as topic, or ERROR.
   */
  capture(s: S, env: Envelope): void {
    this.#capture.capture(s, env);
  }

  /** A STREAM frame: runs its operation and answers it with OK (JSON) or ERROR. */
  onOperation(s: S, env: Envelope): void {
    this.#admin.onOperation(s, env);
  }

  /** An ACK frame: settles one delivery, or refuses a stale one with CB_ERR_ACK_STALE. */
  onAck(s: S, env: Envelope): void {
    this.#consumers.onAck(s, env);
  }

  /** Whether `sid` on `s` is a consumer (the broker asks before treating an UNSUBSCRIBE as unknown). */
  hasMember(s: S, sid: number): boolean {
    return this.#consumers.hasMember(s, sid);
  }

  /** A member leaves (UNSUBSCRIBE of its sid): what it held goes out again at once. */
  leave(s: S, sid: number): void {
    this.#consumers.leave(s, sid);
  }

  /** A connection closed: it leaves every consumer it was a member of. */
  sessionClosed(s: S): void {
    this.#consumers.sessionClosed(s);
  }

  /** The connection's queue went out: consumers waiting for room on it go on. */
  drained(s: S): void {
    this.#consumers.drained(s);
  }

  /** Saves every durable consumer's position and closes the logs. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#positions.stop();
    this.#unwatchCatalog?.();
    if (this.#retentionTimer !== undefined) clearInterval(this.#retentionTimer);
    await this.#admin.idle();
    await this.#positions.saveAll(this.#table.values());
    for (const stream of this.#table.values()) await stream.close().catch(() => {});
  }
}

function countOption(name: string, value: number | undefined, def: number, min = 1): number {
  if (value === undefined) return def;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${name} must be an integer >= ${min}, got ${String(value)}`, {
      details: { option: name },
    });
  }
  return value;
}
