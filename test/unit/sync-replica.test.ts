import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import {
  SyncReplica,
  diffJson,
  type Change,
  type DocumentMeta,
  type LogEntry,
  type SyncReplicaEvents,
  type SyncReplicaOptions,
} from '../../src/core/sync/index.js';
import { codeOf, rejectsWithCode } from '../helpers/rejects.js';
import { SyncLog } from '../helpers/sync-log.js';

const crypto = createNodeCryptoProvider();

function replica(id: string, options: SyncReplicaOptions = {}): SyncReplica {
  return new SyncReplica({ replica: id, clock: () => 1_700_000_000_000, crypto, ...options });
}

/** Publishes every replica's pending changes (in the order given), then delivers the log to all. */
async function sync(log: SyncLog, ...replicas: SyncReplica[]): Promise<void> {
  for (const r of replicas) await log.publish(r);
  for (const r of replicas) await log.deliver(r);
}

async function withMeta(meta: DocumentMeta, ...ids: string[]): Promise<{ log: SyncLog; reps: SyncReplica[] }> {
  const log = new SyncLog();
  const reps = ids.map((id) => replica(id));
  await reps[0]!.setMeta(meta);
  await sync(log, ...reps);
  return { log, reps };
}

function record<K extends keyof SyncReplicaEvents>(r: SyncReplica, name: K): Array<SyncReplicaEvents[K]> {
  const out: Array<SyncReplicaEvents[K]> = [];
  r.on(name, (e) => out.push(e));
  return out;
}

