/**
 * Hubs as one bus over a NATS cluster, against plain NATS clients of the same cluster. One
 * three-node NATS cluster (JetStream on, users with passwords) and three secure hub processes, hub i
 * joined to node i (bench/lib/cluster-setup.ts); every client lives in this process.
 *
 *   crossbus-cluster          a crossbus publisher on hub 1, a subscriber on hub 2 (WebSocket,
 *                             authenticated, encrypted: the defaults); 128-byte messages
 *   nats-direct               a nats.js publisher on node 1, a subscriber on node 2; same messages
 *   crossbus-cluster-durable  durable publishes from a client of hub 1, up to 1,000 outstanding,
 *                             into a stream created through the hub with the defaults: JetStream,
 *                             R3 file storage (bench/cluster-durable.ts checks it each round)
 *   nats-direct-durable       js.publish() from a client of node 1, up to 1,000 outstanding, into
 *                             an R3 file-storage stream
 *
 * Pub/sub rate = messages the subscriber received / seconds from the first publish to the last
 * delivery (end to end); each round publishes up to N messages (fewer if its time bound passes
 * first), every one must arrive. The two pairs run in interleaved rounds after a warm-up, so that
 * load from elsewhere on the machine hits both alike; the median round is reported. Durable rate =
 * messages / seconds from the first publish to the last acknowledgement, a fresh stream per round,
 * median of the rounds; both sides store in the same JetStream cluster, so their rounds take turns
 * too (each stream deleted after its round). Rounds that would end past the time budget are skipped.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { crossbusDurable, type DurablePublisher, durableRound, JetStreamProbe, natsDurable, REPLICAS, WINDOW } from './cluster-durable.js';
import { crossbusPair, natsPair, type Pair, runPhase } from './cluster-pubsub.js';
import { median, rateOf, type PhaseResult } from './durable.js';
import { type BenchCluster, startBenchCluster } from './lib/cluster-setup.js';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note, withTimeout } from './lib/procs.js';
import { errMsg, firstLine, fmtInt, ratio, selectSystems } from './pubsub.js';

export const CLUSTER_KEYS = ['crossbus-cluster', 'nats-direct', 'crossbus-cluster-durable', 'nats-direct-durable'] as const;
type Key = (typeof CLUSTER_KEYS)[number];

export interface ClusterSuiteOptions {
  only?: readonly string[];
  scale?: number;
}

const PAYLOAD_BYTES = 128;
const MESSAGES = 150_000;
const WARMUP = 30_000;
const ROUNDS = 7;
const PHASE_MAX_MS = 8_000;
const IDLE_MS = 3_000;
const PACE_EVERY = 100;
const DURABLE_MESSAGES = 50_000;
const DURABLE_ROUNDS = 3;
const DURABLE_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** No round starts if it would likely end past this much suite time (the whole run has 2 minutes, build included). */
const TIME_BUDGET_MS = 85_000;
/** One topic per pair, of the same length: neither pair's subscriber may receive the other's messages. */
const TOPICS = { crossbus: 'bench.cluster.cb', nats: 'bench.cluster.nd' } as const;

interface Row {
  key: Key;
  workload: string;
  path: string;
}

const ROWS: readonly Row[] = [
  { key: 'crossbus-cluster', workload: 'pub/sub 1→1', path: 'client → hub 1 → NATS n1 → n2 → hub 2 → client' },
  { key: 'nats-direct', workload: 'pub/sub 1→1', path: 'nats.js → n1 → n2 → nats.js' },
  {
    key: 'crossbus-cluster-durable',
    workload: `durable publish, ${fmtInt(WINDOW)} in flight`,
    path: `client → hub 1 → n1 → R${REPLICAS} file stream (hub default)`,
  },
  { key: 'nats-direct-durable', workload: `js.publish, ${fmtInt(WINDOW)} in flight`, path: `nats.js → n1 → R${REPLICAS} file stream` },
];

class Tally {
  readonly rounds = new Map<Key, PhaseResult[]>();
  readonly failed = new Map<Key, string>();
  readonly skipped: string[] = [];
  readonly cut = new Set<Key>();
  constructor(
    readonly wanted: ReadonlySet<Key>,
    readonly startedAt: number,
  ) {}
  live(key: Key): boolean {
    return this.wanted.has(key) && !this.failed.has(key);
  }
  add(key: Key, r: PhaseResult & { cut?: boolean }): void {
    const list = this.rounds.get(key) ?? [];
    list.push(r);
    this.rounds.set(key, list);
    if (r.cut === true) this.cut.add(key);
    note(`cluster: ${key} round ${list.length}: ${fmtInt(rateOf(r))} msg/s (${r.seconds.toFixed(3)} s)`);
  }
  fail(key: Key, err: unknown): void {
    if (!this.failed.has(key)) this.failed.set(key, errMsg(err));
    note(`cluster: ${key} FAILED: ${errMsg(err)}`);
  }
  /** Whether another round of `what` fits: round 0 always; then only if it ends within the budget. */
  fits(what: string, round: number, roundMs: number): boolean {
    if (round === 0 || performance.now() - this.startedAt + roundMs <= TIME_BUDGET_MS) return true;
    this.skipped.push(`${what}: rounds ${round + 1}+ skipped (time budget)`);
    note(`cluster: ${what}: skipping rounds from ${round + 1} (time budget)`);
    return false;
  }
}

