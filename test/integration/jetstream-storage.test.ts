/**
 * Durable streams in JetStream, on a real 3-node NATS cluster (started once for the file): the
 * storage contract, two hubs' StreamServices sharing streams through JetStreamCatalog, a node
 * killed while appending, and JetStream's limits as typed errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConnectionOptions, connect, type NatsConnection } from 'nats';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { resolveStreamConfig } from '../../src/core/streams/config.js';
import type { StreamMessage } from '../../src/client/index.js';
import { JetStreamCatalog } from '../../src/node/cluster/jetstream-catalog.js';
import { streamConfigOf } from '../../src/node/cluster/jetstream-config.js';
import { logNames } from '../../src/node/cluster/jetstream-names.js';
import { JetStreamStorage, type JetStreamStorageOptions } from '../../src/node/cluster/jetstream-storage.js';
import type { Logger } from '../../src/core/util/logger.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';
import { put, storageContract } from '../helpers/storage-contract.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { startStreamHub, take, type StreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

let cluster: NatsCluster;
let nc1: NatsConnection;
let nc2: NatsConnection;
let n = 0;

async function connectHub(i: number, o: ConnectionOptions = {}): Promise<NatsConnection> {
  const u = cluster.users.hubs[i]!;
  return connect({ servers: [...cluster.urls], user: u.user, pass: u.password, maxReconnectAttempts: -1, reconnectTimeWait: 100, ...o });
}

before(async () => {
  cluster = await startNatsCluster({ nodes: 3 });
  nc1 = await connectHub(0);
  nc2 = await connectHub(1);
});

after(async () => {
  await nc1?.close();
  await nc2?.close();
  await cluster?.stop();
});

/** A fresh log on its own JetStream stream; names of one length, so equal messages count equal bytes. */
const openLog = (o: Partial<JetStreamStorageOptions> = {}, nc = nc1): Promise<JetStreamStorage> =>
  JetStreamStorage.open(nc, { stream: `ct-${String(++n).padStart(3, '0')}`, ...o });

storageContract('JetStreamStorage', { open: (retention = {}) => openLog({ retention }) });

