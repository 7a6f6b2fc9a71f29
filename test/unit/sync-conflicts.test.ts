import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import {
  SyncReplica,
  diffBinary,
  diffJson,
  formatHlc,
  type DocumentMeta,
  type SyncReplicaEvents,
  type SyncReplicaOptions,
} from '../../src/core/sync/index.js';
import { fromBase64, toBase64 } from '../../src/core/security/bytes.js';
import { codeOf, rejectsWithCode } from '../helpers/rejects.js';
import { SyncLog } from '../helpers/sync-log.js';

const crypto = createNodeCryptoProvider();

function replica(id: string, options: SyncReplicaOptions = {}): SyncReplica {
  return new SyncReplica({ replica: id, clock: () => 1_700_000_000_000, crypto, ...options });
}

async function sync(log: SyncLog, ...replicas: SyncReplica[]): Promise<void> {
  for (const r of replicas) await log.publish(r);
  for (const r of replicas) await log.deliver(r);
}

/** Replicas that share a document with `meta` and `initial` content (entries stored at `hubClock()`, when given). */
async function start(meta: DocumentMeta, initial: object, ...replicas: SyncReplica[]): Promise<SyncLog>;
async function start(meta: DocumentMeta, initial: object, hubClock: () => number, ...replicas: SyncReplica[]): Promise<SyncLog>;
async function start(meta: DocumentMeta, initial: object, ...rest: Array<SyncReplica | (() => number)>): Promise<SyncLog> {
  const hubClock = typeof rest[0] === 'function' ? (rest.shift() as () => number) : undefined;
  const replicas = rest as SyncReplica[];
  const log = new SyncLog(hubClock);
  const first = replicas[0]!;
  await first.setMeta(meta);
  await first.edit(diffJson(first.view, initial));
  await sync(log, ...replicas);
  return log;
}

function record<K extends keyof SyncReplicaEvents>(r: SyncReplica, name: K): Array<SyncReplicaEvents[K]> {
  const out: Array<SyncReplicaEvents[K]> = [];
  r.on(name, (e) => out.push(e));
  return out;
}

function assertConverged(...replicas: SyncReplica[]): void {
  const first = replicas[0]!;
  for (const r of replicas.slice(1)) {
    assert.deepEqual(r.snapshot(), first.snapshot());
    assert.deepEqual(r.view, first.view);
  }
}

