/**
 * `bus.sync`: opens replicated documents on a Bus. `createSync(bus)` makes one for any Bus that has
 * the streams plugin (a page client's, from 'crossbus/sync'); `connect()` from 'crossbus' gives a
 * Bus that has it as `bus.sync`. The documents close with the bus. Runtime-neutral.
 */
import { webCryptoSha256, type Sha256Provider } from './sha256.js';
import { ConfigError } from '../../core/errors/index.js';
import type { Metric } from '../../core/metrics/metric.js';
import type { Bus } from '../bus.js';
import type { SyncDocument } from './sync-doc.js';
import type { OpenOptions } from './open-doc.js';
import { resolveSyncOptions, type ResolvedSyncOptions } from './options.js';
import { MemorySyncStore, type SyncStore } from './store.js';
import { syncMetrics } from './sync-metrics.js';

export interface SyncOptions {
  /** The first token of every document's topic: `sync` makes `project/42` topic `sync.project.42`. @default DEFAULT_SYNC_TOPIC_PREFIX */
  topicPrefix?: string;
  /** Where documents keep their offline queues, unless `open()` names another. @default a MemorySyncStore (lost when the process ends) */
  store?: SyncStore;
  /** SHA-256 (stream names, change hashes, chunk ids): any CryptoProvider will do. @default the runtime's WebCrypto (Node's crypto with connect() from 'crossbus' in Node) */
  crypto?: Sha256Provider;
}

export class SyncApi {
  readonly #bus: Bus;
  readonly #options: ResolvedSyncOptions;
  readonly #open = new Set<SyncDocument<unknown>>();
  /** The documents open (or opening), by store. */
  readonly #opening = new Map<SyncStore, Set<string>>();

  /** @internal use createSync(), or `bus.sync` */
  constructor(bus: Bus, options: SyncOptions) {
    this.#bus = bus;
    // Asked now, so that a Bus without the streams plugin fails here, saying how to get it.
    void bus.streams;
    this.#options = resolveSyncOptions(options, () => new MemorySyncStore(), webCryptoSha256);
    bus.on('closed', () => {
      // What each document saves on closing was saved before it was sent: a failing save loses nothing acknowledged.
      for (const doc of [...this.#open]) doc.close().catch(() => {});
    });
  }

  /**
   * Opens document `doc` (`project/42`: tokens separated by `/`): creates its stream on the hub
   * when it is the first to, loads what the store kept, reads the log up to its end and resolves
   * with the document, from then on kept in step. Without the hub (the bus not connected), a
   * document the store holds opens from it (its confirmed state and offline queue), takes edits,
   * and joins its log once the bus connects. Rejects with CB_ERR_TOPIC_INVALID for a name that
   * cannot be a topic, CB_ERR_FORBIDDEN when the app may not read it, CB_ERR_CONNECTION_FAILED
   * when the bus is not connected and the store does not hold the document.
   */
  async open<T = unknown>(doc: string, options: OpenOptions = {}): Promise<SyncDocument<T>> {
    // One replica per document and store: a second would load the same replica id and reuse its rseqs.
    const store = options.store ?? this.#options.store;
    let docs = this.#opening.get(store);
    if (docs?.has(doc)) {
      throw new ConfigError(
        'CB_ERR_CONFLICTING_OPTIONS',
        `document ${JSON.stringify(doc)} is open already with this store: use that one, or another store`,
        {
          details: { option: 'store' },
        },
      );
    }
    if (docs === undefined) this.#opening.set(store, (docs = new Set()));
    docs.add(doc);
    let opened: SyncDocument<T>;
    try {
      // Loaded on the first open: a bundle that splits code keeps the sync engine (its diff, merge
      // and compression libraries) out of what every page of an app downloads up front.
      const { SyncDocument } = await import('./sync-doc.js');
      opened = await SyncDocument.open<T>(this.#bus, doc, options, this.#options);
    } catch (error) {
      docs.delete(doc);
      throw error;
    }
    this.#open.add(opened as SyncDocument<unknown>);
    opened.onClose(() => {
      this.#open.delete(opened as SyncDocument<unknown>);
      docs.delete(doc);
    });
    return opened;
  }

  /** The documents open now. */
  get documents(): ReadonlyArray<SyncDocument<unknown>> {
    return [...this.#open];
  }

  /**
   * Every open document's metrics (see `SyncDocument.metrics()`), one Metric per name with a
   * sample per document (label `doc`), read when the exporter asks: a closed document leaves them.
   */
  metrics(): readonly Metric[] {
    return syncMetrics(() => this.#open);
  }
}

/** `bus.sync` for a Bus made otherwise (a page client's: it needs the streams plugin). */
export function createSync(bus: Bus, options: SyncOptions = {}): SyncApi {
  return new SyncApi(bus, options);
}
