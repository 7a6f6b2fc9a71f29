/**
 * Publish/subscribe throughput: crossbus vs aedes (MQTT QoS 0) vs nats-server.
 *
 * Scenarios (each system, same run, same random 256-byte payload):
 *   1→1      one publisher connection, one subscriber connection, 200,000 messages
 *   fan-out4 one publisher connection, four subscriber connections, 200,000 messages published
 *            (800,000 deliveries)
 *
 * Rate = deliveries / seconds, measured from the first publish until every subscriber has
 * received all of its messages. Brokers/hubs run in their own processes; all clients live in
 * this process. A short warm-up runs on the same connections before the timed phase.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { connectAsync as mqttConnect, type MqttClient } from 'mqtt';
import type { BenchOutput } from './lib/output.js';
import {
  formatTable,
  note,
  startAedes,
  startCrossbusHub,
  startNatsServer,
  startScrapedCrossbusHub,
  withTimeout,
  type RunningServer,
} from './lib/procs.js';
import { benchTracing } from './lib/tracing.js';

export type SystemName = 'crossbus' | 'crossbus-metrics' | 'crossbus-traced' | 'crossbus-tcp' | 'aedes' | 'nats-server';
export const SYSTEMS: readonly SystemName[] = ['crossbus', 'crossbus-metrics', 'crossbus-traced', 'crossbus-tcp', 'aedes', 'nats-server'];

export interface SuiteOptions {
  /** Only run these systems (default: all). */
  only?: readonly string[];
  /** Multiply message counts by this factor (e.g. 0.1 for a quick run). Default 1. */
  scale?: number;
  /** pubsub only: publisher yields to the event loop every N messages, same for every system (0 = never). */
  paceEvery?: number;
}

export const DEFAULT_PACE_EVERY = 100;

/** Extra information next to the shared BenchOutput; never part of the JSON line. */
export interface SuiteExtras {
  /** One entry per system/scenario that failed (the suite still returns what it measured). */
  failures: string[];
}

export interface PubSubRunOptions {
  url: string;
  subscribers: number;
  messages: number;
  warmup: number;
  payload: Uint8Array;
  /** Hard limit for one timed (or warm-up) phase. */
  timeoutMs: number;
  /** Once publishing is done, stop waiting after this long without a new delivery. */
  idleMs: number;
  /** Yield to the event loop every this many published messages (0 = never). */
  paceEvery: number;
}

export interface PubSubRunResult {
  delivered: number;
  expected: number;
  seconds: number;
}

const TOPIC_DOTS = 'bench.data';
const TOPIC_MQTT = 'bench/data';
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Generic measurement harness

/** Called by a system's subscriber with the byte length of each delivered payload. */
export type Deliver = (byteLength: number) => void;

/**
 * Publisher pacing, applied identically to every system: after every `every` messages the publish
 * loop yields to the event loop once (setImmediate), so that socket writes and the subscribers
 * (which live in this process) are serviced while publishing, and memory stays bounded for the
 * fire-and-forget clients (nats.js publish() and mqtt.js publish() have no backpressure signal).
 * With pacing disabled, `every` is larger than any message count and `last` never matches.
 */
export interface Pace {
  every: number;
  last: number;
  yield(): Promise<void>;
}

function makePace(every: number): Pace {
  if (!(every > 0)) return { every: Number.MAX_SAFE_INTEGER, last: -1, yield: async () => {} };
  return { every, last: every - 1, yield: () => new Promise<void>((resolve) => setImmediate(resolve)) };
}

export interface PubSubSession {
  /** Publish `count` copies of the payload the idiomatic fast way for the client, paced by `pace`. */
  publish(count: number, pace: Pace): Promise<void>;
  close(): Promise<void>;
}

/** Sets up one publisher and `subscribers` subscriber connections; resolves when subscriptions are live. */
export type SetupFn = (opts: PubSubRunOptions, deliver: Deliver, fail: (err: Error) => void) => Promise<PubSubSession>;

