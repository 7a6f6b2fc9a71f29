/**
 * One end of a `local` benchmark measurement, in its own worker thread (see bench/local.ts). The
 * role in workerData says which: a pinger that counts round trips for a while, an echo, a one-way
 * sender or counter, over crossbus's shared-memory transport, a raw MessagePort or a Unix socket;
 * or a Bus requester/responder connected to the hub in the main thread.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { reframe } from '../src/core/transport/reframe.js';
import type { Transport } from '../src/core/transport/transport.js';
import { createShmTransport } from '../src/transports/shm/shm-transport.js';
import { shmConnector } from '../src/transports/shm/connect.js';
import { workerConnector, type PortLike } from '../src/transports/port/index.js';
import { connectWith } from '../src/client/index.js';

export interface LocalWorkerData {
  role:
    | 'shm-ping'
    | 'shm-echo'
    | 'port-ping'
    | 'port-echo'
    | 'unix-ping'
    | 'unix-echo'
    | 'shm-send'
    | 'shm-count'
    | 'port-send'
    | 'port-count'
    | 'bus-request'
    | 'bus-reply'
    | 'floor-ping'
    | 'floor-pong';
  buffer?: SharedArrayBuffer;
  port?: PortLike;
  path?: string;
  /** Pingers: how long to count round trips. */
  durationMs?: number;
  /** One way: how many messages. */
  count?: number;
  /** bus-*: 'shm' or 'port'. */
  via?: 'shm' | 'port';
  /** shm ends: ShmTransportOptions.blockingWaitMicros. */
  blockingWaitMicros?: number;
}

/** Each message: 64 bytes on the wire (crossbus frames: a 4-byte length prefix and 60 bytes). */
const MESSAGE_BYTES = 64;
const d = workerData as LocalWorkerData;
const main = parentPort!;
const report = (m: unknown): void => main.postMessage(m);
const onGo = (fn: () => void): void => {
  main.once('message', fn);
  report('ready');
};

function frame(): Uint8Array {
  const m = new Uint8Array(MESSAGE_BYTES);
  m[3] = MESSAGE_BYTES - 4;
  for (let i = 4; i < MESSAGE_BYTES; i++) m[i] = i;
  return m;
}

/** The shared-memory end, reframed as the hub and the client do: every chunk up holds whole frames. */
function shmEnd(side: 0 | 1): Transport {
  const raw = createShmTransport(d.buffer!, side, { port: d.port!, blockingWaitMicros: d.blockingWaitMicros ?? 0 });
  return reframe(raw, () => 1 << 20);
}

/** Frames in a chunk of whole frames (walks their length prefixes, as the codec does). */
function framesIn(c: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < c.length; n++) p += 4 + ((c[p]! << 24) | (c[p + 1]! << 16) | (c[p + 2]! << 8) | c[p + 3]!);
  return n;
}

/** Counts round trips until the time is up; `send` starts the next one. */
function pinger(send: () => void): { onReply(): void } {
  const durationMs = d.durationMs ?? 1000;
  let rounds = 0;
  let start = 0;
  onGo(() => {
    start = performance.now();
    send();
  });
  return {
    onReply() {
      rounds++;
      if ((rounds & 255) === 0 && performance.now() - start >= durationMs) {
        report({ rounds, ms: performance.now() - start });
        return;
      }
      send();
    },
  };
}

/**
 * The floor under any shared-memory transport that sleeps when idle: two threads bouncing a
 * counter through one shared word with Atomics.wait and Atomics.notify, nothing else (no bytes,
 * no event loop). Word 0 is the ping's count, word 1 the pong's.
 */
function floor(role: 'floor-ping' | 'floor-pong'): void {
  const words = new Int32Array(d.buffer!, 0, 2);
  if (role === 'floor-pong') {
    report('ready');
    for (let i = 1; ; i++) {
      while (Atomics.load(words, 0) < i) Atomics.wait(words, 0, i - 1, 1000);
      Atomics.store(words, 1, i);
      Atomics.notify(words, 1);
      if (i < 0) break; // never: the main thread terminates this worker
    }
    return;
  }
  onGo(() => {
    const durationMs = d.durationMs ?? 1000;
    const start = performance.now();
    let i = 0;
    for (;;) {
      i++;
      Atomics.store(words, 0, i);
      Atomics.notify(words, 0);
      while (Atomics.load(words, 1) < i) Atomics.wait(words, 1, i - 1, 1000);
      if ((i & 255) === 0 && performance.now() - start >= durationMs) break;
    }
    report({ rounds: i, ms: performance.now() - start });
  });
}

