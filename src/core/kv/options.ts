/**
 * A bucket's options and what they make of its stream: one stream per bucket, one topic per key,
 * `history` messages kept per key (the stream's `maxMessagesPerTopic`), `ttlMs` its `maxAgeMs`.
 * Isomorphic.
 */
import { createError } from '../errors/index.js';
import type { StreamConfig } from '../streams/config.js';
import type { DurabilityPolicy } from '../streams/storage.js';
import type { StreamInfo } from '../streams/wire.js';
import { bucketStream, bucketTopics } from './names.js';

/** Values a bucket keeps per key, the newest included. @default 1 */
export const DEFAULT_KV_HISTORY = 1;
/** Most values a bucket may keep per key. @default 64 */
export const MAX_KV_HISTORY = 64;

export interface KvBucketOptions {
  /** Values kept per key, the newest included: 1 to MAX_KV_HISTORY. @default DEFAULT_KV_HISTORY */
  history?: number;
  /** A value expires this long after it was written (get, keys and watchers no longer see it). @default never */
  ttlMs?: number;
  /** Most bytes of values the bucket keeps; past it the oldest revisions go first. @default unlimited */
  maxBytes?: number;
  /** When a write is acknowledged: after fsync, or after write(2) with an fsync every few hundred ms. @default 'fsync' */
  durability?: DurabilityPolicy;
}

/** What a bucket is: its options with defaults, as its stream holds them. */
export interface KvBucketStatus {
  readonly bucket: string;
  readonly stream: string;
  readonly history: number;
  readonly ttlMs: number | undefined;
  readonly maxBytes: number | undefined;
  readonly durability: DurabilityPolicy;
  /** Revisions stored (tombstones and history included). */
  readonly values: number;
  readonly bytes: number;
}

/** The stream config of bucket `name`; CB_ERR_INVALID_OPTION for an option out of range. */
export function bucketStreamConfig(name: string, options: KvBucketOptions): StreamConfig {
  if (typeof options !== 'object' || options === null)
    throw createError('CB_ERR_INVALID_OPTION', 'bucket options must be an object', { details: { option: 'options' } });
  const history = options.history ?? DEFAULT_KV_HISTORY;
  if (!Number.isSafeInteger(history) || history < 1 || history > MAX_KV_HISTORY) {
    throw createError('CB_ERR_INVALID_OPTION', `history must be an integer from 1 to ${MAX_KV_HISTORY}`, {
      details: { option: 'history' },
    });
  }
  const config: StreamConfig = {
    name: bucketStream(name),
    topics: [bucketTopics(name)],
    maxMessagesPerTopic: history,
    durability: options.durability ?? 'fsync',
  };
  if (options.ttlMs !== undefined) config.maxAgeMs = positive(options.ttlMs, 'ttlMs');
  if (options.maxBytes !== undefined) config.maxBytes = positive(options.maxBytes, 'maxBytes');
  return config;
}

export function statusOf(bucket: string, info: StreamInfo): KvBucketStatus {
  return {
    bucket,
    stream: info.name,
    history: info.maxMessagesPerTopic ?? 1,
    ttlMs: info.maxAgeMs,
    maxBytes: info.maxBytes,
    durability: info.durability,
    values: info.state.messages,
    bytes: info.state.bytes,
  };
}

function positive(n: unknown, option: string): number {
  if (!Number.isSafeInteger(n) || (n as number) < 1) {
    throw createError('CB_ERR_INVALID_OPTION', `${option} must be an integer >= 1`, { details: { option } });
  }
  return n as number;
}
