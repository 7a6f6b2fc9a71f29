/**
 * Every default of the core, in one place: what a setting is when nobody sets it. Options
 * document them with `@default`, the config schema and the CLI's help read them from here, and
 * a setting's validation lives with the option it belongs to.
 */
import type { SlowConsumerPolicy } from './broker/options.js';
import type { EncryptionMode, RateLimit, TopicRate } from './config/schema.js';
import type { FrameLimits } from './limits.js';
import type { KeyExchangeGroup } from './security/crypto.js';
import type { IntegrityAlgorithm, ProtectionMode } from './security/record.js';
import type { DeliverPolicy } from './streams/config.js';
import type { DurabilityPolicy } from './streams/storage.js';
// --- protocol limits (both ends) ------------------------------------------------------------

/** Largest frame body, in bytes, not counting the 4-byte length prefix. @default 1 MiB */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576; // 1 MiB
/** Longest topic or subscription pattern, in UTF-8 bytes. @default 256 */
export const DEFAULT_MAX_TOPIC_LENGTH = 256;
/** Most headers on one message. @default 64 */
export const DEFAULT_MAX_HEADER_COUNT = 64;
/** Most bytes of header names plus values on one message. @default 16 KiB */
export const DEFAULT_MAX_HEADER_BYTES = 16_384; // 16 KiB
/** The four frame limits together. */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = /* @__PURE__ */ Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxTopicLength: DEFAULT_MAX_TOPIC_LENGTH,
  maxHeaderCount: DEFAULT_MAX_HEADER_COUNT,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
});

// --- broker ---------------------------------------------------------------------------------
/** @default 10_000 */
export const DEFAULT_MAX_SUBSCRIPTIONS = 10_000;
/** @default 10_000 */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/**
 * Connections accepted and not yet authenticated, held at once; more are refused at once with
 * CB_ERR_TOO_MANY_HANDSHAKES (retryable), so that a reconnect storm queues in the clients' backoff
 * instead of in handshakes that would time out. @default 512
 */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 512;
/** @default 64 MiB (the same default as nats-server's max_pending) */
export const DEFAULT_MAX_QUEUED_BYTES = 67_108_864; // 64 MiB
/** @default 200_000 */
export const DEFAULT_MAX_QUEUED_MESSAGES = 200_000;
/** Bytes queued across all connections. @default 512 MiB */
export const DEFAULT_MAX_TOTAL_QUEUED_BYTES = 536_870_912; // 512 MiB
/** @default 'disconnect' */
export const DEFAULT_SLOW_CONSUMER_POLICY: SlowConsumerPolicy = 'disconnect';
/** @default 5_000 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
/** @default 20_000 */
export const DEFAULT_HEARTBEAT_MS = 20_000;
/**
 * The hub's heartbeat checks one slice of its connections per tick, so that connections opened
 * together are not all pinged in the same instant. @default 100
 */
export const DEFAULT_HEARTBEAT_TICK_MS = 100;
/** Pings one heartbeat tick sends at most; the rest go out on the next ticks. @default 256 */
export const DEFAULT_HEARTBEAT_PINGS_PER_TICK = 256;
/** Bytes the broker lets a transport hold before it keeps frames in its own queue. @default 1 MiB */
export const DEFAULT_TRANSPORT_HIGH_WATER_BYTES = 1_048_576; // 1 MiB

// --- routing --------------------------------------------------------------------------------
/** @default 4096 */
export const DEFAULT_MATCH_CACHE_SIZE = 4096;

// --- security: what both ends of a connection share -----------------------------------------
/** Clock skew accepted in either direction for hellos and records. @default 30_000 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;
/** Records under one key before the sender re-keys. @default 1_000_000 */
export const DEFAULT_REKEY_AFTER_RECORDS = 1_000_000;
/** Time under one key before the sender re-keys. @default 3_600_000 (one hour) */
export const DEFAULT_REKEY_AFTER_MS = 3_600_000;
/** Payload bytes under one key before the sender re-keys. @default 2**34 (16 GiB, far inside AES-GCM's bounds) */
export const DEFAULT_REKEY_AFTER_BYTES = 17_179_869_184; // 2 ** 34 (16 GiB)
/** Group for the ephemeral key exchange. P-256 is in every WebCrypto. @default 'P-256' */
export const DEFAULT_KEY_EXCHANGE_GROUP: KeyExchangeGroup = 'P-256';
/** Records are encrypted unless a client asks for integrity only. @default 'encrypt' */
export const DEFAULT_PROTECTION_MODE: ProtectionMode = 'encrypt';
/**
 * Integrity-only algorithms a client offers and a hub accepts, in order of preference.
 * @default ['aes-256-gmac', 'hmac-sha256']
 */
export const DEFAULT_INTEGRITY_ALGORITHMS: readonly IntegrityAlgorithm[] = ['aes-256-gmac', 'hmac-sha256'];
/** Secrets shorter than this are refused. @default 32 */
export const MIN_SECRET_BYTES = 32;

