/**
 * A generic resource pool (seed 002 §1.3): initialise → acquire → use → release → validate before
 * reuse → clean up idle ones, with typed events and counters per state.
 *
 * The fast path is `acquire()` while a resource is free and nobody waits: one `Promise.resolve`,
 * no timer, no closure; `release()` is synchronous. Timers and waiter records exist only when a
 * caller has to wait. The parts: the line of waiters with its shared timeout timer (wait-line.ts),
 * the idle stack and its clean-up (idle-stack.ts), creation with retries (create-retry.ts), what
 * the pool holds, in which state, with its counters and events (ledger.ts, and disposal.ts for
 * the factory's destroys), validation before reuse (validation.ts). This class decides: it hands
 * resources out, takes them back, replaces the lost ones and drains.
 */
import { ConfigError, ConnectionError } from '../errors/index.js';
import type { Metric, MetricsSource } from '../metrics/metric.js';
import { TypedEmitter } from '../util/emitter.js';
import { ResourceCreator } from './create-retry.js';
import type { PoolEntry as Entry } from './entry.js';
import type { AcquireOptions, PoolEvents, PoolFactory, PoolStats } from './events.js';
import { IdleStack } from './idle-stack.js';
import { PoolLedger } from './ledger.js';
import { ReuseValidation } from './validation.js';
import { resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './options.js';
import { createFailure, poolClosedError, poolTimeoutError } from './pool-errors.js';
import { poolMetrics } from './pool-metrics.js';
import { WaitLine } from './wait-line.js';
import type { Waiter } from './waiters.js';

type Phase = 'open' | 'draining' | 'closed';

const NO_OPTIONS: AcquireOptions = Object.freeze({});

export class Pool<R> implements MetricsSource {
  readonly options: ResolvedPoolOptions;
  readonly events: TypedEmitter<PoolEvents<R>>;
  readonly #creator: ResourceCreator<R>;
  readonly #ledger: PoolLedger<R>;
  readonly #idle: IdleStack<R>;
  readonly #waiters: WaitLine<R>;
  readonly #validation: ReuseValidation<R>;
  #phase: Phase = 'open';
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #ready: Promise<void>;
  #drained: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;

  /** Starts creating `minSize` resources at once; `ready()` says when they are there. */
  constructor(factory: PoolFactory<R>, options: PoolOptions = {}) {
    if (typeof factory?.create !== 'function') throw new ConfigError('CB_ERR_INVALID_OPTION', 'a pool needs a factory with create()');
    const o = (this.options = resolvePoolOptions(options));
    const events = (this.events = new TypedEmitter<PoolEvents<R>>());
    const ledger = (this.#ledger = new PoolLedger(factory, events));
    this.#waiters = new WaitLine<R>(o.acquireTimeout, (timeoutMs) => {
      ledger.totals.timeouts++;
      return poolTimeoutError(timeoutMs, o);
    });
    this.#idle = new IdleStack<R>(o.idleTimeout, o.minSize, {
      held: () => ledger.size,
      creating: () => ledger.creating,
      open: () => this.#phase === 'open',
      evict: (entry) => this.#remove(entry, undefined),
    });
    this.#validation = new ReuseValidation(factory, {
      failed: (entry, error) => this.#failValidation(entry, error),
      passed: (entry) => this.#handOver(entry),
      settled: () => this.#dispatch(),
    });
    this.#creator = new ResourceCreator(
      () => factory.create(),
      this.options,
      (error, attempt, willRetry) => this.events.emit('createFailed', { error, attempt, willRetry }),
      () => this.#phase === 'open',
    );
    this.#ready = this.#fillToMinimum();
    this.#ready.catch(() => {}); // read through ready(); a pool nobody asks must not crash the process
  }

  /** Resolves once the first `minSize` resources exist; rejects with the cause if one could not be created. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * A resource for the caller, to give back with `release()` (or `destroy()` if it broke). Waits
   * in line when none is free; fails with CB_ERR_POOL_TIMEOUT after `acquireTimeout`, with the
   * signal's reason when aborted, with CB_ERR_POOL_CLOSED once the pool drains.
   */
  acquire(options: AcquireOptions = NO_OPTIONS): Promise<R> {
    if (this.#phase !== 'open') return Promise.reject(poolClosedError());
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.#waiters.length === 0) {
      for (let entry = this.#idle.pop(); entry !== undefined; entry = this.#idle.pop()) {
        const verdict = this.#validation.check(entry);
        if (verdict === true) return Promise.resolve(this.#ledger.checkOut(entry));
        if (verdict !== false) return this.#wait(options, entry, verdict);
      }
    }
    return this.#wait(options, undefined, undefined);
  }

  /** Gives a resource back; it is validated before its next holder gets it. */
  release(resource: R): void {
    const entry = this.#ledger.entryOf(resource);
    if (entry === undefined || (entry.state !== 'ACQUIRED' && entry.state !== 'BUSY')) {
      if (this.#phase !== 'open' && entry === undefined) return; // destroyed by drain() while held
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'release() of a resource this pool has not handed out');
    }
    this.#ledger.checkIn(entry);
    if (this.#phase !== 'open') {
      this.#remove(entry, undefined);
      return;
    }
    this.#makeIdle(entry);
    if (this.#waiters.length > 0) this.#dispatch();
  }

  /** Gives back a resource that broke: it is destroyed, and replaced if the pool is below `minSize`. */
  destroy(resource: R, error?: unknown): void {
    const entry = this.#ledger.entryOf(resource);
    if (entry === undefined || (entry.state !== 'ACQUIRED' && entry.state !== 'BUSY')) {
      if (this.#phase !== 'open' && entry === undefined) return;
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'destroy() of a resource this pool has not handed out');
    }
    this.#ledger.checkIn(entry);
    this.#remove(entry, error ?? new ConnectionError('CB_ERR_CONNECTION_LOST', 'the holder reported the resource broken'));
    this.#afterLoss();
  }

  /** Acquires, marks the resource BUSY while `fn` runs, and releases it whatever `fn` does. */
  async use<T>(fn: (resource: R) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    const resource = await this.acquire(options);
    const entry = this.#ledger.entryOf(resource) as Entry<R>;
    this.#ledger.markBusy(entry);
    try {
      return await fn(resource);
    } finally {
      if (this.#ledger.entryOf(resource) === entry && entry.state === 'BUSY') this.release(resource);
    }
  }

  /**
   * Stops handing out resources (waiters fail with CB_ERR_POOL_CLOSED), destroys the idle ones,
   * waits up to `drainTimeout` for the held ones to come back, then destroys what is still out.
   */
  drain(): Promise<void> {
    return this.#shutdown(this.options.drainTimeout);
  }

  /** Like `drain()` without waiting: every resource, held or not, is destroyed now. */
  close(): Promise<void> {
    return this.#shutdown(0);
  }

  stats(): PoolStats {
    return this.#ledger.stats(this.#idle.length, this.#waiters.length);
  }

  /** `crossbus_pool_*` counters and gauges, labelled with the pool's `name`. */
  metrics(): readonly Metric[] {
    return poolMetrics(this.options.name, () => this.stats());
  }

  // ------------------------------------------------------------------------- handing out

  /** The slow path: a place in line (and, for a resource being validated, its verdict awaited). */
  #wait(options: AcquireOptions, validating: Entry<R> | undefined, verdict: Promise<boolean> | undefined): Promise<R> {
    const waiter = this.#waiters.enqueue(options.timeout ?? this.options.acquireTimeout, options.signal);
    if (validating !== undefined) this.#validation.await(validating, verdict as Promise<boolean>);
    else this.#dispatch();
    return waiter.promise;
  }

  /** Serves waiters from idle resources, then creates what is still missing (up to `maxSize`). */
  #dispatch(): void {
    const validation = this.#validation;
    while (this.#idle.length > 0 && this.#waiters.length > validation.pending) {
      const entry = this.#idle.pop() as Entry<R>;
      const verdict = validation.check(entry);
      if (verdict === true) (this.#waiters.shift() as Waiter<R>).resolve(this.#ledger.checkOut(entry));
      else if (verdict !== false) validation.await(entry, verdict);
    }
    const ledger = this.#ledger;
    let missing = this.#waiters.length - validation.pending - ledger.creating;
    while (missing-- > 0 && ledger.size + ledger.creating < this.options.maxSize) this.#startCreate(true).catch(() => {});
  }

  /** A resource ready to use: to the oldest waiter, else into the pool. */
  #handOver(entry: Entry<R>): void {
    if (this.#phase !== 'open') {
      this.#remove(entry, undefined);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(this.#ledger.checkOut(entry));
    else this.#makeIdle(entry);
  }

  #makeIdle(entry: Entry<R>): void {
    this.#idle.push(entry);
    this.events.emit('available', entry.resource);
    this.#idle.watch();
  }

  // ------------------------------------------------------------------------- creating and destroying

  /** One resource more; `forWaiter` says a waiter is counting on it (its failure is the waiter's). */
  async #startCreate(forWaiter: boolean): Promise<void> {
    const ledger = this.#ledger;
    ledger.creating++;
    let resource: R;
    try {
      resource = await this.#creator.run();
    } catch (error) {
      ledger.creating--;
      ledger.totals.createFailures++;
      if (this.#phase === 'draining') this.#maybeDrained();
      const failure = createFailure(error, this.options.retryAttempts + 1);
      // The oldest waiter learns why it cannot have a resource; the others keep their own chances.
      if (forWaiter || this.#waiters.length > 0) this.#waiters.shift()?.reject(failure);
      throw failure;
    }
    ledger.creating--;
    this.#handOver(ledger.add(resource));
    if (this.#phase === 'draining') this.#maybeDrained();
  }

  #fillToMinimum(): Promise<void> {
    const creations: Promise<void>[] = [];
    const ledger = this.#ledger;
    while (this.#phase === 'open' && ledger.size + ledger.creating < this.options.minSize) creations.push(this.#startCreate(false));
    return Promise.all(creations).then(() => {});
  }

  #failValidation(entry: Entry<R>, error: unknown): void {
    this.#ledger.totals.validationFailures++;
    this.#remove(entry, error ?? new ConnectionError('CB_ERR_CONNECTION_LOST', 'the resource failed validation'));
    this.#afterLoss();
  }

  /** After a resource was lost: refill to `minSize` in the background (failures are `createFailed` events). */
  #afterLoss(): void {
    if (this.#phase !== 'open') return;
    this.#fillToMinimum().catch(() => {});
    if (this.#waiters.length > 0) this.#dispatch();
  }

  /** Out of the pool for good (see PoolLedger.remove); a drain may be done then. */
  #remove(entry: Entry<R>, error: unknown): void {
    if (this.#ledger.remove(entry, error) && this.#phase === 'draining') this.#maybeDrained();
  }

  // ------------------------------------------------------------------------- shutting down

  #shutdown(graceMs: number): Promise<void> {
    if (this.#phase === 'open') {
      this.#phase = 'draining';
      this.#drained = new Promise<void>((resolve) => {
        this.#onDrained = resolve;
      });
      const idle = this.#idle.takeAll();
      this.#waiters.rejectAll(poolClosedError);
      for (const entry of idle) this.#remove(entry, undefined);
      this.#maybeDrained();
      if (graceMs === 0) this.#forceClose();
      else if (graceMs !== Infinity && this.#phase === 'draining') this.#drainTimer = setTimeout(() => this.#forceClose(), graceMs);
    } else if (graceMs === 0) this.#forceClose();
    return this.#drained as Promise<void>;
  }

  /** Destroys what holders still have: their later `release()` is a no-op. */
  #forceClose(): void {
    if (this.#phase !== 'draining') return;
    for (const entry of this.#ledger.entries()) {
      if (entry.state === 'ACQUIRED' || entry.state === 'BUSY') this.#ledger.checkIn(entry);
      this.#remove(entry, undefined);
    }
    this.#finish();
  }

  #maybeDrained(): void {
    if (this.#phase === 'draining' && this.#ledger.size === 0 && this.#ledger.creating === 0) this.#finish();
  }

  #finish(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    const done = this.#onDrained;
    this.#ledger.destroyed().then(() => done?.());
  }
}
