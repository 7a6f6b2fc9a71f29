/**
 * Three hub processes joined by a real three-node NATS cluster (`crossbus hub --cluster`), each hub
 * on its own NATS node with its own NATS user, all three with one config (the same apps, so a
 * client may fail over between them). Clients on different hubs exchange messages, requests and
 * group work; interest crosses once per hub; grants stay the connecting hub's; a NATS node and a
 * hub are killed while messages flow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus, FailoverBus } from '../../src/node/index.js';
import { closeAllBuses, openBus } from '../helpers/buses.js';
import { runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { hubClusterArgs, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';
import { freePort } from '../helpers/ports.js';
import { testConfigDocument } from '../helpers/security.js';
import { connectFailover } from '../helpers/failover.js';
import { until } from '../helpers/wait.js';

let nats: NatsCluster;
const hubs: HubProcess[] = [];
const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
const dir = mkdtempSync(join(tmpdir(), 'cb-cluster-test-'));

const clusterArgs = (i: number): string[] => hubClusterArgs(nats, i, dir);

async function metric(hub: HubProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${hub.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

interface NatsConn {
  name: string;
  in_msgs?: number;
  subscriptions_list?: string[];
}
/** The NATS connection of hub `hubIndex` (found by its marker subscription), on whichever node. */
async function natsConnectionOf(hubIndex: number): Promise<NatsConn | undefined> {
  for (let n = 0; n < nats.nodes.length; n++) {
    if (!nats.nodes[n]!.running()) continue;
    const connz = (await nats.monitor(n, 'connz?subs=1')) as { connections: NatsConn[] };
    const found = connz.connections.find((c) => (c.subscriptions_list ?? []).includes(`hub-marker-${hubIndex}`));
    if (found !== undefined) return found;
  }
  return undefined;
}

async function natsSubscriptionsOf(hubIndex: number): Promise<string[]> {
  // Each hub's connection is on its own node; look on every node (after a failover it moves).
  for (let n = 0; n < nats.nodes.length; n++) {
    if (!nats.nodes[n]!.running()) continue;
    const connz = (await nats.monitor(n, 'connz?subs=1')) as { connections: NatsConn[] };
    const mine = connz.connections.filter((c) => c.name.startsWith('crossbus-hub-'));
    for (const c of mine) if ((c.subscriptions_list ?? []).includes(`hub-marker-${hubIndex}`)) return c.subscriptions_list ?? [];
  }
  return [];
}

before(async () => {
  nats = await startNatsCluster({ nodes: 3 });
  for (let i = 0; i < 3; i++) hubs.push(await startHubProcess(clusterArgs(i), { config }));
  // A marker subscription per hub tells which NATS connection is whose.
  for (let i = 0; i < 3; i++) {
    const b = await openBus(hubs[i]!.url);
    b.subscribe(`hub-marker-${i}`, () => {});
    await b.flush();
  }
});

after(async () => {
  await closeAllBuses();
  await Promise.all(hubs.map((h) => (h.alive() ? h.stop() : undefined)));
  await nats?.stop();
});

