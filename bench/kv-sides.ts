/**
 * The two systems of the kv suite (bench/kv.ts) behind one small interface: a crossbus hub's KV
 * buckets (`bus.kv.bucket()`, the hub in its own process on file streams) and NATS KV on JetStream
 * file storage (`js.views.kv()`, the `nats` client). Both sides store and read the same JSON
 * values: crossbus encodes and decodes them in its client; on the NATS side the bench does what a
 * user storing JSON does (JSONCodec on put, `entry.json()` on get), so each side pays its JSON.
 *
 * Watch fan-out: `connections` clients, each holding `watchersPerConnection` watchers of one key
 * (updates only); every delivery is counted in a FanoutTally, which times one update from its put
 * to the last watcher that received it.
 */
import { performance } from 'node:perf_hooks';
import { connect as natsConnect, JSONCodec, KvWatchInclude, StorageType, type KV, type NatsConnection } from 'nats';
import { note, withTimeout } from './lib/procs.js';
import { errMsg, fmtInt, loadCrossbus } from './pubsub.js';

/** One benchmark value: small JSON (about 100 bytes encoded); `k` lets a get check it read its own key. */
export interface BenchValue {
  k: string;
  n: number;
  at: number;
  tags: string[];
  note: string;
}

/** What the put and get phases need of a bucket. */
export interface BenchBucket {
  /** Resolves with the revision the write got. */
  put(key: string, value: BenchValue): Promise<number>;
  get(key: string): Promise<BenchValue | undefined>;
}

/** A connected system: opens fresh buckets, and sets up the watchers of the fan-out. */
export interface KvSystem {
  /** Creates bucket `name` (history 1, file storage); crossbus with the given durability. */
  bucket(name: string, durability?: 'fsync' | 'interval'): Promise<BenchBucket>;
  /** Opens `connections` more clients with `perConnection` watchers of key `FANOUT_KEY` each. */
  openFanout(bucket: string, connections: number, perConnection: number, tally: FanoutTally): Promise<void>;
  close(): Promise<void>;
}

export const FANOUT_KEY = 'fan';
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Fan-out bookkeeping

/** Counts the watchers that received update `n` and notes when the last one did. */
export class FanoutTally {
  #n = -1;
  #seen = 0;
  #expected = 0;
  #done: (() => void) | undefined;
  /** Deliveries of an update other than the one awaited (none expected: watchers see updates only). */
  stray = 0;
  completedAt = 0;

  /** Arms the tally for update `n`; the promise settles when `expected` watchers delivered it. */
  expect(n: number, expected: number): Promise<void> {
    this.#n = n;
    this.#seen = 0;
    this.#expected = expected;
    return new Promise<void>((resolve) => {
      this.#done = resolve;
    });
  }

  deliver(n: number): void {
    if (n !== this.#n) {
      this.stray++;
      return;
    }
    if (++this.#seen === this.#expected) {
      this.completedAt = performance.now();
      this.#done?.();
    }
  }

  get seen(): number {
    return this.#seen;
  }
}

