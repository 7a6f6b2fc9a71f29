/**
 * Durable publish and replay: crossbus streams vs NATS JetStream (nats-server with -js, file storage,
 * default settings).
 *
 * Same run, same random 256-byte payload, 100,000 messages per measurement:
 *
 *   jetstream          js.publish() into a file-storage stream (defaults), nats.js client
 *   crossbus-fsync     bus.publish(topic, data, { durable: true }) into a stream with durability
 *                      'fsync': the hub acknowledges after fdatasync (group commit)
 *   crossbus-interval  the same into a stream with durability 'interval': the hub acknowledges after
 *                      write(2) and fsyncs every 200 ms
 *   jetstream-replay   a consumer reads the 100,000 JetStream messages back from the first one
 *   crossbus-replay    a consumer reads the 100,000 messages of the 'fsync' stream back from the first one
 *
 * Publishing keeps up to 1,000 publishes outstanding (a sliding window: a new publish starts as soon
 * as one is acknowledged); rate = messages / seconds from the first publish to the last
 * acknowledgement. Every acknowledgement must carry a distinct stream sequence 1..N (none flagged
 * duplicate), and the stream must then report N messages. No message ids (no deduplication) on
 * either side.
 *
 * Replay uses the same acknowledgement style on both systems: a consumer created at the start of
 * the measurement, delivering from the first message, explicit acknowledgement, at most 1,000
 * unacknowledged deliveries (max_ack_pending / maxAckPending), each message acknowledged with a
 * fire-and-forget ack() (not awaited). Rate = messages / seconds from creating the consumer to the
 * delivery that completes the set of sequences 1..N (every one must be seen, each payload 256 B).
 * JetStream reads with consume()'s callback, crossbus with `for await` (see jsReplay / cbReplay
 * for why).
 *
 * Each measurement runs in 3 rounds, each into fresh streams (so every round publishes into and
 * replays exactly N messages); the median round is reported, with the min–max in the table. A
 * round that would likely end past ~95 s of suite time is skipped (noted in the table header).
 * Before the rounds each system gets a warm-up (10% of the messages, publish and replay) on
 * separate streams, so that JITs and buffers settle.
 *
 * Servers run in their own processes with fresh temporary data directories (removed afterwards, also
 * on failure); JetStream runs first and its directory is removed before the crossbus hub starts, so
 * that its unsynced data is not written back during the crossbus measurement.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AckPolicy,
  connect as natsConnect,
  DeliverPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note, startCrossbusHub, startJetStreamServer, withTimeout, type RunningServer } from './lib/procs.js';
import { errMsg, firstLine, fmtInt, loadCrossbus, payloadLength, ratio, selectSystems } from './pubsub.js';

export type DurableKey = 'crossbus-fsync' | 'crossbus-interval' | 'crossbus-replay' | 'jetstream' | 'jetstream-replay';
export const DURABLE_KEYS: readonly DurableKey[] = [
  'crossbus-fsync',
  'crossbus-interval',
  'crossbus-replay',
  'jetstream',
  'jetstream-replay',
];

export interface DurableSuiteOptions {
  /** Only these measurements (a replay also runs the publish phase that fills its stream). */
  only?: readonly string[];
  /** Multiply message counts by this factor. Default 1. */
  scale?: number;
}

const MESSAGES = 100_000;
const WARMUP_FRACTION = 0.1;
const WINDOW = 1_000;
const MAX_ACK_PENDING = 1_000;
const PAYLOAD_BYTES = 256;
const PUBLISH_TIMEOUT_MS = 40_000;
const REPLAY_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** Rounds per measurement (median reported); later rounds are skipped past the time budget. */
const ROUNDS = 3;
/** Start no further round if it would likely end after this much suite time (the limit is 2 minutes). */
const TIME_BUDGET_MS = 95_000;

// ---------------------------------------------------------------------------------------------
// Sequence bookkeeping

