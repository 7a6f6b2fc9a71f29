/**
 * Every default of the Node layer (the data folder, stream segment logs, key rotation), in one place.
 */
import type { DurabilityPolicy, RetentionLimits } from '../core/streams/storage.js';

/** The hub's state directory when none is given. @default '.crossbus' (relative to the working directory) */
export const DEFAULT_DATA_DIR = '.crossbus';

/** When an append is acknowledged. @default 'fsync' */
export const DEFAULT_DURABILITY: DurabilityPolicy = 'fsync';
/** A segment rolls once the next append would take it past this size. @default 64 MiB */
export const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
/**
 * A segment log's active segment is sealed early, so that compaction can give its deleted
 * records' space back, once it is this big and half of it is deleted. @default 1 MiB
 */
export const DEFAULT_MIN_COMPACT_BYTES = 1024 * 1024;
/** Most record bytes one `read` returns (at least one message is returned). @default 1 MiB */
export const DEFAULT_READ_MAX_BYTES = 1024 * 1024;
/** Most messages one `read` returns. @default 1000 */
export const DEFAULT_READ_MAX_MESSAGES = 1000;
/** No retention limit: keep everything. @default {} */
export const DEFAULT_RETENTION: Readonly<RetentionLimits> = Object.freeze({});
/** How often the `interval` policy fsyncs. @default 200 */
export const DEFAULT_SYNC_INTERVAL_MS = 200;

/** How long the old keys keep working after a rotation. @default 7 days */
export const DEFAULT_ROTATION_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

/** How often a lock waiter looks again (a config writer waiting for another). @default 25 */
export const DEFAULT_LOCK_POLL_MS = 25;
/** A takeover guard older than this was left by a process that died while holding it. @default 2000 */
export const DEFAULT_STALE_GUARD_MS = 2000;
/** How long `keys rotate` waits for another writer of the config file. @default 5000 */
export const DEFAULT_CONFIG_LOCK_WAIT_MS = 5000;

/** Names of the JetStream streams, subjects and catalog bucket of a clustered hub. @default 'CB' */
export const DEFAULT_JETSTREAM_PREFIX = 'CB';
/** Most replicas of a stream (fewer when the NATS cluster has fewer servers). @default 3 */
export const DEFAULT_JETSTREAM_REPLICAS = 3;
/** How long one JetStream request or publish waits for its answer (a leader election takes seconds). @default 5000 */
export const DEFAULT_JETSTREAM_TIMEOUT_MS = 5000;
/** How often a JetStream log refreshes its cached state (deletes and purges made by other hubs). @default 5000 */
export const DEFAULT_JETSTREAM_REFRESH_MS = 5000;
/**
 * How long a hub keeps trying to open the shared catalog while JetStream does not answer (a node
 * restarting, a meta leader election) before it gives up. @default 30000
 */
export const DEFAULT_JETSTREAM_OPEN_TIMEOUT_MS = 30_000;
/**
 * How long a hub waits for another hub's notice of an append it has heard of a later one for,
 * before it reads the gap from the stream (notices of several hubs interleave). @default 200
 */
export const DEFAULT_JETSTREAM_NOTICE_GRACE_MS = 200;
/** How often a hub reads the shared stream catalog for streams other hubs created, changed or deleted. */
export const DEFAULT_JETSTREAM_CATALOG_POLL_MS = 1000;
/**
 * Longest subject a stored message may have, in UTF-8 bytes: nats-server refuses control lines
 * over 4096 bytes (`max_control_line`) and closes the connection, so longer topics are refused
 * before they are sent. @default 3584
 */
export const MAX_JETSTREAM_SUBJECT_BYTES = 3584;
