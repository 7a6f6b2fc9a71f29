/**
 * The shapes of crossbus sync (seed 002 §2.2 and §3.3, issue 18), shared by the core and the
 * client plugin. Everything here is plain JSON: changes travel in log entries and snapshots.
 */

/**
 * A text edited in place, as fast-diff describes it, covering the whole old text in order:
 * a positive integer retains that many UTF-16 code units, a string inserts itself, `{ d }`
 * deletes the text `d` (carried, so that an edit inverts without the old text).
 */
export type TextEdit = readonly TextStep[];
export type TextStep = number | string | { readonly d: string };

/**
 * A binary file edited in place: the new bytes as a sequence of parts, each either a slice of
 * the old bytes (`at`, `len`: a chunk both versions share) or new bytes (`data`, base64).
 * `from` is the old length in bytes, checked before the edit applies.
 */
export interface ChunkEdit {
  readonly from: number;
  readonly parts: readonly ChunkPart[];
}
export type ChunkPart = { readonly at: number; readonly len: number } | { readonly data: string };

/** One operation on a document (seed 002 §2.2), invertible where it carries `oldValue`/`text`. */
export interface DeltaOperation {
  readonly type: 'insert' | 'update' | 'delete';
  /** JSON pointer (RFC 6901) in a JSON document; `/dir/file.txt` in a file tree. `-` appends to an array (insert only). */
  readonly path: string;
  /** JSON value (insert, update); a new file's content (`FileContent`). */
  readonly value?: unknown;
  /** What was there (update, delete): makes ops invertible and conflicts explainable. Receivers never rely on it. */
  readonly oldValue?: unknown;
  /** Hybrid-logical-clock physical part, milliseconds. */
  readonly timestamp: number;
  /** A text (a string, or a `{ text }` file) edited in place: an update without `value`. */
  readonly text?: TextEdit;
  /** A binary file (`{ base64 }`) edited in place: an update without `value`. */
  readonly chunks?: ChunkEdit;
}

/** A file of a file tree: text, or bytes as standard base64. Directories are plain objects. */
export type FileContent = { readonly text: string } | { readonly base64: string };

/** How concurrent operations on overlapping paths are settled (`custom:<name>` names a resolver). */
export type SyncStrategy = 'lww' | 'merge' | 'manual' | `custom:${string}`;

/** One rule of a document's strategies: a glob over `/`-separated paths (`*` one segment or part of one, `**` any). */
export interface PathStrategy {
  readonly path: string;
  readonly strategy: SyncStrategy;
}

/**
 * The limits every replica of a document must share, because they change what the log means
 * (when a change is stale, when a conflict is decided instead of parked, what is too large).
 * Set in the document's meta entry; a limit left out has its default (./defaults.ts).
 */
export interface DocumentLimits {
  /** Log entries whose effective changes are kept: a change based further back is stale. @default 1000 */
  readonly historyLimit?: number;
  /** Conflicts parked at once; past it a new conflict is decided by lww and counted. @default 256 */
  readonly maxConflicts?: number;
  /** Resolved conflicts kept for people and metrics (the oldest go first). @default 100 */
  readonly maxResolvedConflicts?: number;
  /** Largest text or binary value (a file, a string), in bytes (UTF-8, or decoded base64). @default 4 MiB */
  readonly maxFileBytes?: number;
  /** Largest change, in bytes of its JSON text, refused when it is made. @default 768 KiB */
  readonly maxChangeBytes?: number;
  /**
   * Replicas the version vector keeps; past it, those whose last change left the history are
   * forgotten, oldest first (a change of theirs from before is then stale, never a duplicate
   * applied twice). @default 1000
   */
  readonly maxReplicas?: number;
  /** How far ahead of the hub's time (when it stored the entry) a change's clock may be, in ms; further is clamped. @default 60000 */
  readonly maxClockSkewMs?: number;
}

/**
 * What a document is and how its conflicts are settled: set once, by the first meta entry in
 * its log (never per replica: every replica must decide the same).
 */
export interface DocumentMeta {
  /** `json`: any JSON value; `files`: a tree of directories (objects) and `FileContent` leaves. @default 'json' */
  readonly kind?: 'json' | 'files';
  /** How replicas notice local edits (seed 002 §2.4): read by the client, carried by the core. @default 'sequence' */
  readonly changeDetection?: 'sequence' | 'timestamp' | 'hash';
  /** First match wins; a path no rule matches uses `merge`. @default [] */
  readonly strategies?: readonly PathStrategy[];
  /** The limits every replica shares; each one left out has its default. @default {} */
  readonly limits?: DocumentLimits;
}

/** Settles a parked conflict on every replica: keep what is there, take the parked op, or set a value. */
export interface ConflictResolve {
  readonly conflict: string;
  readonly take: 'local' | 'remote' | 'merged';
  /** The merged value (`take: 'merged'`); absent deletes the path. */
  readonly value?: unknown;
}

/** The unit of the log: all of its ops apply, or none. */
export interface Change {
  /** Replica id: random, stable per replica, persisted with its offline queue. */
  readonly replica: string;
  /** Per-replica sequence number, 1, 2, 3 … (version vectors count these). */
  readonly rseq: number;
  /** The log seq the author had applied when it made the change. */
  readonly base: number;
  /** Hybrid logical clock, fixed width, comparable as a string, ties broken by replica id. */
  readonly hlc: string;
  readonly ops: readonly DeltaOperation[];
  /** SHA-256 (base64url) of the touched paths' content after apply, by the author. */
  readonly hash?: string;
  readonly resolve?: ConflictResolve;
  /** The document's meta: the first one in the log is taken, a different later one is rejected. */
  readonly meta?: DocumentMeta;
}

/** A change as the log ordered it. Changes of one message (a batch) share its seq. */
export type LogEntry = Change & {
  readonly seq: number;
  /**
   * When the hub stored the entry (ms, the stream's timestamp: the same for every replica). The
   * change's clock is clamped to at most this plus `limits.maxClockSkewMs`. Absent: not clamped.
   */
  readonly stored?: number;
};

/**
 * A conflict (seed 002 §3.3), with what a person needs to decide. `localChange` is what the log
 * holds at the path (the earlier, concurrent change); `remoteChange` is what the later change
 * (by `replica`) wanted there. Both are self-contained: resolving `remote` sets its value.
 */
export interface ConflictInfo {
  /** `${seq}:${opIndex}`, where opIndex counts the ops of the message at `seq`. */
  readonly id: string;
  readonly path: string;
  readonly localChange: DeltaOperation;
  readonly remoteChange: DeltaOperation;
  /** HLC time (ms) of the change that met the conflict: the same on every replica. */
  readonly detectionTime: number;
  readonly resolution?: 'local' | 'remote' | 'merged' | 'user';
  /** HLC time (ms) of the change that resolved it. */
  readonly resolvedTime?: number;
  /** The strategy that met it: `lww`, `merge`, `manual`, `custom:<name>`, or `stale` (a change based too far back). */
  readonly strategy: string;
  /** Whose change was parked (or lost, for a decided conflict). */
  readonly replica: string;
  /** The replica whose `resolve` change settled it (absent when lww decided). */
  readonly resolvedBy?: string;
}
