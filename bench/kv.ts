/**
 * KV buckets (issue 19): crossbus `bus.kv` vs NATS KV on JetStream, in one run.
 *
 *   crossbus-put          bucket.put() into a bucket with durability 'interval' (the headline)
 *   crossbus-put-fsync    the same into a bucket with durability 'fsync' (for information, no ratio)
 *   nats-kv-put           kv.put() into a NATS KV bucket (JetStream file storage, defaults)
 *   crossbus-get          bucket.get() of keys the round's puts wrote
 *   nats-kv-get           kv.get() likewise (the client's default on nats-server 2.9: direct get)
 *   *-watch-fanout        one put to a key that 1,000 watchers watch (10 connections × 100 watchers,
 *                         updates only): time from the put to the last watcher's delivery, reported
 *                         as updates per second (1000 / ms)
 *   crossbus-resolve      a 500-key layered configuration resolved (layers checked, merged, validated,
 *   convict               sources recorded) vs convict's load + validate, per second: see kv-resolve.ts.
 *                         CPU only, run first, before the servers start (and without them when only
 *                         these two are selected)
 *
 * What an acknowledged put promises. JetStream file storage answers a publish once the message is
 * in its store's buffers and fsyncs every 2 minutes by default (`sync_interval`), so an operating
 * system crash can lose acknowledged puts. crossbus 'interval' answers after write(2) and fsyncs
 * every 200 ms: the same class of promise, a little stronger, so it is the headline; 'fsync'
 * (the bucket default: fdatasync before the answer, group commit) is printed for information.
 *
 * Workload, the same on both sides: 1,000 distinct keys, JSON values of about 100 bytes (each side
 * encodes and decodes them: see kv-sides.ts), history 1. Puts cycle through the keys with up to 256
 * outstanding (a sliding window: a new put starts as soon as one is answered) into a fresh bucket per
 * round, and every answer must carry a distinct revision 1..N; gets then read the same keys back
 * with the same window, each checked to hold its own key. Rate = operations / seconds from the
 * first request to the last answer.
 *
 * Both servers run in their own processes with fresh temporary data directories (removed
 * afterwards, also on failure); the bench process hosts the clients. A warm-up (10% of the
 * operations) on separate buckets first; then 5 rounds in which the systems take turns (the one
 * that goes first alternates), so that the VM's drift from minute to minute hits both; the median
 * round is reported with the min–max. The fan-out comes last for each system: its watchers are
 * set up, one update warms them, then 9 timed updates (median).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, publishWindowed, rateOf, type PhaseResult, type PublishAck } from './durable.js';
import { connectCrossbus, connectNatsKv, FanoutTally, timeFanout, type BenchBucket, type BenchValue, type KvSystem } from './kv-sides.js';
import { RESOLVE_KEYS, runResolveVsConvict } from './kv-resolve.js';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note, startCrossbusHub, startJetStreamServer, type RunningServer } from './lib/procs.js';
import { errMsg, firstLine, fmtInt, ratio, selectSystems } from './pubsub.js';

export type KvKey =
  | 'crossbus-put'
  | 'crossbus-put-fsync'
  | 'nats-kv-put'
  | 'crossbus-get'
  | 'nats-kv-get'
  | 'crossbus-watch-fanout'
  | 'nats-kv-watch-fanout'
  | 'crossbus-resolve'
  | 'convict';
export const KV_KEYS: readonly KvKey[] = [
  'crossbus-put',
  'crossbus-put-fsync',
  'nats-kv-put',
  'crossbus-get',
  'nats-kv-get',
  'crossbus-watch-fanout',
  'nats-kv-watch-fanout',
  'crossbus-resolve',
  'convict',
];

export interface KvSuiteOptions {
  /** Only these measurements (a get also runs the puts that fill its bucket). */
  only?: readonly string[];
  /** Multiply operation counts (and, below 1, the watchers) by this factor. Default 1. */
  scale?: number;
}

