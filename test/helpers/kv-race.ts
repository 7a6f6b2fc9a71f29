/**
 * Compare-and-set under contention: each bucket increments key `key` `times` times by
 * read-modify-update, retrying on CB_ERR_SEQ_MISMATCH (any other error fails). Returns how many
 * conflicts were retried.
 */
import assert from 'node:assert/strict';
import type { KvBucket, KvEntry } from '../../src/client/index.js';
import { codeOf } from './rejects.js';

export async function incrementRacing(buckets: readonly KvBucket[], key: string, times: number): Promise<number> {
  let conflicts = 0;
  const incrementer = async (bucket: KvBucket): Promise<void> => {
    for (let done = 0; done < times; ) {
      const cur = (await bucket.get<number>(key)) as KvEntry<number>;
      try {
        await bucket.update(key, (cur.value as number) + 1, cur.revision);
        done++;
      } catch (err) {
        assert.equal(codeOf(err), 'CB_ERR_SEQ_MISMATCH');
        conflicts++;
      }
    }
  };
  await Promise.all(buckets.map(incrementer));
  return conflicts;
}
