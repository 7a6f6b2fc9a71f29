/**
 * A SyncDocument against an in-process hub with streams: the offline queue's bound (refused at
 * its edge, the edit not applied), how edits are folded into changes in each mode (one change per
 * stream message, msgId replica:rseq), the store written before a change is sent, the document's
 * kind, and snapshots with the purge of old entries (a replica that was away starts from one).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStreamHub } from '../helpers/stream-hub.js';
import { createSync } from '../../src/client/sync/sync-api.js';
import { MemorySyncStore, type StoredQueue } from '../../src/client/sync/store.js';
import { decodeBatch, encodeBatch, formatHlc } from '../../src/core/sync/index.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { Bus } from '../../src/client/bus.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

const crypto = createNodeCryptoProvider();
const sync = (bus: Bus, store = new MemorySyncStore()) => createSync(bus, { crypto, store });

/** The change messages of a document's stream: msgId and the rseqs each carries. */
async function logOf(bus: Bus, stream: string): Promise<Array<{ msgId?: string; topic: string; rseqs: number[] }>> {
  const out = [];
  for (const r of await bus.streams.read(stream)) {
    const rseqs = r.topic.endsWith('.snap') ? [] : decodeBatch(r.data as Uint8Array).map((c) => c.rseq);
    out.push({ ...(r.msgId !== undefined ? { msgId: r.msgId } : {}), topic: r.topic, rseqs });
  }
  return out;
}

async function streamOf(bus: Bus, topic: string): Promise<string> {
  const found = (await bus.streams.list()).find((s) => s.topics.includes(topic));
  assert.ok(found, topic);
  return found.name;
}