describe('merge (the default)', () => {
  test('concurrent updates of one value are parked on every replica; a resolve settles them everywhere', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({}, { title: 'draft' }, a, b);
    const parkedA = record(a, 'conflict');
    await a.edit(diffJson(a.view, { title: 'from a' }));
    await b.edit(diffJson(b.view, { title: 'from b' }));
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { title: 'from a' }, 'the value stays as the log had it');
    assert.deepEqual(b.view, { title: 'from a' }, "b's parked edit leaves its view too");
    const [c] = a.conflicts;
    assert.equal(parkedA[0]?.id, c?.id);
    assert.deepEqual(
      [c?.path, c?.strategy, c?.replica, c?.localChange.value, c?.remoteChange.value, c?.remoteChange.oldValue],
      ['/title', 'merge', 'b', 'from a', 'from b', 'draft'],
    );
    const resolvedB = record(b, 'resolved');
    await a.resolve(c!.id, 'remote');
    await rejectsWithCode(a.resolve(c!.id, 'local'), 'CB_ERR_SYNC_NO_CONFLICT');
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(b.confirmed, { title: 'from b' });
    assert.deepEqual([b.conflicts.length, resolvedB[0]?.resolution, resolvedB[0]?.resolvedBy], [0, 'remote', 'a']);
    await rejectsWithCode(b.resolve(c!.id, 'local'), 'CB_ERR_SYNC_NO_CONFLICT');
  });

  test('two resolves of one conflict: the first in the log wins, the second is CB_ERR_SYNC_NO_CONFLICT everywhere', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({}, { v: 0 }, a, b);
    await a.edit(diffJson(a.view, { v: 1 }));
    await b.edit(diffJson(b.view, { v: 2 }));
    await sync(log, a, b);
    const id = a.conflicts[0]!.id;
    await a.resolve(id, 'merged', 3);
    await b.resolve(id, 'local');
    const rejected = record(b, 'rejected');
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { v: 3 });
    assert.equal(codeOf(rejected[0]?.error), 'CB_ERR_SYNC_NO_CONFLICT');
  });

  test('the same change made on both sides is no conflict', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({}, { v: 0, gone: 1 }, a, b);
    await a.edit(diffJson(a.view, { v: 1 }));
    await b.edit(diffJson(b.view, { v: 1 }));
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual([a.confirmed, a.conflicts.length], [{ v: 1 }, 0]);
  });

  test('a text file edited on different lines merges; on the same line it is parked', async () => {
    const base = 'line 1\nline 2\nline 3\nline 4\n';
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({ kind: 'files' }, { 'notes.md': { text: base } }, a, b);
    await a.edit(diffJson(a.view, { 'notes.md': { text: 'LINE 1\nline 2\nline 3\nline 4\n' } }, { files: true }));
    await b.edit(diffJson(b.view, { 'notes.md': { text: 'line 1\nline 2\nline 3\nLINE 4\n' } }, { files: true }));
    assert.ok(a.pending[0]?.ops[0]?.text !== undefined, 'a text edit, not a replacement');
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { 'notes.md': { text: 'LINE 1\nline 2\nline 3\nLINE 4\n' } });
    assert.equal(a.conflicts.length, 0);

    await a.edit(diffJson(a.view, { 'notes.md': { text: 'LINE 1\nfrom a\nline 3\nLINE 4\n' } }, { files: true }));
    await b.edit(diffJson(b.view, { 'notes.md': { text: 'LINE 1\nfrom b\nline 3\nLINE 4\n' } }, { files: true }));
    await sync(log, a, b);
    assertConverged(a, b);
    const [c] = b.conflicts;
    assert.deepEqual(
      [c?.path, c?.remoteChange.value, c?.localChange.value],
      ['/notes.md', { text: 'LINE 1\nfrom b\nline 3\nLINE 4\n' }, { text: 'LINE 1\nfrom a\nline 3\nLINE 4\n' }],
    );
    await b.resolve(c!.id, 'merged', { text: 'LINE 1\nfrom a and b\nline 3\nLINE 4\n' });
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { 'notes.md': { text: 'LINE 1\nfrom a and b\nline 3\nLINE 4\n' } });
  });

  test('a text merge sees the author base even when it made several edits before hearing from the other', async () => {
    const base = 'a\nb\nc\nd\ne\n';
    const [x, y] = [replica('x'), replica('y')];
    const log = await start({}, { doc: base.repeat(30) }, x, y);
    const long = base.repeat(30);
    await x.edit(diffJson(x.view, { doc: `X${long}` }));
    await x.edit(diffJson(x.view, { doc: `XX${long}` }));
    await y.edit(diffJson(y.view, { doc: `${long}Y` }));
    await sync(log, y, x);
    assertConverged(x, y);
    assert.deepEqual(x.confirmed, { doc: `XX${long}Y` });
  });

  test('concurrent array appends keep both elements; an insert shifts a concurrent edit to the right element', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({}, { list: [{ n: 'x' }, { n: 'y' }] }, a, b);
    await a.edit([{ type: 'insert', path: '/list/-', value: { n: 'from a' }, timestamp: 0 }]);
    await b.edit([{ type: 'insert', path: '/list/2', value: { n: 'from b' }, timestamp: 0 }]);
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { list: [{ n: 'x' }, { n: 'y' }, { n: 'from a' }, { n: 'from b' }] });

    await a.edit([{ type: 'insert', path: '/list/0', value: { n: 'first' }, timestamp: 0 }]);
    await b.edit([{ type: 'update', path: '/list/1/n', value: 'Y', timestamp: 0 }]);
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(b.confirmed, { list: [{ n: 'first' }, { n: 'x' }, { n: 'Y' }, { n: 'from a' }, { n: 'from b' }] });
    assert.equal(a.conflicts.length, 0);
  });

  test('an edit of an element or a key deleted concurrently is parked, not applied elsewhere', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({}, { list: ['x', 'y', 'z'], obj: { k: 1 } }, a, b);
    await a.edit([
      { type: 'delete', path: '/list/1', timestamp: 0 },
      { type: 'delete', path: '/obj', timestamp: 0 },
    ]);
    await b.edit([
      { type: 'update', path: '/list/1', value: 'Y', timestamp: 0 },
      { type: 'update', path: '/obj/k', value: 2, timestamp: 0 },
    ]);
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { list: ['x', 'z'] });
    assert.deepEqual(
      a.conflicts.map((c) => c.path),
      ['/list/1', '/obj/k'],
    );
  });
});