const OPERATIONS = 30_000;
const KEYS = 1_000;
const VALUE_BYTES = 100;
const WINDOW = 256;
const ROUNDS = 5;
const WARMUP_FRACTION = 0.1;
const WATCH_CONNECTIONS = 10;
const WATCHERS = 1_000;
const FANOUT_UPDATES = 9;
const OP_TIMEOUT_MS = 40_000;
const FANOUT_TIMEOUT_MS = 20_000;
/** Start no further put/get round past this much suite time (the fan-outs still need theirs). */
const TIME_BUDGET_MS = 75_000;

// ---------------------------------------------------------------------------------------------
// Workload

function keyOf(i: number): string {
  return `k${String(i % KEYS).padStart(4, '0')}`;
}

/** One value per key, about VALUE_BYTES of JSON each, built once (neither side pays for making it). */
function makeValues(): BenchValue[] {
  return Array.from({ length: KEYS }, (_, i) => {
    const v: BenchValue = { k: keyOf(i), n: i, at: 1_764_000_000_000, tags: ['bench', 'kv'], note: '' };
    v.note = 'x'.repeat(Math.max(0, VALUE_BYTES - JSON.stringify(v).length));
    return v;
  });
}

/** Puts `total` values, cycling through the keys; the fresh bucket must answer revisions 1..total. */
function putPhase(label: string, bucket: BenchBucket, values: readonly BenchValue[], total: number): Promise<PhaseResult> {
  let i = 0;
  const putOne = async (): Promise<PublishAck> => {
    const value = values[i++ % KEYS] as BenchValue;
    return { seq: await bucket.put(value.k, value), duplicate: false };
  };
  return publishWindowed(label, total, WINDOW, putOne, OP_TIMEOUT_MS);
}

/**
 * Gets `total` values, cycling through the keys. Each get answers with its own ordinal, so that
 * publishWindowed's bookkeeping checks that every one completed exactly once.
 */
function getPhase(label: string, bucket: BenchBucket, total: number): Promise<PhaseResult> {
  let i = 0;
  const getOne = async (): Promise<PublishAck> => {
    const ordinal = ++i;
    const key = keyOf(ordinal);
    const v = await bucket.get(key);
    if (v?.k !== key) throw new Error(`get ${key} answered ${JSON.stringify(v)}`);
    return { seq: ordinal, duplicate: false };
  };
  return publishWindowed(label, total, WINDOW, getOne, OP_TIMEOUT_MS);
}

// ---------------------------------------------------------------------------------------------
// Measurement plumbing

interface Ctx {
  operations: number;
  warmup: number;
  watchers: number;
  values: BenchValue[];
  wanted: Set<KvKey>;
  startedAt: number;
  /** Rates per round (operations or updates per second). */
  measured: Map<KvKey, number[]>;
  /** The fan-out's milliseconds per update, for the table. */
  fanoutMs: Map<KvKey, number[]>;
  failed: Map<KvKey, string>;
  skipped: string[];
  /** Resolves per round of the resolve part, for the table. */
  resolves: number;
}

/** Runs one timed phase if its key is wanted (or `force`: a get needs its bucket filled). */
async function measure(ctx: Ctx, key: KvKey, label: string, force: boolean, run: () => Promise<PhaseResult>): Promise<boolean> {
  if (ctx.failed.has(key)) return false;
  if (!ctx.wanted.has(key) && !force) return true;
  try {
    const r = await run();
    if (ctx.wanted.has(key)) record(ctx.measured, key, rateOf(r));
    note(`kv: ${label}: ${fmtInt(rateOf(r))} ops/s (${r.seconds.toFixed(3)} s)`);
    return true;
  } catch (err) {
    ctx.failed.set(key, errMsg(err));
    note(`kv: ${label} FAILED: ${errMsg(err)}`);
    return false;
  }
}

function record(map: Map<KvKey, number[]>, key: KvKey, value: number): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

