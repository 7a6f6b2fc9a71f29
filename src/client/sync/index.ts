/** The sync client's public API, shared by the Node and browser `crossbus/sync` entries. Runtime-neutral. */
export { createSync, SyncApi, type SyncOptions } from './sync-api.js';
export { SyncingBus, type SyncConnectOptions } from './syncing-bus.js';
export { SyncDocument } from './sync-doc.js';
export type { SyncDocumentEvents } from './doc-context.js';
export type { OpenOptions } from './open-doc.js';
export type { ClientOpenOptions, SyncMode } from './options.js';
export { MemorySyncStore, type StoredDocument, type StoredQueue, type SyncStore } from './store.js';
export type { AnnouncedConflict, ConflictAnnouncement } from './conflict-announcer.js';
export { SYNC_RESOLUTION_BUCKETS, type ConflictOutcome } from './doc-metrics.js';
export {
  DEFAULT_SYNC_INTERVAL_MS,
  DEFAULT_SYNC_MAX_ACK_PENDING,
  DEFAULT_SYNC_MAX_ANNOUNCEMENT_BYTES,
  DEFAULT_SYNC_MAX_PENDING_BYTES,
  DEFAULT_SYNC_MAX_PENDING_CHANGES,
  DEFAULT_SYNC_RETRY_MS,
  DEFAULT_SYNC_SNAPSHOT_EVERY,
} from './defaults.js';
export type { Sha256Provider } from './sha256.js';
// The core's shapes, as documents and their events carry them.
export type {
  Change,
  ChunkEdit,
  ConflictInfo,
  ConflictResolve,
  DeltaOperation,
  DocumentLimits,
  DocumentMeta,
  FileContent,
  LogEntry,
  PathStrategy,
  SyncResolver,
  SyncStats,
  SyncStrategy,
  TextEdit,
} from '../../core/sync/index.js';
export { DEFAULT_SYNC_TOPIC_PREFIX, syncConflictsTopic, syncDocTopic } from '../../core/sync/index.js';