describe('binary files', () => {
  const bytes = (n: number, seed: number): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + ((i * seed) >> 3)) & 0xff);
  const chunking = { minBytes: 64, avgBytes: 128, maxBytes: 512 };

  async function binaryEdit(r: SyncReplica, path: string, next: Uint8Array): Promise<void> {
    const current = fromBase64(((r.view as Record<string, { base64: string }>)[path.slice(1)] as { base64: string }).base64)!;
    await r.edit([{ type: 'update', path, chunks: await diffBinary(current, next, crypto, chunking), timestamp: 0 }]);
  }

  test('a chunk edit travels and applies; concurrent ones park under merge with each side whole', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const original = bytes(5000, 1);
    const log = await start({ kind: 'files' }, { 'img.bin': { base64: toBase64(original) } }, a, b);
    const edited = original.slice();
    edited.set([1, 2, 3], 2500);
    await binaryEdit(a, '/img.bin', edited);
    const [change] = a.pending;
    const carried = change!.ops[0]!.chunks!.parts.reduce((n, p) => n + ('data' in p ? p.data.length : 0), 0);
    assert.ok(carried < 1400, `only the changed chunks travel (${carried} base64 characters)`);
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual(b.confirmed, { 'img.bin': { base64: toBase64(edited) } });

    const fromA = edited.slice();
    fromA[10] = 9;
    const fromB = edited.slice();
    fromB[4000] = 9;
    await binaryEdit(a, '/img.bin', fromA);
    await binaryEdit(b, '/img.bin', fromB);
    await sync(log, a, b);
    assertConverged(a, b);
    const [c] = a.conflicts;
    assert.deepEqual([c?.localChange.value, c?.remoteChange.value], [{ base64: toBase64(fromA) }, { base64: toBase64(fromB) }]);
    await a.resolve(c!.id, 'remote');
    await sync(log, a, b);
    assert.deepEqual(b.confirmed, { 'img.bin': { base64: toBase64(fromB) } });
  });

  test('under lww the newer binary file wins whole', async () => {
    const a = replica('a', { clock: () => 1 });
    const b = replica('b', { clock: () => 2 });
    const original = bytes(3000, 2);
    const log = await start(
      { kind: 'files', strategies: [{ path: '/**', strategy: 'lww' }] },
      { 'f.bin': { base64: toBase64(original) } },
      a,
      b,
    );
    const fromA = original.slice(0, 2000);
    const fromB = original.slice();
    fromB[100] = 1;
    await binaryEdit(a, '/f.bin', fromA);
    await binaryEdit(b, '/f.bin', fromB);
    await sync(log, b, a);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { 'f.bin': { base64: toBase64(fromB) } });
  });
});