interface Side {
  name: 'crossbus' | 'nats-kv';
  system: KvSystem;
  put: KvKey;
  get: KvKey;
}

/** One round of one system: fresh buckets, puts (crossbus also into an 'fsync' bucket), then gets. */
async function runRound(ctx: Ctx, side: Side, round: number): Promise<void> {
  const tag = `round ${round + 1}/${ROUNDS}`;
  const wantGet = ctx.wanted.has(side.get);
  if (!ctx.wanted.has(side.put) && !wantGet && !(side.name === 'crossbus' && ctx.wanted.has('crossbus-put-fsync'))) return;
  let bucket: BenchBucket;
  try {
    bucket = await side.system.bucket(`r${round + 1}`, 'interval');
  } catch (err) {
    failAll(ctx, [side.put, side.get], errMsg(err));
    return;
  }
  const filled = await measure(ctx, side.put, `${side.put} ${tag}`, wantGet, () => putPhase(side.put, bucket, ctx.values, ctx.operations));
  if (side.name === 'crossbus' && ctx.wanted.has('crossbus-put-fsync')) {
    await measure(ctx, 'crossbus-put-fsync', `crossbus-put-fsync ${tag}`, false, async () =>
      putPhase('crossbus-put-fsync', await side.system.bucket(`fs${round + 1}`, 'fsync'), ctx.values, ctx.operations),
    );
  }
  if (!wantGet) return;
  if (!filled) failAll(ctx, [side.get], 'the puts that fill its bucket failed');
  else await measure(ctx, side.get, `${side.get} ${tag}`, false, () => getPhase(side.get, bucket, ctx.operations));
}

