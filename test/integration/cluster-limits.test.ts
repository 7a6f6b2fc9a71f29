/**
 * What NATS refuses, with two hubs in this process on a one-node NATS server whose messages are
 * small and whose hub users may not use `nats.denied.>`: a frame larger than NATS takes is a typed
 * error to the sender that asked to hear (and still reaches this hub's own subscribers); a subject
 * NATS denies the hub is said in its events and metrics, and nothing else stops.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from 'nkeys.js';
import { startHub, type Hub } from '../../src/hub/index.js';
import { closeAllBuses, openBus } from '../helpers/buses.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';
import { until } from '../helpers/wait.js';

let nats: NatsCluster;
const hubs: Hub[] = [];
// A hub that authenticates with an nkey (a seed file) instead of a password.
const nkey = createUser();
const seedFile = join(mkdtempSync(join(tmpdir(), 'cb-nkey-')), 'hub.nk');
writeFileSync(seedFile, new TextDecoder().decode(nkey.getSeed()), { mode: 0o600 });

before(async () => {
  nats = await startNatsCluster({
    nodes: 1,
    jetStream: false,
    maxPayload: '4KB',
    hubPermissions: { publish: { deny: ['nats.denied.>'] }, subscribe: { deny: ['nats.denied.>'] } },
    nkeyUsers: [nkey.getPublicKey()],
  });
  for (let i = 0; i < 2; i++) {
    const u = nats.users.hubs[i]!;
    hubs.push(
      await startHub({
        port: 0,
        insecure: true,
        streamStorage: 'memory',
        deployments: false,
        cluster: { servers: [nats.urls[0]!], user: u.user, password: u.password },
      }),
    );
  }
});

after(async () => {
  await closeAllBuses();
  for (const h of hubs) await h.close();
  await nats?.stop();
});

const value = (hub: Hub, name: string): number => {
  const m = hub.metrics().find((x) => x.name === name);
  return m === undefined || m.type === 'histogram' ? Number.NaN : (m.read()[0]?.value ?? Number.NaN);
};

test('a frame larger than NATS takes: CB_ERR_FRAME_TOO_LARGE to a sender that asked, local subscribers still served', async () => {
  const [a, b] = await Promise.all(hubs.map((h) => openBus(h.url)));
  const local: number[] = [];
  const remote: number[] = [];
  a!.subscribe<string>('big.x', (m) => {
    local.push(m.data.length);
  });
  b!.subscribe<string>('big.x', (m) => {
    remote.push(m.data.length);
  });
  await Promise.all([a!.flush(), b!.flush()]);
  // Hub 2's interest has reached NATS once a message published after it arrives there.
  const ready: number[] = [];
  b!.subscribe<number>('big.ready', (m) => {
    ready.push(m.data);
  });
  await b!.flush();
  await until(
    async () => {
      await a!.publish('big.ready', 0, { ack: true });
      return ready.length > 0;
    },
    5_000,
    'hub 2 hears hub 1',
  );
  await a!.publish('big.x', 'y'.repeat(100), { ack: true });
  await assert.rejects(a!.publish('big.x', 'y'.repeat(8_000), { ack: true }), (e: { code?: string; message: string }) => {
    assert.equal(e.code, 'CB_ERR_FRAME_TOO_LARGE');
    assert.match(e.message, /max_payload/);
    return true;
  });
  await assert.rejects(
    a!.request('big.svc', 'y'.repeat(8_000), { timeoutMs: 3_000 }),
    (e: { code?: string }) => e.code === 'CB_ERR_FRAME_TOO_LARGE',
  );
  await a!.publish('big.x', 'y'.repeat(200), { ack: true });
  await until(() => remote.length === 2 && local.length === 3, 3_000, 'deliveries');
  assert.deepEqual(remote, [100, 200]);
  assert.deepEqual(local, [100, 8_000, 200]);
  assert.ok(value(hubs[0]!, 'crossbus_cluster_refused_total') >= 2);
});

test('a subject NATS denies the hub: said in the events and the metric, the rest of the cluster unaffected', async () => {
  const [a, b] = await Promise.all(hubs.map((h) => openBus(h.url)));
  const refusals: string[] = [];
  hubs[1]!.cluster!.events.on('refused', (e) => refusals.push(`${e.what}: ${e.reason}`));
  const before = value(hubs[1]!, 'crossbus_cluster_refused_total');
  b!.subscribe('nats.denied.x', () => {});
  await b!.flush();
  await until(() => refusals.length > 0, 5_000, 'the refusal');
  assert.match(refusals.join('\n'), /nats\.denied\.x/);
  assert.match(refusals.join('\n'), /[Pp]ermission/);
  assert.ok(value(hubs[1]!, 'crossbus_cluster_refused_total') > before);
  // Other subjects still cross.
  const got: number[] = [];
  b!.subscribe<number>('still.ok', (m) => {
    got.push(m.data);
  });
  await b!.flush();
  await until(
    async () => {
      await a!.publish('still.ok', 1, { ack: true });
      return got.length > 0;
    },
    5_000,
    'a message on an allowed subject',
  );
  assert.equal(hubs[1]!.cluster?.state, 'connected');
});

test('a hub authenticated by an nkey seed file joins the same bus', async () => {
  const third = await startHub({
    port: 0,
    insecure: true,
    streamStorage: 'memory',
    deployments: false,
    cluster: { servers: [nats.urls[0]!], nkeySeedFile: seedFile },
  });
  try {
    const [a, c] = [await openBus(hubs[0]!.url), await openBus(third.url)];
    c.serve<number>('nkey.echo', (m) => m.data + 1);
    await c.flush();
    await until(() => third.cluster?.interestCount === 1, 3_000, 'interest');
    assert.equal(await a.request('nkey.echo', 41, { timeoutMs: 3_000 }), 42);
  } finally {
    await closeAllBuses();
    await third.close();
  }
  // A seed NATS does not know: refused at start, typed.
  const stranger = join(mkdtempSync(join(tmpdir(), 'cb-nkey-')), 'other.nk');
  writeFileSync(stranger, new TextDecoder().decode(createUser().getSeed()), { mode: 0o600 });
  await assert.rejects(
    startHub({
      port: 0,
      insecure: true,
      streamStorage: 'memory',
      deployments: false,
      cluster: { servers: [nats.urls[0]!], nkeySeedFile: stranger },
    }),
    (e: { code?: string }) => e.code === 'CB_ERR_CONNECTION_FAILED',
  );
});