describe('lww', () => {
  test('the greater HLC wins whatever order the log has, under skewed clocks', async () => {
    for (const order of ['fast first', 'slow first']) {
      const fast = replica('fast', { clock: () => 2_000_000_000_000 });
      const slow = replica('slow', { clock: () => 1_000_000_000_000 });
      const log = await start({ strategies: [{ path: '/**', strategy: 'lww' }] }, { v: 'start' }, fast, slow);
      await fast.edit(diffJson(fast.view, { v: 'fast' }));
      await slow.edit(diffJson(slow.view, { v: 'slow' }));
      if (order === 'fast first') await sync(log, fast, slow);
      else await sync(log, slow, fast);
      assertConverged(fast, slow);
      assert.deepEqual(fast.confirmed, { v: 'fast' }, order);
      const decided = fast.resolvedConflicts.at(-1);
      assert.equal(decided?.strategy, 'lww');
      assert.equal(decided?.resolution, order === 'fast first' ? 'local' : 'remote');
      assert.equal(fast.conflicts.length, 0);
    }
  });

  test('a change made after seeing another wins even from a clock that is behind', async () => {
    const fast = replica('fast', { clock: () => 2_000_000_000_000 });
    const slow = replica('slow', { clock: () => 1_000_000_000_000 });
    const log = await start({ strategies: [{ path: '/**', strategy: 'lww' }] }, { v: 'start' }, fast, slow);
    await fast.edit(diffJson(fast.view, { v: 'fast' }));
    await sync(log, fast, slow);
    await slow.edit(diffJson(slow.view, { v: 'slow, later' }));
    await sync(log, slow, fast);
    assert.deepEqual(fast.confirmed, { v: 'slow, later' });
  });

  test("a clock set ahead wins only within maxClockSkewMs of the hub's time", async () => {
    const hub = 1_700_000_000_000;
    for (const [limits, winner] of [
      [{}, 'ahead'],
      [{ maxClockSkewMs: 0 }, 'on time'],
    ] as const) {
      const onTime = replica('on-time', { clock: () => hub + 650 });
      const ahead = replica('ahead', { clock: () => hub + 3_600_000 });
      const strategies = [{ path: '/**', strategy: 'lww' as const }];
      let hubNow = hub;
      const log = await start({ strategies, limits }, { v: 'start' }, () => hubNow, onTime, ahead);
      await ahead.edit(diffJson(ahead.view, { v: 'ahead' }));
      await onTime.edit(diffJson(onTime.view, { v: 'on time' }));
      hubNow = hub + 600;
      await log.publish(ahead);
      hubNow = hub + 700;
      await log.publish(onTime);
      const results = await log.deliver(onTime);
      await log.deliver(ahead);
      assertConverged(ahead, onTime);
      assert.deepEqual(onTime.confirmed, { v: winner }, JSON.stringify(limits));
      // An hour ahead is past the default bound (a minute) too: clamped, and still ahead of the other there.
      assert.deepEqual(
        results.map((r) => r.clockClamped === true),
        [true, false],
      );
      // The clock of the replica on time is not dragged an hour ahead by what it received.
      const next = await onTime.edit(diffJson(onTime.view, { v: 'next' }));
      assert.ok(next.hlc < formatHlc(hub + 3_600_000, 0, 'a'), next.hlc);
    }
  });

  test('a lww text file: the winner takes the whole file as its author had it', async () => {
    const a = replica('a', { clock: () => 2 });
    const b = replica('b', { clock: () => 1 });
    const log = await start({ strategies: [{ path: '/**', strategy: 'lww' }] }, { t: 'x'.repeat(300) }, a, b);
    await b.edit(diffJson(b.view, { t: `B${'x'.repeat(300)}` }));
    await a.edit(diffJson(a.view, { t: `${'x'.repeat(300)}A` }));
    await sync(log, b, a);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { t: `${'x'.repeat(300)}A` });
  });
});

