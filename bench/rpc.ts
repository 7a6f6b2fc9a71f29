/**
 * Sequential request/reply round trips: crossbus vs nats-server.
 *
 * One responder connection and one requester connection, both in this process; the server/hub in
 * its own process. 20,000 requests, each awaited before the next (warm-up 1,000), 32-byte payload
 * (bytes of a small JSON document), echoed back by the responder.
 */
import { performance } from 'node:perf_hooks';
import { connect as natsConnect, type NatsConnection } from 'nats';
import type { BenchOutput } from './lib/output.js';
import {
  formatTable,
  note,
  startCrossbusHub,
  startNatsServer,
  startScrapedCrossbusHub,
  withTimeout,
  type RunningServer,
} from './lib/procs.js';
import {
  errMsg,
  firstLine,
  fmtInt,
  loadCrossbus,
  payloadLength,
  ratio,
  selectSystems,
  type SuiteExtras,
  type SuiteOptions,
} from './pubsub.js';
import { benchTracing } from './lib/tracing.js';

export type RpcSystemName = 'crossbus' | 'crossbus-metrics' | 'crossbus-traced' | 'nats-server';
export const RPC_SYSTEMS: readonly RpcSystemName[] = ['crossbus', 'crossbus-metrics', 'crossbus-traced', 'nats-server'];

export interface RpcRunOptions {
  url: string;
  requests: number;
  warmup: number;
  payload: Uint8Array;
  /** Per-request timeout. */
  requestTimeoutMs: number;
  /** Hard limit for one phase. */
  timeoutMs: number;
}

export interface RpcRunResult {
  requests: number;
  seconds: number;
}

const SUBJECT = 'bench.rpc';
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

export interface RpcSession {
  /** One round trip; resolves with the reply payload's byte length. */
  request(): Promise<number>;
  close(): Promise<void>;
}

export type RpcSetupFn = (opts: RpcRunOptions) => Promise<RpcSession>;

async function runPhase(session: RpcSession, count: number, opts: RpcRunOptions, label: string): Promise<RpcRunResult> {
  const size = opts.payload.byteLength;
  const start = performance.now();
  const deadline = start + opts.timeoutMs;
  for (let i = 0; i < count; i++) {
    const len = await session.request();
    if (len !== size) throw new Error(`${label}: reply #${i} has ${len} bytes, expected ${size}`);
    // Checked every 256 requests: each request already has its own timeout, this bounds the total.
    if ((i & 255) === 255 && performance.now() > deadline) {
      throw new Error(`${label}: timed out after ${opts.timeoutMs} ms (${i + 1}/${count} requests)`);
    }
  }
  return { requests: count, seconds: (performance.now() - start) / 1000 };
}