describe('SyncReplica: edits and the log', () => {
  test('an edit shows in the view at once, in confirmed once the log carries it', async () => {
    const a = replica('a');
    const changes = record(a, 'change');
    const change = await a.edit(diffJson(a.view, { title: 'hello' }));
    assert.deepEqual(a.view, { title: 'hello' });
    assert.deepEqual(a.confirmed, {});
    assert.deepEqual([change.replica, change.rseq, change.base, a.rseq], ['a', 1, 0, 1]);
    assert.match(change.hash ?? '', /^[\w-]{43}$/);
    assert.match(change.hlc, /^[0-9a-f]{12}:[0-9a-f]{4}:a$/);
    assert.equal(change.ops[0]?.timestamp, 1_700_000_000_000);
    assert.deepEqual(a.pending, [change]);
    const log = new SyncLog();
    await sync(log, a);
    assert.deepEqual(a.confirmed, { title: 'hello' });
    assert.equal(a.view, a.confirmed);
    assert.deepEqual([a.pending.length, a.seq, a.vv.get('a')], [0, 1, 1]);
    assert.equal(changes[0]?.origin, 'local');
    assert.equal(changes[0]?.change?.rseq, 1);
  });

  test('an edit copies its values: the application may change its objects afterwards', async () => {
    const a = replica('a');
    const value = { n: 1 };
    await a.edit([{ type: 'insert', path: '/v', value, timestamp: 0 }]);
    value.n = 2;
    assert.deepEqual(a.view, { v: { n: 1 } });
  });

  test('an edit that does not apply to the view rejects and changes nothing', async () => {
    const a = replica('a');
    await rejectsWithCode(a.edit([{ type: 'update', path: '/missing', value: 1, timestamp: 0 }]), 'CB_ERR_SYNC_DELTA');
    await rejectsWithCode(a.edit([{ type: 'insert', path: '/f', value: () => 1, timestamp: 0 }]), 'CB_ERR_PAYLOAD_INVALID');
    await rejectsWithCode(a.edit('nope' as never), 'CB_ERR_SYNC_DELTA');
    assert.deepEqual([a.view, a.pending.length, a.rseq], [{}, 0, 0]);
  });

  test('non-overlapping concurrent edits all apply, on every replica alike', async () => {
    const log = new SyncLog();
    const [a, b, c] = [replica('a'), replica('b'), replica('c')];
    await a.edit(diffJson(a.view, { x: 1, nested: { p: 1 } }));
    await sync(log, a, b, c);
    await a.edit(diffJson(a.view, { x: 2, nested: { p: 1 } }));
    await b.edit(diffJson(b.view, { x: 1, nested: { p: 1, q: 2 } }));
    await c.edit(diffJson(c.view, { x: 1, nested: { p: 1 }, y: 3 }));
    await sync(log, a, b, c);
    for (const r of [a, b, c]) {
      assert.deepEqual(r.confirmed, { x: 2, nested: { p: 1, q: 2 }, y: 3 });
      assert.deepEqual(r.view, r.confirmed);
    }
    assert.deepEqual(a.snapshot(), b.snapshot());
    assert.deepEqual(b.snapshot(), c.snapshot());
  });

  test('the view rebases pending edits over what arrives, as the log will', async () => {
    const log = new SyncLog();
    const [a, b] = [replica('a'), replica('b')];
    await b.edit(diffJson(b.view, { fromB: true }));
    await log.publish(b);
    await a.edit(diffJson(a.view, { fromA: true }));
    const changes = record(a, 'change');
    await log.deliver(a);
    assert.deepEqual(a.confirmed, { fromB: true });
    assert.deepEqual(a.view, { fromB: true, fromA: true });
    assert.equal(changes.at(-1)?.origin, 'remote');
  });

  test('a change that does not apply is rejected whole on every replica; its author hears it', async () => {
    const log = new SyncLog();
    const [a, b] = [replica('a'), replica('b')];
    await a.edit(diffJson(a.view, { list: [1] }));
    await sync(log, a, b);
    const rejectedA = record(a, 'rejected');
    const rejectedB = record(b, 'rejected');
    // Hand-made (a buggy or hostile replica): the second op misses, so the first must not apply either.
    const bad: Change = { ...(await a.edit([{ type: 'update', path: '/list/0', value: 2, timestamp: 0 }])) };
    log.append({ ...bad, ops: [...bad.ops, { type: 'delete', path: '/list/5', timestamp: 0 }] });
    await log.deliver(a);
    await log.deliver(b);
    for (const r of [a, b]) assert.deepEqual(r.confirmed, { list: [1] });
    assert.deepEqual(a.view, { list: [1] });
    assert.equal(rejectedA[0]?.own, true);
    assert.equal(rejectedB[0]?.own, false);
    assert.equal(codeOf(rejectedA[0]?.error), 'CB_ERR_SYNC_DELTA');
    assert.equal(a.stats.rejected, 1);
  });

  test('duplicates are skipped by the version vector; entries at or before seq are skipped', async () => {
    const log = new SyncLog();
    const a = replica('a');
    const b = replica('b');
    const c = await a.edit(diffJson(a.view, { n: 1 }));
    log.append(c);
    log.append(c); // a replayed publish
    await log.deliver(b);
    assert.deepEqual(b.confirmed, { n: 1 });
    const again = await b.receive({ ...c, seq: 1 });
    assert.equal(again.status, 'skipped');
    const results = await log.deliver(a);
    assert.deepEqual(
      results.map((r) => r.status),
      ['applied', 'duplicate'],
    );
    await assert.rejects(b.receive({ ...c, seq: 0 }), (e: unknown) => codeOf(e) === 'CB_ERR_PAYLOAD_INVALID');
  });

  test('the changes of one message share its seq; conflict ids count their ops through', async () => {
    const a = replica('a');
    const b = replica('b');
    const c1 = await a.edit(diffJson(a.view, { one: 1 }));
    const c2 = await a.edit(diffJson(a.view, { one: 1, two: 2 }));
    for (const r of [a, b]) {
      assert.equal((await r.receive({ ...c1, seq: 4 })).status, 'applied');
      assert.equal((await r.receive({ ...c2, seq: 4 })).status, 'applied');
      assert.deepEqual(r.confirmed, { one: 1, two: 2 });
    }
    // Another replica's change at a seq already applied is not part of that message.
    const other = replica('o');
    const oc = await other.edit(diffJson(other.view, { o: 1 }));
    assert.equal((await b.receive({ ...oc, seq: 4 })).status, 'skipped');
  });

  test('a malformed entry, or a message that does not decode, is rejected alike everywhere', async () => {
    const b = replica('b');
    const r1 = await b.receive({ seq: 1, replica: 'x', rseq: 1, base: 0, hlc: 'nope', ops: [] } as unknown as LogEntry);
    assert.equal(codeOf(r1.error), 'CB_ERR_SYNC_DELTA');
    const r2 = await b.skip(2);
    assert.equal(r2.status, 'rejected');
    assert.equal(b.seq, 2);
    assert.equal(b.snapshot().history.length, 2);
  });

  test('a change based on its own position or later is rejected', async () => {
    const a = replica('a');
    const c = await a.edit(diffJson(a.view, { n: 1 }));
    const r = await replica('b').receive({ ...c, base: 3, seq: 3 });
    assert.equal(codeOf(r.error), 'CB_ERR_SYNC_DELTA');
  });
});

