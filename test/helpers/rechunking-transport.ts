/**
 * A byte-stream transport for tests: an in-memory pair whose receiving ends cut the bytes into
 * chunks of random size (a seeded generator) and join what was sent separately, the way TCP and
 * shared-memory rings may. A frame arrives in pieces, across turns of the event loop, and several
 * frames (or the end of one and the start of the next) arrive in one chunk. `framing: 'stream'`.
 */
import { createMemoryPair } from '../../src/transports/memory/memory-transport.js';
import type { Transport, TransportHandlers } from '../../src/core/transport/transport.js';

/** Seed of the generators; a failing run prints it in the test name, so it can be replayed (CB_SEED=...). */
export const RECHUNK_SEED = Number(process.env.CB_SEED ?? 20261203);

/** xorshift32: deterministic, so a failure replays exactly. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

class RechunkingEnd implements Transport {
  readonly kind = 'memory-stream';
  readonly framing = 'stream' as const;
  readonly peer: string;
  /** Bytes received and not yet handed up, in order. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #flushScheduled = false;

  constructor(
    private readonly inner: Transport,
    private readonly random: () => number,
  ) {
    this.peer = inner.peer;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.inner.setHandlers({
      message: (chunk) => {
        this.#held.push(chunk.slice());
        this.#heldBytes += chunk.length;
        this.#deliver(handlers, false);
      },
      close: (info) => {
        // What arrived before the peer closed is still handed up; after a local close, nothing is.
        if (!info.local) this.#deliver(handlers, true);
        this.#held = [];
        this.#heldBytes = 0;
        handlers.close(info);
      },
      drain: () => handlers.drain?.(),
    });
  }

  send(chunk: Uint8Array): void {
    this.inner.send(chunk);
  }

  bufferedAmount(): number {
    return this.inner.bufferedAmount();
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }

  /** Hands up random pieces; keeps a random tail for later (joined with what comes next), unless `all`. */
  #deliver(handlers: TransportHandlers, all: boolean): void {
    const keep = all ? 0 : Math.floor(this.random() * Math.min(this.#heldBytes, 3000));
    while (this.#heldBytes > keep) {
      handlers.message(this.#take(Math.min(this.#heldBytes - keep, this.#pieceSize())));
    }
    if (this.#heldBytes > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      // A later turn: whatever arrives before it is joined to the tail.
      setImmediate(() => {
        this.#flushScheduled = false;
        if (this.#heldBytes > 0) this.#deliver(handlers, this.random() < 0.5);
      });
    }
  }

  /** Mostly tiny pieces (a length prefix cut in two), sometimes a few KiB, sometimes everything. */
  #pieceSize(): number {
    const r = this.random();
    if (r < 0.35) return 1 + Math.floor(this.random() * 7);
    if (r < 0.75) return 1 + Math.floor(this.random() * 300);
    if (r < 0.95) return 1 + Math.floor(this.random() * 20_000);
    return Number.MAX_SAFE_INTEGER;
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = this.#held[0] as Uint8Array;
      const part = Math.min(head.length, n - o);
      out.set(head.subarray(0, part), o);
      o += part;
      if (part === head.length) this.#held.shift();
      else this.#held[0] = head.subarray(part);
    }
    this.#heldBytes -= n;
    return out;
  }
}

/** Two connected stream transports; each receiving end cuts and joins at random from `seed`. */
export function createRechunkingPair(seed = RECHUNK_SEED): [Transport, Transport] {
  const [a, b] = createMemoryPair(['memory-stream:a', 'memory-stream:b']);
  return [new RechunkingEnd(a, seededRandom(seed)), new RechunkingEnd(b, seededRandom(seed + 1))];
}