switch (d.role) {
  case 'floor-ping':
  case 'floor-pong':
    floor(d.role);
    break;
  case 'shm-ping': {
    const t = shmEnd(0);
    const msg = frame();
    // The ring copies the chunk in; in a ping-pong it always fits at once, so it can be sent again.
    const p = pinger(() => t.send(msg));
    t.setHandlers({ message: (c) => framesIn(c) > 0 && p.onReply(), close: () => {} });
    break;
  }
  case 'shm-echo': {
    const t = shmEnd(1);
    t.setHandlers({ message: (c) => t.send(c), close: () => {} });
    report('ready');
    break;
  }
  case 'port-ping': {
    const port = d.port as unknown as { on(e: string, f: (m: unknown) => void): void; postMessage(m: unknown): void };
    const msg = frame();
    const p = pinger(() => port.postMessage(msg));
    port.on('message', () => p.onReply());
    break;
  }
  case 'port-echo': {
    const port = d.port as unknown as { on(e: string, f: (m: unknown) => void): void; postMessage(m: unknown): void };
    port.on('message', (m) => port.postMessage(m));
    report('ready');
    break;
  }
  case 'unix-echo': {
    // A byte-stream echo: what comes in goes back as it is, length prefixes and all.
    const server = createServer((s) => s.on('data', (c) => s.write(c)));
    server.listen(d.path!, () => report('ready'));
    break;
  }
  case 'unix-ping': {
    const msg = frame();
    let socket: Socket | undefined;
    let have = 0;
    const p = pinger(() => socket!.write(msg));
    socket = createConnection(d.path!);
    socket.on('data', (c: Buffer) => {
      have += c.length;
      while (have >= MESSAGE_BYTES) {
        have -= MESSAGE_BYTES;
        p.onReply();
      }
    });
    break;
  }
  case 'shm-send': {
    const raw = createShmTransport(d.buffer!, 0, { port: d.port! });
    const msg = frame();
    const count = d.count!;
    let sent = 0;
    // As fast as the ring takes them; when it is full, wait for drain (backpressure).
    const pump = (): void => {
      while (sent < count) {
        raw.send(msg);
        sent++;
        if (raw.bufferedAmount() > 0) return;
      }
    };
    raw.setHandlers({ message: () => {}, close: () => {}, drain: pump });
    onGo(pump);
    break;
  }
  case 'shm-count': {
    const t = shmEnd(1);
    const count = d.count!;
    let got = 0;
    t.setHandlers({
      message: (c) => {
        got += framesIn(c);
        if (got === count) report({ got });
      },
      close: () => {},
    });
    report('ready');
    break;
  }
  case 'port-send': {
    const port = d.port as unknown as { postMessage(m: unknown): void };
    const msg = frame();
    const count = d.count!;
    onGo(() => {
      for (let i = 0; i < count; i++) port.postMessage(msg);
    });
    break;
  }
  case 'port-count': {
    const port = d.port as unknown as { on(e: string, f: (m: unknown) => void): void };
    const count = d.count!;
    let got = 0;
    port.on('message', () => {
      if (++got === count) report({ got });
    });
    report('ready');
    break;
  }
  case 'bus-reply': {
    const connector = d.via === 'shm' ? shmConnector(main as unknown as PortLike) : workerConnector(main as unknown as PortLike);
    const bus = await connectWith(connector, { reconnect: false });
    const svc = bus.serve('bench.local', (m) => m.data);
    await svc.ready;
    report('ready');
    break;
  }
  case 'bus-request': {
    const connector = d.via === 'shm' ? shmConnector(main as unknown as PortLike) : workerConnector(main as unknown as PortLike);
    const bus = await connectWith(connector, { reconnect: false });
    const payload = frame().subarray(4);
    onGo(async () => {
      const durationMs = d.durationMs ?? 1000;
      const start = performance.now();
      let rounds = 0;
      for (;;) {
        await bus.request('bench.local', payload, { timeoutMs: 5000 });
        rounds++;
        if ((rounds & 255) === 0 && performance.now() - start >= durationMs) break;
      }
      report({ rounds, ms: performance.now() - start });
    });
    break;
  }
}
