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