describe('sync document: the offline queue bound', () => {
  test('changes: at the bound the next edit is refused with CB_ERR_SYNC_TOO_LARGE and not applied', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const doc = await sync(bus).open<Record<string, number>>('bound/changes', { mode: 'manual', maxPendingChanges: 3 });
    // The document's meta is the first queued change (manual mode: nothing is sent).
    assert.equal(doc.pendingChanges, 1);
    doc.replace({ a: 1 });
    doc.change((d) => {
      d.b = 2;
    });
    assert.equal(doc.pendingChanges, 2, 'manual mode: the edits made before sync() join one change');
    // Another replica's edit comes in: the next edit is made on top of it, so it is a change of its own.
    const other = await sync(await hub.connect()).open<Record<string, number>>('bound/changes');
    const remoteEdit = async (z: number): Promise<void> => {
      other.change((d) => {
        d.z = z;
      });
      await until(() => doc.value.z === z, 3_000, `the other replica's edit z=${z}`);
    };
    await remoteEdit(1);
    doc.change((d) => {
      d.c = 3;
    });
    assert.equal(doc.pendingChanges, 3);
    await remoteEdit(2);
    assert.throws(
      () =>
        doc.change((d) => {
          d.e = 5;
        }),
      (e: { code: string; details: Record<string, unknown> }) => e.code === 'CB_ERR_SYNC_TOO_LARGE' && e.details.maxPendingChanges === 3,
    );
    assert.deepEqual(doc.value, { a: 1, b: 2, c: 3, z: 2 }, 'the refused edit was not applied');
    assert.equal(doc.pendingChanges, 3);
    doc.sync();
    await doc.flushed();
    doc.change((d) => {
      d.e = 5;
    });
    assert.deepEqual(doc.value, { a: 1, b: 2, c: 3, z: 2, e: 5 }, 'room again once the queue went out');
    await other.close();
    await doc.close();
    await hub.close();
  });

  test('bytes: an edit that would take the queue past maxPendingBytes is refused, one that fits is not', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const doc = await sync(bus).open<{ s?: string; t?: string }>('bound/bytes', { mode: 'manual', maxPendingBytes: 2_000 });
    doc.replace({ s: 'x'.repeat(900) });
    assert.throws(() => doc.replace({ s: 'x'.repeat(900), t: 'y'.repeat(1_200) }), { code: 'CB_ERR_SYNC_TOO_LARGE' });
    assert.deepEqual(Object.keys(doc.value), ['s'], 'not applied');
    doc.replace({ s: 'x'.repeat(900), t: 'y'.repeat(100) });
    assert.deepEqual(Object.keys(doc.value), ['s', 't']);
    await doc.close();
    await hub.close();
  });

  test('one replica per document and store: a second open is refused until the first closes', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const api = sync(bus);
    const first = await api.open('twice/doc');
    await rejectsWithCode(api.open('twice/doc'), 'CB_ERR_CONFLICTING_OPTIONS');
    const elsewhere = await api.open('twice/doc', { store: new MemorySyncStore() });
    assert.notEqual(elsewhere.replica, first.replica, 'another store, another replica');
    await first.close();
    const again = await api.open('twice/doc');
    assert.equal(again.replica, first.replica, 'the same store, the same replica');
    await Promise.all([elsewhere.close(), again.close()]);
    await hub.close();
  });

  test('bad options are refused with CB_ERR_INVALID_OPTION before anything is sent', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const api = sync(bus);
    await rejectsWithCode(api.open('x', { mode: 'sometimes' as never }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(api.open('x', { maxPendingChanges: 0 }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(api.open('x', { intervalMs: -1 }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(api.open('x', { strategies: [{ path: '/a', strategy: 'coinflip' as never }] }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(api.open('x', { detect: 'mtime' as never }), 'CB_ERR_INVALID_OPTION');
    assert.throws(() => createSync(bus, { topicPrefix: 'a.*' }), { code: 'CB_ERR_INVALID_OPTION' });
    assert.deepEqual(
      (await bus.streams.list()).map((s) => s.name),
      [],
    );
    await hub.close();
  });
});

describe('sync document: changes on the wire', () => {
  test('realtime: the first edit goes at once, the edits made while it is in flight travel as one change', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const doc = await sync(bus).open<Record<string, number>>('wire/realtime');
    await doc.flushed();
    for (let i = 0; i < 10; i++) {
      doc.change((d) => {
        d[`k${i}`] = i;
      });
    }
    await doc.flushed();
    const log = await logOf(bus, await streamOf(bus, 'sync.wire.realtime'));
    const rid = doc.replica;
    // meta (rseq 1), the first edit alone (2), the nine made while it was in flight together (3).
    assert.deepEqual(log, [
      { msgId: `${rid}:1`, topic: 'sync.wire.realtime', rseqs: [1] },
      { msgId: `${rid}:2`, topic: 'sync.wire.realtime', rseqs: [2] },
      { msgId: `${rid}:3`, topic: 'sync.wire.realtime', rseqs: [3] },
    ]);
    assert.equal(Object.keys(doc.value).length, 10);
    await doc.close();
    await hub.close();
  });

  test('batch: the edits of an interval are one change; manual: nothing goes until sync()', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const batch = await sync(bus).open<Record<string, number>>('wire/batch', { mode: 'batch', intervalMs: 50 });
    for (let i = 0; i < 5; i++) batch.replace({ ...batch.value, [`k${i}`]: i });
    await batch.flushed();
    const stream = await streamOf(bus, 'sync.wire.batch');
    assert.deepEqual(
      (await logOf(bus, stream)).map((m) => m.rseqs),
      [[1], [2]],
      'the meta, then the five edits as one change',
    );

    const other = await hub.connect();
    const manual = await sync(other).open<Record<string, number>>('wire/batch', { mode: 'manual' });
    manual.change((d) => {
      d.m = 1;
    });
    // A barrier: the batch replica publishes after the manual edit; once it is in, the manual edit would have been too.
    batch.change((d) => {
      d.barrier = 1;
    });
    batch.sync();
    await batch.flushed();
    await until(() => manual.value.barrier === 1, 3_000, 'the barrier');
    assert.equal((await logOf(bus, stream)).length, 3, 'the manual edit was not sent');
    assert.equal(manual.pendingChanges, 1);
    manual.sync();
    await manual.flushed();
    assert.equal((await logOf(bus, stream)).length, 4);
    await until(() => batch.value.m === 1, 3_000, 'the manual edit arrives');
    await Promise.all([batch.close(), manual.close()]);
    await hub.close();
  });

  test('batch: an edit sealed because a log entry came in still waits for the interval', async () => {
    const hub = await startStreamHub();
    const [bus, other] = [await hub.connect(), await hub.connect()];
    const held = await sync(bus).open<Record<string, number>>('wire/held', { mode: 'batch', intervalMs: 3_600_000 });
    held.sync();
    await held.flushed();
    const quick = await sync(other).open<Record<string, number>>('wire/held');
    held.change((d) => {
      d.held = 1;
    });
    quick.change((d) => {
      d.quick = 1;
    });
    await quick.flushed();
    // The other replica's change reached the held one (its draft was sealed to apply it): still not sent.
    await until(() => held.value.quick === 1, 3_000, 'the other change arrives');
    const stream = await streamOf(bus, 'sync.wire.held');
    assert.equal((await logOf(bus, stream)).length, 2, 'the meta and the quick edit only');
    assert.equal(held.pendingChanges, 1);
    held.sync();
    await held.flushed();
    assert.equal((await logOf(bus, stream)).length, 3);
    await until(() => quick.value.held === 1, 3_000, 'the held edit arrives');
    await Promise.all([held.close(), quick.close()]);
    await hub.close();
  });

  test('a change is in the store before it is sent; a restart sends the queue again, stored once', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const saves: StoredQueue[] = [];
    const store = new (class extends MemorySyncStore {
      override async save(queue: StoredQueue): Promise<void> {
        saves.push(JSON.parse(JSON.stringify(queue)));
        await super.save(queue);
      }
    })();
    const doc = await sync(bus, store).open<{ v?: number }>('wire/store', { mode: 'manual' });
    doc.replace({ v: 1 });
    await until(() => saves.some((s) => s.pending.some((c) => (c as { rseq: number }).rseq === 2)), 3_000, 'the save');
    const stream = await streamOf(bus, 'sync.wire.store');
    assert.deepEqual(await logOf(bus, stream), [], 'nothing sent in manual mode');
    await doc.close();
    // A new bus, the same store: the queue is sent, each change once.
    const again = await hub.connect();
    const reopened = await sync(again, store).open<{ v?: number }>('wire/store');
    assert.equal(reopened.replica, doc.replica);
    await reopened.flushed();
    assert.deepEqual(
      (await logOf(bus, stream)).map((m) => m.rseqs),
      [[1], [2]],
    );
    assert.deepEqual(reopened.value, { v: 1 });
    await reopened.close();
    await hub.close();
  });

  test('the kind: a file tree opened as JSON is refused; JSON methods on a file tree are refused', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const files = await sync(bus).open('kinds/tree', { kind: 'files' });
    await files.flushed();
    await rejectsWithCode(sync(await hub.connect()).open('kinds/tree', { kind: 'json' }), 'CB_ERR_CONFLICTING_OPTIONS');
    assert.throws(() => files.replace({} as never), { code: 'CB_ERR_INVALID_OPTION' });
    await rejectsWithCode(files.writeFile('no-slash', 'x'), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(files.writeFile('/a/../b', 'x'), 'CB_ERR_INVALID_OPTION');
    await files.writeFile('/a', 'file');
    await rejectsWithCode(files.writeFile('/a/b', 'x'), 'CB_ERR_INVALID_OPTION');
    await files.close();
    await hub.close();
  });

  test('a file over maxFileBytes is refused with CB_ERR_SYNC_TOO_LARGE, nothing applied', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const doc = await sync(bus).open('limits/files', { kind: 'files', limits: { maxFileBytes: 1_000 } });
    await rejectsWithCode(doc.writeFile('/big.bin', new Uint8Array(1_001)), 'CB_ERR_SYNC_TOO_LARGE');
    await rejectsWithCode(doc.writeFile('/big.txt', 'x'.repeat(1_001)), 'CB_ERR_SYNC_TOO_LARGE');
    assert.deepEqual(doc.paths(), []);
    await doc.writeFile('/ok.txt', 'x'.repeat(1_000));
    assert.deepEqual(doc.paths(), ['/ok.txt']);
    await doc.close();
    await hub.close();
  });
});

describe('sync document: snapshots and reloads', () => {
  test('an entry whose hash no copy matches: each replica reloads once, then takes the log as it is and goes on', async () => {
    const hub = await startStreamHub();
    const [busA, busB, raw] = await Promise.all([hub.connect(), hub.connect(), hub.connect()]);
    const a = await sync(busA).open<Record<string, number>>('reload/doc');
    a.replace({ x: 1 });
    await a.flushed();
    const b = await sync(busB).open<Record<string, number>>('reload/doc');
    const errors: string[] = [];
    a.on('error', (e) => errors.push(`a ${e.error.code}`));
    b.on('error', (e) => errors.push(`b ${e.error.code}`));
    // A change whose author claims a hash nobody can match (a buggy or lying author).
    const bogus = {
      replica: 'r-liar',
      rseq: 1,
      base: a.seq,
      hlc: formatHlc(Date.now(), 0, 'r-liar'),
      ops: [{ type: 'insert', path: '/y', value: 2, timestamp: 0 }],
      hash: 'A'.repeat(43),
    };
    await raw.publish('sync.reload.doc', encodeBatch([bogus as never]), { durable: true });
    a.change((d) => {
      d.z = 3;
    });
    await a.flushed();
    await until(() => b.value.z === 3, 3_000, 'b reads past it');
    assert.deepEqual(a.value, { x: 1, y: 2, z: 3 });
    assert.deepEqual(b.value, a.value);
    assert.deepEqual(errors.sort(), [
      'a CB_ERR_SYNC_HASH_MISMATCH',
      'a CB_ERR_SYNC_HASH_MISMATCH',
      'b CB_ERR_SYNC_HASH_MISMATCH',
      'b CB_ERR_SYNC_HASH_MISMATCH',
    ]);
    await Promise.all([a.close(), b.close()]);
    await hub.close();
  });

  test('every snapshotEvery entries a snapshot is published and old entries purged; a new replica starts from it', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    const doc = await sync(bus).open<{ n: number }>('snap/doc', { snapshotEvery: 10, limits: { historyLimit: 5 } });
    for (let i = 1; i <= 25; i++) {
      doc.replace({ n: i });
      await doc.flushed();
    }
    const stream = await streamOf(bus, 'sync.snap.doc');
    await until(async () => (await bus.streams.info(stream)).state.firstSeq > 1, 3_000, 'the purge');
    const log = await logOf(bus, stream);
    assert.ok(
      log.some((m) => m.topic === 'sync.snap.doc.snap'),
      'a snapshot was published',
    );
    const { state } = await bus.streams.info(stream);
    assert.ok(state.firstSeq <= 25 - 5, `the history after the mark is kept (first seq ${state.firstSeq})`);
    const late = await sync(await hub.connect()).open<{ n: number }>('snap/doc');
    assert.deepEqual(late.value, { n: 25 }, 'from the snapshot and the entries after it');
    late.replace({ n: 26 });
    await late.flushed();
    await until(() => doc.value.n === 26, 3_000, 'the late replica writes too');
    await Promise.all([doc.close(), late.close()]);
    await hub.close();
  });
});
