/**
 * Durable consumers across hubs, kept by JetStream: three hub processes on a real three-node NATS
 * cluster. One durable consumer with members on two hubs hands each message to one member once,
 * and JetStream holds it (its position and acks are JetStream's consumer's); when a hub dies with
 * messages its member never acked, a member on another hub gets them after the ack wait; deleting
 * the consumer on one hub ends its members on the others. The hubs start at the same moment on a
 * fresh cluster, so they create the shared buckets together.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as natsConnect, nanos, type ConsumerInfo, type NatsConnection } from 'nats';
import { ACK_GUARD_MS } from '../../src/node/cluster/jetstream-consumer-config.js';
import type { Bus } from '../../src/node/index.js';
import { startHub } from '../../src/hub/index.js';
import { closeAllBuses, openBus } from '../helpers/buses.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { hubClusterArgs, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

let nats: NatsCluster;
let direct: NatsConnection;
const hubs: HubProcess[] = [];
const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
const dir = mkdtempSync(join(tmpdir(), 'cb-cluster-consumers-'));

before(async () => {
  nats = await startNatsCluster({ nodes: 3 });
  // All three at once on a fresh cluster: they create the shared catalog and settings buckets together.
  hubs.push(
    ...(await Promise.all([0, 1, 2].map((i) => startHubProcess(hubClusterArgs(nats, i, dir), { config, readyTimeoutMs: 30_000 })))),
  );
  direct = await natsConnect({ servers: [...nats.urls], user: nats.users.direct.user, pass: nats.users.direct.password });
});

after(async () => {
  await closeAllBuses();
  await direct?.close();
  await Promise.all(hubs.map((h) => (h.alive() ? h.stop() : undefined)));
  await nats?.stop();
});

/** The JetStream consumer behind crossbus durable `durable` of `stream`, as the cluster reports it. */
async function jetStreamConsumer(stream: string, durable: string): Promise<ConsumerInfo> {
  const jsm = await direct.jetstreamManager();
  return jsm.consumers.info(`CB_LOG_${stream}`, durable);
}

async function publishAll(b: Bus, topic: string, count: number): Promise<number[]> {
  const acks = await Promise.all(Array.from({ length: count }, (_, n) => b.publish(topic, n, { durable: true })));
  return acks.map((a) => a.seq);
}

test('one durable consumer with members on two hubs: JetStream keeps it, and each message goes to one member once', async () => {
  const [a, b, c] = [await openBus(hubs[0]!.url), await openBus(hubs[1]!.url), await openBus(hubs[2]!.url)];
  await a.streams.create({ name: 'WORK', topics: ['work.>'] });
  const got = new Map<number, string[]>();
  const member = (bus: Bus, hub: string) =>
    bus.consume<number>('WORK', { durable: 'pool', ackWaitMs: 10_000 }, async (m) => {
      got.set(m.data, [...(got.get(m.data) ?? []), hub]);
      await m.ack();
    });
  const [onB, onC] = [member(b, 'b'), member(c, 'c')];
  await Promise.all([onB.ready, onC.ready]);
  // Both hubs pull from the JetStream consumer before anything is published.
  await until(async () => (await jetStreamConsumer('WORK', 'pool')).num_waiting === 2, 10_000, 'a pull from each hub');
  const seqs = await publishAll(a, 'work.item', 300);
  await until(() => got.size === 300, 20_000, 'every item handed out');
  const twice = [...got].filter(([, hubsOf]) => hubsOf.length > 1);
  assert.deepEqual(twice, [], 'no item went to two members');
  const byHub = (h: string) => [...got.values()].filter((x) => x[0] === h).length;
  assert.ok(byHub('b') > 0 && byHub('c') > 0, `both hubs served: b ${byHub('b')}, c ${byHub('c')}`);
  // The position is JetStream's own consumer's: every ack reached it.
  const last = Math.max(...seqs);
  await until(async () => (await jetStreamConsumer('WORK', 'pool')).ack_floor.stream_seq === last, 10_000, 'the acks in JetStream');
  const info = await jetStreamConsumer('WORK', 'pool');
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.num_redelivered, 0);
  assert.equal(info.delivered.stream_seq, last);
  // Hub 1 holds no member of it, and lists it all the same, with JetStream's position.
  const listed = (await a.streams.info('WORK')).consumers.find((x) => x.durable === 'pool');
  assert.deepEqual(listed, { durable: 'pool', ackFloor: last, pending: 0, waiting: 0, members: 0 });
});

test('a hub dies holding unacked messages: a member on another hub gets them after the ack wait', async () => {
  const [a, c] = [await openBus(hubs[0]!.url), await openBus(hubs[2]!.url)];
  await a.streams.create({ name: 'HELD', topics: ['held.>'] });
  const doomed = await openBus(hubs[1]!.url, { reconnect: false });
  const held: number[] = [];
  const holder = doomed.consume<number>('HELD', { durable: 'h', ackWaitMs: 1_000, backoffMs: [] }, (m) => {
    held.push(m.data); // never acked
  });
  await holder.ready;
  await publishAll(a, 'held.item', 20);
  await until(() => held.length === 20, 10_000, 'hub 2 holds all twenty');
  hubs[1]!.kill();
  await hubs[1]!.exited;
  const acked = new Map<number, number>();
  const rescuer = c.consume<number>('HELD', { durable: 'h', ackWaitMs: 1_000, backoffMs: [] }, async (m) => {
    acked.set(m.data, m.deliveryCount);
    await m.ack();
  });
  await rescuer.ready;
  await until(() => acked.size === 20, 15_000, 'hub 3 got every held message');
  assert.ok(
    [...acked.values()].every((count) => count >= 2),
    'each one a redelivery',
  );
  await until(async () => (await jetStreamConsumer('HELD', 'h')).num_ack_pending === 0, 10_000, 'all acked in JetStream');
});