describe('JetStreamStorage', () => {
  test('keeps time, payload type, headers and msgId; refuses topics NATS cannot take without storing anything', async () => {
    const s = await openLog();
    const headers = { 'x-a': 'ü line\r\nbreak', 'Weird Name:': '' };
    const r = await s.append([
      { time: 5000, topic: 'orders.é.1', payloadType: 1, payload: new TextEncoder().encode('{"a":1}'), headers, msgId: 'id é/1' },
    ]);
    assert.deepEqual(r, { firstSeq: 1, lastSeq: 1 });
    const [m] = await s.read(1);
    assert.deepEqual(
      { ...m, payload: new TextDecoder().decode(m!.payload) },
      {
        seq: 1,
        time: 5000,
        topic: 'orders.é.1',
        payloadType: 1,
        payload: '{"a":1}',
        headers,
        msgId: 'id é/1',
      },
    );
    const tooLong = await rejectsWithCode(s.append([put('ok', 'a'), put(`t.${'x'.repeat(4000)}`, 'b')]), 'CB_ERR_TOPIC_TOO_LONG');
    assert.equal(tooLong.name, 'ValidationError');
    await rejectsWithCode(s.append([put('a.*', 'w')]), 'CB_ERR_TOPIC_INVALID');
    await rejectsWithCode(s.append([put('a..b', 'w')]), 'CB_ERR_TOPIC_INVALID');
    assert.equal(await s.lastForTopic('a.*'), undefined);
    assert.deepEqual(await s.append([put('after', 'c')]), { firstSeq: 2, lastSeq: 2 }, 'nothing of the refused appends was stored');
    assert.equal(s.state().messages, 2);
    await s.close();
    await rejectsWithCode(s.append([put('a', 'x')]), 'CB_ERR_STREAM_CLOSED');
  });

  test("a second hub's log on the same stream sees the appends, and is told of them in order", async () => {
    const a = await openLog();
    const b = await JetStreamStorage.open(nc2, { stream: `ct-${String(n).padStart(3, '0')}` });
    const told: Array<[string, number]> = [];
    b.watch((topic, seq) => told.push([topic, seq]));
    const toldA: number[] = [];
    a.watch((_t, seq) => toldA.push(seq));
    for (let i = 1; i <= 20; i++) await a.append([put(`k.${i % 3}`, `v${i}`, 1000 + i)]);
    await b.append([put('from.b', 'b1', 2000)]);
    await until(() => told.length === 20 && toldA.length === 1, 5_000, 'the watches');
    assert.deepEqual(
      told.map(([, seq]) => seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.deepEqual(told[0], ['k.1', 1]);
    assert.deepEqual(toldA, [21], "a hub is told of the others' appends, not of its own");
    await until(() => a.state().lastSeq === 21 && a.state().messages === 21, 5_000, "a's view");
    assert.deepEqual(a.state(), b.state(), 'both views count the same');
    assert.equal((await b.read(21))[0]!.topic, 'from.b');
    await a.close();
    await b.close();
  });

  test("two hubs' appends interleaved: a third is told of each once, in order, from their notices alone", async () => {
    // As a hub's: no echo, so a hub's own notices never come back to it (its PubAcks count instead).
    const [ncA, ncB, ncC] = await Promise.all([0, 1, 2].map((i) => connectHub(i, { noEcho: true })));
    const name = `ct-${String(++n).padStart(3, '0')}`;
    // A grace far longer than the test: a read would mean a reorder (or an own append) was not waited out.
    const gapReads: unknown[] = [];
    const o = { stream: name, noticeGraceMs: 60_000, logger: readsOf(gapReads) };
    const [a, b, c] = [await JetStreamStorage.open(ncA!, o), await JetStreamStorage.open(ncB!, o), await JetStreamStorage.open(ncC!, o)];
    const told: number[] = [];
    c.watch((_t, seq) => told.push(seq));
    // a and b are told of each other's appends: their own count in their accounting, not as a gap.
    const toldA: string[] = [];
    const toldB: string[] = [];
    a.watch((topic) => toldA.push(topic));
    b.watch((topic) => toldB.push(topic));
    let total = 0;
    const writer = async (s: JetStreamStorage, w: string): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const batch = i % 4 === 0 ? [put(`${w}.x`, `${i}a`), put(`${w}.y`, `${i}b`)] : [put(`${w}.x`, `${i}`)];
        await s.append(batch);
        total += batch.length;
      }
    };
    await Promise.all([writer(a, 'a1'), writer(a, 'a2'), writer(b, 'b1'), writer(b, 'b2')]);
    await until(() => told.length >= total, 10_000, 'the third hub told of every append');
    assert.deepEqual(
      told,
      Array.from({ length: total }, (_, i) => i + 1),
      'each once, in order',
    );
    assert.deepEqual(gapReads, [], 'no gap read from the stream: the notices filled every reorder');
    await until(() => toldA.length + toldB.length === total, 5_000, 'a and b told of each other');
    assert.ok(toldA.every((t) => t.startsWith('b')) && toldB.every((t) => t.startsWith('a')), 'each told of the other hub only');
    await until(() => [a, b, c].every((s) => s.state().messages === total), 5_000, 'the views');
    assert.deepEqual(c.state(), a.state());
    assert.deepEqual(b.state(), a.state());
    for (const s of [a, b, c]) await s.close();
    for (const nc of [ncA, ncB, ncC]) await nc!.close();
  });

  test('appends nobody sends a notice of (a hub killed after its PubAck) are read from the stream, in order', async () => {
    const name = `ct-${String(++n).padStart(3, '0')}`;
    const a = await JetStreamStorage.open(nc1, { stream: name });
    const gapReads: unknown[] = [];
    const c = await JetStreamStorage.open(nc2, { stream: name, noticeGraceMs: 50, refreshIntervalMs: 200, logger: readsOf(gapReads) });
    const told: Array<[string, number]> = [];
    c.watch((topic, seq) => told.push([topic, seq]));
    // A publish straight into the stream is stored and acknowledged with no notice, as a hub's
    // that died before its turn ended.
    const js = nc1.jetstream();
    const silent = async (topic: string): Promise<void> => void (await js.publish(`$CB.STREAM.${name}.log.${topic}`, new Uint8Array([1])));
    await a.append([put('told.1', 'x')]);
    await silent('silent.2');
    await a.append([put('told.3', 'x'), put('told.4', 'x')]);
    await silent('silent.5'); // the last: only a stream info shows it
    await until(() => told.length >= 5, 10_000, 'c told of all five');
    assert.deepEqual(told, [
      ['told.1', 1],
      ['silent.2', 2],
      ['told.3', 3],
      ['told.4', 4],
      ['silent.5', 5],
    ]);
    assert.ok(gapReads.length >= 1, `the gaps were read: ${JSON.stringify(gapReads)}`);
    await a.close();
    await c.close();
  });

  test('a stream created with a republish (before the notices) keeps it; each append is told once all the same', async () => {
    const name = `ct-${String(++n).padStart(3, '0')}`;
    const names = logNames('CB', name, 'log');
    const jsm = await nc1.jetstreamManager();
    const republish = { src: names.filter, dest: names.watchFilter, headers_only: true };
    const settings = { names, retention: {}, duplicateWindowMs: 0, replicas: 3, discard: 'old' as const };
    await jsm.streams.add({ ...streamConfigOf(settings), republish });
    const ncA = await connectHub(0, { noEcho: true });
    // Other settings: the stream is updated, and keeps its republish (nats-server 2.9 cannot drop it).
    const a = await JetStreamStorage.open(ncA, { stream: name, retention: { maxMessages: 1000 } });
    assert.deepEqual((await jsm.streams.info(names.stream)).config.republish, republish);
    const gapReads: unknown[] = [];
    const c = await JetStreamStorage.open(nc2, { stream: name, noticeGraceMs: 60_000, logger: readsOf(gapReads) });
    const told: number[] = [];
    c.watch((_t, seq) => told.push(seq));
    const toldA: number[] = [];
    a.watch((_t, seq) => toldA.push(seq));
    for (let i = 0; i < 10; i++) await a.append([put(`r.${i % 2}`, `v${i}`)]);
    await c.append([put('from.c', 'c')]);
    await until(() => told.length >= 10 && toldA.length >= 1, 5_000, 'both told');
    // Told by the republish and by the notice, whichever came first: once.
    assert.deepEqual(
      told,
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    assert.deepEqual(toldA, [11], 'its own appends, republished to it too, are not told to a');
    assert.deepEqual(gapReads, []);
    await until(() => a.state().messages === 11 && c.state().messages === 11, 5_000, 'the views');
    assert.deepEqual(a.state(), c.state());
    // A stream created now has none.
    const fresh = await openLog();
    assert.equal((await jsm.streams.info(fresh.jetStreamName)).config.republish, undefined);
    for (const s of [a, c, fresh]) await s.close();
    await ncA.close();
  });
});

/** A logger that keeps the follower's gap reads (its debug line) in `into`. */
function readsOf(into: unknown[]): Logger {
  const keep = (fields: unknown, message?: string): void => {
    if (message === 'stream: reading appends no notice told of') into.push(fields);
  };
  return { debug: keep as Logger['debug'], info: () => {}, warn: () => {}, error: () => {} };
}

describe('StreamService over JetStreamCatalog', () => {
  const hubs: StreamHub[] = [];
  after(async () => {
    for (const h of hubs) await h.close();
  });

  test('a second hub sees the streams, messages and consumers of the first, and live consumers get each other hub’s appends', async () => {
    const prefix = 'SVC';
    const hubA = await startStreamHub({ catalog: new JetStreamCatalog(nc1, { prefix }) });
    hubs.push(hubA);
    const busA = await hubA.connect();
    await busA.streams.create({ name: 'ORDERS', topics: ['orders.>'] });
    for (let i = 1; i <= 3; i++) assert.equal((await busA.publish(`orders.${i}`, { i }, { durable: true })).seq, i);
    const cA = busA.consume<{ i: number }>('ORDERS', { durable: 'billing' });
    const gotA = await take(cA[Symbol.asyncIterator](), 3);
    assert.deepEqual(
      gotA.map((m) => m.data.i),
      [1, 2, 3],
    );
    for (const m of gotA) await m.ack();
    await until(async () => ((await busA.streams.info('ORDERS')).consumers[0]?.ackFloor ?? 0) === 3, 5_000, 'acks settled');
    cA.close();
    await hubA.service.close(); // saves the consumer's position

    const hubB = await startStreamHub({ catalog: new JetStreamCatalog(nc2, { prefix }) });
    hubs.push(hubB);
    const hubA2 = await startStreamHub({ catalog: new JetStreamCatalog(nc1, { prefix }) });
    hubs.push(hubA2);
    const busB = await hubB.connect();
    const busA2 = await hubA2.connect();
    const info = await busB.streams.info('ORDERS');
    assert.deepEqual([info.state.firstSeq, info.state.lastSeq, info.state.messages], [1, 3, 3]);
    assert.deepEqual(
      (await busB.streams.read('ORDERS')).map((m) => m.data),
      [{ i: 1 }, { i: 2 }, { i: 3 }],
    );
    // The durable consumer goes on where hub A left it, on hub B: only what came after.
    const cB = busB.consume<{ i: number }>('ORDERS', { durable: 'billing' });
    await cB.ready;
    const itB = cB[Symbol.asyncIterator]();
    const live = busB.consume<{ i: number }>('ORDERS', { deliver: 'new' });
    await live.ready;
    const itLive = live[Symbol.asyncIterator]();
    // Appended through hub A: delivered by hub B's consumers.
    assert.equal((await busA2.publish('orders.4', { i: 4 }, { durable: true })).seq, 4);
    const [m4] = (await take(itB, 1)) as StreamMessage<{ i: number }>[];
    assert.deepEqual([m4!.seq, m4!.data.i], [4, 4]);
    assert.deepEqual(
      (await take(itLive, 1)).map((m) => m.seq),
      [4],
    );
    // And the other way round.
    const cA2 = busA2.consume<{ i: number }>('ORDERS', { deliver: 'new' });
    await cA2.ready;
    assert.equal((await busB.publish('orders.5', { i: 5 }, { durable: true })).seq, 5);
    assert.deepEqual(
      (await take(cA2[Symbol.asyncIterator](), 1)).map((m) => m.data.i),
      [5],
    );
    // A msgId is de-duplicated across hubs (JetStream's window): the retry through B is not stored again.
    const first = await busA2.publish('orders.6', { i: 6 }, { durable: true, msgId: 'order-6' });
    const retry = await busB.publish('orders.6', { i: 6 }, { durable: true, msgId: 'order-6' });
    assert.equal(retry.seq, first.seq);
    await until(async () => (await busB.streams.info('ORDERS')).state.messages === 6, 5_000, 'six messages');
  });
});

describe('JetStream failures', () => {
  test('a JetStream limit refuses with CB_ERR_STORAGE; what was acknowledged stays', async () => {
    const s = await openLog({ retention: { maxMessages: 2 }, discard: 'new' });
    await s.append([put('a', '1')]);
    await s.append([put('a', '2')]);
    const full = await rejectsWithCode(s.append([put('a', '3')]), 'CB_ERR_STORAGE');
    assert.equal(full.name, 'StorageError');
    assert.equal(full.details?.reason, 'limit');
    assert.equal(full.details?.jsErrCode, 10077, 'maximum messages exceeded');
    assert.ok(full.cause !== undefined);
    // Larger than the servers' max_payload (8 MB here): refused before it is sent.
    const big = await rejectsWithCode(s.append([{ ...put('a', ''), payload: new Uint8Array(9 * 1024 * 1024) }]), 'CB_ERR_STORAGE');
    assert.equal(big.details?.reason, 'limit');
    assert.deepEqual(
      (await s.read(1)).map((m) => new TextDecoder().decode(m.payload)),
      ['1', '2'],
    );
    assert.deepEqual([s.state().lastSeq, s.state().messages], [2, 2]);
    await s.close();
  });

  test('a publish NATS does not allow the hub fails at once (refused), not at the deadline; the others are stored', async () => {
    const own = await startNatsCluster({ nodes: 1, hubPermissions: { publish: { deny: ['$CB.STREAM.deny.log.secret.>'] } } });
    const u = own.users.hubs[0]!;
    const nc = await connect({ servers: own.urls[0], user: u.user, pass: u.password });
    try {
      const s = await JetStreamStorage.open(nc, { stream: 'deny', timeoutMs: 60_000 });
      const started = Date.now();
      const [denied, allowed] = await Promise.allSettled([s.append([put('secret.x', '1')]), s.append([put('open.x', '2')])]);
      const err = await rejectsWithCode(denied.status === 'rejected' ? Promise.reject(denied.reason) : Promise.resolve(), 'CB_ERR_STORAGE');
      assert.equal(err.details?.reason, 'refused');
      assert.ok(Date.now() - started < 30_000, `refused after ${Date.now() - started} ms`);
      assert.deepEqual(allowed.status === 'fulfilled' ? allowed.value : allowed.reason, { firstSeq: 1, lastSeq: 1 });
      assert.deepEqual(
        (await s.read(1)).map((m) => m.topic),
        ['open.x'],
      );
      await s.close();
    } finally {
      await nc.close();
      await own.stop();
    }
  });

  test('a node killed while appending: every acknowledged append is read back; the others fail typed', async (t) => {
    const s = await openLog({ timeoutMs: 4_000 });
    const jsm = await nc1.jetstreamManager();
    const leader = (await jsm.streams.info(s.jetStreamName)).cluster?.leader;
    const victim = cluster.nodes.findIndex((x) => x.name === leader);
    assert.ok(victim >= 0, `leader ${leader}`);
    // Another hub's log on the same stream, connected to the node about to die: it must hear of everything.
    const u = cluster.users.hubs[2]!;
    const urls = [cluster.nodes[victim]!.url, ...cluster.urls.filter((x) => x !== cluster.nodes[victim]!.url)];
    const nc3 = await connect({
      servers: urls,
      noRandomize: true,
      user: u.user,
      pass: u.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const other = await JetStreamStorage.open(nc3, { stream: `ct-${String(n).padStart(3, '0')}` });
    const told: number[] = [];
    other.watch((_t, seq) => told.push(seq));
    const acked = new Map<number, string>();
    const failures: unknown[] = [];
    let sent = 0;
    let stop = false;
    let lastAck = Date.now();
    let pause = 0;
    const writer = async (w: number): Promise<void> => {
      while (!stop) {
        const value = `w${w}-${sent++}`;
        try {
          const r = await s.append([put(`kill.${w}`, value, Date.now())]);
          acked.set(r.firstSeq, value);
          const now = Date.now();
          pause = Math.max(pause, now - lastAck);
          lastAck = now;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await until(() => acked.size >= 200, 10_000, 'appends before the kill');
    const before = acked.size;
    await cluster.nodes[victim]!.kill();
    await until(() => acked.size >= before + 200, 20_000, 'appends after the kill (a new leader)');
    stop = true;
    await Promise.all(writers);
    for (const err of failures) {
      assert.ok(isCrossbusError(err) && err.code === 'CB_ERR_STORAGE', `typed failure: ${String(err)}`);
    }
    const stored = new Map<number, string>();
    for (let from = 1; ; ) {
      const page = await s.read(from, { maxMessages: 500 });
      if (page.length === 0) break;
      for (const m of page) stored.set(m.seq, new TextDecoder().decode(m.payload));
      from = page[page.length - 1]!.seq + 1;
    }
    for (const [seq, value] of acked) assert.equal(stored.get(seq), value, `acknowledged seq ${seq}`);
    const last = Math.max(...stored.keys());
    const t0 = Date.now();
    await until(() => told[told.length - 1] === last, 15_000, "the other hub's watch to catch up");
    assert.deepEqual(
      told,
      [...stored.keys()].sort((a, b) => a - b),
      'told of every stored message, in order',
    );
    const reasons = failures.map((e) => (e as { details?: { reason?: string } }).details?.reason);
    t.diagnostic(
      `kill: ${acked.size} acknowledged (${before} before), ${failures.length} failed (${reasons.join(',')}), ${stored.size} stored, ` +
        `longest pause between acks ${pause} ms, watch caught up ${Date.now() - t0} ms after the last read`,
    );
    await cluster.nodes[victim]!.restart();
    await s.close();
    await other.close();
    await nc3.close();
  });
});

test("the shared catalog's poll never reports this hub's own creates and deletes as another hub's", async () => {
  const catalog = new JetStreamCatalog(nc1, { prefix: 'OWN', watchIntervalMs: 1 });
  const other = new JetStreamCatalog(nc2, { prefix: 'OWN', watchIntervalMs: 1 });
  const reported: string[] = [];
  const seenByOther = new Set<string>();
  const watch = catalog.watchStreams({ changed: (c) => reported.push(`changed ${c.name}`), removed: (n) => reported.push(`removed ${n}`) });
  const otherWatch = other.watchStreams({ changed: (c) => seenByOther.add(c.name), removed: () => {} });
  try {
    // Polls run back to back while streams are created and deleted here: each one overlaps writes.
    for (let i = 0; i < 30; i++) {
      await catalog.saveStream(resolveStreamConfig({ name: `own${i}`, topics: [`own${i}.>`] }));
      if (i % 2 === 0) await catalog.deleteStream(`own${i}`);
    }
    // The other hub's poll saw the survivors: polls did run meanwhile.
    await until(() => [1, 29].every((i) => seenByOther.has(`own${i}`)), 10_000, 'the other hub saw them');
    await watch.refresh();
    assert.deepEqual(reported, []);
  } finally {
    watch.stop();
    otherWatch.stop();
  }
});

test('opening the catalog waits while JetStream has no quorum, up to openTimeoutMs, then fails typed', async () => {
  const only = await connect({ servers: cluster.urls[0]!, user: cluster.users.hubs[0]!.user, pass: cluster.users.hubs[0]!.password });
  try {
    await Promise.all([cluster.nodes[1]!.kill(), cluster.nodes[2]!.kill()]);
    // One node of three: JetStream cannot answer. At the edge of the limit: a typed refusal.
    const err = await new JetStreamCatalog(only, { prefix: 'QUORUM', timeoutMs: 500, openTimeoutMs: 1_500 }).load().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isCrossbusError(err) && err.code === 'CB_ERR_STORAGE', String(err));
    assert.ok(['timeout', 'unavailable'].includes(String(err.details?.reason)), String(err.details?.reason));
    // Within it: the open goes on trying until the nodes are back.
    const loading = new JetStreamCatalog(only, { prefix: 'QUORUM', timeoutMs: 500, openTimeoutMs: 60_000 }).load();
    await Promise.all([cluster.nodes[1]!.restart(), cluster.nodes[2]!.restart()]);
    assert.deepEqual(await loading, []);
  } finally {
    for (const node of cluster.nodes) if (!node.running()) await node.restart();
    await cluster.jetStreamReady();
    await only.close();
  }
});
