/**
 * Where a KV bucket lives on the bus: bucket `config` is the stream `KV_config`, and its key
 * `app.limits` the topic `kv.config.app.limits`, so grants on `kv.config.>` govern the bucket.
 * Keys are one or more topic tokens (`.` separates them); watch and keys patterns may use `*`
 * and `>` as topics do. Isomorphic.
 */
import { createError } from '../errors/index.js';
import { topicProblem } from '../topic.js';

/** The stream of bucket `name` is `KV_<name>`. */
export const KV_STREAM_PREFIX = 'KV_';
/** The topic of key `k` in bucket `b` is `kv.<b>.<k>`. */
export const KV_TOPIC_PREFIX = 'kv.';
/** A bucket's name: letters, digits, `_` and `-`, so that its stream name is one too. */
const BUCKET_NAME = /^[A-Za-z0-9_-]{1,61}$/;

export function checkBucketName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !BUCKET_NAME.test(name)) {
    throw createError('CB_ERR_INVALID_OPTION', 'a bucket name is 1 to 61 letters, digits, "_" or "-"', {
      details: { option: 'bucket' },
    });
  }
}

export const bucketStream = (bucket: string): string => KV_STREAM_PREFIX + bucket;
export const bucketTopics = (bucket: string): string => `${KV_TOPIC_PREFIX}${bucket}.>`;

/** The topic of `key`; CB_ERR_INVALID_OPTION for a key that cannot be one (a wildcard, an empty token). */
export function keyTopic(bucket: string, key: unknown, maxTopicLength?: number): string {
  return checkedTopic(bucket, key, 'topic', 'key', maxTopicLength);
}

/** The topic pattern of a key pattern (`*` and `>` allowed). */
export function patternTopic(bucket: string, pattern: unknown, maxTopicLength?: number): string {
  return checkedTopic(bucket, pattern, 'pattern', 'pattern', maxTopicLength);
}

function checkedTopic(bucket: string, key: unknown, kind: 'topic' | 'pattern', option: string, maxLength?: number): string {
  if (typeof key !== 'string') throw createError('CB_ERR_INVALID_OPTION', `a ${option} must be a string`, { details: { option } });
  const topic = `${KV_TOPIC_PREFIX}${bucket}.${key}`;
  const problem = key === '' ? 'is empty' : topicProblem(topic, kind, maxLength);
  if (problem !== undefined)
    throw createError('CB_ERR_INVALID_OPTION', `${option} ${JSON.stringify(key)} ${problem}`, { details: { option } });
  return topic;
}

/** The key of a topic of `bucket`. */
export function topicKey(bucket: string, topic: string): string {
  return topic.slice(KV_TOPIC_PREFIX.length + bucket.length + 1);
}