interface PhaseState {
  expected: number;
  delivered: number;
  bad: number;
  lastDelivery: number;
  onComplete: (() => void) | undefined;
  onFail: ((err: Error) => void) | undefined;
}

async function runPhase(
  session: PubSubSession,
  state: PhaseState,
  count: number,
  opts: PubSubRunOptions,
  label: string,
): Promise<PubSubRunResult> {
  const expected = count * opts.subscribers;
  if (expected === 0) return { delivered: 0, expected: 0, seconds: 0 };
  state.expected = expected;
  state.delivered = 0;
  state.bad = 0;

  let watchdog: NodeJS.Timeout | undefined;
  const start = performance.now();
  state.lastDelivery = start;
  let publishDoneAt: number | undefined;

  const outcome = new Promise<'complete' | 'idle'>((resolve, reject) => {
    state.onComplete = () => resolve('complete');
    state.onFail = (err) => reject(err);
    session.publish(count, makePace(opts.paceEvery)).then(
      () => {
        publishDoneAt = performance.now();
      },
      (err: unknown) => reject(new Error(`${label}: publish failed: ${errMsg(err)}`)),
    );
    watchdog = setInterval(() => {
      const now = performance.now();
      if (now - start > opts.timeoutMs) {
        reject(new Error(`${label}: timed out after ${opts.timeoutMs} ms (${state.delivered}/${expected} delivered)`));
        return;
      }
      const lastActivity = Math.max(state.lastDelivery, publishDoneAt ?? 0);
      if (now - lastActivity > opts.idleMs) {
        if (publishDoneAt === undefined) {
          reject(
            new Error(
              `${label}: stalled: publisher still blocked and no delivery for ${opts.idleMs} ms ` +
                `(${state.delivered}/${expected} delivered)`,
            ),
          );
        } else {
          resolve('idle');
        }
      }
    }, 50);
  });

  try {
    await outcome;
  } finally {
    clearInterval(watchdog);
    state.onComplete = undefined;
    state.onFail = undefined;
  }
  if (state.delivered > expected) {
    throw new Error(`${label}: ${state.delivered - expected} more deliveries than expected (${expected})`);
  }
  if (state.bad > 0) {
    throw new Error(`${label}: ${state.bad} deliveries had an unexpected payload size`);
  }
  return {
    delivered: state.delivered,
    expected,
    seconds: (state.lastDelivery - start) / 1000,
  };
}

