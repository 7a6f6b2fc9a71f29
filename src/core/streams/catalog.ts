/**
 * The persistence seam of the stream service: where stream configurations, their logs and their
 * consumers' positions live. The Node hub stores them under `<data>/streams` (src/node/streams/
 * file-catalog.ts); `MemoryCatalog` keeps them in memory (tests, a hub without a data directory).
 * A JetStream-backed catalog can be a third. Isomorphic: types only.
 */
import type { ResolvedConsumerConfig, ResolvedStreamConfig } from './config.js';
import type { StreamStorage } from './storage.js';

/** Where a consumer stands. Everything below `nextSeq` that is not outstanding or planned is settled. */
export interface ConsumerState {
  /** The next stream sequence that has never been delivered. */
  nextSeq: number;
  /** Sequences below `nextSeq` still to deliver for the first time, in order ('last-per-topic'). */
  plan: number[];
  /** Unsettled messages: [seq, deliveries so far]. */
  outstanding: Array<[number, number]>;
}

export interface StoredConsumer {
  config: ResolvedConsumerConfig & { durable: string };
  state: ConsumerState;
}

/** The two logs of a stream: its messages, and its dead letters. */
export type StoragePart = 'log' | 'dlq';

/** What a catalog shared with other hubs says when one of them changes its streams. */
export interface CatalogWatcher {
  /** Another hub created or changed a stream: open it (again) with this config. */
  changed(config: ResolvedStreamConfig): void;
  /** Another hub deleted a stream. */
  removed(name: string): void;
}

export interface StreamCatalog {
  /**
   * True when other hubs read and write the same catalog (JetStream): a durable consumer is then
   * read afresh when a member joins it here, since another hub may have moved it on.
   */
  readonly shared?: boolean;
  /**
   * A shared catalog tells of the streams other hubs create, change and delete (not of this
   * hub's own changes), every little while and at once on `refresh()` (a stream asked for that this
   * hub does not know yet). A catalog only this hub uses has none.
   */
  watchStreams?(watcher: CatalogWatcher): { stop(): void; refresh(): Promise<void> };
  /** The configurations of the streams stored so far. */
  load(): Promise<ResolvedStreamConfig[]>;
  saveStream(config: ResolvedStreamConfig): Promise<void>;
  /** Removes the stream with its logs and consumers. */
  deleteStream(name: string): Promise<void>;
  /**
   * Opens one of the stream's logs with the config's retention (the dead-letter log keeps
   * everything) and durability. Rejects with StorageError CB_ERR_STREAM_CORRUPT when stored data
   * is damaged (the service quarantines the stream) or CB_ERR_STORAGE when it cannot be used.
   */
  openStorage(config: ResolvedStreamConfig, part: StoragePart): Promise<StreamStorage>;
  loadConsumers(stream: string): Promise<StoredConsumer[]>;
  /** Replaces the stored state of a durable consumer (atomically: old or new, never a mix). */
  saveConsumer(stream: string, consumer: StoredConsumer): Promise<void>;
  deleteConsumer(stream: string, durable: string): Promise<void>;
}
