/** Key-value buckets on durable streams: `bus.kv.bucket('config')`. Runtime-neutral. */
export { KvApi, createKv } from './kv-api.js';
export { KvBucket } from './bucket.js';
export { KvWatcher, type KvWatchOptions } from './watcher.js';
export { HEADER_KV_OP, type KvEntry, type KvOperation } from '../../core/kv/entry.js';
export { DEFAULT_KV_HISTORY, MAX_KV_HISTORY, type KvBucketOptions, type KvBucketStatus } from '../../core/kv/options.js';
export { KV_STREAM_PREFIX, KV_TOPIC_PREFIX } from '../../core/kv/names.js';
