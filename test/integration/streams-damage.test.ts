/**
 * Durable streams against a real hub process and real files: restarts (graceful and SIGKILL),
 * a torn tail, a flipped bit inside a segment (quarantine), and a full disk (a real tmpfs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus, StreamMessage } from '../../src/client/index.js';
import { closeBus, openBus } from '../helpers/buses.js';
import { restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const RECONNECT = { reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 1_000_000 }, requestTimeoutMs: 3_000 } as const;

function lastSegment(hub: HubProcess, stream: string): string {
  const dir = join(hub.dataDir, 'streams', stream, 'log');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  if (files.length === 0) throw new Error(`no segment in ${dir}: ${readdirSync(dir).join(', ')}`);
  return join(dir, files[files.length - 1]!);
}

/** The position the hub saved for a durable consumer (undefined until there is a file). */
function savedPosition(
  hub: HubProcess,
  stream: string,
  durable: string,
): { nextSeq: number; outstanding: Array<[number, number]> } | undefined {
  try {
    return (
      JSON.parse(readFileSync(join(hub.dataDir, 'streams', stream, 'consumers', `${durable}.json`), 'utf8')) as {
        state: { nextSeq: number; outstanding: Array<[number, number]> };
      }
    ).state;
  } catch {
    return undefined;
  }
}

/** Consumes until `n` distinct seqs arrived; acks those `ack` says to. */
async function collect(
  bus: Bus,
  stream: string,
  durable: string,
  n: number,
  ack: (seq: number) => boolean,
): Promise<{ seqs: number[]; close(): Promise<void> }> {
  const seqs: number[] = [];
  const c = bus.consume(stream, { durable, ackWaitMs: 30_000 }, async (m: StreamMessage) => {
    if (!seqs.includes(m.seq)) seqs.push(m.seq);
    if (ack(m.seq)) await m.ack();
  });
  await c.ready;
  await until(() => seqs.length >= n, 10_000, `${n} deliveries from ${stream} (got ${seqs.length})`);
  return { seqs, close: () => c.close() };
}

