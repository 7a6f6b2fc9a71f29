/**
 * Cost of the security layer: crossbus 1 → 1 publish/subscribe throughput through a hub process,
 * without security (`--insecure`), with integrity only (AES-256-GMAC records, the default for
 * integrity, and HMAC-SHA256 records beside it) and encrypted (AES-256-GCM records, the default),
 * for 256-byte and 4 KiB payloads; plus handshakes per second
 * (sequential connect() + close() of one client) against the secure hub (authenticated, P-256) and,
 * as the reference, against the insecure hub.
 *
 * Two hubs run in their own processes for the whole suite: `--insecure`, and a secure hub with a
 * generated config (fresh random secrets, a role granting bench.>, a rate limit too high to
 * throttle). Each has its own temporary data directory (config, audit log), removed afterwards.
 * Clients live in this process and use Node's crypto (synchronous, the Node entry's default).
 *
 * Throughput = deliveries / seconds from the first publish to the last delivery. The publisher
 * awaits every publish (backpressure) and yields to the event loop every 100 messages, exactly as
 * bench/pubsub.ts does. Each phase is bounded by a count and a time limit; whatever was published
 * must be delivered (a loss is a failure, not a number). The configurations are measured in
 * interleaved rounds (plain, integrity, integrity-hmac, encrypted, plain, ...) and each reports its
 * median round, so that load from elsewhere on the machine hits all alike and the ratios stay meaningful.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchOutput } from './lib/output.js';
import { type DeliveryCounter, deliveryPhase, type PhaseResult } from './lib/delivery-phase.js';
import { formatTable, note, startCrossbusHub, withTimeout, type RunningServer } from './lib/procs.js';
import { DEFAULT_PACE_EVERY, errMsg, firstLine, fmtInt, loadCrossbus, payloadLength, ratio, selectSystems } from './pubsub.js';

export interface SecuritySuiteOptions {
  /** Multiply message/handshake counts by this factor (e.g. 0.1 for a quick run). Default 1. */
  scale?: number;
  /** Publisher yields to the event loop every N messages (0 = never). Default 100, as pubsub. */
  paceEvery?: number;
  /** Only these parts (plain, integrity, integrity-hmac, encrypted, handshakes). Default: all. */
  only?: readonly string[];
}

export const PARTS = ['plain', 'integrity', 'integrity-hmac', 'encrypted', 'handshakes'] as const;

type CrossbusModule = Awaited<ReturnType<typeof loadCrossbus>>;
type Connect = CrossbusModule['connect'];
type Bus = Awaited<ReturnType<Connect>>;
type ConnectOptions = NonNullable<Parameters<Connect>[1]>;

/**
 * Topic prefix; each configuration has its own topic, so that a pair never sees another's messages.
 * The topics differ only in their last character: a topic's bytes are validated, encoded, decoded
 * and (when protected) hashed with every message, so a longer name would be charged to one
 * configuration (`bench.security.integrity` cost integrity 4 bytes a message more than `…plain`).
 */
const TOPIC_PREFIX = 'bench.security.';
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** Hard stop for publishing in one timed phase; the count normally ends it long before. */
const PHASE_MAX_MS = 10_000;
/** After publishing stopped: no new delivery for this long means messages were lost. */
const IDLE_MS = 3_000;
const HANDSHAKES = 200;
const HANDSHAKE_WARMUP = 20;
/** Handshakes alternate between the hubs in blocks of this many. */
const HANDSHAKE_BLOCK = 50;
/** Time bound for one hub's handshakes (all blocks together). */
const HANDSHAKE_MAX_MS = 5_000;

interface SizeCase {
  /** Suffix of the results key. */
  key: string;
  label: string;
  bytes: number;
  messages: number;
  warmup: number;
  /** Timed rounds per configuration; the median round is reported. */
  rounds: number;
}

const SIZES: readonly SizeCase[] = [
  // 256 B rounds are short (about 0.6 s) and their rate moves more from round to round than the
  // 4 KiB ones: more of them keep the median, and the goals' ratios, steady from run to run.
  { key: '', label: '256 B', bytes: 256, messages: 200_000, warmup: 50_000, rounds: 15 },
  { key: '-4k', label: '4 KiB', bytes: 4096, messages: 40_000, warmup: 10_000, rounds: 7 },
];

type ConfigName = 'plain' | 'integrity' | 'integrity-hmac' | 'encrypted';
type HubName = 'insecure' | 'secure';

