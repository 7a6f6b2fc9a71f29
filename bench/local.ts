/**
 * Between two worker threads of one process: sequential round trips of a 64-byte message, and
 * one-way 64-byte messages, over
 *   crossbus-shm            crossbus's shared-memory transport (src/transports/shm), transport
 *                           level: ShmTransport + reframe() at both ends, no Bus, no hub; each
 *                           end waits for the answer in Atomics.wait (blockingWaitMicros: 20000,
 *                           right for a thread with one connection)
 *   crossbus-shm-default    the same with the defaults: each end waits in its event loop
 *                           (Atomics.waitAsync), as a hub serving many connections must
 *   messageport-raw         a raw MessageChannel (postMessage of a Uint8Array, structured clone)
 *   unix-socket             raw node:net over a Unix socket, a 4-byte length prefix (a peer baseline)
 *   crossbus-shm-oneway     64-byte frames as fast as the ring takes them (backpressure on drain),
 *                           counted frame by frame at the other end after reframe()
 *   messageport-raw-oneway  the same over a raw MessagePort
 * and, for information, atomics-floor: two threads bouncing a counter through one shared word with
 * Atomics.wait/notify and nothing else, the most any shared-memory transport that sleeps when idle
 * can reach here (it shows how much of a round trip is the OS waking a thread); and the full Bus: request/reply between two workers through a hub (a Broker)
 * in the main thread, the workers connected over shared memory (crossbus-shm-bus) or over ports
 * (crossbus-port-bus): two hops each way, codec, routing and the Bus's request machinery.
 *
 * Every row is messages (round trips or one-way messages) per second; higher is better.
 * LOCAL_BENCH_MS sets how long each round-trip row runs (default 2000); --scale the one-way counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Broker } from '../src/core/broker/broker.js';
import { createShmBuffer } from '../src/transports/shm/layout.js';
import { listenShm } from '../src/transports/shm/connect.js';
import { listenPorts, type PortLike } from '../src/transports/port/index.js';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note, withTimeout } from './lib/procs.js';
import { errMsg, firstLine, fmtInt, ratio } from './pubsub.js';
import type { LocalWorkerData } from './local-worker.js';

const WORKER = fileURLToPath(new URL('./local-worker.ts', import.meta.url));
const RING_BYTES = 256 * 1024;
/**
 * crossbus-shm: each worker has this one connection, so each end may wait for the answer in
 * Atomics.wait (ShmTransportOptions.blockingWaitMicros) rather than in its event loop.
 */
const LATENCY_WAIT_MICROS = 20_000;

export interface LocalOptions {
  only: string[] | undefined;
  scale: number;
}