describe('durable streams: restarts and damaged files (real hub process)', () => {
  test('a durable consumer resumes exactly after a graceful restart, and past a torn tail after SIGKILL', { timeout: 60_000 }, async () => {
    let hub = await startHubProcess();
    let bus = await openBus(hub.url, RECONNECT);
    await bus.streams.create({ name: 'R', topics: ['r.>'] });
    for (let i = 1; i <= 50; i++) await bus.publish('r.x', { i }, { durable: true });
    const first = await collect(bus, 'R', 'resume', 50, (seq) => seq <= 20);
    await first.close();
    await closeBus(bus);

    // Graceful stop: positions are saved on the way down.
    await hub.stop('SIGTERM');
    hub = await restartOnPort(hub.port);
    bus = await openBus(hub.url, RECONNECT);
    const second = await collect(bus, 'R', 'resume', 30, (seq) => seq <= 30);
    assert.deepEqual(
      [...second.seqs].sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, k) => 21 + k),
      'exactly the unacknowledged ones',
    );
    await second.close();
    // The position is saved within 100 ms: wait until the file says 21..30 are acknowledged.
    await until(
      () => {
        const st = savedPosition(hub, 'R', 'resume');
        return st !== undefined && st.nextSeq === 51 && st.outstanding.every(([seq]) => seq > 30);
      },
      5_000,
      'the saved position after the acks',
    );
    await closeBus(bus);

    // SIGKILL, then a crash mid-write: half a record at the end of the last segment.
    await hub.stop('SIGKILL');
    const segment = lastSegment(hub, 'R');
    const before = readFileSync(segment).length;
    appendFileSync(segment, Buffer.from([0x00, 0x00, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]));
    hub = await restartOnPort(hub.port);
    assert.match(hub.stderr(), /cut a torn record off the end of the log/);
    assert.equal(readFileSync(segment).length, before, 'the torn bytes were cut');
    bus = await openBus(hub.url, RECONNECT);
    const info = await bus.streams.info('R');
    assert.deepEqual([info.state.firstSeq, info.state.lastSeq], [1, 50]);
    assert.equal((await bus.publish('r.x', { i: 51 }, { durable: true })).seq, 51, 'the log goes on after the cut');
    const third = await collect(bus, 'R', 'resume', 21, () => true);
    assert.deepEqual(
      [...third.seqs].sort((a, b) => a - b),
      Array.from({ length: 21 }, (_, k) => 31 + k),
      'nothing acknowledged before the last save comes again',
    );
    await third.close();
    await closeBus(bus);
    await hub.stop('SIGTERM');
  });

  test('a flipped bit inside a segment quarantines that stream; the others keep working; damaged data is never delivered', {
    timeout: 60_000,
  }, async () => {
    let hub = await startHubProcess();
    let bus = await openBus(hub.url, RECONNECT);
    await bus.streams.create({ name: 'A', topics: ['a.>'] });
    await bus.streams.create({ name: 'B', topics: ['b.>'] });
    for (let i = 1; i <= 30; i++) {
      await bus.publish('a.x', { i, pad: 'x'.repeat(100) }, { durable: true });
      await bus.publish('b.x', { i }, { durable: true });
    }
    await closeBus(bus);
    await hub.stop('SIGTERM');
    const segment = lastSegment(hub, 'A');
    const bytes = readFileSync(segment);
    bytes[Math.floor(bytes.length / 3)]! ^= 0x04; // a record in the middle, not the tail
    writeFileSync(segment, bytes);

    hub = await restartOnPort(hub.port);
    assert.match(hub.stderr(), /stream quarantined/);
    bus = await openBus(hub.url, RECONNECT);
    const a = await bus.streams.info('A');
    assert.equal(a.quarantined?.code, 'CB_ERR_STREAM_CORRUPT');
    await rejectsWithCode(bus.publish('a.x', { i: 31 }, { durable: true }), 'CB_ERR_STREAM_QUARANTINED');
    await rejectsWithCode(bus.consume('A').ready, 'CB_ERR_STREAM_QUARANTINED');
    await rejectsWithCode(bus.streams.read('A'), 'CB_ERR_STREAM_QUARANTINED');
    // B is untouched.
    assert.equal((await bus.publish('b.x', { i: 31 }, { durable: true })).seq, 31);
    const b = await collect(bus, 'B', 'ok', 31, () => true);
    assert.equal(b.seqs.length, 31);
    await b.close();
    // Plain pub/sub is untouched too.
    const got: unknown[] = [];
    const sub = bus.subscribe('plain.x', (m) => got.push(m.data));
    await sub.ready;
    await bus.publish('plain.x', 1);
    await until(() => got.length === 1, 5_000, 'a plain message');
    await closeBus(bus);
    await hub.stop('SIGTERM');
  });

  test('a full disk (a real 256 KiB tmpfs) refuses durable publishes with CB_ERR_STORAGE, acknowledges nothing unwritten, and recovers', {
    timeout: 60_000,
  }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crossbus-full-'));
    const streamsDir = join(dataDir, 'streams');
    mkdirSync(streamsDir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', streamsDir], { stdio: 'pipe' });
    } catch (err) {
      t.skip(
        `cannot mount a tmpfs here (needs root): ${String(err).split('\n')[0]}; the injected write errors of test/unit/segment-log.test.ts cover the same path`,
      );
      return;
    }
    let hub: HubProcess | undefined;
    try {
      const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
      writeFileSync(join(dataDir, 'crossbus.config.json'), JSON.stringify(doc), { mode: 0o600 });
      hub = await startHubProcess(['--data', dataDir]);
      const bus = await openBus(hub.url, { ...RECONNECT, name: 'test', secret: doc.apps.test.secret });
      await bus.streams.create({ name: 'FULL', topics: ['full.>'] });
      const acked: number[] = [];
      let refused: { i: number; code: string | undefined } | undefined;
      const pad = 'x'.repeat(2_000);
      for (let i = 1; i <= 1_000 && refused === undefined; i++) {
        try {
          await bus.publish('full.x', { i, pad }, { durable: true });
          acked.push(i);
        } catch (err) {
          refused = { i, code: (err as { code?: string }).code };
        }
      }
      assert.ok(refused !== undefined, 'the disk filled up');
      assert.equal(refused.code, 'CB_ERR_STORAGE');
      assert.ok(acked.length > 50, `some publishes fit first (${acked.length})`);
      // The hub is alive and serving.
      assert.equal(hub.alive(), true);
      const got: unknown[] = [];
      const sub = bus.subscribe('plain.y', (m) => got.push(m.data));
      await sub.ready;
      await bus.publish('plain.y', 'still here');
      await until(() => got.length === 1, 5_000, 'a plain message');
      // Exactly the acknowledged messages are stored.
      const stored: number[] = [];
      for (let from = 1; ; ) {
        const page = await bus.streams.read('FULL', { fromSeq: from });
        if (page.length === 0) break;
        stored.push(...page.map((m) => (m.data as { i: number }).i));
        from = page[page.length - 1]!.seq + 1;
      }
      assert.deepEqual(stored, acked);
      // Freeing space makes it work again.
      await bus.streams.purge('FULL');
      const again = await bus.publish('full.x', { i: 'after' }, { durable: true });
      assert.equal(again.seq, acked.length + 1, 'the sequence goes on; the refused publish used no number');
      await closeBus(bus);
    } finally {
      await hub?.stop('SIGTERM').catch(() => {});
      try {
        execFileSync('umount', ['-l', streamsDir], { stdio: 'pipe' });
      } catch {
        /* already gone */
      }
    }
  });
});
