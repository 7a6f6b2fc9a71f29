/**
 * Every default of the sync client (`bus.sync`): its offline queue, its modes, its reading and
 * its snapshots. The core's (history, conflicts, the topic prefix) are in src/core/sync.
 */

/** Changes made here and not yet in the log that a document keeps; one more is CB_ERR_SYNC_TOO_LARGE. @default 10_000 */
export const DEFAULT_SYNC_MAX_PENDING_CHANGES = 10_000;
/** Bytes (of the changes' JSON) not yet in the log that a document keeps; beyond, CB_ERR_SYNC_TOO_LARGE. @default 16 MiB */
export const DEFAULT_SYNC_MAX_PENDING_BYTES = 16_777_216; // 16 MiB
/** Batch mode: edits are gathered for this long, then sent as one change. @default 1_000 */
export const DEFAULT_SYNC_INTERVAL_MS = 1_000;
/** Log entries the reader holds unacknowledged at once (the hub sends no more until some are applied). @default 256 */
export const DEFAULT_SYNC_MAX_ACK_PENDING = 256;
/** Every this many log entries, a snapshot of the confirmed state is published and older entries purged. @default 1_000 */
export const DEFAULT_SYNC_SNAPSHOT_EVERY = 1_000;
/** A change the hub did not take (timeout, lost connection) is sent again after this long while connected. @default 1_000 */
export const DEFAULT_SYNC_RETRY_MS = 1_000;
/**
 * An announcement of a conflict on `<doc topic>.conflicts` stays within this many bytes of JSON:
 * the largest values are left out past it. @default 16 KiB
 */
export const DEFAULT_SYNC_MAX_ANNOUNCEMENT_BYTES = 16_384; // 16 KiB
/** The least `maxAnnouncementBytes` may be: room for a conflict's ids, times and a cut path. */
export const MIN_SYNC_ANNOUNCEMENT_BYTES = 1_024;