test('a consumer deleted on one hub ends its members on the others', async () => {
  const [a, c] = [await openBus(hubs[0]!.url), await openBus(hubs[2]!.url)];
  await a.streams.create({ name: 'GONE', topics: ['gone.>'] });
  const consumer = c.consume<number>('GONE', { durable: 'g' }, async (m) => m.ack());
  await consumer.ready;
  await a.streams.deleteConsumer('GONE', 'g');
  await until(() => consumer.error !== undefined, 10_000, 'the member on hub 3 ended');
  assert.equal(consumer.error?.code, 'CB_ERR_CONSUMER_NOT_FOUND');
  await assert.rejects(jetStreamConsumer('GONE', 'g'), /consumer not found/);
});

test('a member joining with its own settings brings them to the JetStream consumer; the position stays', async () => {
  // Hub 2 was killed above.
  const [a, b] = [await openBus(hubs[0]!.url), await openBus(hubs[2]!.url)];
  await a.streams.create({ name: 'TUNE', topics: ['tune.>'] });
  const first = b.consume<number>('TUNE', { durable: 't', deliver: 'new', ackWaitMs: 5_000 }, async (m) => m.ack());
  await first.ready;
  await first.unsubscribe();
  const before = await jetStreamConsumer('TUNE', 't');
  const got: number[] = [];
  const tuned = a.consume<number>(
    'TUNE',
    { durable: 't', deliver: 'all', ackWaitMs: 2_000, backoffMs: [500], maxAckPending: 50 },
    async (m) => {
      got.push(m.data);
      await m.ack();
    },
  );
  await tuned.ready;
  const info = await jetStreamConsumer('TUNE', 't');
  assert.deepEqual(info.config.backoff, [nanos(2_000 + 500 + ACK_GUARD_MS)]);
  assert.equal(info.config.max_ack_pending, 50);
  assert.equal(info.config.deliver_policy, before.config.deliver_policy, 'still delivering new messages only');
  await publishAll(a, 'tune.x', 3);
  await until(() => got.length === 3, 10_000, 'the three published after it was created');
});

test('the NATS node leading a consumer is killed while members consume: every acknowledged message still arrives', async () => {
  const [a, c] = [await openBus(hubs[0]!.url), await openBus(hubs[2]!.url)];
  await a.streams.create({ name: 'STEADY', topics: ['steady.>'] });
  const got = new Set<number>();
  const consumer = c.consume<number>('STEADY', { durable: 's', ackWaitMs: 2_000, backoffMs: [] }, async (m) => {
    got.add(m.data);
    await m.ack();
  });
  await consumer.ready;
  const leader = (await jetStreamConsumer('STEADY', 's')).cluster?.leader;
  const node = nats.nodes.find((n) => n.name === leader);
  assert.ok(node !== undefined, `the consumer's leader is one of the nodes: ${leader}`);
  const acked: number[] = [];
  let killed = false;
  for (let n = 0; n < 150; n++) {
    if (n === 50) {
      await until(() => got.size >= 40, 10_000, 'consuming before the kill');
      await node.kill();
      killed = true;
    }
    // During the election a publish may fail (retryable CB_ERR_STORAGE): only acknowledged ones count.
    await a.publish('steady.x', n, { durable: true }).then(
      () => acked.push(n),
      (err: unknown) => assert.ok(killed, `failed before the kill: ${String(err)}`),
    );
  }
  assert.ok(acked.length > 100, `most publishes acknowledged: ${acked.length}`);
  await until(() => acked.every((n) => got.has(n)), 30_000, 'every acknowledged message consumed');
  await node.restart();
});

test("deliveries wait at the hub while a member's connection is full, and none is handed out twice", async () => {
  const a = await openBus(hubs[0]!.url);
  await a.streams.create({ name: 'FULL', topics: ['full.>'] });
  const user = nats.users.hubs[0]!;
  // Anything queued or buffered makes the connection full: pulled messages wait at the hub for each drain.
  const hub = await startHub({
    port: 0,
    insecure: true,
    deployments: false,
    transportHighWaterBytes: 1,
    cluster: { servers: [nats.urls[0]!], user: user.user, password: user.password },
  });
  try {
    const member = await openBus(hub.url);
    const counts = new Map<number, number>();
    const consumer = member.consume<{ n: number }>('FULL', { durable: 'f', ackWaitMs: 5_000, backoffMs: [] }, async (m) => {
      counts.set(m.data.n, (counts.get(m.data.n) ?? 0) + 1);
      await m.ack();
    });
    await consumer.ready;
    const pad = 'x'.repeat(4_096);
    const acks = await Promise.all(Array.from({ length: 400 }, (_, n) => a.publish('full.item', { n, pad }, { durable: true })));
    await until(() => counts.size === 400, 20_000, 'every message delivered');
    assert.deepEqual(
      [...counts].filter(([, c]) => c > 1),
      [],
      'none twice',
    );
    const last = Math.max(...acks.map((x) => x.seq));
    await until(async () => (await jetStreamConsumer('FULL', 'f')).ack_floor.stream_seq === last, 10_000, 'every ack in JetStream');
    assert.equal((await jetStreamConsumer('FULL', 'f')).num_redelivered, 0);
  } finally {
    await hub.close();
  }
});