describe('SyncReplica: hashes', () => {
  test('a clean apply checks the author hash; a mismatch is reported as corrupt, not thrown', async () => {
    const a = replica('a');
    const b = replica('b');
    const corrupt = record(b, 'corrupt');
    const good = await a.edit(diffJson(a.view, { n: 1 }));
    const ok = await b.receive({ ...good, seq: 1 });
    assert.equal(ok.hashMismatch, undefined);
    assert.deepEqual(ok.check, ['/n']);
    const forged = await a.edit(diffJson(a.view, { n: 2 }));
    const bad = await b.receive({ ...forged, hash: good.hash, seq: 2 });
    assert.equal(codeOf(bad.hashMismatch), 'CB_ERR_SYNC_HASH_MISMATCH');
    assert.equal(corrupt.length, 1);
    assert.deepEqual(b.confirmed, { n: 2 }, 'the entry still applied: every replica applies the log alike');
  });

  test('WebCrypto (asynchronous) hashes agree with Node crypto', async () => {
    const a = new SyncReplica({ replica: 'a', crypto: createWebCryptoProvider() });
    const b = replica('b');
    const c = await a.edit(diffJson(a.view, { deep: { list: [1, 'x', null] } }));
    const r = await b.receive({ ...c, seq: 1 });
    assert.ok(r.check !== undefined && r.hashMismatch === undefined);
  });

  test('no hash is checked when something concurrent was met', async () => {
    const log = new SyncLog();
    const [a, b] = [replica('a'), replica('b')];
    await a.edit(diffJson(a.view, { x: 1 }));
    await b.edit(diffJson(b.view, { y: 1 }));
    await log.publish(a);
    await log.publish(b);
    const results = await log.deliver(a);
    assert.ok(results[0]?.check !== undefined);
    assert.equal(results[1]?.check, undefined);
  });
});

describe('SyncReplica: limits', () => {
  test('maxPending at its edge (the offline queue)', async () => {
    const a = replica('a', { maxPending: 2 });
    await a.edit(diffJson(a.view, { n: 1 }));
    await a.edit(diffJson(a.view, { n: 2 }));
    await rejectsWithCode(a.edit(diffJson(a.view, { n: 3 })), 'CB_ERR_SYNC_TOO_LARGE');
    assert.deepEqual(a.view, { n: 2 });
  });

  test('maxChangeBytes at its edge', async () => {
    const { reps } = await withMeta({ limits: { maxChangeBytes: 400 } }, 'a');
    const a = reps[0]!;
    // The longest value whose change (as JSON) is 400 bytes: the fields have fixed widths here.
    const sizeWith = (len: number): number =>
      JSON.stringify({
        replica: 'a',
        rseq: a.rseq + 1,
        base: a.seq,
        hlc: '0000000000000:0000:a'.slice(1),
        ops: [{ type: 'insert', path: '/s', value: 'x'.repeat(len), timestamp: 1_700_000_000_000 }],
      }).length;
    let n = 0;
    while (sizeWith(n + 1) <= 400) n++;
    assert.equal(sizeWith(n), 400);
    await rejectsWithCode(a.edit([{ type: 'insert', path: '/s', value: 'z'.repeat(n + 1), timestamp: 0 }]), 'CB_ERR_SYNC_TOO_LARGE');
    assert.deepEqual(a.view, {});
    await a.edit([{ type: 'insert', path: '/s', value: 'y'.repeat(n), timestamp: 0 }]);
    assert.equal((a.view as { s: string }).s.length, n);
  });

  test('maxFileBytes at its edge, on the author and on every receiver (a 10 MB file is refused)', async () => {
    const { log, reps } = await withMeta({ kind: 'files', limits: { maxFileBytes: 10 } }, 'a', 'b');
    const [a, b] = reps as [SyncReplica, SyncReplica];
    await a.edit([{ type: 'insert', path: '/f.txt', value: { text: 'é'.repeat(5) }, timestamp: 0 }]);
    await rejectsWithCode(a.edit([{ type: 'update', path: '/f.txt', text: [5, 'x'], timestamp: 0 }]), 'CB_ERR_SYNC_TOO_LARGE');
    await rejectsWithCode(
      a.edit([{ type: 'insert', path: '/g.bin', value: { base64: 'AAAAAAAAAAAAAAAA' }, timestamp: 0 }]),
      'CB_ERR_SYNC_TOO_LARGE',
    );
    await sync(log, a, b);
    assert.deepEqual(b.confirmed, { 'f.txt': { text: 'ééééé' } });
    // A replica that ignores the limit: every receiver refuses its change.
    const rogue = replica('rogue');
    const big = await rogue.edit([{ type: 'insert', path: '/big.txt', value: { text: 'x'.repeat(11) }, timestamp: 0 }]);
    log.append({ ...big, base: b.seq });
    const [r] = await log.deliver(b);
    assert.equal(codeOf(r?.error), 'CB_ERR_SYNC_TOO_LARGE');
    const defaults = replica('d');
    await rejectsWithCode(
      defaults.edit([{ type: 'insert', path: '/f', value: 'x'.repeat(10 * 1024 * 1024), timestamp: 0 }]),
      'CB_ERR_SYNC_TOO_LARGE',
    );
  });

  test('the history keeps historyLimit entries; the resolved conflicts maxResolvedConflicts', async () => {
    const { log, reps } = await withMeta(
      { strategies: [{ path: '/**', strategy: 'lww' }], limits: { historyLimit: 3, maxResolvedConflicts: 2 } },
      'a',
      'b',
    );
    const [a, b] = reps as [SyncReplica, SyncReplica];
    for (let i = 0; i < 4; i++) {
      await a.edit(diffJson(a.view, { k: `a${i}` }));
      await b.edit(diffJson(b.view, { k: `b${i}` }));
      await sync(log, a, b);
    }
    assert.equal(a.snapshot().history.length, 3);
    assert.equal(a.resolvedConflicts.length, 2);
    assert.ok(a.stats.decided >= 3);
    assert.deepEqual(a.snapshot(), b.snapshot());
  });
});

