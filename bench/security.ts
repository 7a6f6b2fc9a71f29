/**
 * Cost of the security layer: crossbus 1 → 1 publish/subscribe throughput through a hub process,
 * without security (`--insecure`), with integrity only (HMAC-SHA256 records) and encrypted
 * (AES-256-GCM records, the default), for 256-byte and 4 KiB payloads; plus handshakes per second
 * (sequential connect() + close() of one client) against the secure hub (authenticated, P-256) and,
 * as the reference, against the insecure hub.
 *
 * Two hubs run in their own processes, one after the other: `--insecure` and a secure hub with a
 * generated config (fresh random secrets, a role granting bench.>, a rate limit too high to
 * throttle), both with a temporary data directory (config, audit log) that is removed afterwards.
 * Clients live in this process and use Node's crypto (synchronous, the Node entry's default).
 *
 * Throughput = deliveries / seconds from the first publish to the last delivery. The publisher
 * awaits every publish (backpressure) and yields to the event loop every 100 messages, exactly as
 * bench/pubsub.ts does. Each phase is bounded by a count and a time limit; whatever was published
 * must be delivered (a loss is a failure, not a number).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note, startCrossbusHub, withTimeout, type RunningServer } from './lib/procs.js';
import { DEFAULT_PACE_EVERY, errMsg, firstLine, fmtInt, loadCrossbus, payloadLength, ratio, selectSystems } from './pubsub.js';

export interface SecuritySuiteOptions {
  /** Multiply message/handshake counts by this factor (e.g. 0.1 for a quick run). Default 1. */
  scale?: number;
  /** Publisher yields to the event loop every N messages (0 = never). Default 100, as pubsub. */
  paceEvery?: number;
  /** Only these parts (plain, integrity, encrypted, handshakes). Default: all. */
  only?: readonly string[];
}

export const PARTS = ['plain', 'integrity', 'encrypted', 'handshakes'] as const;

type CrossbusModule = Awaited<ReturnType<typeof loadCrossbus>>;
type Bus = Awaited<ReturnType<CrossbusModule['connect']>>;
type ConnectOptions = NonNullable<Parameters<CrossbusModule['connect']>[1]>;

const TOPIC = 'bench.data';
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** Hard stop for publishing in one timed phase; the count normally ends it long before. */
const PHASE_MAX_MS = 10_000;
/** After publishing stopped: no new delivery for this long means messages were lost. */
const IDLE_MS = 3_000;
const HANDSHAKE_MAX_MS = 5_000;

interface SizeCase {
  /** Suffix of the results key. */
  key: string;
  label: string;
  bytes: number;
  messages: number;
  warmup: number;
}

const SIZES: readonly SizeCase[] = [
  { key: '', label: '256 B', bytes: 256, messages: 100_000, warmup: 20_000 },
  { key: '-4k', label: '4 KiB', bytes: 4096, messages: 30_000, warmup: 6_000 },
];

type ConfigName = 'plain' | 'integrity' | 'encrypted';
/** Timed rounds per configuration and payload size; the table and JSON report the median. */
const ROUNDS = 3;

interface SecureCredentials {
  pub: { name: string; secret: string };
  sub: { name: string; secret: string };
  hs: { name: string; secret: string };
}

const secret = (): string => randomBytes(32).toString('base64');

/** Writes the secure hub's config into `dir` and returns its path and the apps' credentials. */
async function writeSecureConfig(dir: string): Promise<{ file: string; creds: SecureCredentials }> {
  const creds: SecureCredentials = {
    pub: { name: 'bench-pub', secret: secret() },
    sub: { name: 'bench-sub', secret: secret() },
    hs: { name: 'bench-handshake', secret: secret() },
  };
  const doc = {
    apps: Object.fromEntries(Object.values(creds).map((c) => [c.name, { secret: c.secret, roles: ['bench'] }])),
    roles: { bench: { publish: ['bench.>'], subscribe: ['bench.>'], request: [] } },
    origins: [],
    limits: { rate: { perSecond: 10_000_000, burst: 10_000_000 }, topicRates: [] },
  };
  const file = path.join(dir, 'crossbus.config.json');
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return { file, creds };
}

