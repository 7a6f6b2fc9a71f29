/**
 * KV buckets through a hub, in memory and on files: values and revisions, compare-and-set
 * (create, update, delete with a revision) decided atomically by the hub, tombstones, purge,
 * keys, history bounds, TTL at the hub's clock, watchers, and the refusals of bad input.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKv, type KvEntry, type KvWatcher } from '../../src/client/index.js';
import type { StreamCatalog } from '../../src/core/streams/catalog.js';
import { MemoryCatalog } from '../../src/core/streams/memory-catalog.js';
import { FileCatalog } from '../../src/node/streams/file-catalog.js';
import { codeOf, rejectsWithCode } from '../helpers/rejects.js';
import { startStreamHub } from '../helpers/stream-hub.js';

const catalogs: Array<[string, () => { catalog: StreamCatalog; done(): void }]> = [
  ['memory', () => ({ catalog: new MemoryCatalog(), done: () => {} })],
  [
    'files',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cb-kv-'));
      return { catalog: new FileCatalog(dir), done: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

async function next<T>(w: KvWatcher<T>): Promise<KvEntry<T>> {
  const r = await w.next();
  assert.equal(r.done, false);
  return r.value as KvEntry<T>;
}

for (const [kind, make] of catalogs) {
  describe(`KV buckets (${kind})`, () => {
    test('put, get, revisions are stream seqs; delete leaves a tombstone; create over it', async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const kv = createKv(await hub.connect());
        const b = await kv.bucket('settings');
        assert.equal(b.stream, 'KV_settings');
        const r1 = await b.put('app.limits', { max: 5 });
        const r2 = await b.put('app.name', 'demo');
        assert.equal(r2, r1 + 1);
        const e = await b.get('app.limits');
        assert.deepEqual(
          { ...e, time: 0 },
          { bucket: 'settings', key: 'app.limits', value: { max: 5 }, revision: r1, time: 0, operation: 'put' },
        );
        assert.equal(await b.get('missing'), undefined);
        const bytes = new Uint8Array([1, 2, 3]);
        await b.put('blob', bytes);
        assert.deepEqual((await b.get('blob'))?.value, bytes);

        const d = await b.delete('app.name');
        assert.equal(await b.get('app.name'), undefined);
        assert.equal((await b.entry('app.name'))?.operation, 'delete');
        assert.equal((await b.entry('app.name'))?.revision, d);
        // A deleted key is absent: create succeeds over its tombstone.
        const c = await b.create('app.name', 'again');
        assert.equal((await b.get('app.name'))?.value, 'again');
        assert.equal((await b.get('app.name'))?.revision, c);
        const exists = await rejectsWithCode(b.create('app.name', 'third'), 'CB_ERR_SEQ_MISMATCH');
        assert.match(exists.message, /exists/);
        assert.equal((await b.get('app.name'))?.value, 'again');
      } finally {
        await hub.close();
        done();
      }
    });

    test('update is compare-and-set: of two clients updating one revision, exactly one wins', async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const a = await createKv(await hub.connect()).bucket('cas');
        const b = await createKv(await hub.connect()).bucket('cas');
        const rev = await a.put('counter', 0);
        for (let round = 0; round < 20; round++) {
          const cur = (await a.get<number>('counter')) as KvEntry<number>;
          const results = await Promise.allSettled([
            a.update('counter', (cur.value as number) + 1, cur.revision),
            b.update('counter', (cur.value as number) + 1, cur.revision),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r) => r.status === 'rejected');
          assert.equal(won.length, 1, `round ${round}: one update wins`);
          assert.equal(codeOf((lost[0] as PromiseRejectedResult).reason), 'CB_ERR_SEQ_MISMATCH');
          const err = (lost[0] as PromiseRejectedResult).reason as { details: Record<string, unknown> };
          assert.deepEqual(err.details, {
            bucket: 'cas',
            key: 'counter',
            expected: cur.revision,
            actual: (won[0] as PromiseFulfilledResult<number>).value,
          });
        }
        assert.equal((await a.get('counter'))?.value, 20);
        assert.ok(((await a.get('counter'))?.revision as number) > rev);
        // A stale revision changes nothing.
        await rejectsWithCode(a.update('counter', 99, rev), 'CB_ERR_SEQ_MISMATCH');
        await rejectsWithCode(a.delete('counter', { revision: rev }), 'CB_ERR_SEQ_MISMATCH');
        assert.equal((await a.get('counter'))?.value, 20);
      } finally {
        await hub.close();
        done();
      }
    });

    test('a conditional write waits for the appends in flight before it compares', async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const kv = createKv(await hub.connect());
        const b = await kv.bucket('race');
        const first = await b.put('k', 0);
        // Puts and an update of `first` sent in one batch: the update is decided after the puts
        // before it are stored, so it sees them and is refused; the puts after it still land.
        const before = [b.put('k', 1), b.put('k', 2)];
        const update = rejectsWithCode(b.update('k', 'cas', first), 'CB_ERR_SEQ_MISMATCH');
        const after = [b.put('k', 3)];
        const revs = await Promise.all([...before, ...after]);
        await update;
        assert.deepEqual(revs, [first + 1, first + 2, first + 3]);
        assert.equal((await b.get('k'))?.value, 3);
        // And when it is current, the writes queued behind it come after it.
        const cur = (await b.get('k'))?.revision as number;
        const ok = b.update('k', 'cas', cur);
        const later = b.put('k', 'later');
        assert.deepEqual(await Promise.all([ok, later]), [cur + 1, cur + 2]);
        assert.equal((await b.get('k'))?.value, 'later');
      } finally {
        await hub.close();
        done();
      }
    });

    test('history keeps the newest N revisions per key; purge leaves one tombstone', async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const kv = createKv(await hub.connect());
        const b = await kv.bucket('hist', { history: 3 });
        for (let i = 1; i <= 5; i++) await b.put('k', i);
        await b.put('other', 'x');
        assert.deepEqual(
          (await b.history('k')).map((e) => e.value),
          [3, 4, 5],
        );
        assert.equal((await b.status()).history, 3);
        // A topic's messages read through the index, paged.
        const bus = await hub.connect();
        const page1 = await bus.streams.read('KV_hist', { topic: 'kv.hist.k', maxMessages: 2 });
        const page2 = await bus.streams.read('KV_hist', { topic: 'kv.hist.k', fromSeq: (page1[1]?.seq ?? 0) + 1 });
        assert.deepEqual(
          [...page1, ...page2].map((r) => r.data),
          [3, 4, 5],
        );
        await rejectsWithCode(bus.streams.read('KV_hist', { topic: 'kv.hist.*' }), 'CB_ERR_INVALID_OPTION');
        await b.purge('k');
        const h = await b.history('k');
        assert.deepEqual(
          h.map((e) => e.operation),
          ['purge'],
        );
        assert.equal(await b.get('k'), undefined);
        assert.equal((await b.get('other'))?.value, 'x');
        // Options for an existing bucket must match it; none opens it as it is.
        await rejectsWithCode(kv.bucket('hist', { history: 2 }), 'CB_ERR_STREAM_EXISTS');
        assert.equal((await (await kv.bucket('hist')).status()).history, 3);
        assert.deepEqual(
          (await kv.list()).map((s) => s.bucket),
          ['hist'],
        );
      } finally {
        await hub.close();
        done();
      }
    });

    test('keys: those with a value, by pattern; tombstones left out', async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const b = await createKv(await hub.connect()).bucket('keys', { history: 2 });
        for (const k of ['a.x', 'a.y', 'b.x', 'c']) await b.put(k, k);
        await b.put('a.x', 'again');
        await b.delete('a.y');
        assert.deepEqual(await b.keys(), ['a.x', 'b.x', 'c']);
        assert.deepEqual(await b.keys('a.*'), ['a.x']);
        assert.deepEqual(await b.keys('*.x'), ['a.x', 'b.x']);
        assert.deepEqual(await b.keys('nothing.>'), []);
        await rejectsWithCode(b.keys('a.>.b'), 'CB_ERR_INVALID_OPTION');
      } finally {
        await hub.close();
        done();
      }
    });

    test('ttlMs: a value expires at the hub clock, before retention runs; create works again', async () => {
      const { catalog, done } = make();
      // Ahead of the wall clock, which the storages' own retention reads.
      let now = Date.now() + 60_000;
      const hub = await startStreamHub({ catalog, clock: () => now, retentionIntervalMs: 3_600_000 });
      try {
        const b = await createKv(await hub.connect()).bucket('ttl', { ttlMs: 1000 });
        await b.put('session', 'abc');
        now += 1000;
        assert.equal((await b.get('session'))?.value, 'abc', 'alive at exactly ttlMs');
        now += 1;
        assert.equal(await b.get('session'), undefined);
        assert.deepEqual(await b.keys(), []);
        const rev = await b.create('session', 'fresh');
        assert.equal((await b.get('session'))?.revision, rev);
        assert.equal((await b.status()).ttlMs, 1000);
      } finally {
        await hub.close();
        done();
      }
    });

    test('watch: the newest of each key first, then every write in order; pattern and deletes', async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const kv = createKv(await hub.connect());
        const b = await kv.bucket('w', { history: 5 });
        await b.put('a', 1);
        await b.put('a', 2);
        await b.put('x.b', 1);
        const all = b.watch();
        const onlyX = b.watch('x.*', { ignoreDeletes: true });
        const updates = b.watch('>', { updatesOnly: true });
        const history = b.watch('a', { includeHistory: true });
        await Promise.all([all.ready, onlyX.ready, updates.ready, history.ready]);
        assert.deepEqual([(await next(all)).value, (await next(all)).key], [2, 'x.b']);
        assert.equal((await next(onlyX)).key, 'x.b');
        assert.deepEqual([(await next(history)).value, (await next(history)).value], [1, 2]);
        await b.put('a', 3);
        await b.delete('x.b');
        await b.put('x.c', 'c');
        const seen = [await next(all), await next(all), await next(all)].map((e) => `${e.key}:${e.operation}`);
        assert.deepEqual(seen, ['a:put', 'x.b:delete', 'x.c:put']);
        assert.equal((await next(updates)).value, 3);
        assert.equal((await next(onlyX)).key, 'x.c', 'the delete is left out');
        all.stop();
        assert.equal((await all.next()).done, true);
        for (const w of [onlyX, updates, history]) w.stop();
        assert.throws(() => b.watch('>', { includeHistory: true, updatesOnly: true }), { code: 'CB_ERR_CONFLICTING_OPTIONS' });
      } finally {
        await hub.close();
        done();
      }
    });
  });
}

describe('KV buckets: bad input', () => {
  test('names, keys, values, revisions and options are refused with typed errors; nothing is stored', async () => {
    const hub = await startStreamHub();
    try {
      const bus = await hub.connect();
      const kv = createKv(bus);
      for (const name of ['', 'a.b', 'x'.repeat(62), 'with space']) await rejectsWithCode(kv.bucket(name), 'CB_ERR_INVALID_OPTION');
      for (const history of [0, 65, 1.5]) await rejectsWithCode(kv.bucket('b', { history }), 'CB_ERR_INVALID_OPTION');
      await rejectsWithCode(kv.bucket('b', { ttlMs: 0 }), 'CB_ERR_INVALID_OPTION');
      await rejectsWithCode(kv.bucket('b', { maxBytes: -1 }), 'CB_ERR_INVALID_OPTION');
      const b = await kv.bucket('b', { history: 64 });
      for (const key of ['', 'a.*', '>', 'a..b', 'sp ace']) await rejectsWithCode(b.put(key, 1), 'CB_ERR_INVALID_OPTION');
      await rejectsWithCode(b.put('k', undefined), 'CB_ERR_INVALID_OPTION');
      for (const rev of [-1, 1.5, Number.NaN]) await rejectsWithCode(b.update('k', 1, rev), 'CB_ERR_INVALID_OPTION');
      // A raw conditional publish with a malformed expectation: refused by the hub, not stored.
      for (const bad of ['x', '-1', '01', '1.5', '99999999999999999']) {
        await rejectsWithCode(bus.publish('kv.b.k', 1, { durable: true, headers: { 'cb-expect-last-seq': bad } }), 'CB_ERR_INVALID_OPTION');
      }
      assert.equal((await b.status()).values, 0);
      assert.deepEqual(await bus.streams.read('KV_b'), []);
    } finally {
      await hub.close();
    }
  });

  test('the expectation header is not stored with the message', async () => {
    const hub = await startStreamHub();
    try {
      const bus = await hub.connect();
      const b = await createKv(bus).bucket('h');
      const rev = await b.create('k', 1);
      await b.update('k', 2, rev);
      const [m1, m2] = await bus.streams.read('KV_h');
      assert.equal(m1?.headers, undefined);
      assert.equal(m2?.headers, undefined);
    } finally {
      await hub.close();
    }
  });
});