describe('hubs on a NATS cluster are one bus', () => {
  test('a message published on one hub reaches subscribers on the others, wildcards included', async () => {
    const [a, b, c] = await Promise.all(hubs.map((h) => openBus(h.url)));
    const got: string[] = [];
    b!.subscribe<string>('pets.*.born', (m) => {
      got.push(`b:${m.topic}:${m.data}`);
    });
    c!.subscribe<string>('pets.>', (m) => {
      got.push(`c:${m.topic}:${m.data}`);
    });
    await Promise.all([b!.flush(), c!.flush()]);
    await until(async () => (await natsSubscriptionsOf(2)).includes('pets.>'), 5_000, 'hub 3 interest in NATS');
    await until(async () => (await natsSubscriptionsOf(1)).includes('pets.*.born'), 5_000, 'hub 2 interest in NATS');
    await a!.publish('pets.cat.born', 'tom', { ack: true });
    await a!.publish('pets.dog.fed', 'rex', { ack: true });
    await until(() => got.length === 3, 5_000, 'three deliveries');
    assert.deepEqual(got.sort(), ['b:pets.cat.born:tom', 'c:pets.cat.born:tom', 'c:pets.dog.fed:rex']);
  });

  test('each hub forwards only its own interest, and a message crosses once per hub, not per subscriber', async () => {
    const [a, b, c] = await Promise.all(hubs.map((h) => openBus(h.url)));
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5; i++) {
      const s = await openBus(hubs[1]!.url);
      s.subscribe('once.topic', () => {
        counts[i]!++;
      });
      await s.flush();
    }
    let barrier = 0;
    c!.subscribe('once.barrier', () => {
      barrier++;
    });
    await c!.flush();
    await until(async () => (await natsSubscriptionsOf(2)).includes('once.barrier'), 5_000, 'barrier interest');
    const subsB = await natsSubscriptionsOf(1);
    assert.equal(subsB.filter((s) => s === 'once.topic').length, 1, `hub 2 holds one NATS subscription for five subscribers: ${subsB}`);
    assert.ok(!(await natsSubscriptionsOf(2)).includes('once.topic'), 'hub 3 has no interest and holds none');
    assert.ok(!(await natsSubscriptionsOf(0)).includes('once.topic'));
    const inB = await metric(hubs[1]!, 'crossbus_cluster_messages_in_total');
    const inC = await metric(hubs[2]!, 'crossbus_cluster_messages_in_total');
    for (let i = 0; i < 50; i++) await a!.publish('once.topic', i);
    await a!.publish('once.barrier', 0, { ack: true });
    await until(() => barrier === 1 && counts.every((n) => n === 50), 5_000, 'every subscriber has all 50, hub 3 the barrier');
    assert.equal((await metric(hubs[1]!, 'crossbus_cluster_messages_in_total')) - inB, 50, 'hub 2 received each message once');
    assert.equal((await metric(hubs[2]!, 'crossbus_cluster_messages_in_total')) - inC, 1, 'hub 3 received only the barrier');
    await b!.flush();
  });

  test('a burst crosses in fewer NATS messages than it has, every message once and in the order sent', async () => {
    const [a, b] = await Promise.all(hubs.slice(0, 2).map((h) => openBus(h.url)));
    const got: string[] = [];
    b!.subscribe<number>('burst.>', (m) => {
      got.push(`${m.topic}:${m.data}`);
    });
    await b!.flush();
    await until(async () => (await natsSubscriptionsOf(1)).includes('burst.>'), 5_000, 'burst interest');
    const natsBefore = (await natsConnectionOf(0))?.in_msgs ?? Number.NaN;
    const outBefore = await metric(hubs[0]!, 'crossbus_cluster_messages_out_total');
    const inBefore = await metric(hubs[1]!, 'crossbus_cluster_messages_in_total');
    // Another topic every 50 messages: a run ends there, and the wildcard subscriber sees them in order.
    const sent = Array.from({ length: 200 }, (_, i) => `${i % 50 === 49 ? 'burst.other' : 'burst.main'}:${i}`);
    await Promise.all(sent.map((s, i) => a!.publish(s.slice(0, s.indexOf(':')), i)));
    await a!.flush();
    await until(() => got.length >= sent.length, 5_000, 'every message of the burst');
    assert.deepEqual(got, sent);
    assert.equal(
      (await metric(hubs[0]!, 'crossbus_cluster_messages_out_total')) - outBefore,
      200,
      'hub 1 counts messages, not NATS messages',
    );
    assert.equal((await metric(hubs[1]!, 'crossbus_cluster_messages_in_total')) - inBefore, 200);
    const natsMessages = ((await natsConnectionOf(0))?.in_msgs ?? Number.NaN) - natsBefore;
    assert.ok(natsMessages < 200, `hub 1 sent the burst in ${natsMessages} NATS messages`);
  });

  test('requests cross hubs; a service group answers each request once, preferring members on the requester’s hub', async () => {
    const [a, b, c] = await Promise.all(hubs.map((h) => openBus(h.url)));
    const servedBy: string[] = [];
    for (const [bus, name] of [
      [b!, 'b1'],
      [b!, 'b2'],
      [c!, 'c1'],
      [c!, 'c2'],
    ] as const) {
      bus.serve<number>(
        'math.double',
        (m) => {
          servedBy.push(name);
          return { n: m.data * 2, by: name };
        },
        { group: 'math' },
      );
    }
    await Promise.all([b!.flush(), c!.flush()]);
    await until(async () => (await natsSubscriptionsOf(2)).includes('math.double'), 5_000, 'group interest');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => a!.request<{ n: number; by: string }>('math.double', i, { timeoutMs: 5_000 })),
    );
    assert.deepEqual(
      answers.map((r) => r.n),
      Array.from({ length: 40 }, (_, i) => i * 2),
    );
    assert.equal(servedBy.length, 40, 'each request served exactly once');
    assert.ok(servedBy.some((n) => n.startsWith('b')) && servedBy.some((n) => n.startsWith('c')), `both hubs served: ${servedBy}`);
    servedBy.length = 0;
    // From hub 2, whose own members serve the group: hub 3 skips what hub 2 served.
    const local = await Promise.all(
      Array.from({ length: 10 }, (_, i) => b!.request<{ by: string }>('math.double', i, { timeoutMs: 5_000 })),
    );
    assert.ok(
      local.every((r) => r.by.startsWith('b')),
      `served on hub 2: ${local.map((r) => r.by)}`,
    );
    assert.equal(servedBy.length, 10);
  });

  test('no responders anywhere is said at once; a responder that does not answer times out', async () => {
    const [a, , c] = await Promise.all(hubs.map((h) => openBus(h.url)));
    const started = Date.now();
    await assert.rejects(a!.request('nobody.home', 1, { timeoutMs: 10_000 }), (e: { code?: string }) => e.code === 'CB_ERR_NO_RESPONDERS');
    assert.ok(Date.now() - started < 5_000, 'said before the timeout');
    let heard = 0;
    c!.subscribe('silent.service', () => {
      heard++;
    });
    await c!.flush();
    await until(async () => (await natsSubscriptionsOf(2)).includes('silent.service'), 5_000, 'silent interest');
    await assert.rejects(a!.request('silent.service', 1, { timeoutMs: 400 }), (e: { code?: string }) => e.code === 'CB_ERR_TIMEOUT');
    assert.equal(heard, 1, 'the request reached the other hub');
  });

  test('grants stay with the hub a client connects to: the cluster never widens them', async () => {
    const orders = await openBus(hubs[0]!.url, { name: 'orders', secret: config.apps.orders.secret });
    const billing = await openBus(hubs[1]!.url, { name: 'billing', secret: config.apps.billing.secret });
    const snoop = await openBus(hubs[2]!.url, { name: 'orders', secret: config.apps.orders.secret });
    const seen: string[] = [];
    billing.subscribe<string>('orders.>', (m) => {
      seen.push(m.data);
    });
    await billing.flush();
    // orders may not subscribe to billing.>, whichever hub carries billing's messages.
    const refused = snoop.subscribe('billing.>', () => {});
    await assert.rejects(refused.ready, (e: { code?: string }) => e.code === 'CB_ERR_FORBIDDEN');
    // nor publish outside its grants, nor into the cluster's reply inboxes.
    await assert.rejects(orders.publish('billing.invoice', 'x', { ack: true }), (e: { code?: string }) => e.code === 'CB_ERR_FORBIDDEN');
    await until(async () => (await natsSubscriptionsOf(1)).includes('orders.>'), 5_000, 'billing interest');
    await orders.publish('orders.new', 'o-1', { ack: true });
    await until(() => seen.length === 1, 5_000, 'billing got the order');
    assert.deepEqual(seen, ['o-1']);
  });
});