// ---------------------------------------------------------------------------------------------
// Throughput

interface Counter {
  size: number;
  delivered: number;
  bad: number;
  lastDelivery: number;
  /** Set when a connection dies; the running phase fails with it. */
  failure: Error | undefined;
  wake: (() => void) | undefined;
}

interface PhaseResult {
  published: number;
  delivered: number;
  seconds: number;
  /** Publishing was cut by the time bound before reaching the count. */
  cut: boolean;
}

const yieldNow = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

async function runPhase(
  pub: Bus,
  counter: Counter,
  payload: Uint8Array,
  count: number,
  paceEvery: number,
  label: string,
): Promise<PhaseResult> {
  counter.size = payload.byteLength;
  counter.delivered = 0;
  counter.bad = 0;
  const every = paceEvery > 0 ? paceEvery : Number.MAX_SAFE_INTEGER;
  const start = performance.now();
  counter.lastDelivery = start;
  let published = 0;
  let cut = false;
  for (; published < count; ) {
    await pub.publish(TOPIC, payload);
    published++;
    if (published % every === 0) {
      await yieldNow();
      if (counter.failure) throw counter.failure;
      if (performance.now() - start > PHASE_MAX_MS) {
        cut = true;
        break;
      }
    }
  }
  // Wait for every published message to arrive.
  for (;;) {
    if (counter.failure) throw counter.failure;
    if (counter.delivered >= published) break;
    const before = counter.delivered;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 50);
      counter.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    counter.wake = undefined;
    if (counter.delivered === before && performance.now() - Math.max(counter.lastDelivery, start) > IDLE_MS) {
      throw new Error(`${label}: ${published - counter.delivered} of ${published} messages not delivered after ${IDLE_MS} ms idle`);
    }
  }
  if (counter.delivered > published) throw new Error(`${label}: ${counter.delivered - published} more deliveries than published`);
  if (counter.bad > 0) throw new Error(`${label}: ${counter.bad} deliveries had an unexpected payload size`);
  return { published, delivered: counter.delivered, seconds: (counter.lastDelivery - start) / 1000, cut };
}

interface Pair {
  pub: Bus;
  counter: Counter;
  close(): Promise<void>;
}

