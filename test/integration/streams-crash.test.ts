/**
 * Nothing acknowledged is ever lost: a publisher process publishes durably while the hub process
 * is killed with SIGKILL at random moments and restarted on the same port and data directory,
 * again and again. Afterwards every acknowledged message is in the stream exactly once, at the
 * sequence its acknowledgement named, and a durable consumer that lived through the crashes has
 * received every one of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StreamMessage } from '../../src/client/index.js';
import { openBus } from '../helpers/buses.js';
import { REPO_ROOT, restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';

const seed = Number(process.env.CRASH_SEED ?? 20261122);
const KILLS = 12;
const COUNT = 4_000;
const WINDOW = 16;
const PUBLISHER = fileURLToPath(new URL('../fixtures/durable-publisher.ts', import.meta.url));

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed with CRASH_SEED. */
function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`durable publishes survive ${KILLS} SIGKILLs of the hub (seed ${seed})`, { timeout: 120_000 }, async () => {
  const random = rng(seed);
  let hub: HubProcess = await startHubProcess();
  const { port } = hub;
  const creds = hub.credentials!;
  const admin = await openBus(hub.url, {
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 1_000_000 },
    requestTimeoutMs: 3_000,
  });
  await admin.streams.create({ name: 'CRASH', topics: ['crash.>'] });

  // A durable consumer living through the crashes: it re-attaches by itself after each restart.
  const received = new Map<number, number>();
  const consumer = admin.consume<{ i: number }>('CRASH', { durable: 'crash-test', ackWaitMs: 2_000 }, (m: StreamMessage<{ i: number }>) => {
    received.set(m.data.i, (received.get(m.data.i) ?? 0) + 1);
    m.ack().catch(() => {}); // a lost ack only means a redelivery
  });
  await consumer.ready;

  const publisher = spawn(
    process.execPath,
    ['--import', 'tsx', PUBLISHER, hub.url, creds.name, creds.secret, 'crash.orders', String(COUNT), String(WINDOW)],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const acks = new Map<number, number>(); // i -> seq
  let out = '';
  let errText = '';
  let finished = false;
  publisher.stdout.setEncoding('utf8');
  publisher.stderr.setEncoding('utf8');
  publisher.stdout.on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const m = /^ack (\d+) (\d+) ([01])$/.exec(line);
      if (m !== null) {
        const i = Number(m[1]);
        const seq = Number(m[2]);
        const before = acks.get(i);
        assert.ok(before === undefined || before === seq, `message ${i} acknowledged at seq ${before} and at ${seq}`);
        acks.set(i, seq);
      } else if (line === 'done') finished = true;
    }
  });
  publisher.stderr.on('data', (d: string) => (errText += d));
  const publisherExit = new Promise<number | null>((resolve) => publisher.once('close', (code) => resolve(code)));

  try {
    // The publisher process connects once, without retries: the first kill must come after that.
    await until(() => acks.size > 0 || publisher.exitCode !== null, 30_000, 'the publisher to start publishing');
    assert.ok(acks.size > 0, `the publisher could not start:\n${errText}`);
    let kills = 0;
    while (kills < KILLS) {
      await new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 600)));
      const ackedBefore = acks.size;
      await hub.stop('SIGKILL');
      kills++;
      hub = await restartOnPort(port);
      // Each crash must hit a hub that was taking publishes: wait for progress before the next.
      await until(() => acks.size > ackedBefore || finished, 20_000, `progress after kill ${kills}`).catch((err: Error) => {
        throw new Error(
          `${err.message} (${acks.size} acknowledged)\npublisher stderr:\n${errText.slice(-3000)}\nhub log:\n${(hub.stdout() + hub.stderr()).slice(-3000)}`,
        );
      });
    }
    await until(() => finished, 60_000, `the publisher to finish (${acks.size}/${COUNT} acknowledged)\n${errText}`);
    assert.equal(await publisherExit, 0, errText);
    assert.equal(acks.size, COUNT);

    // The stream: exactly the acknowledged messages, each once, at the seq its ack named.
    const stored: Array<{ seq: number; i: number }> = [];
    for (let from = 1; ; ) {
      const page = await admin.streams.read('CRASH', { fromSeq: from, maxMessages: 1000 });
      if (page.length === 0) break;
      for (const r of page) stored.push({ seq: r.seq, i: (r.data as { i: number }).i });
      from = page[page.length - 1]!.seq + 1;
    }
    stored.forEach((r, k) => assert.equal(r.seq, k + 1, 'sequences are consecutive from 1: nothing lost, nothing reordered'));
    const seen = new Map<number, number>();
    for (const r of stored) seen.set(r.i, (seen.get(r.i) ?? 0) + 1);
    for (const [i, seq] of acks) {
      assert.equal(seen.get(i), 1, `message ${i} is stored exactly once`);
      assert.equal(stored[seq - 1]?.i, i, `message ${i} is at the seq its acknowledgement named (${seq})`);
    }
    assert.equal(stored.length, COUNT, 'nothing but the acknowledged messages');

    // The durable consumer got every one of them (at least once).
    await until(() => [...acks.keys()].every((i) => received.has(i)), 30_000, `the consumer to catch up (${received.size}/${COUNT})`);
    const redelivered = [...received.values()].filter((n) => n > 1).length;
    process.stderr.write(`crash test: ${KILLS} kills, ${COUNT} acknowledged, ${redelivered} redelivered to the consumer (at least once)\n`);
  } finally {
    publisher.kill('SIGKILL');
    await hub.stop('SIGTERM').catch(() => {});
  }
});