describe('SyncReplica: snapshots and restarts', () => {
  test('a replica from a snapshot plus the rest of the log equals one that read it all', async () => {
    const log = new SyncLog();
    const [a, b] = [replica('a'), replica('b')];
    for (let i = 0; i < 5; i++) {
      await a.edit(diffJson(a.view, { ...(a.view as object), [`a${i}`]: i, shared: `a${i}` }));
      await b.edit(diffJson(b.view, { ...(b.view as object), [`b${i}`]: i, shared: `b${i}` }));
      await sync(log, a, b);
    }
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const c = SyncReplica.fromSnapshot(snap, { replica: 'c', crypto });
    log.startAt(c, snap.seq);
    await a.edit(diffJson(a.view, { ...(a.view as object), after: true }));
    await sync(log, a, b, c);
    assert.deepEqual(c.snapshot(), a.snapshot());
    assert.deepEqual(c.view, b.view);
  });

  test('offline edits survive a restart: the queue and rseq restored, then published and confirmed', async () => {
    const log = new SyncLog();
    const a = replica('a');
    await a.edit(diffJson(a.view, { n: 1 }));
    await sync(log, a);
    await a.edit(diffJson(a.view, { n: 2 }));
    await a.edit(diffJson(a.view, { n: 2, m: 1 }));
    const saved = JSON.parse(JSON.stringify({ snapshot: a.snapshot(), pending: a.pending, rseq: a.rseq }));
    const back = SyncReplica.fromSnapshot(saved.snapshot, { replica: 'a', crypto, pending: saved.pending, rseq: saved.rseq });
    assert.deepEqual(back.view, { n: 2, m: 1 });
    assert.equal(back.rseq, 3);
    log.startAt(back, saved.snapshot.seq);
    await sync(log, back);
    assert.deepEqual([back.confirmed, back.pending.length], [{ n: 2, m: 1 }, 0]);
    const next = await back.edit(diffJson(back.view, { n: 3, m: 1 }));
    assert.equal(next.rseq, 4);
  });

  test('a restored queue drops what the log already holds', async () => {
    const log = new SyncLog();
    const a = replica('a');
    await a.edit(diffJson(a.view, { n: 1 }));
    const pending = a.pending;
    await sync(log, a);
    const back = SyncReplica.fromSnapshot(a.snapshot(), { replica: 'a', pending });
    assert.deepEqual([back.pending.length, back.rseq], [0, 1]);
  });

  test('a malformed snapshot is CB_ERR_PAYLOAD_INVALID', () => {
    const good = replica('a').snapshot();
    for (const bad of [
      null,
      { ...good, v: 2 },
      { ...good, seq: -1 },
      { ...good, floor: 5 },
      { ...good, history: [{}] },
      { ...good, counts: {} },
    ]) {
      assert.throws(
        () => SyncReplica.fromSnapshot(bad as never),
        (e: unknown) => codeOf(e) === 'CB_ERR_PAYLOAD_INVALID',
      );
    }
  });
});

describe('SyncReplica: meta', () => {
  test('the first meta in the log is taken; a different later one is rejected; an invalid one too', async () => {
    const log = new SyncLog();
    const [a, b] = [replica('a'), replica('b')];
    await a.setMeta({ strategies: [{ path: '/**', strategy: 'lww' }] });
    await b.setMeta({ strategies: [{ path: '/**', strategy: 'manual' }] });
    const rejected = record(b, 'rejected');
    await sync(log, a, b);
    assert.deepEqual(b.meta, { strategies: [{ path: '/**', strategy: 'lww' }] });
    assert.equal(rejected[0]?.own, true);
    await rejectsWithCode(b.setMeta({ kind: 'files' }), 'CB_ERR_SYNC_DELTA');
    await rejectsWithCode(b.setMeta({ kind: 'xml' } as never), 'CB_ERR_INVALID_OPTION');
    const c = replica('c');
    const raw = { replica: 'z', rseq: 1, base: 0, hlc: '000000000001:0000:z', ops: [], meta: { kind: 'xml' }, seq: 1 };
    assert.equal(codeOf((await c.receive(raw as never)).error), 'CB_ERR_SYNC_DELTA');
    assert.equal(c.meta, undefined);
  });
});