async function connectPair(
  connect: CrossbusModule['connect'],
  url: string,
  pubOpts: ConnectOptions,
  subOpts: ConnectOptions,
): Promise<Pair> {
  const counter: Counter = { size: 0, delivered: 0, bad: 0, lastDelivery: 0, failure: undefined, wake: undefined };
  const buses: Bus[] = [];
  let closing = false;
  const watch = (bus: Bus, who: string): void => {
    bus.on('closed', ({ error }) => {
      if (!closing) counter.failure ??= new Error(`${who} connection closed${error ? `: ${error.message}` : ''}`);
    });
  };
  try {
    const sub = await connect(url, { ...subOpts, reconnect: false });
    buses.push(sub);
    watch(sub, 'subscriber');
    const subscription = sub.subscribe(TOPIC, (msg) => {
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

// ---------------------------------------------------------------------------------------------
// Handshakes

interface HandshakeResult {
  count: number;
  seconds: number;
}

async function runHandshakes(
  connect: CrossbusModule['connect'],
  url: string,
  opts: ConnectOptions,
  count: number,
  warmup: number,
): Promise<HandshakeResult> {
  const once = async (): Promise<void> => {
    const bus = await connect(url, { ...opts, reconnect: false });
    await bus.close();
  };
  for (let i = 0; i < warmup; i++) await once();
  const start = performance.now();
  let done = 0;
  while (done < count) {
    await once();
    done++;
    if (performance.now() - start > HANDSHAKE_MAX_MS) break;
  }
  return { count: done, seconds: (performance.now() - start) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Suite

interface ConfigDef {
  name: ConfigName;
  label: string;
  pub: ConnectOptions;
  sub: ConnectOptions;
}

interface HubDef {
  name: string;
  args: string[];
  configs: ConfigDef[];
  hs: { key: string; label: string; opts: ConnectOptions };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
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
  const handshakes = Math.max(10, Math.round(200 * scale));
  const handshakeWarmup = Math.max(5, Math.round(20 * scale));
  const payloads = new Map(sizes.map((s) => [s.bytes, new Uint8Array(randomBytes(s.bytes))]));

  const { connect } = await loadCrossbus();
  const measured: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['configuration', 'payload', 'messages', 'seconds', 'msg/s', 'MB/s', `min–max of ${ROUNDS}`, 'note']];
  const hsRows: string[][] = [['hub', 'client', 'handshakes', 'seconds', 'per second', 'ms each']];

  const tmp = await mkdtemp(path.join(tmpdir(), 'crossbus-bench-security-'));
  try {
    const plainDir = path.join(tmp, 'plain');
    const secureDir = path.join(tmp, 'secure');
    await mkdir(plainDir, { mode: 0o700 });
    await mkdir(secureDir, { mode: 0o700 });
    const { file: configFile, creds } = await writeSecureConfig(secureDir);

    const hubs: HubDef[] = [
      {
        name: 'insecure hub',
        args: ['--insecure', '--data', plainDir],
        configs: [{ name: 'plain', label: 'plain (--insecure)', pub: { name: 'bench-pub' }, sub: { name: 'bench-sub' } }],
        hs: { key: 'handshakes-plain', label: 'no secret', opts: { name: 'bench-handshake' } },
      },
      {
        name: 'secure hub',
        args: ['--data', secureDir, '--config', configFile],
        configs: [
          {
            name: 'integrity',
            label: 'integrity (HMAC-SHA256)',
            pub: { ...creds.pub, security: { mode: 'integrity' } },
            sub: { ...creds.sub, security: { mode: 'integrity' } },
          },
          { name: 'encrypted', label: 'encrypted (AES-256-GCM)', pub: { ...creds.pub }, sub: { ...creds.sub } },
        ],
        hs: { key: 'handshakes-secure', label: 'secret, P-256, encrypt', opts: { ...creds.hs } },
      },
    ];

    for (const hub of hubs) {
      const configs = hub.configs.filter((c) => parts.has(c.name));
      const withHandshakes = parts.has('handshakes');
      if (configs.length === 0 && !withHandshakes) continue;
      let server: RunningServer | undefined;
      try {
        note(`security: starting ${hub.name}`);
        server = await startCrossbusHub({ extraArgs: hub.args });
        for (const cfg of configs) {
          let pair: Pair | undefined;
          try {
            pair = await withTimeout(connectPair(connect, server.url, cfg.pub, cfg.sub), CONNECT_TIMEOUT_MS, `${cfg.name}: connect`);
            for (const size of sizes) {
              const label = `crossbus-${cfg.name} ${size.label}`;
              const key = `crossbus-${cfg.name}${size.key}`;
              const payload = payloads.get(size.bytes) as Uint8Array;
              try {
                await runPhase(pair.pub, pair.counter, payload, size.warmup, paceEvery, `${label} warm-up`);
                const rates: number[] = [];
                const runs: PhaseResult[] = [];
                for (let round = 0; round < ROUNDS; round++) {
                  const r = await runPhase(pair.pub, pair.counter, payload, size.messages, paceEvery, `${label} round ${round + 1}`);
                  runs.push(r);
                  rates.push(r.seconds > 0 ? r.delivered / r.seconds : 0);
                }
                const rate = median(rates);
                const mid = runs[rates.indexOf(rate)] ?? runs[0];
                measured[key] = Math.round(rate);
                rows.push([
                  cfg.label,
                  size.label,
                  fmtInt(mid?.delivered ?? 0),
                  mid?.seconds.toFixed(3) ?? '-',
                  fmtInt(rate),
                  ((rate * size.bytes) / 1e6).toFixed(1),
                  `${fmtInt(Math.min(...rates))}–${fmtInt(Math.max(...rates))}`,
                  runs.some((r) => r.cut) ? `time bound (${PHASE_MAX_MS / 1000} s) reached` : '',
                ]);
                note(`security: ${label}: ${fmtInt(rate)} msg/s (rounds: ${rates.map(fmtInt).join(', ')})`);
              } catch (err) {
                failures.push(`${label}: ${errMsg(err)}`);
                rows.push([cfg.label, size.label, '-', '-', '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
                note(`security: ${label} FAILED: ${errMsg(err)}`);
                if (pair.counter.failure) break; // the connection is gone: the next size cannot run
              }
            }
          } catch (err) {
            failures.push(`${cfg.name}: ${errMsg(err)}`);
            rows.push([cfg.label, '-', '-', '-', '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
            note(`security: ${cfg.name} FAILED: ${errMsg(err)}`);
          } finally {
            await withTimeout(pair?.close() ?? Promise.resolve(), CLOSE_TIMEOUT_MS, `${cfg.name}: close`).catch((err: unknown) => {
              note(`security: ${cfg.name}: close failed: ${errMsg(err)}`);
            });
          }
        }
        if (withHandshakes) {
          try {
            const r = await withTimeout(
              runHandshakes(connect, server.url, hub.hs.opts, handshakes, handshakeWarmup),
              HANDSHAKE_MAX_MS + 30_000,
              hub.hs.key,
            );
            const rate = r.seconds > 0 ? r.count / r.seconds : 0;
            measured[hub.hs.key] = Math.round(rate);
            hsRows.push([hub.name, hub.hs.label, fmtInt(r.count), r.seconds.toFixed(3), fmtInt(rate), ((r.seconds * 1000) / r.count).toFixed(2)]);
            note(`security: ${hub.hs.key}: ${fmtInt(rate)}/s`);
          } catch (err) {
            failures.push(`${hub.hs.key}: ${errMsg(err)}`);
            hsRows.push([hub.name, hub.hs.label, '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
            note(`security: ${hub.hs.key} FAILED: ${errMsg(err)}`);
          }
        }
      } catch (err) {
        failures.push(`${hub.name}: ${errMsg(err)}`);
        rows.push([hub.name, '-', '-', '-', '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
        note(`security: ${hub.name} FAILED: ${errMsg(err)}`);
      } finally {
        await server?.stop();
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }

  // Keys in a fixed, readable order (not the order they were measured in).
  const results: Record<string, number> = {};
  for (const key of [
    'crossbus-plain', 'crossbus-integrity', 'crossbus-encrypted',
    'crossbus-plain-4k', 'crossbus-integrity-4k', 'crossbus-encrypted-4k',
    'handshakes-secure', 'handshakes-plain',
  ]) {
    if (measured[key] !== undefined) results[key] = measured[key];
  }
  const ratios: Record<string, number> = {};
  for (const suffix of ['', '-4k']) {
    for (const mode of ['integrity', 'encrypted']) {
      const r = ratio(results[`crossbus-${mode}${suffix}`], results[`crossbus-plain${suffix}`]);
      if (r !== undefined) ratios[`crossbus-${mode}${suffix}/crossbus-plain${suffix}`] = r;
    }
  }

  const header =
    `security: 1 → 1 through a hub process, ${sizes.map((s) => `${fmtInt(s.messages)} × ${s.label}`).join(', ')} per round ` +
    `(median of ${ROUNDS} rounds after a warm-up of ${sizes.map((s) => fmtInt(s.warmup)).join(' / ')}; at most ${PHASE_MAX_MS / 1000} s each); ` +
    `rate = deliveries / s from first publish to last delivery; publisher awaits publish() and yields every ` +
    `${paceEvery > 0 ? fmtInt(paceEvery) : '∞'} messages`;
  const hsHeader =
    `handshakes: sequential connect() + close(), ${fmtInt(handshakes)} (at most ${HANDSHAKE_MAX_MS / 1000} s) ` +
    `after ${fmtInt(handshakeWarmup)} warm-up`;
  const table = `${header}\n${formatTable(rows)}\n\n${hsHeader}\n${formatTable(hsRows)}`;
  return { suite: 'security', unit: 'msg/s', table, results, ratios, failures };
}
