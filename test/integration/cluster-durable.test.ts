/**
 * Durable streams, key-value buckets and replicated documents across hubs: three hub processes
 * joined by a real three-node NATS cluster keep their streams in JetStream (three replicas). A
 * stream created on one hub is used on the others; a consumer on one hub gets what the others
 * store; compare-and-set holds across hubs; two replicas of a document on different hubs converge;
 * a hub setting stored through one hub applies on the others; a hub killed before it told the
 * others of its appends; and while a client publishes durably, its NATS node and its hub are
 * killed: it fails over, and every message that was acknowledged is read back from the stream.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailoverBus, PublishAck, SyncingBus } from '../../src/node/index.js';
import { closeAllBuses, openBus } from '../helpers/buses.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { hubClusterArgs, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';
import { codeOf } from '../helpers/rejects.js';
import { incrementRacing } from '../helpers/kv-race.js';
import { testConfigDocument } from '../helpers/security.js';
import { connectFailover } from '../helpers/failover.js';
import { until } from '../helpers/wait.js';

let nats: NatsCluster;
const hubs: HubProcess[] = [];
const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
const dir = mkdtempSync(join(tmpdir(), 'cb-cluster-durable-'));

const clusterArgs = (i: number): string[] => hubClusterArgs(nats, i, dir);

const bus = async (i: number): Promise<SyncingBus> => (await openBus(hubs[i]!.url)) as SyncingBus;

/** Hub user 4 may not send notices of its appends ($CB.WATCH.>): a hub that dies before it does. */
const MUTED = 3;

before(async () => {
  nats = await startNatsCluster({
    nodes: 3,
    hubUsers: 4,
    hubPermissionsOf: (i) => (i === MUTED ? { publish: { deny: ['$CB.WATCH.>'] } } : undefined),
  });
  for (let i = 0; i < 3; i++) hubs.push(await startHubProcess(clusterArgs(i), { config, readyTimeoutMs: 20_000 }));
});

after(async () => {
  await closeAllBuses();
  await Promise.all(hubs.map((h) => (h.alive() ? h.stop() : undefined)));
  await nats?.stop();
});

async function readAll(b: SyncingBus, stream: string): Promise<Map<number, unknown>> {
  const bySeq = new Map<number, unknown>();
  for (let from = 1; ; ) {
    const page = await b.streams.read(stream, { fromSeq: from, maxMessages: 1000 });
    if (page.length === 0) return bySeq;
    for (const r of page) bySeq.set(r.seq, r.data);
    from = page[page.length - 1]!.seq + 1;
  }
}