/** Which stream sequences 1..n were seen, how many distinct, how many repeats or out of range. */
class SeqSet {
  private readonly seen: Uint8Array;
  unique = 0;
  repeats = 0;
  outOfRange = 0;
  constructor(readonly n: number) {
    this.seen = new Uint8Array(n + 1);
  }
  add(seq: number): void {
    if (!Number.isInteger(seq) || seq < 1 || seq > this.n) {
      this.outOfRange++;
      return;
    }
    if (this.seen[seq] === 1) this.repeats++;
    else {
      this.seen[seq] = 1;
      this.unique++;
    }
  }
  get complete(): boolean {
    return this.unique === this.n;
  }
  firstMissing(): number | undefined {
    for (let s = 1; s <= this.n; s++) if (this.seen[s] !== 1) return s;
    return undefined;
  }
  describe(): string {
    const missing = this.n - this.unique;
    const parts = [`${fmtInt(this.unique)}/${fmtInt(this.n)} sequences`];
    if (missing > 0) parts.push(`${fmtInt(missing)} missing (first: ${String(this.firstMissing())})`);
    if (this.repeats > 0) parts.push(`${fmtInt(this.repeats)} repeated`);
    if (this.outOfRange > 0) parts.push(`${fmtInt(this.outOfRange)} out of range`);
    return parts.join(', ');
  }
}

// ---------------------------------------------------------------------------------------------
// Windowed publishing (shared by every system)

export interface PublishAck {
  seq: number;
  duplicate: boolean;
}

export interface PhaseResult {
  messages: number;
  seconds: number;
}

/**
 * Publishes `total` messages through `publishOne`, keeping up to `window` unacknowledged: a new
 * publish starts as soon as one is acknowledged. Fails on the first rejected publish, a duplicate
 * acknowledgement, a sequence outside 1..total, or after `timeoutMs`.
 */
export function publishWindowed(
  label: string,
  total: number,
  window: number,
  publishOne: () => Promise<PublishAck>,
  timeoutMs: number,
): Promise<PhaseResult> {
  const seqs = new SeqSet(total);
  return new Promise<PhaseResult>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    let failed = false;
    let duplicates = 0;
    const start = performance.now();
    const timer = setTimeout(() => {
      fail(new Error(`${label}: timed out after ${timeoutMs} ms (${fmtInt(acked)}/${fmtInt(total)} acknowledged)`));
    }, timeoutMs);
    function fail(err: Error): void {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      reject(err);
    }
    function onAck(ack: PublishAck): void {
      if (failed) return;
      acked++;
      if (ack.duplicate) duplicates++;
      seqs.add(ack.seq);
      if (acked === total) {
        const seconds = (performance.now() - start) / 1000;
        clearTimeout(timer);
        if (duplicates > 0 || !seqs.complete) {
          fail(new Error(`${label}: acknowledgements: ${seqs.describe()}${duplicates > 0 ? `, ${duplicates} flagged duplicate` : ''}`));
          return;
        }
        resolve({ messages: total, seconds });
        return;
      }
      launch();
    }
    function onError(err: unknown): void {
      fail(new Error(`${label}: publish #${acked + 1} failed: ${errMsg(err)}`));
    }
    function launch(): void {
      while (!failed && sent < total && sent - acked < window) {
        sent++;
        let p: Promise<PublishAck>;
        try {
          p = publishOne();
        } catch (err) {
          onError(err);
          return;
        }
        p.then(onAck, onError);
      }
    }
    launch();
  });
}

/** Counts a consumer's deliveries; `add` returns true once every sequence 1..total was delivered. */
export class ReplayTally {
  readonly seqs: SeqSet;
  badSize = 0;
  completedAt: number | undefined;
  constructor(
    total: number,
    private readonly payloadBytes: number,
  ) {
    this.seqs = new SeqSet(total);
  }
  add(seq: number, size: number): boolean {
    if (size !== this.payloadBytes) this.badSize++;
    this.seqs.add(seq);
    if (this.completedAt === undefined && this.seqs.complete) this.completedAt = performance.now();
    return this.completedAt !== undefined;
  }
}