/** Reads a watcher until it ends, counting each delivery; a failure is noted, not thrown. */
async function drain<E>(
  label: string,
  watcher: AsyncIterable<E>,
  read: (e: E) => BenchValue | undefined,
  tally: FanoutTally,
): Promise<void> {
  try {
    for await (const e of watcher) tally.deliver(read(e)?.n ?? -1);
  } catch (err) {
    note(`kv: ${label} watcher ended: ${errMsg(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// crossbus

type CrossbusBus = Awaited<ReturnType<Awaited<ReturnType<typeof loadCrossbus>>['connect']>>;

export async function connectCrossbus(url: string): Promise<KvSystem> {
  const { connect } = await loadCrossbus();
  const open = (name: string): Promise<CrossbusBus> =>
    withTimeout(connect(url, { name, reconnect: false }), CONNECT_TIMEOUT_MS, 'crossbus: connect');
  const main = await open('bench-kv');
  const extra: CrossbusBus[] = [];
  let closed = false;
  return {
    async bucket(name, durability = 'interval') {
      const b = await main.kv.bucket(name, { history: 1, durability });
      return {
        put: (key, value) => b.put(key, value),
        get: async (key) => (await b.get<BenchValue>(key))?.value,
      };
    },
    async openFanout(bucket, connections, perConnection, tally) {
      await main.kv.bucket(bucket, { history: 1, durability: 'interval' });
      for (let c = 0; c < connections; c++) {
        const bus = await open(`bench-kv-watch-${c}`);
        extra.push(bus);
        const b = await bus.kv.bucket(bucket);
        const ready: Promise<void>[] = [];
        for (let w = 0; w < perConnection; w++) {
          const watcher = b.watch<BenchValue>(FANOUT_KEY, { updatesOnly: true });
          ready.push(watcher.ready);
          void drain('crossbus', watcher, (e) => e.value, tally);
        }
        await Promise.all(ready);
      }
    },
    async close() {
      const buses = [...extra.splice(0), main];
      if (closed) return;
      closed = true;
      for (const bus of buses) {
        await withTimeout(bus.close(), CLOSE_TIMEOUT_MS, 'crossbus: close').catch((err: unknown) => note(`kv: ${errMsg(err)}`));
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// NATS KV

const jc = JSONCodec<BenchValue>();

export async function connectNatsKv(url: string): Promise<KvSystem> {
  const open = (name: string): Promise<NatsConnection> =>
    withTimeout(natsConnect({ servers: url, name, reconnect: false }), CONNECT_TIMEOUT_MS, 'nats: connect');
  const main = await open('bench-kv');
  const extra: NatsConnection[] = [];
  let closed = false;
  // Every option at its default but the two the crossbus side sets too. On nats-server 2.9 the
  // client's default is allow_direct: gets are answered by the stream's direct-get API.
  const kvOf = (nc: NatsConnection, name: string): Promise<KV> => nc.jetstream().views.kv(name, { history: 1, storage: StorageType.File });
  return {
    async bucket(name) {
      const kv = await kvOf(main, name);
      return {
        put: (key, value) => kv.put(key, jc.encode(value)),
        get: async (key) => {
          const e = await kv.get(key);
          return e === null || e.operation !== 'PUT' ? undefined : e.json<BenchValue>();
        },
      };
    },
    async openFanout(bucket, connections, perConnection, tally) {
      await kvOf(main, bucket);
      for (let c = 0; c < connections; c++) {
        const nc = await open(`bench-kv-watch-${c}`);
        extra.push(nc);
        const kv = await kvOf(nc, bucket);
        // kv.watch() resolves once its (ordered push) consumer exists on the server.
        const watchers = await Promise.all(
          Array.from({ length: perConnection }, () => kv.watch({ key: FANOUT_KEY, include: KvWatchInclude.UpdatesOnly })),
        );
        for (const w of watchers) void drain('nats', w, (e) => (e.operation === 'PUT' ? e.json<BenchValue>() : undefined), tally);
      }
    },
    async close() {
      const conns = [...extra.splice(0), main];
      if (closed) return;
      closed = true;
      for (const nc of conns) {
        await withTimeout(nc.close(), CLOSE_TIMEOUT_MS, 'nats: close').catch((err: unknown) => note(`kv: ${errMsg(err)}`));
      }
    },
  };
}

/** Puts update `n` through `put` and resolves with the ms until every watcher delivered it. */
export async function timeFanout(
  label: string,
  n: number,
  watchers: number,
  tally: FanoutTally,
  put: (value: BenchValue) => Promise<number>,
  timeoutMs: number,
): Promise<number> {
  const all = tally.expect(n, watchers);
  const start = performance.now();
  const value: BenchValue = { k: FANOUT_KEY, n, at: Date.now(), tags: ['fan-out'], note: 'one update to every watcher' };
  try {
    await withTimeout(Promise.all([all, put(value)]), timeoutMs, `${label}: update ${n}`);
  } catch (err) {
    throw new Error(`${errMsg(err)} (${fmtInt(tally.seen)}/${fmtInt(watchers)} watchers had it)`);
  }
  return tally.completedAt - start;
}