/** Sets up the fan-out's watchers on a system, warms them with one update, then times FANOUT_UPDATES. */
async function runFanout(ctx: Ctx, key: KvKey, system: KvSystem): Promise<void> {
  if (!ctx.wanted.has(key)) return;
  try {
    const tally = new FanoutTally();
    const perConnection = Math.ceil(ctx.watchers / WATCH_CONNECTIONS);
    const t0 = performance.now();
    await system.openFanout('fanout', WATCH_CONNECTIONS, perConnection, tally);
    const watchers = perConnection * WATCH_CONNECTIONS;
    note(`kv: ${key}: ${fmtInt(watchers)} watchers attached in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const bucket = await system.bucket('fanout');
    const put = (v: BenchValue): Promise<number> => bucket.put(v.k, v);
    await timeFanout(key, 0, watchers, tally, put, FANOUT_TIMEOUT_MS);
    for (let u = 1; u <= FANOUT_UPDATES; u++) {
      const ms = await timeFanout(key, u, watchers, tally, put, FANOUT_TIMEOUT_MS);
      record(ctx.fanoutMs, key, ms);
      record(ctx.measured, key, 1000 / ms);
      note(`kv: ${key} update ${u}/${FANOUT_UPDATES}: last of ${fmtInt(watchers)} watchers after ${ms.toFixed(1)} ms`);
    }
    if (tally.stray > 0) throw new Error(`${tally.stray} deliveries of an update not awaited`);
  } catch (err) {
    ctx.failed.set(key, errMsg(err));
    note(`kv: ${key} FAILED: ${errMsg(err)}`);
  }
}

function failAll(ctx: Ctx, keys: readonly KvKey[], why: string): void {
  for (const k of keys) if (ctx.wanted.has(k) && !ctx.failed.has(k)) ctx.failed.set(k, why);
}

// ---------------------------------------------------------------------------------------------
// Suite

export async function runKvBench(options: KvSuiteOptions = {}): Promise<BenchOutput & { failures: string[] }> {
  const scale = options.scale ?? 1;
  const operations = Math.max(KEYS, Math.round(OPERATIONS * scale));
  const ctx: Ctx = {
    operations,
    warmup: Math.max(KEYS, Math.round(operations * WARMUP_FRACTION)),
    watchers: Math.max(WATCH_CONNECTIONS, Math.round(WATCHERS * Math.min(1, scale))),
    values: makeValues(),
    wanted: new Set(selectSystems(KV_KEYS, options.only)),
    startedAt: performance.now(),
    measured: new Map(),
    fanoutMs: new Map(),
    failed: new Map(),
    skipped: [],
    resolves: 0,
  };

  // CPU only: before the servers start, so that nothing else runs in the meantime.
  const resolve = runResolveVsConvict(ctx.wanted, scale);
  ctx.resolves = resolve.resolves;
  for (const [key, rates] of resolve.rates) ctx.measured.set(key, rates);
  for (const [key, why] of resolve.failed) ctx.failed.set(key, why);
  ctx.skipped.push(...resolve.skipped);
  // The put/get rounds' time budget starts with them.
  ctx.startedAt = performance.now();
  if (KV_KEYS.every((k) => !ctx.wanted.has(k) || (RESOLVE_KEYS as readonly string[]).includes(k))) return summarize(ctx);

  const tmp = await mkdtemp(path.join(tmpdir(), 'crossbus-bench-kv-'));
  // Also on Ctrl-C (bench/lib/procs.ts kills the servers and exits from its signal handler).
  const removeTmpSync = (): void => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmpSync);
  let jsServer: RunningServer | undefined;
  let hub: RunningServer | undefined;
  const sides: Side[] = [];
  try {
    const jsDir = path.join(tmp, 'jetstream');
    const hubDir = path.join(tmp, 'hub');
    await mkdir(jsDir, { mode: 0o700 });
    await mkdir(hubDir, { mode: 0o700 });
    note('kv: starting nats-server -js and the crossbus hub (--insecure)');
    [jsServer, hub] = await Promise.all([
      startJetStreamServer({ storeDir: jsDir }),
      startCrossbusHub({ extraArgs: ['--insecure', '--data', hubDir] }),
    ]);
    sides.push({ name: 'nats-kv', system: await connectNatsKv(jsServer.url), put: 'nats-kv-put', get: 'nats-kv-get' });
    sides.push({ name: 'crossbus', system: await connectCrossbus(hub.url), put: 'crossbus-put', get: 'crossbus-get' });

    for (const side of sides) {
      note(`kv: ${side.name}: warm-up ${fmtInt(ctx.warmup)} puts and gets`);
      const warm = await side.system.bucket('warm', 'interval');
      await putPhase(`${side.name} warm-up`, warm, ctx.values, ctx.warmup);
      await getPhase(`${side.name} warm-up`, warm, ctx.warmup);
    }
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0 && performance.now() - ctx.startedAt > TIME_BUDGET_MS) {
        ctx.skipped.push(`rounds ${round + 1}–${ROUNDS} skipped (time budget)`);
        break;
      }
      // The system that goes first alternates from round to round.
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await runRound(ctx, side, round);
    }

    // Each fan-out alone: the other system's server is idle, its connections closed.
    const [nats, crossbus] = sides;
    await runFanout(ctx, 'nats-kv-watch-fanout', (nats as Side).system);
    await (nats as Side).system.close();
    await jsServer.stop();
    await runFanout(ctx, 'crossbus-watch-fanout', (crossbus as Side).system);
  } catch (err) {
    failAll(ctx, KV_KEYS, errMsg(err));
    note(`kv: FAILED: ${errMsg(err)}`);
  } finally {
    for (const side of sides) await side.system.close();
    await jsServer?.stop();
    await hub?.stop();
    process.off('exit', removeTmpSync);
    await rm(tmp, { recursive: true, force: true }).catch((err: unknown) => note(`kv: cannot remove ${tmp}: ${errMsg(err)}`));
  }
  return summarize(ctx);
}

const PHASES: Record<KvKey, string> = {
  'crossbus-put': "put, durability 'interval'",
  'crossbus-put-fsync': "put, durability 'fsync' (information)",
  'nats-kv-put': 'put, file storage, default sync',
  'crossbus-get': 'get',
  'nats-kv-get': 'get (direct get)',
  'crossbus-watch-fanout': 'one update to every watcher',
  'nats-kv-watch-fanout': 'one update to every watcher',
  'crossbus-resolve': 'resolve 500 settings: 5 layers checked, merged, validated, sources',
  convict: 'resolve 500 settings: convict(), 4 × load(), validate strict',
};

function summarize(ctx: Ctx): BenchOutput & { failures: string[] } {
  const results: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['key', 'phase', 'per second', 'min–max', 'note']];
  for (const key of KV_KEYS) {
    const failed = ctx.failed.get(key);
    const rates = ctx.measured.get(key) ?? [];
    if (failed !== undefined) {
      failures.push(`${key}: ${failed}`);
      rows.push([key, PHASES[key], '-', '-', `FAILED: ${firstLine(failed)}`]);
    } else if (rates.length > 0) {
      const rate = median(rates);
      const ms = ctx.fanoutMs.get(key);
      // Fan-outs are a few to a few dozen per second: one decimal, or the ratio would be coarse.
      results[key] = ms === undefined ? Math.round(rate) : Math.round(rate * 10) / 10;
      const isResolve = (RESOLVE_KEYS as readonly string[]).includes(key);
      const extra =
        ms !== undefined
          ? `${median(ms).toFixed(1)} ms to the last watcher (median)`
          : isResolve
            ? `${rates.length} round(s) of ${fmtInt(ctx.resolves)} resolves`
            : `${rates.length} round(s)`;
      const show = (r: number): string => (ms === undefined ? fmtInt(r) : r.toFixed(1));
      rows.push([key, PHASES[key], show(rate), `${show(Math.min(...rates))}–${show(Math.max(...rates))}`, extra]);
    }
  }
  const ratios: Record<string, number> = {};
  for (const [key, a, b] of [
    ['crossbus-put/nats-kv-put', 'crossbus-put', 'nats-kv-put'],
    ['crossbus-get/nats-kv-get', 'crossbus-get', 'nats-kv-get'],
    ['crossbus-watch-fanout/nats-kv-watch-fanout', 'crossbus-watch-fanout', 'nats-kv-watch-fanout'],
    ['crossbus-resolve/convict', 'crossbus-resolve', 'convict'],
  ] as const) {
    const r = ratio(results[a], results[b]);
    if (r !== undefined) ratios[key] = r;
  }
  const perConnection = Math.ceil(ctx.watchers / WATCH_CONNECTIONS);
  const servers = KV_KEYS.some((k) => ctx.wanted.has(k) && !(RESOLVE_KEYS as readonly string[]).includes(k));
  const resolving = RESOLVE_KEYS.some((k) => ctx.wanted.has(k));
  const header = servers
    ? [
        `kv: ${fmtInt(ctx.operations)} puts, then as many gets, per round over ${fmtInt(KEYS)} keys, JSON values of ~${VALUE_BYTES} B, ` +
          `history 1; up to ${WINDOW} outstanding; median of the rounds (systems take turns; warm-up ${fmtInt(ctx.warmup)})`,
        `fan-out: ${WATCH_CONNECTIONS} connections × ${fmtInt(perConnection)} watchers of one key (updates only); ` +
          `per second = 1000 / ms from the put to the last delivery, median of ${FANOUT_UPDATES} updates`,
      ]
    : [];
  if (resolving)
    header.push(
      'resolve: 500 settings (50 sections × 10), layers of 200/100/50/20 settings + 8 environment variables, ' +
        'from objects in memory; median of the rounds (the sides take turns)',
    );
  header.push(...ctx.skipped);
  return { suite: 'kv', unit: 'ops/s', table: `${header.join('\n')}\n${formatTable(rows)}`, results, ratios, failures };
}