// --- security: the hub config, rate limits, abuse control, consent --------------------------
/** Clients choose; encryption is their default. @default 'preferred' */
export const DEFAULT_ENCRYPTION: EncryptionMode = 'preferred';
/** Records under one key before re-keying. @default 1_000_000 */
export const DEFAULT_REKEY_AFTER_MESSAGES = DEFAULT_REKEY_AFTER_RECORDS;
/** How long a consent prompt waits for a person. @default 60_000 */
export const DEFAULT_CONSENT_TIMEOUT_MS = 60_000;
/** Violations in the window at which the app is disconnected. @default 50 */
export const DEFAULT_ABUSE_VIOLATIONS_PER_WINDOW = 50;
/** Length of the sliding window. @default 10_000 */
export const DEFAULT_ABUSE_WINDOW_MS = 10_000;
/** Violations in the window at which the app is first slowed down (rate halved). @default 10 */
export const DEFAULT_ABUSE_SLOWDOWN_AFTER = 10;
/** Violations within `windowMs` after which a connection is cut as abusive. @default { violationsPerWindow: 50, windowMs: 10_000 } */
// Not typed as AbuseConfig: the schema takes its defaults from here, and AbuseConfig from the schema.
export const DEFAULT_ABUSE = /* @__PURE__ */ Object.freeze({
  violationsPerWindow: DEFAULT_ABUSE_VIOLATIONS_PER_WINDOW,
  windowMs: DEFAULT_ABUSE_WINDOW_MS,
});
/** Hub-wide message rate per connection. @default { perSecond: 1000, burst: 2000 } */
export const DEFAULT_RATE: Readonly<RateLimit> = /* @__PURE__ */ Object.freeze({ perSecond: 1000, burst: 2000 });
/** Allowed browser origins. @default [] (no browser page may connect) */
export const DEFAULT_ORIGINS: readonly string[] = /* @__PURE__ */ Object.freeze([]);
/** Per-topic rates. @default [] */
export const DEFAULT_TOPIC_RATES: readonly TopicRate[] = /* @__PURE__ */ Object.freeze([]);
/** Id given to a lone `secret`. @default 'k1' */
export const DEFAULT_KEY_ID = 'k1';

/** Requests waiting for a person at most; more are refused as rate limited. @default 1_000 */
export const DEFAULT_MAX_PENDING_CONSENTS = 1_000;

/** (app, rule) buckets kept at most; the least recently used is dropped first. @default 10_000 */
export const DEFAULT_MAX_TOPIC_BUCKETS = 10_000;

// --- durable streams and consumers ----------------------------------------------------------
/** How long a delivery may stay unacknowledged before it is given out again. @default 30_000 */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** Redelivery delays after the 1st, 2nd, ... failed delivery (the last one repeats). @default [] (no delay) */
export const DEFAULT_BACKOFF_MS: readonly number[] = /* @__PURE__ */ Object.freeze([]);
/** @default 'all' */
export const DEFAULT_DELIVER: DeliverPolicy = 'all';
/** Idempotent publishes: how long a `msgId` is remembered. @default 120_000 (as JetStream) */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/** Unacknowledged messages (delivered or waiting for redelivery) one consumer may have. @default 1000 */
export const DEFAULT_MAX_ACK_PENDING = 1000;
/** Deliveries of one message before it moves to the dead-letter stream. @default 5 */
export const DEFAULT_MAX_DELIVER = 5;
/** @default 'fsync' */
export const DEFAULT_STREAM_DURABILITY: DurabilityPolicy = 'fsync';

/** @default 1000 */
export const DEFAULT_MAX_STREAMS = 1000;
/** @default 1000 */
export const DEFAULT_MAX_CONSUMERS_PER_STREAM = 1000;
/** @default 1000 */
export const DEFAULT_RETENTION_INTERVAL_MS = 1000;
/** About 15 MB of ids per stream at most. @default 100_000 */
export const DEFAULT_MAX_DUPLICATE_IDS = 100_000;
/** A durable consumer's position is saved at most this long after it changed. @default 100 */
export const DEFAULT_CONSUMER_SAVE_DELAY_MS = 100;

// --- metrics ----------------------------------------------------------------------------------
/** Topic patterns `crossbus_topic_messages_total` may count (hub config `metrics.topics`). @default 100 */
export const DEFAULT_MAX_METRIC_TOPICS = 100;

// --- resource pools (seed 002 §1.3) ----------------------------------------------------------
/** Most resources a pool holds, idle and in use together. @default 10 */
export const DEFAULT_POOL_MAX_SIZE = 10;
/** Resources a pool creates up front and keeps through idle clean-up. @default 2 */
export const DEFAULT_POOL_MIN_SIZE = 2;
/** How long `acquire()` waits for a resource before it fails with CB_ERR_POOL_TIMEOUT. @default 30_000 */
export const DEFAULT_POOL_ACQUIRE_TIMEOUT_MS = 30_000;
/** An idle resource older than this is destroyed (down to `minSize`). @default 300_000 (five minutes) */
export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 300_000;
/** Creation is tried again this many times after a failure before the pool gives up. @default 3 */
export const DEFAULT_POOL_RETRY_ATTEMPTS = 3;
/** Pause between two attempts to create a resource. @default 1_000 */
export const DEFAULT_POOL_RETRY_DELAY_MS = 1_000;
/** Most resources created per second: a pool refilling after an outage must not storm its server. @default 100 */
export const DEFAULT_POOL_MAX_CREATE_RATE = 100;
/** How long `drain()` waits for held resources to come back before it destroys them. @default 30_000 */
export const DEFAULT_POOL_DRAIN_TIMEOUT_MS = 30_000;