export async function runPubSub(label: string, setup: SetupFn, opts: PubSubRunOptions): Promise<PubSubRunResult> {
  const size = opts.payload.byteLength;
  const state: PhaseState = {
    expected: 0,
    delivered: 0,
    bad: 0,
    lastDelivery: 0,
    onComplete: undefined,
    onFail: undefined,
  };
  const deliver: Deliver = (byteLength) => {
    if (byteLength !== size) state.bad++;
    state.delivered++;
    state.lastDelivery = performance.now();
    if (state.delivered === state.expected) state.onComplete?.();
  };
  let pendingFailure: Error | undefined;
  const fail = (err: Error): void => {
    if (state.onFail) state.onFail(err);
    else pendingFailure ??= err;
  };

  const session = await withTimeout(setup(opts, deliver, fail), CONNECT_TIMEOUT_MS, `${label}: setup`);
  try {
    if (opts.warmup > 0) {
      const w = await runPhase(session, state, opts.warmup, opts, `${label} warm-up`);
      if (w.delivered < w.expected) note(`${label}: warm-up lost ${w.expected - w.delivered} deliveries`);
    }
    if (pendingFailure) throw pendingFailure;
    return await runPhase(session, state, opts.messages, opts, label);
  } finally {
    await withTimeout(session.close(), CLOSE_TIMEOUT_MS, `${label}: close`).catch((err: unknown) => {
      note(`${label}: close failed: ${errMsg(err)}`);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// nats-server (nats.js)

const setupNats: SetupFn = async (opts, deliver, fail) => {
  const conns: NatsConnection[] = [];
  let closing = false;
  const watch = (nc: NatsConnection, name: string): void => {
    void nc.closed().then((err) => {
      if (!closing) fail(new Error(`nats connection ${name} closed${err ? `: ${err.message}` : ''}`));
    });
  };
  try {
    for (let i = 0; i < opts.subscribers; i++) {
      const name = `bench-sub-${i}`;
      const nc = await natsConnect({ servers: opts.url, name, reconnect: false });
      conns.push(nc);
      watch(nc, name);
      nc.subscribe(TOPIC_DOTS, {
        callback: (err, msg) => {
          if (err) fail(err);
          else deliver(msg.data.byteLength);
        },
      });
      await nc.flush(); // subscription registered on the server
    }
    const pub = await natsConnect({ servers: opts.url, name: 'bench-pub', reconnect: false });
    conns.push(pub);
    watch(pub, 'bench-pub');
    const payload = opts.payload;
    return {
      async publish(count, pace) {
        for (let i = 0; i < count; i++) {
          pub.publish(TOPIC_DOTS, payload);
          if (i % pace.every === pace.last) await pace.yield();
        }
      },
      async close() {
        closing = true;
        await Promise.all(conns.map((nc) => nc.close()));
      },
    };
  } catch (err) {
    closing = true;
    await Promise.all(conns.map((nc) => nc.close().catch(() => {})));
    throw err;
  }
};

// ---------------------------------------------------------------------------------------------
// aedes (mqtt.js, QoS 0)

const setupMqtt: SetupFn = async (opts, deliver, fail) => {
  const clients: MqttClient[] = [];
  let closing = false;
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const open = async (clientId: string): Promise<MqttClient> => {
    const c = await mqttConnect(opts.url, {
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    clients.push(c);
    c.on('error', (err) => {
      if (!closing) fail(err);
    });
    c.on('close', () => {
      if (!closing) fail(new Error(`mqtt client ${clientId} closed`));
    });
    return c;
  };
  try {
    for (let i = 0; i < opts.subscribers; i++) {
      const c = await open(`bench-sub-${i}-${tag}`);
      c.on('message', (_topic, payload) => deliver(payload.byteLength));
      await c.subscribeAsync(TOPIC_MQTT, { qos: 0 });
    }
    const pub = await open(`bench-pub-${tag}`);
    const payload = Buffer.from(opts.payload);
    return {
      async publish(count, pace) {
        for (let i = 0; i < count; i++) {
          pub.publish(TOPIC_MQTT, payload, { qos: 0 });
          if (i % pace.every === pace.last) await pace.yield();
        }
      },
      async close() {
        closing = true;
        await Promise.all(clients.map((c) => c.endAsync()));
      },
    };
  } catch (err) {
    closing = true;
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    throw err;
  }
};

// ---------------------------------------------------------------------------------------------
// crossbus (hub in its own process, clients here)

type CrossbusModule = typeof import('../src/node/index.js');
type CrossbusClient = Awaited<ReturnType<CrossbusModule['connect']>>;

export async function loadCrossbus(): Promise<CrossbusModule> {
  try {
    return await import('../src/node/index.js');
  } catch (err) {
    throw new Error(`cannot load the crossbus node client (src/node/index.ts): ${errMsg(err)}`);
  }
}

export function payloadLength(data: unknown): number {
  return data instanceof Uint8Array ? data.byteLength : -1;
}

/** The crossbus clients; `traced`: every bus with spans sampled at 100 % (bench/lib/tracing.ts). */
const crossbusSetup =
  (traced: boolean): SetupFn =>
  async (opts, deliver) => {
    const { connect } = await loadCrossbus();
    const tracer = traced ? benchTracing() : undefined;
    const tracing = tracer?.tracing ?? false;
    const buses: CrossbusClient[] = [];
    try {
      for (let i = 0; i < opts.subscribers; i++) {
        const bus = await connect(opts.url, { name: `bench-sub-${i}`, reconnect: false, tracing });
        buses.push(bus);
        const sub = bus.subscribe(TOPIC_DOTS, (msg) => {
          deliver(payloadLength(msg.data));
        });
        await sub.ready;
      }
      const pub = await connect(opts.url, { name: 'bench-pub', reconnect: false, tracing });
      buses.push(pub);
      // A plain Uint8Array (not a Buffer) so the client sees exactly the documented payload type.
      const payload = new Uint8Array(opts.payload);
      return {
        async publish(count, pace) {
          for (let i = 0; i < count; i++) {
            await pub.publish(TOPIC_DOTS, payload);
            if (i % pace.every === pace.last) await pace.yield();
          }
        },
        async close() {
          await Promise.all(buses.map((b) => b.close()));
          await tracer?.shutdown();
        },
      };
    } catch (err) {
      await Promise.all(buses.map((b) => b.close().catch(() => {})));
      await tracer?.shutdown();
      throw err;
    }
  };
const setupCrossbus = crossbusSetup(false);

// ---------------------------------------------------------------------------------------------
// Per-system runners (server/hub already running at opts.url)

export const runNatsPubSub = (opts: PubSubRunOptions): Promise<PubSubRunResult> =>
  runPubSub(`nats-server x${opts.subscribers}`, setupNats, opts);
export const runAedesPubSub = (opts: PubSubRunOptions): Promise<PubSubRunResult> =>
  runPubSub(`aedes x${opts.subscribers}`, setupMqtt, opts);
export const runCrossbusPubSub = (opts: PubSubRunOptions): Promise<PubSubRunResult> =>
  runPubSub(`crossbus x${opts.subscribers}`, setupCrossbus, opts);

// ---------------------------------------------------------------------------------------------
// Suite

interface SystemDef {
  name: SystemName;
  start: () => Promise<RunningServer>;
  setup: SetupFn;
  lossy: boolean;
}

const SYSTEM_DEFS: Record<SystemName, SystemDef> = {
  crossbus: { name: 'crossbus', start: () => startCrossbusHub({ extraArgs: ['--insecure'] }), setup: setupCrossbus, lossy: false },
  // The same hub with its /metrics scraped every second (issue 20: what observability costs).
  'crossbus-metrics': { name: 'crossbus-metrics', start: () => startScrapedCrossbusHub(), setup: setupCrossbus, lossy: false },
  // Metrics as above, and every client tracing: a span per publish and per delivery, all sampled.
  'crossbus-traced': { name: 'crossbus-traced', start: () => startScrapedCrossbusHub(), setup: crossbusSetup(true), lossy: false },
  // The same hub and client over plain TCP (nats-server is measured over TCP too).
  'crossbus-tcp': {
    name: 'crossbus-tcp',
    start: () => startCrossbusHub({ extraArgs: ['--insecure', '--tcp', '127.0.0.1:0'], urlPattern: /tcp:\/\/[^\s'"`,)]+/ }),
    setup: setupCrossbus,
    lossy: false,
  },
  aedes: { name: 'aedes', start: () => startAedes(), setup: setupMqtt, lossy: true },
  'nats-server': { name: 'nats-server', start: () => startNatsServer(), setup: setupNats, lossy: false },
};

interface Scenario {
  key: string; // suffix for the results key
  label: string;
  subscribers: number;
}

const SCENARIOS: readonly Scenario[] = [
  { key: '', label: '1→1', subscribers: 1 },
  { key: '-fanout4', label: 'fan-out 1→4', subscribers: 4 },
];

export function selectSystems<T extends string>(all: readonly T[], only: readonly string[] | undefined): T[] {
  if (!only || only.length === 0) return [...all];
  const unknown = only.filter((s) => !all.includes(s as T));
  if (unknown.length > 0) throw new Error(`unknown system(s): ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((s) => only.includes(s));
}

export function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !(b > 0)) return undefined;
  return Math.round((a / b) * 1000) / 1000;
}

export async function runPubsubBench(options: SuiteOptions = {}): Promise<BenchOutput & SuiteExtras> {
  const scale = options.scale ?? 1;
  const messages = Math.max(1, Math.round(200_000 * scale));
  const warmup = Math.max(1, Math.round(50_000 * scale)); // long enough for every JIT (ours and the peers') to settle
  const payload = new Uint8Array(randomBytes(256));
  const systems = selectSystems(SYSTEMS, options.only);
  const paceEvery = options.paceEvery ?? DEFAULT_PACE_EVERY;

  const results: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['system', 'scenario', 'deliveries', 'seconds', 'msg/s', 'MB/s', 'note']];

  for (const name of systems) {
    const def = SYSTEM_DEFS[name];
    let server: RunningServer | undefined;
    try {
      note(`pubsub: starting ${name}`);
      server = await def.start();
      for (const sc of SCENARIOS) {
        const label = `${name} ${sc.label}`;
        note(`pubsub: ${label}: ${fmtInt(messages)} messages x ${sc.subscribers} subscriber(s)`);
        try {
          const r = await runPubSub(label, def.setup, {
            url: server.url,
            subscribers: sc.subscribers,
            messages,
            warmup,
            payload,
            timeoutMs: 60_000,
            idleMs: 3_000,
            paceEvery,
          });
          const rate = r.seconds > 0 ? r.delivered / r.seconds : 0;
          results[`${name}${sc.key}`] = Math.round(rate);
          const lost = r.expected - r.delivered;
          rows.push([
            name,
            sc.label,
            lost > 0 ? `${fmtInt(r.delivered)}/${fmtInt(r.expected)}` : fmtInt(r.delivered),
            r.seconds.toFixed(3),
            fmtInt(rate),
            ((rate * payload.byteLength) / 1e6).toFixed(1),
            lost > 0 ? `LOST ${fmtInt(lost)} (${((lost / r.expected) * 100).toFixed(2)}%)` : '',
          ]);
          note(`pubsub: ${label}: ${fmtInt(rate)} msg/s${lost > 0 ? ` (lost ${lost})` : ''}`);
        } catch (err) {
          failures.push(`${label}: ${errMsg(err)}`);
          rows.push([name, sc.label, '-', '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
          note(`pubsub: ${label} FAILED: ${errMsg(err)}`);
        }
      }
    } catch (err) {
      failures.push(`${name}: ${errMsg(err)}`);
      for (const sc of SCENARIOS) rows.push([name, sc.label, '-', '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
      note(`pubsub: ${name} FAILED: ${errMsg(err)}`);
    } finally {
      await server?.stop();
    }
  }

  const ratios: Record<string, number> = {};
  for (const [key, a, b] of [
    ['crossbus/aedes', 'crossbus', 'aedes'],
    ['crossbus-metrics/crossbus', 'crossbus-metrics', 'crossbus'],
    ['crossbus-metrics/crossbus-fanout4', 'crossbus-metrics-fanout4', 'crossbus-fanout4'],
    ['crossbus-traced/crossbus', 'crossbus-traced', 'crossbus'],
    ['crossbus-traced/crossbus-fanout4', 'crossbus-traced-fanout4', 'crossbus-fanout4'],
    ['crossbus/nats-server', 'crossbus', 'nats-server'],
    ['crossbus-tcp/nats-server', 'crossbus-tcp', 'nats-server'],
    ['crossbus-tcp/nats-server-fanout4', 'crossbus-tcp-fanout4', 'nats-server-fanout4'],
    ['crossbus/aedes-fanout4', 'crossbus-fanout4', 'aedes-fanout4'],
    ['crossbus/nats-server-fanout4', 'crossbus-fanout4', 'nats-server-fanout4'],
  ] as const) {
    const r = ratio(results[a], results[b]);
    if (r !== undefined) ratios[key] = r;
  }

  const header =
    `pubsub: ${fmtInt(messages)} messages of ${payload.byteLength} B per scenario ` +
    `(warm-up ${fmtInt(warmup)}); rate = deliveries / s from first publish to last delivery; ` +
    `publishers yield every ${paceEvery > 0 ? fmtInt(paceEvery) : '∞'} messages`;
  return { suite: 'pubsub', unit: 'msg/s', table: `${header}\n${formatTable(rows)}`, results, ratios, failures };
}

export function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
