/**
 * The sync client's stores and the bound on its offline queue: what is saved comes back (as a
 * copy), a folder's files are replaced atomically and their writes coalesced, one process holds a
 * folder, damage is a typed error rather than a silent fresh start; the bound refuses at its edge.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySyncStore, type StoredQueue, type SyncStore } from '../../src/client/sync/store.js';
import { checkQueueRoom } from '../../src/client/sync/queue-bound.js';
import { FileSyncStore } from '../../src/node/sync/file-sync-store.js';
import { rejectsWithCode } from '../helpers/rejects.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'crossbus-store-'));
  dirs.push(d);
  return join(d, 'store');
}

const queue = (doc: string, n: number): StoredQueue => ({
  doc,
  replica: 'r-1',
  nextRseq: n + 1,
  pending: Array.from({ length: n }, (_, i) => ({ rseq: i + 1, ops: [{ type: 'insert', path: `/k${i}`, value: i }] })),
});

async function roundTrip(store: SyncStore): Promise<void> {
  assert.equal(await store.load('project/42'), undefined);
  const q = queue('project/42', 2);
  await store.save(q);
  q.pending.length = 0; // the caller's object changes after the save: the store kept its own copy
  const loaded = await store.load('project/42');
  assert.deepEqual(loaded, queue('project/42', 2));
  assert.equal(loaded?.snapshot, undefined);
  await store.saveSnapshot('project/42', { seq: 7, view: { a: 1 } });
  assert.deepEqual((await store.load('project/42'))?.snapshot, { seq: 7, view: { a: 1 } });
  // Saving the queue leaves the snapshot; names with any character are kept apart.
  await store.save(queue('project/42', 3));
  await store.save(queue('project/42 ünïcode/é', 1));
  assert.deepEqual((await store.load('project/42'))?.snapshot, { seq: 7, view: { a: 1 } });
  assert.equal((await store.load('project/42'))?.pending.length, 3);
  assert.equal((await store.load('project/42 ünïcode/é'))?.pending.length, 1);
  await store.remove('project/42');
  assert.equal(await store.load('project/42'), undefined);
  assert.equal((await store.load('project/42 ünïcode/é'))?.nextRseq, 2);
}

describe('sync stores', () => {
  test('MemorySyncStore: what is saved comes back, as a copy', async () => {
    await roundTrip(new MemorySyncStore());
  });

  test('FileSyncStore: the same, in 0600 files of a 0700 folder, and across instances', async () => {
    const dir = folder();
    const store = new FileSyncStore(dir);
    await roundTrip(store);
    await store.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    const again = new FileSyncStore(dir);
    assert.equal((await again.load('project/42 ünïcode/é'))?.replica, 'r-1');
    await again.close();
  });

  test('FileSyncStore: saves made while one is written are coalesced; the last one wins, each resolves', async () => {
    const dir = folder();
    const store = new FileSyncStore(dir);
    const saves = Array.from({ length: 50 }, (_, i) => store.save(queue('d', i)));
    await Promise.all(saves);
    assert.equal((await store.load('d'))?.pending.length, 49);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
    await store.close();
  });

  test('FileSyncStore: one process (one store) holds a folder at a time; close releases it', async () => {
    const dir = folder();
    const first = new FileSyncStore(dir);
    await first.save(queue('d', 1));
    const second = new FileSyncStore(dir);
    const refused = await rejectsWithCode(second.load('d'), 'CB_ERR_DATA_DIR_LOCKED');
    assert.match(refused.message, /sync store/);
    await first.close();
    await rejectsWithCode(first.load('d'), 'CB_ERR_STREAM_CLOSED');
    const third = new FileSyncStore(dir);
    assert.equal((await third.load('d'))?.nextRseq, 2);
    await third.close();
  });

  test('FileSyncStore: a damaged queue or snapshot is CB_ERR_STREAM_CORRUPT, never a fresh start', async () => {
    const dir = folder();
    const store = new FileSyncStore(dir);
    await store.save(queue('d', 1));
    await store.saveSnapshot('d', { seq: 1 });
    const files = store.filesOf('d');
    writeFileSync(files.snapshot, '{"seq":');
    const e1 = await rejectsWithCode(store.load('d'), 'CB_ERR_STREAM_CORRUPT');
    assert.match(e1.message, /snapshot/);
    writeFileSync(files.queue, JSON.stringify({ doc: 'other', replica: 'r', nextRseq: 1, pending: [] }));
    await rejectsWithCode(store.load('d'), 'CB_ERR_STREAM_CORRUPT');
    writeFileSync(files.queue, JSON.stringify({ doc: 'd', replica: 'r', nextRseq: 0, pending: [] }));
    await rejectsWithCode(store.load('d'), 'CB_ERR_STREAM_CORRUPT');
    await store.close();
    assert.throws(() => new FileSyncStore(''), { code: 'CB_ERR_INVALID_OPTION' });
  });
});

describe('the offline queue bound', () => {
  const limits = { maxPendingChanges: 3, maxPendingBytes: 100 };
  test('changes: up to the maximum fits, one more is CB_ERR_SYNC_TOO_LARGE naming the bound', () => {
    checkQueueRoom('d', limits, 3, 10);
    assert.throws(
      () => checkQueueRoom('d', limits, 4, 10),
      (e: { code: string; details: Record<string, unknown>; message: string }) =>
        e.code === 'CB_ERR_SYNC_TOO_LARGE' && e.details.maxPendingChanges === 3 && /3 changes/.test(e.message),
    );
  });

  test('bytes: up to the maximum fits, one byte more does not', () => {
    checkQueueRoom('d', limits, 1, 100);
    assert.throws(() => checkQueueRoom('d', limits, 1, 101), { code: 'CB_ERR_SYNC_TOO_LARGE' });
  });
});