function spawn(data: LocalWorkerData, transfer: readonly unknown[] = []): Worker {
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(WORKER).href)}); })`, {
    eval: true,
    workerData: data,
    transferList: transfer as never,
  });
}

/** The worker's next report (connect requests to the hub, `{ crossbus: ... }`, are not reports). */
function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: T): void => {
      if (typeof m === 'object' && m !== null && 'crossbus' in m) return;
      w.off('message', onMessage);
      w.off('error', reject);
      resolve(m);
    };
    w.on('message', onMessage);
    w.once('error', reject);
  });
}

/** Waits for `b` (the passive end) to be ready, starts `a`, says go to it, and returns what `resultFrom` reports. */
async function run(b: Worker, makeA: () => Worker, resultFrom: 'a' | 'b'): Promise<{ rounds?: number; got?: number; ms: number }> {
  let a: Worker | undefined;
  try {
    await nextMessage(b);
    a = makeA();
    await nextMessage(a);
    const result = nextMessage<{ rounds?: number; got?: number; ms?: number }>(resultFrom === 'a' ? a : b);
    const t0 = performance.now();
    a.postMessage('go');
    const r = await withTimeout(result, 60_000, 'local bench measurement');
    return { ...r, ms: r.ms ?? performance.now() - t0 };
  } finally {
    await Promise.all([a?.terminate(), b.terminate()]);
  }
}

function shmPairData(): { buffer: SharedArrayBuffer; ports: [MessagePort, MessagePort] } {
  const { port1, port2 } = new MessageChannel();
  return { buffer: createShmBuffer(RING_BYTES), ports: [port1 as unknown as MessagePort, port2 as unknown as MessagePort] };
}

type Measure = () => Promise<number>;

/** Round trips over shared memory, each end waiting up to `blockingWaitMicros` in Atomics.wait after a read. */
function shmRoundTrips(durationMs: number, blockingWaitMicros: number): Measure {
  return async () => {
    const { buffer, ports } = shmPairData();
    const r = await run(
      spawn({ role: 'shm-echo', buffer, port: ports[1] as unknown as PortLike, blockingWaitMicros }, [ports[1]]),
      () => spawn({ role: 'shm-ping', buffer, port: ports[0] as unknown as PortLike, durationMs, blockingWaitMicros }, [ports[0]]),
      'a',
    );
    return r.rounds! / (r.ms / 1000);
  };
}

function roundTrips(durationMs: number): Record<string, Measure> {
  return {
    'crossbus-shm': shmRoundTrips(durationMs, LATENCY_WAIT_MICROS),
    'crossbus-shm-default': shmRoundTrips(durationMs, 0),
    'messageport-raw': async () => {
      const { port1, port2 } = new MessageChannel();
      const r = await run(
        spawn({ role: 'port-echo', port: port2 as unknown as PortLike }, [port2]),
        () => spawn({ role: 'port-ping', port: port1 as unknown as PortLike, durationMs }, [port1]),
        'a',
      );
      return r.rounds! / (r.ms / 1000);
    },
    'atomics-floor': async () => {
      const buffer = new SharedArrayBuffer(8);
      const r = await run(spawn({ role: 'floor-pong', buffer }), () => spawn({ role: 'floor-ping', buffer, durationMs }), 'a');
      return r.rounds! / (r.ms / 1000);
    },
    'unix-socket': async () => {
      const dir = mkdtempSync(join(tmpdir(), 'crossbus-local-'));
      try {
        const path = join(dir, 'echo.sock');
        const r = await run(spawn({ role: 'unix-echo', path }), () => spawn({ role: 'unix-ping', path, durationMs }), 'a');
        return r.rounds! / (r.ms / 1000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function oneWay(count: number): Record<string, Measure> {
  return {
    'crossbus-shm-oneway': async () => {
      const { buffer, ports } = shmPairData();
      const r = await run(
        spawn({ role: 'shm-count', buffer, port: ports[1] as unknown as PortLike, count }, [ports[1]]),
        () => spawn({ role: 'shm-send', buffer, port: ports[0] as unknown as PortLike, count }, [ports[0]]),
        'b',
      );
      return r.got! / (r.ms / 1000);
    },
    'messageport-raw-oneway': async () => {
      const { port1, port2 } = new MessageChannel();
      const portCount = Math.max(1, Math.round(count / 4));
      const r = await run(
        spawn({ role: 'port-count', port: port2 as unknown as PortLike, count: portCount }, [port2]),
        () => spawn({ role: 'port-send', port: port1 as unknown as PortLike, count: portCount }, [port1]),
        'b',
      );
      return r.got! / (r.ms / 1000);
    },
  };
}

function busRoundTrips(durationMs: number): Record<string, Measure> {
  const measure =
    (via: 'shm' | 'port'): Measure =>
    async () => {
      const broker = new Broker({ heartbeatMs: 0 });
      const listen = (w: Worker): void => {
        if (via === 'shm') listenShm(w as unknown as PortLike, (t) => broker.accept(t));
        else listenPorts(w as unknown as PortLike, (t) => broker.accept(t));
      };
      const reply = spawn({ role: 'bus-reply', via });
      listen(reply);
      const request = (): Worker => {
        const w = spawn({ role: 'bus-request', via, durationMs });
        listen(w);
        return w;
      };
      try {
        const r = await run(reply, request, 'a');
        return r.rounds! / (r.ms / 1000);
      } finally {
        await broker.close(100);
      }
    };
  return { 'crossbus-shm-bus': measure('shm'), 'crossbus-port-bus': measure('port') };
}

export async function runLocalBench(opts: LocalOptions): Promise<BenchOutput & { failures: string[] }> {
  const durationMs = Number(process.env.LOCAL_BENCH_MS ?? 2000);
  const count = Math.max(1000, Math.round(4_000_000 * opts.scale));
  const rows: string[][] = [['system', 'what', 'msg/s', 'µs/msg', 'note']];
  const results: Record<string, number> = {};
  const failures: string[] = [];
  const what: Record<string, string> = {
    'crossbus-shm': 'round trip, transport, blocking wait',
    'crossbus-shm-default': 'round trip, transport, defaults',
    'messageport-raw': 'round trip, raw',
    'unix-socket': 'round trip, raw',
    'atomics-floor': 'round trip, wait/notify only',
    'crossbus-shm-oneway': 'one way, transport',
    'messageport-raw-oneway': 'one way, raw',
    'crossbus-shm-bus': 'request/reply, Bus + hub',
    'crossbus-port-bus': 'request/reply, Bus + hub',
  };
  const all = { ...roundTrips(durationMs), ...oneWay(count), ...busRoundTrips(durationMs) };
  for (const [name, measure] of Object.entries(all)) {
    if (opts.only !== undefined && !opts.only.includes(name)) continue;
    try {
      note(`local: ${name}`);
      const rate = await measure();
      results[name] = Math.round(rate);
      rows.push([name, what[name] ?? '', fmtInt(rate), (1e6 / rate).toFixed(2), '']);
      note(`local: ${name}: ${fmtInt(rate)}/s`);
    } catch (err) {
      failures.push(`${name}: ${errMsg(err)}`);
      rows.push([name, what[name] ?? '', '-', '-', `FAILED: ${firstLine(errMsg(err))}`]);
    }
  }
  const ratios: Record<string, number> = {};
  const rt = ratio(results['crossbus-shm'], results['messageport-raw']);
  if (rt !== undefined) ratios['crossbus-shm/messageport-raw'] = rt;
  const ow = ratio(results['crossbus-shm-oneway'], results['messageport-raw-oneway']);
  if (ow !== undefined) ratios['crossbus-shm-oneway/messageport-raw-oneway'] = ow;
  const bus = ratio(results['crossbus-shm-bus'], results['crossbus-port-bus']);
  if (bus !== undefined) ratios['crossbus-shm-bus/crossbus-port-bus'] = bus;
  const header =
    `local: two worker threads, 64-byte messages; round trips for ${durationMs} ms each, ` +
    `${fmtInt(count)} one-way messages over shared memory (a quarter of that over the port)`;
  return { suite: 'local', unit: 'msg/s', table: `${header}\n${formatTable(rows)}`, results, ratios, failures };
}