/** A running consumer: `done` settles when its loop ended (complete or not); `stop` closes it. */
export interface ReplaySession {
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs one replay: `open(tally)` creates the consumer and feeds every delivery into the tally
 * (acknowledging it fire-and-forget) until `tally.add` returns true. The clock starts before
 * `open()` and stops at the delivery that completes the set 1..total. Fails after `timeoutMs`,
 * when the consumer ends early, or on deliveries of the wrong size / outside 1..total.
 */
export async function replay(
  label: string,
  total: number,
  payloadBytes: number,
  open: (tally: ReplayTally) => Promise<ReplaySession>,
  timeoutMs: number,
): Promise<PhaseResult> {
  const tally = new ReplayTally(total, payloadBytes);
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let outcome: 'done' | 'timeout' = 'timeout';
  let session: ReplaySession | undefined;
  try {
    const opened = await Promise.race([open(tally), timeout]);
    if (opened !== 'timeout') {
      session = opened;
      outcome = await Promise.race([session.done.then(() => 'done' as const), timeout]);
    }
  } finally {
    clearTimeout(timer);
    await session?.stop().catch((err: unknown) => note(`${label}: closing the consumer failed: ${errMsg(err)}`));
  }
  const { seqs } = tally;
  if (tally.completedAt === undefined) {
    throw new Error(
      `${label}: ${outcome === 'timeout' ? `timed out after ${timeoutMs} ms` : 'the consumer ended early'}: ${seqs.describe()}`,
    );
  }
  if (tally.badSize > 0) throw new Error(`${label}: ${tally.badSize} deliveries had a payload other than ${payloadBytes} bytes`);
  if (seqs.outOfRange > 0) throw new Error(`${label}: ${seqs.describe()}`);
  if (seqs.repeats > 0) note(`${label}: ${seqs.describe()} (redeliveries)`);
  return { messages: total, seconds: (tally.completedAt - start) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Measurement plumbing

interface Row {
  key: DurableKey;
  phase: string;
}

const ROWS: readonly Row[] = [
  { key: 'jetstream', phase: 'publish, file storage, default sync' },
  { key: 'crossbus-fsync', phase: "publish, durability 'fsync'" },
  { key: 'crossbus-interval', phase: "publish, durability 'interval'" },
  { key: 'jetstream-replay', phase: 'replay from the first message' },
  { key: 'crossbus-replay', phase: "replay from the first message ('fsync' stream)" },
];

interface Ctx {
  messages: number;
  warmup: number;
  rounds: number;
  payload: Uint8Array;
  wanted: Set<DurableKey>;
  /** Suite start (performance.now()); later rounds are skipped once the time budget is used up. */
  startedAt: number;
  measured: Map<DurableKey, PhaseResult[]>;
  failed: Map<DurableKey, string>;
  skippedRounds: string[];
}

/**
 * Runs one timed phase of round `round` if its key is selected (or `force`: a replay needs the
 * stream filled), recording its result or its failure. Returns whether it succeeded.
 */
async function measure(ctx: Ctx, key: DurableKey, round: number, force: boolean, run: () => Promise<PhaseResult>): Promise<boolean> {
  if (ctx.failed.has(key)) return false;
  if (!ctx.wanted.has(key) && !force) return true;
  const label = `${key} round ${round + 1}/${ctx.rounds}`;
  note(`durable: ${label}: ${fmtInt(ctx.messages)} messages`);
  try {
    const r = await run();
    const list = ctx.measured.get(key) ?? [];
    list.push(r);
    ctx.measured.set(key, list);
    note(`durable: ${label}: ${fmtInt(rateOf(r))} msg/s (${r.seconds.toFixed(3)} s)`);
    return true;
  } catch (err) {
    ctx.failed.set(key, errMsg(err));
    note(`durable: ${label} FAILED: ${errMsg(err)}`);
    return false;
  }
}

function failAll(ctx: Ctx, keys: readonly DurableKey[], why: string): void {
  for (const k of keys) if (ctx.wanted.has(k) && !ctx.failed.has(k)) ctx.failed.set(k, why);
}

/** Whether another round still fits in the suite's time budget (first rounds always run). */
function roundFits(ctx: Ctx, system: string, round: number, roundStartedAt: number[]): boolean {
  if (round === 0) return true;
  const elapsed = performance.now() - ctx.startedAt;
  const longest = Math.max(...roundStartedAt.map((t, i) => (roundStartedAt[i + 1] ?? performance.now()) - t));
  if (elapsed + longest <= TIME_BUDGET_MS) return true;
  ctx.skippedRounds.push(`${system}: rounds ${round + 1}–${ctx.rounds} skipped (time budget)`);
  note(`durable: ${system}: skipping rounds ${round + 1}–${ctx.rounds} to stay within the time budget`);
  return false;
}

export function rateOf(r: PhaseResult): number {
  return r.seconds > 0 ? r.messages / r.seconds : 0;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// JetStream (nats-server -js, nats.js)

const JS_WARM_STREAM = 'WARM';

async function jsCreateStream(jsm: JetStreamManager, name: string, subject: string): Promise<void> {
  // File storage, every other setting at its default.
  await jsm.streams.add({ name, subjects: [subject], storage: StorageType.File });
  const info = await jsm.streams.info(name);
  if (info.config.storage !== StorageType.File) throw new Error(`stream ${name}: storage is ${info.config.storage}, not file`);
}

function jsPublisher(js: JetStreamClient, subject: string, payload: Uint8Array): () => Promise<PublishAck> {
  return () => js.publish(subject, payload);
}

async function jsExpectMessages(jsm: JetStreamManager, stream: string, n: number): Promise<void> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages !== n) throw new Error(`stream ${stream} holds ${info.state.messages} messages, expected ${n}`);
}

/**
 * JetStream replay: an ephemeral pull consumer (AckPolicy.Explicit, DeliverPolicy.All,
 * max_ack_pending 1,000) read with consumer.consume({ max_messages: 1000, callback }) and a
 * fire-and-forget m.ack() per message. Of the standard acknowledged set-ups this was the fastest on
 * this machine: the callback form delivered about twice as fast as `for await` over consume()'s
 * iterator, max_messages 1,000 beat the default 100, and durable vs ephemeral made no difference.
 * (An ordered consumer would skip the acks, so it would not do the same work as crossbus.)
 */
function jsReplay(label: string, jsm: JetStreamManager, js: JetStreamClient, stream: string, total: number): Promise<PhaseResult> {
  return replay(
    label,
    total,
    PAYLOAD_BYTES,
    async (tally) => {
      const ci = await jsm.consumers.add(stream, {
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: MAX_ACK_PENDING,
      });
      const consumer = await js.consumers.get(stream, ci.name);
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const messages = await consumer.consume({
        max_messages: MAX_ACK_PENDING,
        callback: (m) => {
          m.ack();
          if (tally.add(m.seq, m.data.byteLength)) finish();
        },
      });
      void messages.closed().then(finish, finish);
      return {
        done,
        stop: async () => {
          await messages.close();
          await jsm.consumers.delete(stream, ci.name).catch(() => {});
        },
      };
    },
    REPLAY_TIMEOUT_MS,
  );
}

async function runJetStream(ctx: Ctx, dataDir: string): Promise<void> {
  const keys: DurableKey[] = ['jetstream', 'jetstream-replay'];
  if (!keys.some((k) => ctx.wanted.has(k))) return;
  let server: RunningServer | undefined;
  let nc: NatsConnection | undefined;
  try {
    note('durable: starting nats-server -js');
    server = await startJetStreamServer({ storeDir: dataDir });
    nc = await withTimeout(
      natsConnect({ servers: server.url, name: 'bench-durable', reconnect: false }),
      CONNECT_TIMEOUT_MS,
      'jetstream: connect',
    );
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();

    note(`durable: jetstream: warm-up ${fmtInt(ctx.warmup)} (publish + replay)`);
    await jsCreateStream(jsm, JS_WARM_STREAM, 'warm.>');
    await publishWindowed('jetstream warm-up', ctx.warmup, WINDOW, jsPublisher(js, 'warm.data', ctx.payload), PUBLISH_TIMEOUT_MS);
    await jsReplay('jetstream-replay warm-up', jsm, js, JS_WARM_STREAM, ctx.warmup);

    const wantReplay = ctx.wanted.has('jetstream-replay');
    const roundStarts: number[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      if (!roundFits(ctx, 'jetstream', round, roundStarts)) break;
      roundStarts.push(performance.now());
      // A fresh stream per round, so that every round publishes into (and replays) exactly N messages.
      const stream = `BENCH_${round + 1}`;
      const subject = `bench.${round + 1}.data`;
      await jsCreateStream(jsm, stream, `bench.${round + 1}.>`);
      const published = await measure(ctx, 'jetstream', round, wantReplay, async () => {
        const r = await publishWindowed('jetstream', ctx.messages, WINDOW, jsPublisher(js, subject, ctx.payload), PUBLISH_TIMEOUT_MS);
        await jsExpectMessages(jsm, stream, ctx.messages);
        return r;
      });
      if (!published) {
        failAll(ctx, ['jetstream-replay'], 'the publish phase that fills the stream failed');
        break;
      }
      await measure(ctx, 'jetstream-replay', round, false, () => jsReplay('jetstream-replay', jsm, js, stream, ctx.messages));
    }
  } catch (err) {
    failAll(ctx, keys, errMsg(err));
    note(`durable: jetstream FAILED: ${errMsg(err)}`);
  } finally {
    if (nc) {
      await withTimeout(nc.close(), CLOSE_TIMEOUT_MS, 'jetstream: close').catch((err: unknown) => note(`durable: ${errMsg(err)}`));
    }
    await server?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// crossbus (hub in its own process, client here)

type CrossbusBus = Awaited<ReturnType<Awaited<ReturnType<typeof loadCrossbus>>['connect']>>;

function cbPublisher(bus: CrossbusBus, topic: string, payload: Uint8Array): () => Promise<PublishAck> {
  return () => bus.publish(topic, payload, { durable: true });
}

async function cbExpectMessages(bus: CrossbusBus, stream: string, n: number): Promise<void> {
  const info = await bus.streams.info(stream);
  if (info.state.messages !== n) throw new Error(`stream ${stream} holds ${info.state.messages} messages, expected ${n}`);
}

/**
 * crossbus replay: an ephemeral consumer (bus.consume(stream, { deliver: 'all', maxAckPending: 1000 }))
 * read with `for await`, each message acknowledged with m.ack() not awaited — the counterpart of the
 * JetStream set-up above. (The client also takes a handler as consume()'s third argument; on this
 * machine that measured the same as the iterator, so the suite keeps the documented `for await`.)
 */
function cbReplay(label: string, bus: CrossbusBus, stream: string, total: number): Promise<PhaseResult> {
  return replay(
    label,
    total,
    PAYLOAD_BYTES,
    async (tally) => {
      let ackError: unknown;
      const onAckError = (err: unknown): void => {
        ackError ??= err;
      };
      const consumer = bus.consume(stream, { deliver: 'all', maxAckPending: MAX_ACK_PENDING });
      await consumer.ready;
      const done = (async () => {
        for await (const m of consumer) {
          m.ack().catch(onAckError);
          if (tally.add(m.seq, payloadLength(m.data))) break;
        }
      })();
      return {
        done,
        stop: async () => {
          consumer.close();
          if (ackError !== undefined) throw new Error(`ack failed: ${errMsg(ackError)}`);
        },
      };
    },
    REPLAY_TIMEOUT_MS,
  );
}

async function runCrossbus(ctx: Ctx, dataDir: string): Promise<void> {
  const keys: DurableKey[] = ['crossbus-fsync', 'crossbus-interval', 'crossbus-replay'];
  if (!keys.some((k) => ctx.wanted.has(k))) return;
  let hub: RunningServer | undefined;
  let bus: CrossbusBus | undefined;
  try {
    const { connect } = await loadCrossbus();
    note('durable: starting the crossbus hub (--insecure)');
    hub = await startCrossbusHub({ extraArgs: ['--insecure', '--data', dataDir] });
    bus = await withTimeout(connect(hub.url, { name: 'bench-durable', reconnect: false }), CONNECT_TIMEOUT_MS, 'crossbus: connect');
    const b = bus;

    note(`durable: crossbus: warm-up ${fmtInt(ctx.warmup)} (publish into 'fsync' and 'interval' streams + replay)`);
    await b.streams.create({ name: 'WARM_FSYNC', topics: ['warm.fs.>'], durability: 'fsync' });
    await b.streams.create({ name: 'WARM_INTERVAL', topics: ['warm.iv.>'], durability: 'interval' });
    await publishWindowed('crossbus-fsync warm-up', ctx.warmup, WINDOW, cbPublisher(b, 'warm.fs.data', ctx.payload), PUBLISH_TIMEOUT_MS);
    await publishWindowed('crossbus-interval warm-up', ctx.warmup, WINDOW, cbPublisher(b, 'warm.iv.data', ctx.payload), PUBLISH_TIMEOUT_MS);
    await cbReplay('crossbus-replay warm-up', b, 'WARM_FSYNC', ctx.warmup);

    const wantReplay = ctx.wanted.has('crossbus-replay');
    const roundStarts: number[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      if (!roundFits(ctx, 'crossbus', round, roundStarts)) break;
      roundStarts.push(performance.now());
      // Fresh streams per round (topics fs.<round>.> and iv.<round>.>), each holding exactly N messages.
      const fsStream = `FSYNC_${round + 1}`;
      const ivStream = `INTERVAL_${round + 1}`;
      const fsTopic = `fs.${round + 1}.data`;
      const ivTopic = `iv.${round + 1}.data`;
      await b.streams.create({ name: fsStream, topics: [`fs.${round + 1}.>`], durability: 'fsync' });
      await b.streams.create({ name: ivStream, topics: [`iv.${round + 1}.>`], durability: 'interval' });
      const filled = await measure(ctx, 'crossbus-fsync', round, wantReplay, async () => {
        const r = await publishWindowed('crossbus-fsync', ctx.messages, WINDOW, cbPublisher(b, fsTopic, ctx.payload), PUBLISH_TIMEOUT_MS);
        await cbExpectMessages(b, fsStream, ctx.messages);
        return r;
      });
      await measure(ctx, 'crossbus-interval', round, false, async () => {
        const r = await publishWindowed(
          'crossbus-interval',
          ctx.messages,
          WINDOW,
          cbPublisher(b, ivTopic, ctx.payload),
          PUBLISH_TIMEOUT_MS,
        );
        await cbExpectMessages(b, ivStream, ctx.messages);
        return r;
      });
      if (!filled) failAll(ctx, ['crossbus-replay'], "the 'fsync' publish phase that fills the stream failed");
      else await measure(ctx, 'crossbus-replay', round, false, () => cbReplay('crossbus-replay', b, fsStream, ctx.messages));
      if (keys.every((k) => !ctx.wanted.has(k) || ctx.failed.has(k))) break;
    }
  } catch (err) {
    failAll(ctx, keys, errMsg(err));
    note(`durable: crossbus FAILED: ${errMsg(err)}`);
  } finally {
    if (bus) {
      await withTimeout(bus.close(), CLOSE_TIMEOUT_MS, 'crossbus: close').catch((err: unknown) => note(`durable: ${errMsg(err)}`));
    }
    await hub?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Suite

export async function runDurableBench(options: DurableSuiteOptions = {}): Promise<BenchOutput & { failures: string[] }> {
  const scale = options.scale ?? 1;
  const messages = Math.max(100, Math.round(MESSAGES * scale));
  const warmup = Math.max(100, Math.round(messages * WARMUP_FRACTION));
  const ctx: Ctx = {
    messages,
    warmup,
    rounds: ROUNDS,
    payload: new Uint8Array(randomBytes(PAYLOAD_BYTES)),
    wanted: new Set(selectSystems(DURABLE_KEYS, options.only)),
    startedAt: performance.now(),
    measured: new Map(),
    failed: new Map(),
    skippedRounds: [],
  };

  const tmp = await mkdtemp(path.join(tmpdir(), 'crossbus-bench-durable-'));
  // Also on Ctrl-C (bench/lib/procs.ts kills the servers and exits from its signal handler).
  const removeTmpSync = (): void => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmpSync);
  try {
    const jsDir = path.join(tmp, 'jetstream');
    await mkdir(jsDir, { mode: 0o700 });
    await runJetStream(ctx, jsDir);
    // JetStream's data is not synced yet: drop it now, so that the kernel does not write it back
    // while the crossbus hub measures its own fsyncs.
    await rm(jsDir, { recursive: true, force: true });

    const hubDir = path.join(tmp, 'hub');
    await mkdir(hubDir, { mode: 0o700 });
    await runCrossbus(ctx, hubDir);
  } finally {
    process.off('exit', removeTmpSync);
    await rm(tmp, { recursive: true, force: true }).catch((err: unknown) => note(`durable: cannot remove ${tmp}: ${errMsg(err)}`));
  }

  const results: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['key', 'phase', 'messages', 'seconds', 'msg/s', 'MB/s', 'min–max', 'note']];
  for (const row of ROWS) {
    const list = ctx.measured.get(row.key) ?? [];
    const failed = ctx.failed.get(row.key);
    if (failed !== undefined) {
      failures.push(`${row.key}: ${failed}`);
      rows.push([row.key, row.phase, '-', '-', '-', '-', '-', `FAILED: ${firstLine(failed)}`]);
    } else if (list.length > 0) {
      const rates = list.map(rateOf);
      const rate = median(rates);
      const mid = list[rates.indexOf(rate)] ?? list[0];
      results[row.key] = Math.round(rate);
      rows.push([
        row.key,
        row.phase,
        fmtInt(mid?.messages ?? 0),
        mid?.seconds.toFixed(3) ?? '-',
        fmtInt(rate),
        ((rate * PAYLOAD_BYTES) / 1e6).toFixed(1),
        `${fmtInt(Math.min(...rates))}–${fmtInt(Math.max(...rates))}`,
        ctx.wanted.has(row.key) ? '' : 'not selected; filled the stream for the replay',
      ]);
    }
  }

  const ratios: Record<string, number> = {};
  for (const [key, a, b] of [
    ['crossbus-fsync/jetstream', 'crossbus-fsync', 'jetstream'],
    ['crossbus-interval/jetstream', 'crossbus-interval', 'jetstream'],
    ['crossbus-replay/jetstream-replay', 'crossbus-replay', 'jetstream-replay'],
  ] as const) {
    const r = ratio(results[a], results[b]);
    if (r !== undefined) ratios[key] = r;
  }

  const roundsRun = Math.max(0, ...[...ctx.measured.values()].map((l) => l.length));
  const header = [
    `durable: ${fmtInt(messages)} messages of ${PAYLOAD_BYTES} B per phase, median of ${roundsRun} round(s) ` +
      `(a fresh stream per round; warm-up ${fmtInt(warmup)} on a separate stream)`,
    `publish: up to ${fmtInt(WINDOW)} unacknowledged; rate = messages / s from the first publish to the last ack`,
    `replay: new consumer from the first message, explicit acks not awaited, at most ${fmtInt(MAX_ACK_PENDING)} pending; ` +
      `rate = messages / s from creating the consumer to the last delivery`,
    ...ctx.skippedRounds,
  ].join('\n');
  return { suite: 'durable', unit: 'msg/s', table: `${header}\n${formatTable(rows)}`, results, ratios, failures };
}