describe('manual, custom and the bound on parked conflicts', () => {
  test('manual parks even texts that would merge', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({ strategies: [{ path: '/doc', strategy: 'manual' }] }, { doc: 'a\nb\nc\n' }, a, b);
    await a.edit([{ type: 'update', path: '/doc', text: [{ d: 'a' }, 'A', 5], timestamp: 0 }]);
    await b.edit([{ type: 'update', path: '/doc', text: [4, { d: 'c' }, 'C', 1], timestamp: 0 }]);
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual([a.confirmed, a.conflicts[0]?.strategy], [{ doc: 'A\nb\nc\n' }, 'manual']);
  });

  test('custom:<name>: the parked change’s author runs its resolver and publishes the result', async () => {
    const meta: DocumentMeta = { strategies: [{ path: '/count', strategy: 'custom:sum' }] };
    const resolvers = {
      sum: (c: { localChange: { value?: unknown }; remoteChange: { value?: unknown; oldValue?: unknown } }) => {
        const base = Number(c.remoteChange.oldValue);
        return Number(c.localChange.value) + Number(c.remoteChange.value) - base;
      },
    };
    const a = replica('a', { resolvers });
    const b = replica('b', { resolvers });
    const log = await start(meta, { count: 10 }, a, b);
    await a.edit(diffJson(a.view, { count: 11 }));
    await b.edit(diffJson(b.view, { count: 15 }));
    await sync(log, a, b);
    assert.equal(b.conflicts.length, 1);
    assert.equal(b.pending.length, 1, "b's resolver proposed a value");
    assert.equal(a.pending.length, 0, 'only the author of the parked change resolves');
    await sync(log, b, a);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { count: 16 });
    assert.equal(a.resolvedConflicts.at(-1)?.resolution, 'merged');
    assert.equal(await a.runResolver('no-such'), undefined);
  });

  test('maxConflicts 0: every conflict is decided by lww at once', async () => {
    const a = replica('a', { clock: () => 1 });
    const b = replica('b', { clock: () => 2 });
    const log = await start({ limits: { maxConflicts: 0 } }, { x: 0 }, a, b);
    await a.edit(diffJson(a.view, { x: 1 }));
    await b.edit(diffJson(b.view, { x: 2 }));
    await sync(log, a, b);
    assertConverged(a, b);
    assert.deepEqual([a.confirmed, a.conflicts.length, a.stats.overflow], [{ x: 2 }, 0, 1]);
  });

  test('past maxConflicts a new conflict is decided by lww and counted', async () => {
    const a = replica('a', { clock: () => 2 });
    const b = replica('b', { clock: () => 1 });
    const log = await start({ strategies: [{ path: '/**', strategy: 'manual' }], limits: { maxConflicts: 1 } }, { x: 0, y: 0 }, a, b);
    await a.edit(diffJson(a.view, { x: 1, y: 1 }));
    await b.edit(diffJson(b.view, { x: 2, y: 2 }));
    await sync(log, a, b);
    assertConverged(a, b);
    assert.equal(a.conflicts.length, 1);
    assert.deepEqual([a.stats.overflow, a.stats.decided], [1, 1]);
    assert.deepEqual(a.confirmed, { x: 1, y: 1 }, 'a has the greater HLC');
  });
});