test('a stream created on one hub lives in JetStream: the other hubs store into it, and consumers anywhere get it all', async () => {
  const [a, b, c] = [await bus(0), await bus(1), await bus(2)];
  await a.streams.create({ name: 'ORDERS', topics: ['orders.>'] });
  const jsz = (await nats.monitor(0, 'jsz?streams=1')) as {
    account_details?: Array<{ stream_detail?: Array<{ name: string; config?: { num_replicas?: number } }> }>;
  };
  const names = (jsz.account_details ?? []).flatMap((d) => d.stream_detail ?? []);
  const log = names.find((s) => s.name.includes('ORDERS') && !s.name.includes('DLQ'));
  assert.ok(log !== undefined, `a JetStream stream for ORDERS: ${names.map((s) => s.name)}`);
  // Debian's nats-server 2.9 cannot fsync before an ack: each hub says so when it joins.
  for (const h of hubs)
    assert.match(h.stderr(), /"server":"2\.9\.\d+".*acknowledges a durable publish once a majority of replicas hold it, before any fsync/);
  // The other hubs find it in the shared catalog the first time it is asked for.
  await b.publish('orders.probe', 0, { durable: true });
  const got: string[] = [];
  const consumer = c.consume<string>('ORDERS', { durable: 'billing', deliver: 'new' }, (m) => {
    got.push(m.data);
  });
  await consumer.ready;
  const acks: PublishAck[] = [];
  for (let i = 0; i < 5; i++) {
    acks.push(await a.publish('orders.a', `a${i}`, { durable: true }));
    acks.push(await b.publish('orders.b', `b${i}`, { durable: true }));
  }
  await until(() => got.length === 10, 10_000, 'the consumer on hub 3 got all ten');
  assert.deepEqual(got.sort(), ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
  const stored = await readAll(c, 'ORDERS');
  for (const ack of acks) assert.ok(stored.has(ack.seq), `seq ${ack.seq} read back on hub 3`);
});

test('a grant on > does not reach JetStream through a hub: $ topics stay on their hub', async () => {
  const [a, b] = [await bus(0), await bus(1)];
  const barrier: number[] = [];
  b.subscribe<number>('barrier.x', (m) => {
    barrier.push(m.data);
  });
  await b.flush();
  await until(
    async () => {
      await a.publish('barrier.x', 0);
      return barrier.length > 0;
    },
    5_000,
    'the barrier crosses',
  );
  await a.publish('$JS.API.STREAM.DELETE.CB_LOG_ORDERS', {}, { ack: true });
  await a.publish('$CB.STREAM.ORDERS.log.orders.forged', 'x', { ack: true });
  // Whatever the hub sent NATS before this arrives on hub 2 first (one connection, in order).
  await a.publish('barrier.x', 1, { ack: true });
  await until(() => barrier.includes(1), 5_000, 'the barrier after');
  const stored = await readAll(b, 'ORDERS');
  assert.ok(stored.size >= 11, 'ORDERS is still there, with its messages');
  assert.ok(![...stored.values()].includes('x'), 'nothing was written into it past the hubs');
});

test('delivery counts, backoff, late acks and dead letters keep their semantics with the log in JetStream', async () => {
  const [a, c] = [await bus(0), await bus(2)];
  await a.streams.create({ name: 'JOBS', topics: ['jobs.>'] });
  const seen: Array<{ n: number; count: number; at: number }> = [];
  const late: unknown[] = [];
  const consumer = c.consume<number>('JOBS', { durable: 'worker', ackWaitMs: 300, maxDeliver: 3, backoffMs: [100, 200] }, async (m) => {
    seen.push({ n: m.data, count: m.deliveryCount, at: Date.now() });
    if (m.data === 1) await m.ack();
    else if (m.data === 2) await m.nak();
    else if (m.data === 3 && m.deliveryCount === 1) {
      // Past its ack wait: given out again, so this late ack is refused.
      setTimeout(() => void m.ack().catch((err: unknown) => late.push(codeOf(err))), 600);
    } else if (m.data === 3) await m.ack();
  });
  await consumer.ready;
  for (const n of [1, 2, 3]) await a.publish('jobs.run', n, { durable: true });
  await until(() => seen.filter((x) => x.n === 2).length === 3 && late.length === 1, 10_000, 'three deliveries of 2, the late ack');
  assert.deepEqual(
    seen.filter((x) => x.n === 2).map((x) => x.count),
    [1, 2, 3],
  );
  const twos = seen.filter((x) => x.n === 2);
  assert.ok(twos[1]!.at - twos[0]!.at >= 90 && twos[2]!.at - twos[1]!.at >= 190, 'the backoff steps were waited');
  assert.deepEqual(late, ['CB_ERR_ACK_STALE']);
  assert.equal(seen.filter((x) => x.n === 1).length, 1);
  // After its last delivery, 2 is a dead letter, readable from another hub.
  await until(async () => (await readAll(a, 'JOBS.DLQ')).size === 1, 10_000, 'the dead letter');
  const [letter] = [...(await readAll(a, 'JOBS.DLQ')).values()];
  assert.equal(letter, 2);
});

test('compare-and-set across hubs: two hubs increment one key, every increment lands once', async () => {
  const [a, b] = [await bus(0), await bus(1)];
  const buckets = [await a.kv.bucket('counters'), await b.kv.bucket('counters')];
  await buckets[0]!.put('n', 0);
  await until(async () => (await buckets[1]!.get<number>('n'))?.value === 0, 10_000, 'hub 2 reads the key');
  const conflicts = await incrementRacing(buckets, 'n', 15);
  assert.equal((await buckets[1]!.get('n'))?.value, 30, `no increment lost (${conflicts} conflicts retried)`);
  assert.equal((await buckets[0]!.get('n'))?.value, 30);
  await assert.rejects(buckets[1]!.create('n', 1), (e: unknown) => codeOf(e) === 'CB_ERR_SEQ_MISMATCH');
});

test('two replicas of a document on different hubs edit at once and converge', async () => {
  const [a, b] = [await bus(0), await bus(2)];
  const docA = await a.sync.open<{ items: Record<string, number> }>('cluster/doc', { kind: 'json' });
  await docA.flushed();
  docA.replace({ items: {} });
  await docA.flushed();
  const docB = await b.sync.open<{ items: Record<string, number> }>('cluster/doc');
  for (let i = 0; i < 10; i++) {
    docA.change((d) => {
      d.items[`a${i}`] = i;
    });
    docB.change((d) => {
      d.items[`b${i}`] = i;
    });
  }
  await Promise.all([docA.flushed(), docB.flushed()]);
  await until(
    () => docA.seq === docB.seq && JSON.stringify(docA.value) === JSON.stringify(docB.value) && Object.keys(docA.value.items).length === 20,
    15_000,
    'the replicas converge',
  );
});

test('a hub setting changed through one hub applies on every hub at once (one shared settings bucket)', async () => {
  const [a, b] = [await bus(0), await bus(1)];
  type HubSettings = { version: number; effective: { limits?: { rate?: { perSecond?: number } } } };
  const perSecond = async (x: SyncingBus): Promise<number | undefined> =>
    ((await x.request('$SYS.REQ.SETTINGS.HUB.GET', null)) as HubSettings).effective.limits?.rate?.perSecond;
  assert.equal(await perSecond(b), 1_000_000);
  const set = (await a.request('$SYS.REQ.SETTINGS.HUB.SET', { path: 'limits.rate.perSecond', value: 900_000 })) as { version: number };
  assert.ok(set.version > 0);
  assert.equal(await perSecond(a), 900_000);
  await until(async () => (await perSecond(b)) === 900_000, 10_000, 'hub 2 applied the version hub 1 stored');
  await a.request('$SYS.REQ.SETTINGS.HUB.UNSET', { path: 'limits.rate.perSecond' });
  await until(async () => (await perSecond(b)) === 1_000_000, 10_000, 'and the one that took it back');
});

test('a hub killed right after its acks, before any notice of them: the other hubs read those appends from the stream', async () => {
  const [b, c] = [await bus(1), await bus(2)];
  await b.streams.create({ name: 'SILENT', topics: ['silent.>'] });
  const got: Array<[string, number]> = [];
  const consumer = c.consume<string>('SILENT', { deliver: 'all' }, (m) => {
    got.push([m.data, m.seq]);
  });
  await consumer.ready;
  const muted = await startHubProcess(clusterArgs(MUTED), { config, readyTimeoutMs: 20_000 });
  const m = (await openBus(muted.url)) as SyncingBus;
  const acks: number[] = [];
  for (let i = 0; i < 3; i++) acks.push((await m.publish('silent.m', `m${i}`, { durable: true })).seq);
  muted.kill();
  // Hub 2 appends after them: hub 3 holds its notice, waits a grace for the three, then reads them.
  const late = await b.publish('silent.b', 'b0', { durable: true });
  await until(() => got.length === 4, 15_000, 'the consumer on hub 3 got all four');
  assert.deepEqual(got, [
    ['m0', acks[0]],
    ['m1', acks[1]],
    ['m2', acks[2]],
    ['b0', late.seq],
  ]);
});

test('a NATS node and a hub killed while a client publishes durably: it fails over, and nothing acknowledged is lost', {
  timeout: 120_000,
}, async () => {
  const admin = await bus(2);
  await admin.streams.create({ name: 'FO', topics: ['fo.>'] });
  // A fourth hub on NATS node 1, which the client prefers; hub 2 (node 2) is its backup.
  const doomed = await startHubProcess(clusterArgs(0), { config, readyTimeoutMs: 20_000 });
  const client: FailoverBus = await connectFailover(
    { url: doomed.url, name: 'D' },
    { url: hubs[1]!.url, name: 'B' },
    config.apps.test.secret,
    {
      requestTimeoutMs: 30_000,
      recoveryMs: 600_000,
    },
  );
  try {
    await until(
      async () => {
        try {
          await client.publish('fo.probe', -1, { durable: true });
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'hub D stores into FO',
    );
    const COUNT = 400;
    const acks = new Map<number, PublishAck>();
    const failures: unknown[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < COUNT) {
        const i = next++;
        try {
          acks.set(i, await client.publish('fo.n', i, { durable: true }));
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const lanes = Promise.all(Array.from({ length: 8 }, lane));
    await until(() => acks.size >= 100, 30_000, 'a hundred acknowledged');
    await nats.nodes[0]!.kill();
    doomed.kill();
    await lanes;
    assert.equal(client.hub, 'B', 'the client moved to hub B');
    await nats.nodes[0]!.restart();
    await nats.jetStreamReady();
    const stored = await readAll(admin, 'FO');
    for (const [i, ack] of acks) assert.equal(stored.get(ack.seq), i, `message ${i} acknowledged at seq ${ack.seq} is in the stream`);
    assert.ok(acks.size + failures.length === COUNT, 'every publish settled');
    assert.ok(
      acks.size >= COUNT - failures.length && acks.size > 300,
      `acknowledged ${acks.size}, failed ${failures.length}: ${failures.slice(0, 3).map(String)}`,
    );
  } finally {
    await client.close();
  }
});
