/**
 * KV buckets against a REAL hub process storing streams on disk: `crossbus kv` end to end, a
 * compare-and-set race between two client processes' worth of connections, and a watcher that
 * keeps its order across a hub restart. Needs `npm run build` first.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type KvEntry, type KvWatcher, type SyncingBus } from '../../src/node/index.js';
import { restartOnPort, runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { incrementRacing } from '../helpers/kv-race.js';

const T = { timeout: 60_000 };
const hubs: HubProcess[] = [];
const buses: SyncingBus[] = [];
after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  for (const h of hubs) if (h.alive()) await h.stop();
});

async function start(): Promise<HubProcess> {
  const hub = await startHubProcess();
  hubs.push(hub);
  return hub;
}

async function open(hub: HubProcess, options: Parameters<typeof connect>[1] = {}): Promise<SyncingBus> {
  const bus = (await connect(hub.url, { timeoutMs: 5_000, ...hub.credentials, ...options })) as SyncingBus;
  buses.push(bus);
  return bus;
}

async function next<T>(w: KvWatcher<T>): Promise<KvEntry<T>> {
  const r = await w.next();
  assert.equal(r.done, false, 'the watcher goes on');
  return r.value as KvEntry<T>;
}

describe('crossbus kv (real hub process)', () => {
  test('add, put, get, create, update, keys, history, del, purge, watch, info, ls, rm', T, async () => {
    const hub = await start();
    const creds = ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];
    const kv = (...args: string[]) => runCli(['kv', ...args, ...creds], 20_000);

    let r = await kv('add', 'app', '--history', '3', '--ttl', '1h');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /history 3 per key, ttl 1h/);
    r = await kv('put', 'app', 'limits.max', '5');
    assert.equal(r.code, 0, r.stderr);
    const rev1 = Number(r.stdout.trim());
    assert.ok(rev1 >= 1);
    r = await kv('get', 'app', 'limits.max', '--json');
    assert.deepEqual(JSON.parse(r.stdout), {
      key: 'limits.max',
      revision: rev1,
      time: JSON.parse(r.stdout).time,
      operation: 'put',
      data: 5,
    });
    r = await kv('create', 'app', 'limits.max', '6');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists.*CB_ERR_SEQ_MISMATCH/);
    r = await kv('update', 'app', 'limits.max', '7', '--revision', String(rev1 + 100));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`is at revision ${rev1}, not ${rev1 + 100} \\(CB_ERR_SEQ_MISMATCH\\)`));
    r = await kv('update', 'app', 'limits.max', '7', '--revision', String(rev1));
    assert.equal(r.code, 0, r.stderr);
    r = await kv('update', 'app', 'limits.max', '8');
    assert.equal(r.code, 2, 'update without --revision is a usage error');
    r = await kv('put', 'app', 'name', 'hello world');
    assert.equal(r.code, 0, r.stderr);
    r = await kv('get', 'app', 'name');
    assert.equal(r.stdout, 'hello world\n');
    r = await kv('keys', 'app', '--json');
    assert.deepEqual(JSON.parse(r.stdout), ['limits.max', 'name']);
    r = await kv('keys', 'app', '--pattern', 'limits.*');
    assert.equal(r.stdout, 'limits.max\n');
    r = await kv('history', 'app', 'limits.max', '--json');
    assert.deepEqual(
      JSON.parse(r.stdout).map((e: { data: unknown }) => e.data),
      [5, 7],
    );
    r = await kv('del', 'app', 'name');
    assert.equal(r.code, 0, r.stderr);
    r = await kv('get', 'app', 'name');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /app has no value for name/);
    r = await kv('purge', 'app', 'limits.max');
    assert.equal(r.code, 0, r.stderr);
    r = await kv('history', 'app', 'limits.max', '--json');
    assert.deepEqual(
      JSON.parse(r.stdout).map((e: { operation: string }) => e.operation),
      ['purge'],
    );
    r = await kv('put', 'app', 'w', '"one"');
    r = await kv('watch', 'app', '--include-history', '--count', '1', '--pattern', 'w');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).data, 'one');
    r = await kv('ls', '--json');
    assert.deepEqual(
      JSON.parse(r.stdout).map((b: { bucket: string }) => b.bucket),
      ['app'],
    );
    r = await kv('put', 'app', 'a.*', '1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CB_ERR_INVALID_OPTION/);
    r = await kv('rm', 'app');
    assert.equal(r.code, 2, 'rm without --yes');
    r = await kv('rm', 'app', '--yes');
    assert.equal(r.code, 0, r.stderr);
    r = await kv('ls', '--json');
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  test('compare-and-set between two connections: every increment lands exactly once', T, async () => {
    const hub = await start();
    const [a, b] = [await open(hub), await open(hub)];
    const buckets = [await a.kv.bucket('counters'), await b.kv.bucket('counters')];
    await buckets[0]!.put('n', 0);
    // Each side increments 25 times by read-modify-update, retrying on a mismatch.
    const conflicts = await incrementRacing(buckets, 'n', 25);
    assert.equal((await buckets[1]!.get('n'))?.value, 50, `no increment lost (${conflicts} conflicts retried)`);
    assert.ok(conflicts > 0, 'the two really raced');
  });

  test('a watcher keeps its order across a hub restart, and misses nothing written meanwhile', T, async () => {
    const hub = await start();
    const writer = await open(hub);
    // Reconnects three seconds after the restart (room for a slow restart on a busy machine): the
    // writes below land while it is away.
    const watcherBus = await open(hub, { reconnect: { initialDelayMs: 3_000, maxDelayMs: 3_000, maxAttempts: 60 } });
    const bucket = await writer.kv.bucket('orders', { history: 10 });
    for (let i = 1; i <= 3; i++) await bucket.put('o', i);
    // It starts with the newest value of each key: a re-attach by that policy would skip 4..7.
    const w = (await watcherBus.kv.bucket('orders')).watch<number>();
    await w.ready;
    assert.equal((await next(w)).value, 3);

    await hub.stop();
    const back = await restartOnPort(hub.port);
    hubs.push(back);
    // A new writer on the restarted hub (the old one may still be reconnecting).
    const writer2 = await open(back);
    const b2 = await writer2.kv.bucket('orders');
    for (let i = 4; i <= 8; i++) await b2.put('o', i);
    assert.notEqual(watcherBus.state, 'connected', 'the writes happened while the watcher was away');
    const seen: number[] = [];
    const revisions: number[] = [];
    while (seen.length < 5) {
      const e = await next(w);
      seen.push(e.value as number);
      revisions.push(e.revision);
    }
    assert.deepEqual(seen, [4, 5, 6, 7, 8], 'every write after the restart, in order, none twice');
    assert.deepEqual(
      revisions,
      [...revisions].sort((x, y) => x - y),
    );
    w.stop();
  });
});
