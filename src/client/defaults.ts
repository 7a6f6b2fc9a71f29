/**
 * Every default of the client, in one place: the Bus, its subscriptions and bridges.
 */
import type { ReconnectOptions } from './options.js';

/** @default 10_000 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** @default 5_000 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Publish resolves at once below this many unsent bytes and waits above it. @default 1 MiB */
export const DEFAULT_MAX_PENDING_BYTES = 1_048_576; // 1 MiB
/** Bytes of publishes kept while reconnecting; beyond, publish rejects CB_ERR_BACKPRESSURE. @default 8 MiB */
export const DEFAULT_RECONNECT_BUFFER_BYTES = 8_388_608; // 8 MiB
/** Frames are batched into one write up to this size. @default 64 KiB */
export const DEFAULT_BATCH_BYTES = 65_536; // 64 KiB
/** Reconnect backoff: 100 ms doubling up to 5 s, half of each delay random, without end. */
export const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = /* @__PURE__ */ Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
});

/** @default 65_536 */
export const DEFAULT_SUBSCRIPTION_MAX_PENDING = 65_536;

/** Hops a message may make across bridges before it is dropped. @default 4 */
export const DEFAULT_MAX_BRIDGE_HOPS = 4;

/** Failover across hubs: a heartbeat (a PING round trip) per endpoint this often. @default 2_000 */
export const DEFAULT_FAILOVER_HEARTBEAT_MS = 2_000;
/** Heartbeats missed in a row that make an endpoint down. @default 2 */
export const DEFAULT_FAILOVER_MAX_MISSED = 2;
/** A hub that was down answers this long without a miss before it is healthy again. @default 10_000 */
export const DEFAULT_FAILOVER_RECOVERY_MS = 10_000;
/** A latency average above this makes an endpoint degraded. @default 500 */
export const DEFAULT_FAILOVER_DEGRADED_RTT_MS = 500;
/** Weight of a new round trip in the latency average. @default 0.2 */
export const DEFAULT_FAILOVER_EWMA_ALPHA = 0.2;
/** Round trips kept per endpoint for p50/p99. @default 128 */
export const DEFAULT_FAILOVER_WINDOW_SIZE = 128;
/** Hubs a client may be given. @default 32 */
export const DEFAULT_FAILOVER_MAX_SERVERS = 32;