describe('stale changes', () => {
  test('historyLimit at its edge: a change based on the floor applies, one before it is stale', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({ limits: { historyLimit: 2 } }, { v: 0 }, a, b);
    // Log: 1 meta, 2 initial. b edits now (base 2), then a adds two entries: after 4 the history keeps 3 and 4 (floor 2).
    await b.edit(diffJson(b.view, { v: 0, fromB: 1 }));
    const early = replica('c');
    await log.deliver(early, 1);
    await early.edit(diffJson(early.view, { fromC: 1 })); // base 1
    for (let i = 1; i <= 2; i++) {
      await a.edit(diffJson(a.view, { v: i }));
      await sync(log, a);
    }
    assert.equal(a.snapshot().floor, 2);
    const [fromB] = await log.publish(b);
    const [fromC] = await log.publish(early);
    const results = await log.deliver(a);
    assert.deepEqual([fromB?.base, results[0]?.status], [2, 'applied']);
    assert.deepEqual([fromC?.base, codeOf(results[1]?.error)], [1, 'CB_ERR_SYNC_STALE']);
  });

  test('a change based before the kept history is rejected and its ops parked, so a person can still take them', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const log = await start({ limits: { historyLimit: 3 } }, { v: 0, w: 0 }, a, b);
    await b.edit(diffJson(b.view, { v: 0, w: 'offline edit' }));
    for (let i = 1; i <= 4; i++) {
      await a.edit(diffJson(a.view, { v: i, w: 0 }));
      await sync(log, a);
    }
    const rejected = record(b, 'rejected');
    await sync(log, b, a);
    assertConverged(a, b);
    assert.equal(codeOf(rejected[0]?.error), 'CB_ERR_SYNC_STALE');
    assert.equal(rejected[0]?.own, true);
    const [c] = b.conflicts;
    assert.deepEqual([c?.strategy, c?.path, c?.remoteChange.value], ['stale', '/w', 'offline edit']);
    await b.resolve(c!.id, 'remote');
    await sync(log, b, a);
    assertConverged(a, b);
    assert.deepEqual(a.confirmed, { v: 4, w: 'offline edit' });
  });

  test('maxReplicas: the version vector forgets writers whose last change left the history; their old changes stay out', async () => {
    const a = replica('a');
    const log = await start({ limits: { historyLimit: 2, maxReplicas: 2 } }, { n: 0 }, a);
    const writers = ['w1', 'w2', 'w3', 'w4', 'w5'].map((id) => replica(id));
    const firstChange = [];
    for (const [i, w] of writers.entries()) {
      await log.deliver(w);
      const c = await w.edit(diffJson(w.view, { n: i + 1 }));
      if (i === 0) firstChange.push(c);
      await log.publish(w);
      await log.deliver(a);
    }
    // Log: meta and the first value by a, then w1..w5. The history keeps the last two entries.
    assert.deepEqual(Object.keys(a.snapshot().vv), ['w4', 'w5'], 'a and w1..w3 are forgotten, oldest first');
    assert.equal(a.vv.size, 2);
    // w1's change comes again (a retry, long after): not applied a second time.
    const again = log.append(firstChange[0]!);
    const [result] = await log.deliver(a);
    assert.equal(codeOf(result?.error), 'CB_ERR_SYNC_STALE');
    assert.deepEqual(a.confirmed, { n: 5 });
    assert.ok(again.seq > 0);
    // A later change of a forgotten writer is counted again.
    const w1 = writers[0]!;
    await log.deliver(w1);
    await w1.edit(diffJson(w1.view, { n: 6 }));
    await log.publish(w1);
    await log.deliver(a);
    assert.deepEqual(a.confirmed, { n: 6 });
    assert.ok(Object.keys(a.snapshot().vv).includes('w1'));
    // Every replica forgets alike: one started from a's snapshot has the same vector.
    const late = SyncReplica.fromSnapshot(a.snapshot(), { replica: 'late', crypto });
    assert.deepEqual(late.snapshot().vv, a.snapshot().vv);
  });

  test('a stale text edit: taken whole while its text is unchanged; refused at once, typed, once others changed it', async () => {
    const text = `${'a line of the shared text\n'.repeat(12)}`;
    for (const othersEdit of [false, true]) {
      const [a, b] = [replica('a'), replica('b')];
      const log = await start({ limits: { historyLimit: 2 } }, { v: 0, t: text }, a, b);
      await b.edit(diffJson(b.view, { v: 0, t: `${text}b's offline line\n` }));
      for (let i = 1; i <= 3; i++) {
        await a.edit(diffJson(a.view, { v: i, t: othersEdit ? `${text}a's line ${i}\n` : text }));
        await sync(log, a);
      }
      await sync(log, b, a);
      const [c] = b.conflicts;
      assert.equal(c?.strategy, 'stale');
      if (!othersEdit) {
        await b.resolve(c!.id, 'remote');
        await sync(log, b, a);
        assert.equal((a.confirmed as { t: string }).t, `${text}b's offline line\n`);
        continue;
      }
      const pendingBefore = b.pending.length;
      await rejectsWithCode(b.resolve(c!.id, 'remote'), 'CB_ERR_SYNC_DELTA');
      assert.equal(b.pending.length, pendingBefore, 'nothing queued');
      await b.resolve(c!.id, 'merged', `${text}a's line 3\nb's offline line\n`);
      await sync(log, b, a);
      assertConverged(a, b);
      assert.deepEqual(a.confirmed, { v: 3, t: `${text}a's line 3\nb's offline line\n` });
    }
  });
});