describe('failures', () => {
  test('a NATS node killed mid-stream: its hub reconnects to another node and messages flow again', async () => {
    const pub = await openBus(hubs[0]!.url);
    const sub = await openBus(hubs[1]!.url);
    const got = new Set<number>();
    sub.subscribe<number>('flow.n', (m) => {
      got.add(m.data);
    });
    await sub.flush();
    await until(async () => (await natsSubscriptionsOf(1)).includes('flow.n'), 5_000, 'flow interest');
    let n = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        await pub.publish('flow.n', n++).catch(() => {});
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => got.size > 20, 5_000, 'messages flowing');
    // Hub 1 is on node 1: kill it. It knows the other nodes only from what the servers told it.
    await nats.nodes[0]!.kill();
    const killedAt = n;
    await until(() => [...got].some((x) => x > killedAt + 20), 20_000, 'messages flowing again after the kill');
    assert.ok((await metric(hubs[0]!, 'crossbus_cluster_reconnects_total')) >= 1, 'hub 1 reconnected to another node');
    running = false;
    await loop;
    await nats.nodes[0]!.restart();
    await nats.jetStreamReady();
  });

  test('a hub killed: a client fails over to another hub of the cluster and keeps its subscription and service', async () => {
    const extra = await startHubProcess(clusterArgs(0), { config });
    const other = await openBus(hubs[2]!.url);
    const client: FailoverBus = await connectFailover(
      { url: extra.url, name: 'X' },
      { url: hubs[1]!.url, name: 'B' },
      config.apps.test.secret,
      {
        recoveryMs: 60_000,
      },
    );
    try {
      const got: number[] = [];
      client.subscribe<number>('fo.cluster', (m) => {
        got.push(m.data);
      });
      client.serve<number>('fo.cluster.svc', (m) => ({ hub: client.hub, n: m.data }));
      await client.flush();
      assert.equal(client.hub, 'X');
      await until(
        async () => {
          await other.publish('fo.cluster', 1);
          return got.length > 0;
        },
        5_000,
        'delivery through hub X',
      );
      extra.kill();
      await until(() => client.hub === 'B', 15_000, 'the client moved to hub B');
      await until(
        async () => {
          await other.publish('fo.cluster', 2);
          return got.includes(2);
        },
        10_000,
        'delivery through hub B',
      );
      await until(
        async () => {
          try {
            const r = await other.request<{ hub: string }>('fo.cluster.svc', 3, { timeoutMs: 1_000 });
            return r.hub === 'B';
          } catch {
            return false;
          }
        },
        10_000,
        'the service answers through hub B',
      );
    } finally {
      await client.close();
    }
  });

  test('NATS unreachable at start: a typed error naming the servers, never the password; or local-only when asked', async () => {
    const port = await freePort();
    const pwFile = join(dir, 'unreachable.password');
    writeFileSync(pwFile, 'do-not-print-me', { mode: 0o600 });
    const args = ['--cluster', `nats://127.0.0.1:${port}`, '--cluster-user', 'hub1', '--cluster-password-file', pwFile];
    const failed = await startHubProcess(args, { config }).then(
      () => assert.fail('the hub started'),
      (e: { exit?: { stdout: string; stderr: string; code: number | null } }) => e.exit,
    );
    const out = `${failed?.stdout}${failed?.stderr}`;
    assert.match(out, /CB_ERR_CONNECTION_FAILED/);
    assert.match(out, new RegExp(`nats://127.0.0.1:${port}`));
    assert.doesNotMatch(out, /do-not-print-me/);
    assert.notEqual(failed?.code, 0);
    // Wrong password on a live cluster: the same typed refusal.
    writeFileSync(pwFile, 'wrong-password', { mode: 0o600 });
    const refused = await startHubProcess(['--cluster', nats.urls[1]!, '--cluster-user', 'hub1', '--cluster-password-file', pwFile], {
      config,
    }).then(
      () => assert.fail('the hub started'),
      (e: { exit?: { stdout: string; stderr: string } }) => `${e.exit?.stdout}${e.exit?.stderr}`,
    );
    assert.match(refused, /CB_ERR_CONNECTION_FAILED/);
    assert.doesNotMatch(refused, /wrong-password/);
    // Local-only: serves its own clients, and says it is not ready until it joins.
    const local = await startHubProcess([...args, '--cluster-local-only'], { config });
    const res = await fetch(`http://127.0.0.1:${local.port}/readyz`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /not joined/);
    const bus: Bus = await openBus(local.url);
    let got = 0;
    bus.subscribe('local.only', () => {
      got++;
    });
    await bus.flush();
    await bus.publish('local.only', 1, { ack: true });
    await until(() => got === 1, 3_000, 'local delivery');
    await local.stop();
  });

  test('cluster flags that cannot work are usage errors', async () => {
    const noPassword = await runCli(['hub', '--cluster', 'nats://127.0.0.1:4222', '--cluster-user', 'hub1', '--port', '0'], 10_000, {
      env: { ...process.env, CROSSBUS_CLUSTER_PASSWORD: '' },
    });
    assert.notEqual(noPassword.code, 0);
    assert.match(noPassword.stderr, /--cluster-user needs --cluster-password-file/);
    const inUrl = await runCli(['hub', '--cluster', 'nats://hub1:secret-in-url@127.0.0.1:4222', '--port', '0', '--data', dir], 10_000);
    assert.notEqual(inUrl.code, 0);
    assert.match(inUrl.stderr, /must not carry credentials/);
    assert.doesNotMatch(inUrl.stderr + inUrl.stdout, /secret-in-url/);
  });
});
