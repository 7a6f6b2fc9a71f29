/**
 * Every default of crossbus sync, in one place. Document limits (what every replica of a
 * document must share) are set in its meta entry; codec, chunking and replica options per call.
 */

// --- names -----------------------------------------------------------------------------------

/** First token of every document's topic: `project/42` is `sync.project.42`. @default 'sync' */
export const DEFAULT_SYNC_TOPIC_PREFIX = 'sync';

// --- document limits (DocumentMeta.limits) ----------------------------------------------------

/** Log entries whose effective changes are kept; a change based further back is stale. @default 1000 */
export const DEFAULT_SYNC_HISTORY_LIMIT = 1000;
/** Conflicts parked at once; past it a new conflict is decided by lww and counted. @default 256 */
export const DEFAULT_SYNC_MAX_CONFLICTS = 256;
/** Resolved conflicts kept for people and metrics. @default 100 */
export const DEFAULT_SYNC_MAX_RESOLVED_CONFLICTS = 100;
/** Largest text or binary value (a file, a string), in bytes. @default 4 MiB */
export const DEFAULT_SYNC_MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Largest change, in bytes of its JSON text (below the hub's 1 MiB frame, with room for headers). @default 768 KiB */
export const DEFAULT_SYNC_MAX_CHANGE_BYTES = 768 * 1024;
/** Replicas a document's version vector keeps before it forgets those whose last change left the history. */
export const DEFAULT_SYNC_MAX_REPLICAS = 1000;
/** How far ahead of the hub's time a change's clock may be before it is clamped (ms). */
export const DEFAULT_SYNC_MAX_CLOCK_SKEW_MS = 60_000;

// --- replica options ---------------------------------------------------------------------------

/** Local changes waiting to be confirmed (the offline queue) before `edit` refuses more. @default 10_000 */
export const DEFAULT_SYNC_MAX_PENDING = 10_000;

// --- deltas -------------------------------------------------------------------------------------

/** Strings at least this long (either side) are diffed as text edits by `diffJson`; shorter ones are replaced. @default 256 */
export const DEFAULT_SYNC_TEXT_DIFF_MIN_LENGTH = 256;

// --- batches on the wire -------------------------------------------------------------------------

/** Batches whose JSON is at least this many bytes are deflated. @default 1 KiB */
export const DEFAULT_SYNC_COMPRESS_THRESHOLD = 1024;
/** Largest encoded batch, in bytes (the hub's frame limit). @default 1 MiB */
export const DEFAULT_SYNC_MAX_BATCH_BYTES = 1024 * 1024;
/** Largest batch once inflated, in bytes: a decompression bomb stops here. @default 16 MiB */
export const DEFAULT_SYNC_MAX_INFLATED_BYTES = 16 * 1024 * 1024;

// --- content-defined chunking ---------------------------------------------------------------------

/** Smallest chunk, in bytes (except a file's last). @default 2 KiB */
export const DEFAULT_SYNC_CHUNK_MIN_BYTES = 2 * 1024;
/** Average chunk the boundary test aims at, in bytes (a power of two). @default 8 KiB */
export const DEFAULT_SYNC_CHUNK_AVG_BYTES = 8 * 1024;
/** Largest chunk, in bytes: a boundary is forced here. @default 64 KiB */
export const DEFAULT_SYNC_CHUNK_MAX_BYTES = 64 * 1024;