interface Credentials {
  name: string;
  secret: string;
}

const secret = (): string => randomBytes(32).toString('base64');

/** Writes the secure hub's config into `dir`; returns its path and the apps' credentials. */
async function writeSecureConfig(dir: string): Promise<{ file: string; pub: Credentials; sub: Credentials; handshake: Credentials }> {
  const creds = {
    pub: { name: 'bench-pub', secret: secret() },
    sub: { name: 'bench-sub', secret: secret() },
    handshake: { name: 'bench-handshake', secret: secret() },
  };
  const doc = {
    apps: Object.fromEntries(Object.values(creds).map((c) => [c.name, { secret: c.secret, roles: ['bench'] }])),
    roles: { bench: { publish: ['bench.>'], subscribe: ['bench.>'], request: [] } },
    origins: [],
    limits: { rate: { perSecond: 10_000_000, burst: 10_000_000 }, topicRates: [] },
  };
  const file = path.join(dir, 'crossbus.config.json');
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return { file, ...creds };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * CPU used by everything else on the machine, in clock ticks (Linux: /proc/stat minus our own
 * processes), so that a reader can tell a quiet run from one that shared its cores. Undefined
 * where /proc is not available.
 */
function otherCpuTicks(pids: readonly number[]): number | undefined {
  try {
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy
    const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (cpu[i] ?? 0), 0);
    let ours = 0;
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ours += Number(fields[11]) + Number(fields[12]); // utime, stime
    }
    return Number.isFinite(busy - ours) ? busy - ours : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Throughput

type Counter = DeliveryCounter;

interface Pair {
  topic: string;
  pub: Bus;
  counter: Counter;
  close(): Promise<void>;
}

async function connectPair(connect: Connect, url: string, topic: string, pubOpts: ConnectOptions, subOpts: ConnectOptions): Promise<Pair> {
  const counter: Counter = { size: 0, delivered: 0, bad: 0, lastDelivery: 0, failure: undefined, wake: undefined };
  const buses: Bus[] = [];
  let closing = false;
  const watch = (bus: Bus, who: string): void => {
    // The 'error' event carries the precise cause (e.g. which check a record failed); 'closed' only the close code.
    let lastError: string | undefined;
    bus.on('error', ({ error }) => {
      lastError ??= `${error.code}: ${error.message}`;
    });
    bus.on('closed', ({ error }) => {
      if (closing) return;
      const why = [error?.message, lastError].filter((x) => x !== undefined).join('; ');
      counter.failure ??= new Error(`${who} connection closed${why ? `: ${why}` : ''}`);
    });
  };
  try {
    const sub = await connect(url, { ...subOpts, reconnect: false });
    buses.push(sub);
    watch(sub, 'subscriber');
    const subscription = sub.subscribe(topic, (msg) => {
      if (payloadLength(msg.data) !== counter.size) counter.bad++;
      counter.delivered++;
      counter.lastDelivery = performance.now();
      if (counter.wake !== undefined && counter.delivered % 1024 === 0) counter.wake();
    });
    await subscription.ready;
    const pub = await connect(url, { ...pubOpts, reconnect: false });
    buses.push(pub);
    watch(pub, 'publisher');
    return {
      topic,
      pub,
      counter,
      async close() {
        closing = true;
        await Promise.all(buses.map((b) => b.close()));
      },
    };
  } catch (err) {
    closing = true;
    await Promise.all(buses.map((b) => b.close().catch(() => {})));
    throw err;
  }
}

function runPhase(pair: Pair, payload: Uint8Array, count: number, paceEvery: number, label: string): Promise<PhaseResult> {
  const limits = { count, maxMs: PHASE_MAX_MS, paceEvery, idleMs: IDLE_MS };
  return deliveryPhase(pair.counter, () => pair.pub.publish(pair.topic, payload), payload.byteLength, limits, label);
}

// ---------------------------------------------------------------------------------------------
// Suite

interface ConfigDef {
  name: ConfigName;
  hub: HubName;
  label: string;
  pub: ConnectOptions;
  sub: ConnectOptions;
}

interface HandshakeDef {
  key: string;
  hub: HubName;
  label: string;
  opts: ConnectOptions;
}

interface ConfigRun {
  def: ConfigDef;
  pair: Pair | undefined;
  /** Per size key: the rounds measured so far. */
  rounds: Map<string, PhaseResult[]>;
  /** Per size key: why it failed. */
  failed: Map<string, string>;
}

export async function runSecurityBench(options: SecuritySuiteOptions = {}): Promise<BenchOutput & { failures: string[] }> {
  const scale = options.scale ?? 1;
  const paceEvery = options.paceEvery ?? DEFAULT_PACE_EVERY;
  const parts = new Set(selectSystems(PARTS, options.only));
  const sizes = SIZES.map((s) => ({
    ...s,
    messages: Math.max(100, Math.round(s.messages * scale)),
    warmup: Math.max(100, Math.round(s.warmup * scale)),
  }));
  const handshakes = Math.max(10, Math.round(HANDSHAKES * scale));
  const handshakeWarmup = Math.max(5, Math.round(HANDSHAKE_WARMUP * scale));
  const payloads = new Map(sizes.map((s) => [s.bytes, new Uint8Array(randomBytes(s.bytes))]));

  const { connect } = await loadCrossbus();
  const measured: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['configuration', 'payload', 'messages', 'seconds', 'msg/s', 'MB/s', 'min–max of the rounds', 'note']];
  const hsRows: string[][] = [['hub', 'client', 'handshakes', 'seconds', 'per second', 'ms each']];

  const tmp = await mkdtemp(path.join(tmpdir(), 'crossbus-bench-security-'));
  const servers = new Map<HubName, RunningServer>();
  const runs: ConfigRun[] = [];
  let otherLoad: number | undefined;
  try {
    const plainDir = path.join(tmp, 'insecure');
    const secureDir = path.join(tmp, 'secure');
    await mkdir(plainDir, { mode: 0o700 });
    await mkdir(secureDir, { mode: 0o700 });
    const cfg = await writeSecureConfig(secureDir);

    const configs: ConfigDef[] = [
      { name: 'plain', hub: 'insecure', label: 'plain (--insecure)', pub: { name: 'bench-pub' }, sub: { name: 'bench-sub' } },
      {
        name: 'integrity',
        hub: 'secure',
        label: 'integrity (AES-256-GMAC)',
        pub: { ...cfg.pub, security: { mode: 'integrity' } },
        sub: { ...cfg.sub, security: { mode: 'integrity' } },
      },
      {
        name: 'integrity-hmac',
        hub: 'secure',
        label: 'integrity (HMAC-SHA256)',
        pub: { ...cfg.pub, security: { mode: 'integrity', integrityAlgorithms: ['hmac-sha256'] } },
        sub: { ...cfg.sub, security: { mode: 'integrity', integrityAlgorithms: ['hmac-sha256'] } },
      },
      { name: 'encrypted', hub: 'secure', label: 'encrypted (AES-256-GCM)', pub: { ...cfg.pub }, sub: { ...cfg.sub } },
    ];
    const handshakeDefs: HandshakeDef[] = [
      { key: 'handshakes-secure', hub: 'secure', label: 'secret, P-256, encrypt', opts: { ...cfg.handshake } },
      { key: 'handshakes-plain', hub: 'insecure', label: 'no secret (reference)', opts: { name: 'bench-handshake' } },
    ];
    const hubArgs: Record<HubName, string[]> = {
      insecure: ['--insecure', '--data', plainDir],
      secure: ['--data', secureDir, '--config', cfg.file],
    };

    const selected = configs.filter((c) => parts.has(c.name));
    const wantHubs = new Set<HubName>(selected.map((c) => c.hub));
    if (parts.has('handshakes')) for (const h of handshakeDefs) wantHubs.add(h.hub);

    // Both hubs up front; an idle hub costs nothing, and rounds can then alternate between them.
    await Promise.all(
      [...wantHubs].map(async (hub) => {
        try {
          note(`security: starting the ${hub} hub`);
          servers.set(hub, await startCrossbusHub({ extraArgs: hubArgs[hub] }));
        } catch (err) {
          failures.push(`${hub} hub: ${errMsg(err)}`);
          note(`security: ${hub} hub FAILED: ${errMsg(err)}`);
        }
      }),
    );

    // Context for the reader: the hubs and this process each want a core; other load moves the numbers.
    const ourPids = [process.pid, ...[...servers.values()].map((s) => s.pid).filter((p): p is number => p !== undefined)];
    const otherAtStart = otherCpuTicks(ourPids);
    const wallAtStart = performance.now();

    for (const def of selected) {
      const run: ConfigRun = { def, pair: undefined, rounds: new Map(), failed: new Map() };
      runs.push(run);
      const server = servers.get(def.hub);
      if (server === undefined) {
        for (const s of sizes) run.failed.set(s.key, `the ${def.hub} hub did not start`);
        continue;
      }
      try {
        run.pair = await withTimeout(
          connectPair(connect, server.url, `${TOPIC_PREFIX}${configs.indexOf(def)}`, def.pub, def.sub),
          CONNECT_TIMEOUT_MS,
          `${def.name}: connect`,
        );
      } catch (err) {
        for (const s of sizes) run.failed.set(s.key, errMsg(err));
      }
    }

    for (const size of sizes) {
      const payload = payloads.get(size.bytes) as Uint8Array;
      const live = (): ConfigRun[] => runs.filter((r) => r.pair !== undefined && !r.failed.has(size.key));
      const attempt = async (run: ConfigRun, count: number, label: string): Promise<PhaseResult | undefined> => {
        try {
          return await runPhase(run.pair as Pair, payload, count, paceEvery, label);
        } catch (err) {
          run.failed.set(size.key, errMsg(err));
          note(`security: ${label} FAILED: ${errMsg(err)}`);
          return undefined;
        }
      };
      for (const run of live()) {
        note(`security: crossbus-${run.def.name} ${size.label}: warm-up ${fmtInt(size.warmup)}`);
        await attempt(run, size.warmup, `crossbus-${run.def.name} ${size.label} warm-up`);
      }
      for (let round = 0; round < size.rounds; round++) {
        for (const run of live()) {
          const r = await attempt(run, size.messages, `crossbus-${run.def.name} ${size.label} round ${round + 1}`);
          if (r === undefined) continue;
          const list = run.rounds.get(size.key) ?? [];
          list.push(r);
          run.rounds.set(size.key, list);
        }
      }
      for (const run of runs) {
        const label = `crossbus-${run.def.name} ${size.label}`;
        const failed = run.failed.get(size.key);
        if (failed !== undefined) {
          failures.push(`${label}: ${failed}`);
          rows.push([run.def.label, size.label, '-', '-', '-', '-', '-', `FAILED: ${firstLine(failed)}`]);
          continue;
        }
        const list = run.rounds.get(size.key) ?? [];
        const rates = list.map((r) => (r.seconds > 0 ? r.delivered / r.seconds : 0));
        const rate = median(rates);
        const mid = list[rates.indexOf(rate)] ?? list[0];
        measured[`crossbus-${run.def.name}${size.key}`] = Math.round(rate);
        rows.push([
          run.def.label,
          size.label,
          fmtInt(mid?.delivered ?? 0),
          mid?.seconds.toFixed(3) ?? '-',
          fmtInt(rate),
          ((rate * size.bytes) / 1e6).toFixed(1),
          `${fmtInt(Math.min(...rates))}–${fmtInt(Math.max(...rates))}`,
          list.some((r) => r.cut) ? `time bound (${PHASE_MAX_MS / 1000} s) reached` : '',
        ]);
        note(`security: ${label}: ${fmtInt(rate)} msg/s (rounds: ${rates.map(fmtInt).join(', ')})`);
      }
    }
    await Promise.all(runs.map((r) => closePair(r)));

    if (parts.has('handshakes')) {
      const hsRuns = handshakeDefs.map((def) => ({
        def,
        server: servers.get(def.hub),
        done: 0,
        ms: 0,
        error: undefined as string | undefined,
      }));
      const once = async (def: HandshakeDef, server: RunningServer): Promise<void> => {
        const bus = await withTimeout(connect(server.url, { ...def.opts, reconnect: false }), CONNECT_TIMEOUT_MS, `${def.key}: connect`);
        await withTimeout(bus.close(), CLOSE_TIMEOUT_MS, `${def.key}: close`);
      };
      for (const r of hsRuns) {
        if (r.server === undefined) r.error = `the ${r.def.hub} hub did not start`;
      }
      for (const r of hsRuns) {
        if (r.error !== undefined || r.server === undefined) continue;
        try {
          for (let i = 0; i < handshakeWarmup; i++) await once(r.def, r.server);
        } catch (err) {
          r.error = errMsg(err);
        }
      }
      // Blocks alternate between the hubs, each hub bounded by count and by time.
      for (;;) {
        const pending = hsRuns.filter(
          (r) => r.error === undefined && r.server !== undefined && r.done < handshakes && r.ms < HANDSHAKE_MAX_MS,
        );
        if (pending.length === 0) break;
        for (const r of pending) {
          const block = Math.min(HANDSHAKE_BLOCK, handshakes - r.done);
          const start = performance.now();
          let n = 0;
          try {
            for (; n < block; n++) await once(r.def, r.server as RunningServer);
          } catch (err) {
            r.error = errMsg(err);
          }
          r.ms += performance.now() - start;
          r.done += n;
        }
      }
      for (const r of hsRuns) {
        if (r.error !== undefined) {
          failures.push(`${r.def.key}: ${r.error}`);
          hsRows.push([`${r.def.hub} hub`, r.def.label, '-', '-', '-', `FAILED: ${firstLine(r.error)}`]);
          note(`security: ${r.def.key} FAILED: ${r.error}`);
          continue;
        }
        const rate = r.ms > 0 ? (r.done * 1000) / r.ms : 0;
        measured[r.def.key] = Math.round(rate);
        hsRows.push([`${r.def.hub} hub`, r.def.label, fmtInt(r.done), (r.ms / 1000).toFixed(3), fmtInt(rate), (r.ms / r.done).toFixed(2)]);
        note(`security: ${r.def.key}: ${fmtInt(rate)}/s`);
      }
    }
    const otherAtEnd = otherCpuTicks(ourPids);
    if (otherAtStart !== undefined && otherAtEnd !== undefined) {
      // Clock ticks are 1/100 s on Linux; as a share of one core over the measured part of the run.
      otherLoad = ((otherAtEnd - otherAtStart) * 10) / (performance.now() - wallAtStart);
    }
  } finally {
    await Promise.all(runs.map((r) => closePair(r)));
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }

  // Keys in a fixed, readable order (not the order they were measured in).
  const results: Record<string, number> = {};
  for (const key of [
    'crossbus-plain',
    'crossbus-integrity',
    'crossbus-integrity-hmac',
    'crossbus-encrypted',
    'crossbus-plain-4k',
    'crossbus-integrity-4k',
    'crossbus-integrity-hmac-4k',
    'crossbus-encrypted-4k',
    'handshakes-secure',
    'handshakes-plain',
  ]) {
    if (measured[key] !== undefined) results[key] = measured[key];
  }
  const ratios: Record<string, number> = {};
  for (const suffix of ['', '-4k']) {
    for (const mode of ['integrity', 'integrity-hmac', 'encrypted']) {
      const r = ratio(results[`crossbus-${mode}${suffix}`], results[`crossbus-plain${suffix}`]);
      if (r !== undefined) ratios[`crossbus-${mode}${suffix}/crossbus-plain${suffix}`] = r;
    }
  }

  const header =
    `security: 1 → 1 through a hub process; per round ${sizes.map((s) => `${fmtInt(s.messages)} × ${s.label}`).join(', ')} ` +
    `(at most ${PHASE_MAX_MS / 1000} s); median of ${sizes.map((s) => s.rounds).join(' / ')} interleaved rounds after a warm-up of ` +
    `${sizes.map((s) => fmtInt(s.warmup)).join(' / ')}; rate = deliveries / s from first publish to last delivery; ` +
    `publisher awaits publish() and yields every ${paceEvery > 0 ? fmtInt(paceEvery) : '∞'} messages\n` +
    `other processes used ${otherLoad === undefined ? '(unknown)' : `${otherLoad.toFixed(2)} cores`} on average during the run ` +
    `(${availableParallelism()} cores; the hubs and this process want about two)`;
  const hsHeader =
    `handshakes: sequential connect() + close(), ${fmtInt(handshakes)} per hub (at most ${HANDSHAKE_MAX_MS / 1000} s) ` +
    `after ${fmtInt(handshakeWarmup)} warm-up, in alternating blocks of ${HANDSHAKE_BLOCK}`;
  const tables: string[] = [];
  if (PARTS.some((p) => p !== 'handshakes' && parts.has(p))) tables.push(`${header}\n${formatTable(rows)}`);
  if (parts.has('handshakes')) tables.push(`${hsHeader}\n${formatTable(hsRows)}`);
  return { suite: 'security', unit: 'msg/s', table: tables.join('\n\n'), results, ratios, failures };
}

async function closePair(run: ConfigRun): Promise<void> {
  const pair = run.pair;
  if (pair === undefined) return;
  run.pair = undefined;
  await withTimeout(pair.close(), CLOSE_TIMEOUT_MS, `${run.def.name}: close`).catch((err: unknown) => {
    note(`security: ${run.def.name}: close failed: ${errMsg(err)}`);
  });
}
