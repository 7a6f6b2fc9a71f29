/**
 * crossbus sync, the core (issue 18): replicated JSON documents and file trees kept in step by
 * a totally ordered log that every replica applies with the same deterministic rules. Pure:
 * no bus, no I/O, no timers. The client plugin (`bus.sync.open`) runs it over durable streams.
 */
export * from './defaults.js';
export type {
  Change,
  ChunkEdit,
  ChunkPart,
  ConflictInfo,
  ConflictResolve,
  DeltaOperation,
  DocumentLimits,
  DocumentMeta,
  FileContent,
  LogEntry,
  PathStrategy,
  SyncStrategy,
  TextEdit,
  TextStep,
} from './types.js';

// names
export { syncConflictsTopic, syncDocTopic, syncSnapshotTopic, syncStreamName } from './doc-names.js';

// clocks and vectors
export { Hlc, clampHlc, compareHlc, formatHlc, parseHlc, replicaIdProblem, type HlcParts } from './hlc.js';
export { VersionVector } from './version-vector.js';

// JSON deltas
export { diffJson, type DiffOptions } from './json-diff.js';
export { applyOps, type ApplyOpsOptions } from './apply-ops.js';
export { getAt } from './doc-writer.js';
export { fromJsonPatch, toJsonPatch, type JsonPatchOperation, type ToJsonPatchOptions } from './json-patch.js';
export { escapeSegment, formatPointer, parsePointer } from './pointer.js';
export { canonicalJson, jsonEqual } from './json-value.js';

// text and binary
export { applyTextEdit, diffText, invertTextEdit } from './text-edit.js';
export { mergeText, type TextMerge } from './text-merge.js';
export { chunk, chunkIds, resolveChunkOptions, sha256Id, type Chunk, type ChunkOptions, type ResolvedChunkOptions } from './chunking.js';
export { applyChunkEdit, diffBinary } from './chunk-edit.js';

// the wire
export { decodeBatch, encodeBatch, type BatchOptions } from './batch.js';
export { changeProblem } from './change-check.js';

// documents and replicas
export { resolveMeta, globToRegExp, type ResolvedMeta } from './meta.js';
export type { ConflictCounts } from './conflict-book.js';
export type { EntryResult } from './apply-entry.js';
export type { SnapshotEffect, SnapshotRecord, SyncSnapshot } from './snapshot.js';
export { resolveReplicaOptions, type ResolvedReplicaOptions, type SyncReplicaOptions, type SyncResolver } from './replica-options.js';
export { SyncReplica, type ReceiveResult, type SyncReplicaEvents, type SyncStats } from './replica.js';