async function pubsubRounds(t: Tally, c: BenchCluster, messages: number, warmup: number): Promise<void> {
  const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES));
  const limits = { count: messages, maxMs: PHASE_MAX_MS, paceEvery: PACE_EVERY, idleMs: IDLE_MS };
  const pairs = new Map<Key, Pair>();
  const open: Array<[Key, () => Promise<Pair>]> = [
    ['crossbus-cluster', () => crossbusPair(c.hubs[0]!.url, c.hubs[1]!.url, TOPICS.crossbus, c.apps)],
    ['nats-direct', () => natsPair(c.nats.urls[0]!, c.nats.urls[1]!, TOPICS.nats, c.direct)],
  ];
  try {
    for (const [key, make] of open) {
      if (!t.live(key)) continue;
      try {
        const pair = await withTimeout(make(), CONNECT_TIMEOUT_MS, `${key}: connect`);
        pairs.set(key, pair);
        note(`cluster: ${key}: warm-up ${fmtInt(warmup)}`);
        await runPhase(pair, payload, { ...limits, count: warmup }, `${key} warm-up`);
      } catch (err) {
        t.fail(key, err);
      }
    }
    let longest = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (!t.fits('pub/sub', round, longest)) break;
      const began = performance.now();
      for (const [key, pair] of pairs) {
        if (!t.live(key)) continue;
        try {
          const r = await runPhase(pair, payload, limits, `${key} round ${round + 1}`);
          t.add(key, { messages: r.delivered, seconds: r.seconds, cut: r.cut });
        } catch (err) {
          t.fail(key, err);
        }
      }
      longest = Math.max(longest, performance.now() - began);
    }
  } finally {
    for (const [key, pair] of pairs)
      await withTimeout(pair.close(), CLOSE_TIMEOUT_MS, `${key}: close`).catch((e: unknown) => note(errMsg(e)));
  }
}

async function durableRounds(t: Tally, c: BenchCluster, messages: number): Promise<void> {
  const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES));
  const warmup = Math.max(100, Math.round(messages / 10));
  const sides: Array<[Key, string, () => Promise<DurablePublisher>]> = [
    ['crossbus-cluster-durable', 'CB', () => crossbusDurable(c.hubs[0]!.url, c.apps.durable, payload)],
    ['nats-direct-durable', 'JS', () => natsDurable(c.nats.urls[0]!, c.direct, payload)],
  ];
  const open = new Map<Key, { prefix: string; pub: DurablePublisher }>();
  let probe: JetStreamProbe | undefined;
  try {
    probe = await withTimeout(JetStreamProbe.open(c.nats, c.direct), CONNECT_TIMEOUT_MS, 'JetStream probe: connect');
    for (const [key, prefix, make] of sides) {
      if (!t.live(key)) continue;
      try {
        const pub = await withTimeout(make(), CONNECT_TIMEOUT_MS, `${key}: connect`);
        open.set(key, { prefix, pub });
        note(`cluster: ${key}: warm-up ${fmtInt(warmup)}`);
        const subject = `bench.${prefix.toLowerCase()}.warm`;
        await durableRound(`${key} warm-up`, pub, probe, `${prefix}_WARM`, subject, warmup, DURABLE_TIMEOUT_MS);
      } catch (err) {
        t.fail(key, err);
      }
    }
    let longest = 0;
    for (let round = 0; round < DURABLE_ROUNDS; round++) {
      if (!t.fits('durable', round, longest)) break;
      const began = performance.now();
      for (const [key, { prefix, pub }] of open) {
        if (!t.live(key)) continue;
        try {
          const subject = `bench.${prefix.toLowerCase()}.r${round + 1}`;
          const name = `${prefix}_R${round + 1}`;
          t.add(key, await durableRound(`${key} round ${round + 1}`, pub, probe, name, subject, messages, DURABLE_TIMEOUT_MS));
        } catch (err) {
          t.fail(key, err);
        }
      }
      longest = Math.max(longest, performance.now() - began);
    }
  } catch (err) {
    for (const [key] of sides) if (t.live(key)) t.fail(key, err);
  } finally {
    for (const [key, { pub }] of open)
      await withTimeout(pub.close(), CLOSE_TIMEOUT_MS, `${key}: close`).catch((e: unknown) => note(`cluster: ${key}: close: ${errMsg(e)}`));
    await probe?.close().catch((e: unknown) => note(`cluster: JetStream probe: close: ${errMsg(e)}`));
  }
}

