/**
 * A pool of buses spread over several hubs: a heavy client (many requests in flight, large
 * streams) uses several connections and several hubs' cores instead of one. Each new bus picks
 * its hub in turn (`round-robin`) or the hub holding the fewest of the pool's buses
 * (`least-loaded`), skipping a hub whose last connection attempt failed while another is left; a
 * bus is valid while it is connected, so one that lost its hub is closed and replaced on the next
 * acquire without the caller noticing. The pool itself is the core's generic `Pool`.
 */
import type { Metric, MetricsSource } from '../core/metrics/metric.js';
import type { AcquireOptions, PoolEvents, PoolStats } from '../core/pool/events.js';
import type { PoolOptions } from '../core/pool/options.js';
import { Pool } from '../core/pool/pool.js';
import { ConfigError } from '../core/errors/index.js';
import type { TransportConnector } from '../core/transport/transport.js';
import type { TypedEmitter } from '../core/util/emitter.js';
import type { Bus } from './bus.js';
import { connect as connectWith } from './connect.js';
import type { ConnectOptions } from './options.js';

/** A hub address: a ws:// or wss:// URL, or a connector. */
export type BusEndpoint = string | TransportConnector;

export type BusPoolStrategy = 'round-robin' | 'least-loaded';

export interface BusPoolOptions extends PoolOptions {
  /** The hubs the buses spread over (at least one). */
  endpoints: readonly BusEndpoint[];
  /** How a new bus picks its hub. @default 'round-robin' */
  strategy?: BusPoolStrategy;
  /** Options of every bus the pool opens (credentials, timeouts, reconnection). @default {} */
  connectOptions?: ConnectOptions;
}

/** Opens one bus: the runtime's `connect` (Node's entry passes its own). */
export type BusConnect = (target: BusEndpoint, options: ConnectOptions) => Promise<Bus>;

export class BusPool implements MetricsSource {
  readonly #pool: Pool<Bus>;
  readonly #endpoints: readonly BusEndpoint[];
  readonly #strategy: BusPoolStrategy;
  /** Buses open or opening per endpoint, by index. */
  readonly #load: number[];
  /** Whether the last attempt to open a bus to the endpoint failed. */
  readonly #failing: boolean[];
  readonly #endpointOf = new Map<Bus, number>();
  #turn = 0;

  constructor(options: BusPoolOptions, connect: BusConnect = connectWith) {
    const { endpoints, strategy = 'round-robin', connectOptions = {}, ...poolOptions } = options;
    if (!Array.isArray(endpoints) || endpoints.length === 0) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'BusPool needs at least one endpoint');
    }
    if (strategy !== 'round-robin' && strategy !== 'least-loaded') {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `BusPool strategy must be 'round-robin' or 'least-loaded', got ${String(strategy)}`);
    }
    this.#endpoints = [...endpoints];
    this.#strategy = strategy;
    this.#load = this.#endpoints.map(() => 0);
    this.#failing = this.#endpoints.map(() => false);
    this.#pool = new Pool<Bus>(
      {
        create: () => this.#open(connect, connectOptions),
        validate: (bus) => bus.state === 'connected',
        destroy: (bus) => this.#close(bus),
      },
      { name: 'bus', ...poolOptions },
    );
  }

  get events(): TypedEmitter<PoolEvents<Bus>> {
    return this.#pool.events;
  }

  /** Resolves once `minSize` buses are connected. */
  ready(): Promise<void> {
    return this.#pool.ready();
  }

  /** A connected bus (see `Pool.acquire`); give it back with `release()`. */
  acquire(options?: AcquireOptions): Promise<Bus> {
    return this.#pool.acquire(options);
  }

  release(bus: Bus): void {
    this.#pool.release(bus);
  }

  /** Gives back a bus that misbehaved: it is closed and replaced. */
  destroy(bus: Bus, error?: unknown): void {
    this.#pool.destroy(bus, error);
  }

  use<T>(fn: (bus: Bus) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return this.#pool.use(fn, options);
  }

  /** The hub a pooled bus is connected to. */
  endpointOf(bus: Bus): BusEndpoint | undefined {
    const i = this.#endpointOf.get(bus);
    return i === undefined ? undefined : this.#endpoints[i];
  }

  /** Buses open per endpoint, in the order of `endpoints`. */
  load(): readonly number[] {
    return [...this.#load];
  }

  stats(): PoolStats {
    return this.#pool.stats();
  }

  metrics(): readonly Metric[] {
    return this.#pool.metrics();
  }

  drain(): Promise<void> {
    return this.#pool.drain();
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #open(connect: BusConnect, options: ConnectOptions): Promise<Bus> {
    const i = this.#pick();
    // Counted from the attempt on, so that buses opened together spread (least-loaded).
    this.#load[i] = (this.#load[i] ?? 0) + 1;
    let bus: Bus;
    try {
      bus = await connect(this.#endpoints[i] as BusEndpoint, options);
    } catch (error) {
      this.#load[i] = (this.#load[i] ?? 1) - 1;
      this.#failing[i] = true;
      throw error;
    }
    this.#failing[i] = false;
    this.#endpointOf.set(bus, i);
    return bus;
  }

  #close(bus: Bus): Promise<void> {
    const i = this.#endpointOf.get(bus);
    if (i !== undefined) {
      this.#endpointOf.delete(bus);
      this.#load[i] = (this.#load[i] ?? 1) - 1;
    }
    return bus.close();
  }

  /** The endpoint of the next bus: healthy ones first, then by the strategy. */
  #pick(): number {
    const n = this.#endpoints.length;
    const allFailing = this.#failing.every(Boolean);
    const eligible = (i: number): boolean => allFailing || !this.#failing[i];
    if (this.#strategy === 'round-robin') {
      for (let k = 0; k < n; k++) {
        const i = (this.#turn + k) % n;
        if (eligible(i)) {
          this.#turn = i + 1;
          return i;
        }
      }
    }
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (eligible(i) && (best < 0 || (this.#load[i] as number) < (this.#load[best] as number))) best = i;
    }
    return best;
  }
}
