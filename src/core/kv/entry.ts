/**
 * One revision of a key, as `get`, `history` and watchers give it. A delete or purge is stored
 * as a tombstone (a message with the `cb-kv-op` header and no payload) so that watchers see it
 * in order and a conditional write can name its revision. Isomorphic: the client's buckets
 * (src/client/kv) and the hub's own (the settings service) read and write this one format.
 */
import { topicKey } from './names.js';

/** Header of a tombstone: `del` (delete) or `purge` (delete, and the key's history with it). */
export const HEADER_KV_OP = 'cb-kv-op';

export type KvOperation = 'put' | 'delete' | 'purge';

export interface KvEntry<T = unknown> {
  readonly bucket: string;
  readonly key: string;
  /** The value put (a JSON value, or a Uint8Array); undefined for a delete or purge. */
  readonly value: T | undefined;
  /** The stream sequence of this revision: what `update` and `delete` compare against. */
  readonly revision: number;
  /** When the hub stored it (ms since the epoch). */
  readonly time: number;
  readonly operation: KvOperation;
}

/** What entries are read from: a StreamRecord or a StreamMessage. */
export interface StoredRevision {
  readonly seq: number;
  readonly time: number;
  readonly topic: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly data: unknown;
}

export function entryOf<T>(bucket: string, r: StoredRevision): KvEntry<T> {
  const op = r.headers?.[HEADER_KV_OP];
  const operation: KvOperation = op === undefined ? 'put' : op === 'purge' ? 'purge' : 'delete';
  return {
    bucket,
    key: topicKey(bucket, r.topic),
    value: operation === 'put' ? (r.data as T) : undefined,
    revision: r.seq,
    time: r.time,
    operation,
  };
}