export async function runClusterBench(options: ClusterSuiteOptions = {}): Promise<BenchOutput & { failures: string[] }> {
  const scale = options.scale ?? 1;
  const messages = Math.max(1_000, Math.round(MESSAGES * scale));
  const warmup = Math.max(1_000, Math.round(WARMUP * scale));
  const durableMessages = Math.max(1_000, Math.round(DURABLE_MESSAGES * scale));
  const t = new Tally(new Set(selectSystems(CLUSTER_KEYS, options.only)), performance.now());
  const loadBefore = loadavg()[0] ?? 0;
  let placement: number[] = [];

  const tmp = await mkdtemp(path.join(tmpdir(), 'crossbus-bench-cluster-'));
  const removeTmpSync = (): void => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmpSync);
  let cluster: BenchCluster | undefined;
  try {
    cluster = await startBenchCluster({ dir: tmp });
    placement = await cluster.placement();
    if (placement.some((n, i) => n !== i)) throw new Error(`hubs are not each on their own NATS node: ${JSON.stringify(placement)}`);
    await pubsubRounds(t, cluster, messages, warmup);
    await durableRounds(t, cluster, durableMessages);
  } catch (err) {
    for (const k of t.wanted) if (!t.failed.has(k) && !t.rounds.has(k)) t.fail(k, err);
  } finally {
    await cluster?.stop().catch((e: unknown) => note(`cluster: stop: ${errMsg(e)}`));
    process.off('exit', removeTmpSync);
    await rm(tmp, { recursive: true, force: true }).catch((e: unknown) => note(`cluster: cannot remove ${tmp}: ${errMsg(e)}`));
  }

  const results: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['key', 'workload', 'path', 'rounds', 'msg/s (median)', 'min–max', 'note']];
  for (const row of ROWS) {
    if (!t.wanted.has(row.key)) continue;
    const failed = t.failed.get(row.key);
    const list = t.rounds.get(row.key) ?? [];
    if (failed !== undefined) {
      failures.push(`${row.key}: ${failed}`);
      rows.push([row.key, row.workload, row.path, '-', '-', '-', `FAILED: ${firstLine(failed)}`]);
      continue;
    }
    if (list.length === 0) continue;
    const rates = list.map(rateOf);
    results[row.key] = Math.round(median(rates));
    const cut = t.cut.has(row.key) ? 'some rounds cut by the time bound' : '';
    rows.push([
      row.key,
      row.workload,
      row.path,
      String(list.length),
      fmtInt(median(rates)),
      `${fmtInt(Math.min(...rates))}–${fmtInt(Math.max(...rates))}`,
      cut,
    ]);
  }
  const ratios: Record<string, number> = {};
  for (const [key, a, b] of [
    ['crossbus-cluster/nats-direct', 'crossbus-cluster', 'nats-direct'],
    ['crossbus-cluster-durable/nats-direct-durable', 'crossbus-cluster-durable', 'nats-direct-durable'],
  ] as const) {
    const r = ratio(results[a], results[b]);
    if (r !== undefined) ratios[key] = r;
  }
  const header = [
    `cluster: 3 NATS nodes (JetStream on) and 3 secure hubs, hub i on node i (placement seen: ${placement.map((n) => (n < 0 ? '?' : `n${n + 1}`)).join(', ')})`,
    `pub/sub: ${PAYLOAD_BYTES} B messages, up to ${fmtInt(messages)} per round (or ${PHASE_MAX_MS / 1000} s), warm-up ${fmtInt(warmup)}, ` +
      `interleaved rounds; rate = received / s, first publish to last delivery; publishers yield every ${PACE_EVERY}`,
    `durable: ${fmtInt(durableMessages)} messages of ${PAYLOAD_BYTES} B per round, a fresh stream each, interleaved rounds; rate = acks / s; ` +
      `both sides checked in JetStream after each round (file storage, ${REPLICAS} replicas, every copy full)`,
    `machine: ${availableParallelism()} cores, load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after`,
    ...t.skipped,
  ].join('\n');
  return { suite: 'cluster', unit: 'msg/s', table: `${header}\n${formatTable(rows)}`, results, ratios, failures };
}