export async function runRpc(label: string, setup: RpcSetupFn, opts: RpcRunOptions): Promise<RpcRunResult> {
  const session = await withTimeout(setup(opts), CONNECT_TIMEOUT_MS, `${label}: setup`);
  try {
    if (opts.warmup > 0) await runPhase(session, opts.warmup, opts, `${label} warm-up`);
    return await runPhase(session, opts.requests, opts, label);
  } finally {
    await withTimeout(session.close(), CLOSE_TIMEOUT_MS, `${label}: close`).catch((err: unknown) => {
      note(`${label}: close failed: ${errMsg(err)}`);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// nats-server (nats.js): nc.request() / subscription callback + msg.respond()

const setupNats: RpcSetupFn = async (opts) => {
  const conns: NatsConnection[] = [];
  try {
    const responder = await natsConnect({ servers: opts.url, name: 'bench-responder', reconnect: false });
    conns.push(responder);
    responder.subscribe(SUBJECT, {
      callback: (err, msg) => {
        if (!err) msg.respond(msg.data);
      },
    });
    await responder.flush();
    const requester = await natsConnect({ servers: opts.url, name: 'bench-requester', reconnect: false });
    conns.push(requester);
    const payload = opts.payload;
    const timeout = opts.requestTimeoutMs;
    return {
      async request() {
        const reply = await requester.request(SUBJECT, payload, { timeout });
        return reply.data.byteLength;
      },
      async close() {
        await Promise.all(conns.map((nc) => nc.close()));
      },
    };
  } catch (err) {
    await Promise.all(conns.map((nc) => nc.close().catch(() => {})));
    throw err;
  }
};

// ---------------------------------------------------------------------------------------------
// crossbus: bus.request() / bus.serve()

/** The crossbus clients; `traced`: both buses with spans sampled at 100 % (bench/lib/tracing.ts). */
const crossbusSetup =
  (traced: boolean): RpcSetupFn =>
  async (opts) => {
    const { connect } = await loadCrossbus();
    const tracer = traced ? benchTracing() : undefined;
    const tracing = tracer?.tracing ?? false;
    const buses: Array<{ close(): Promise<void> }> = [];
    try {
      const responder = await connect(opts.url, { name: 'bench-responder', reconnect: false, tracing });
      buses.push(responder);
      const handle: unknown = responder.serve(SUBJECT, async (msg) => msg.data);
      // If serve() exposes a readiness promise, wait for it; then round-trip to the hub if possible.
      if (typeof handle === 'object' && handle !== null && 'ready' in handle && handle.ready instanceof Promise) {
        await handle.ready;
      }
      await (responder as { flush?: () => Promise<unknown> }).flush?.();

      const requester = await connect(opts.url, { name: 'bench-requester', reconnect: false, tracing });
      buses.push(requester);
      const payload = new Uint8Array(opts.payload);
      const timeoutMs = opts.requestTimeoutMs;
      const request = async (): Promise<number> => payloadLength(await requester.request(SUBJECT, payload, { timeoutMs }));

      // The responder registration may still be in flight if serve() has no readiness signal:
      // retry the first request for a few seconds before giving up.
      const readyBy = performance.now() + 5_000;
      for (;;) {
        try {
          await request();
          break;
        } catch (err) {
          if (performance.now() > readyBy) throw new Error(`responder never answered: ${errMsg(err)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return {
        request,
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

export const runNatsRpc = (opts: RpcRunOptions): Promise<RpcRunResult> => runRpc('nats-server', setupNats, opts);
export const runCrossbusRpc = (opts: RpcRunOptions): Promise<RpcRunResult> => runRpc('crossbus', setupCrossbus, opts);

// ---------------------------------------------------------------------------------------------
// Suite

interface RpcSystemDef {
  start: () => Promise<RunningServer>;
  setup: RpcSetupFn;
}

const SYSTEM_DEFS: Record<RpcSystemName, RpcSystemDef> = {
  crossbus: { start: () => startCrossbusHub({ extraArgs: ['--insecure'] }), setup: setupCrossbus },
  // The same hub with its /metrics scraped every second (issue 20: what observability costs).
  'crossbus-metrics': { start: () => startScrapedCrossbusHub(), setup: setupCrossbus },
  // Metrics as above, and both clients tracing: a request span and a process span per round trip.
  'crossbus-traced': { start: () => startScrapedCrossbusHub(), setup: crossbusSetup(true) },
  'nats-server': { start: () => startNatsServer(), setup: setupNats },
};

/** Exactly 32 bytes of JSON text: {"op":"ping","id":42,"pad":"..."} */
function makePayload(size = 32): Uint8Array {
  const base = JSON.stringify({ op: 'ping', id: 42, pad: '' });
  const json = JSON.stringify({ op: 'ping', id: 42, pad: 'x'.repeat(Math.max(0, size - base.length)) });
  return new TextEncoder().encode(json);
}

export async function runRpcBench(options: SuiteOptions = {}): Promise<BenchOutput & SuiteExtras> {
  const scale = options.scale ?? 1;
  const requests = Math.max(1, Math.round(20_000 * scale));
  const warmup = Math.max(1, Math.round(1_000 * scale));
  const payload = makePayload();
  const systems = selectSystems(RPC_SYSTEMS, options.only);

  const results: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['system', 'requests', 'seconds', 'req/s', 'µs/req', 'note']];

  for (const name of systems) {
    const def = SYSTEM_DEFS[name];
    let server: RunningServer | undefined;
    try {
      note(`rpc: starting ${name}`);
      server = await def.start();
      note(`rpc: ${name}: ${fmtInt(requests)} sequential requests`);
      const r = await runRpc(name, def.setup, {
        url: server.url,
        requests,
        warmup,
        payload,
        requestTimeoutMs: 2_000,
        timeoutMs: 60_000,
      });
      const rate = r.requests / r.seconds;
      results[name] = Math.round(rate);
      rows.push([name, fmtInt(r.requests), r.seconds.toFixed(3), fmtInt(rate), ((r.seconds / r.requests) * 1e6).toFixed(1), '']);
      note(`rpc: ${name}: ${fmtInt(rate)} req/s`);
    } catch (err) {
      failures.push(`${name}: ${errMsg(err)}`);
      rows.push([name, '-', '-', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
      note(`rpc: ${name} FAILED: ${errMsg(err)}`);
    } finally {
      await server?.stop();
    }
  }

  const ratios: Record<string, number> = {};
  const r = ratio(results.crossbus, results['nats-server']);
  if (r !== undefined) ratios['crossbus/nats-server'] = r;
  const m = ratio(results['crossbus-metrics'], results.crossbus);
  if (m !== undefined) ratios['crossbus-metrics/crossbus'] = m;
  const t = ratio(results['crossbus-traced'], results.crossbus);
  if (t !== undefined) ratios['crossbus-traced/crossbus'] = t;

  const header =
    `rpc: ${fmtInt(requests)} sequential request/reply round trips, ${payload.byteLength} B payload ` + `(warm-up ${fmtInt(warmup)})`;
  return { suite: 'rpc', unit: 'req/s', table: `${header}\n${formatTable(rows)}`, results, ratios, failures };
}
