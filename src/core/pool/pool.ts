/**
 * A generic resource pool (seed 002 §1.3): initialise → acquire → use → release → validate before
 * reuse → clean up idle ones, with typed events and counters per state.
 *
 * The fast path is `acquire()` while a resource is free and nobody waits: one `Promise.resolve`,
 * no timer, no closure; `release()` is synchronous. Timers and waiter records exist only when a
 * caller has to wait. Idle resources are a stack: the most recently used is handed out first (it
 * is the likeliest to still be healthy), so the stack's bottom is the oldest and idle clean-up
 * only ever looks there.
 */
import { ConfigError, ConnectionError, isCrossbusError } from '../errors/index.js';
import type { Metric, MetricsSource } from '../metrics/metric.js';
import { TypedEmitter } from '../util/emitter.js';
import { unrefTimer } from '../util/timers.js';
import { ResourceCreator } from './create-retry.js';
import type { AcquireOptions, PoolEvents, PoolFactory, PoolResourceState, PoolStats } from './events.js';
import { resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './options.js';
import { poolMetrics } from './pool-metrics.js';
import { WaitLine } from './wait-line.js';
import type { Waiter } from './waiters.js';

class Entry<R> {
  state: PoolResourceState = 'AVAILABLE';
  idleSince = 0;
  constructor(readonly resource: R) {}
}

type Phase = 'open' | 'draining' | 'closed';

const NO_OPTIONS: AcquireOptions = Object.freeze({});

export class Pool<R> implements MetricsSource {
  readonly options: ResolvedPoolOptions;
  readonly events: TypedEmitter<PoolEvents<R>>;
  readonly #factory: PoolFactory<R>;
  readonly #validate: ((resource: R) => boolean | Promise<boolean>) | undefined;
  readonly #creator: ResourceCreator<R>;
  readonly #entries = new Map<R, Entry<R>>();
  readonly #idle: Entry<R>[] = [];
  readonly #waiters: WaitLine<R>;
  readonly #destroying = new Set<Promise<void>>();
  #phase: Phase = 'open';
  #creating = 0;
  #validating = 0;
  #held = 0;
  #busy = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #ready: Promise<void>;
  #drained: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;
  /** Totals since the pool started (read by `stats()` and the metrics). */
  readonly #totals = { acquires: 0, created: 0, destroyed: 0, validationFailures: 0, createFailures: 0, timeouts: 0 };

  /** Starts creating `minSize` resources at once; `ready()` says when they are there. */
  constructor(factory: PoolFactory<R>, options: PoolOptions = {}) {
    if (typeof factory?.create !== 'function') throw new ConfigError('CB_ERR_INVALID_OPTION', 'a pool needs a factory with create()');
    this.options = resolvePoolOptions(options);
    this.#factory = factory;
    this.#validate = factory.validate?.bind(factory);
    this.#waiters = new WaitLine<R>(this.options.acquireTimeout, (timeoutMs) => {
      this.#totals.timeouts++;
      return new ConnectionError('CB_ERR_POOL_TIMEOUT', `no resource came free within ${timeoutMs} ms`, {
        details: { timeoutMs, maxSize: this.options.maxSize, pool: this.options.name },
      });
    });
    this.events = new TypedEmitter<PoolEvents<R>>();
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
    if (this.#phase !== 'open') return Promise.reject(closedError());
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.#waiters.length === 0) {
      while (this.#idle.length > 0) {
        const entry = this.#idle.pop() as Entry<R>;
        const verdict = this.#check(entry);
        if (verdict === true) return Promise.resolve(this.#checkOut(entry));
        if (verdict !== false) return this.#wait(options, entry, verdict);
      }
    }
    return this.#wait(options, undefined, undefined);
  }

  /** Gives a resource back; it is validated before its next holder gets it. */
  release(resource: R): void {
    const entry = this.#entries.get(resource);
    if (entry === undefined || (entry.state !== 'ACQUIRED' && entry.state !== 'BUSY')) {
      if (this.#phase !== 'open' && entry === undefined) return; // destroyed by drain() while held
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'release() of a resource this pool has not handed out');
    }
    this.#checkIn(entry);
    if (this.#phase !== 'open') {
      this.#remove(entry, undefined);
      return;
    }
    this.#makeIdle(entry);
    if (this.#waiters.length > 0) this.#dispatch();
  }

  /** Gives back a resource that broke: it is destroyed, and replaced if the pool is below `minSize`. */
  destroy(resource: R, error?: unknown): void {
    const entry = this.#entries.get(resource);
    if (entry === undefined || (entry.state !== 'ACQUIRED' && entry.state !== 'BUSY')) {
      if (this.#phase !== 'open' && entry === undefined) return;
      throw new ConfigError('CB_ERR_INVALID_OPTION', 'destroy() of a resource this pool has not handed out');
    }
    this.#checkIn(entry);
    this.#remove(entry, error ?? new ConnectionError('CB_ERR_CONNECTION_LOST', 'the holder reported the resource broken'));
    this.#afterLoss();
  }

  /** Acquires, marks the resource BUSY while `fn` runs, and releases it whatever `fn` does. */
  async use<T>(fn: (resource: R) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    const resource = await this.acquire(options);
    const entry = this.#entries.get(resource) as Entry<R>;
    entry.state = 'BUSY';
    this.#busy++;
    this.events.emit('busy', resource);
    try {
      return await fn(resource);
    } finally {
      if (this.#entries.get(resource) === entry && entry.state === 'BUSY') this.release(resource);
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
    return {
      size: this.#entries.size + this.#creating,
      available: this.#idle.length,
      acquired: this.#held - this.#busy,
      busy: this.#busy,
      creating: this.#creating,
      waiting: this.#waiters.length,
      ...this.#totals,
    };
  }

  /** `crossbus_pool_*` counters and gauges, labelled with the pool's `name`. */
  metrics(): readonly Metric[] {
    return poolMetrics(this.options.name, () => this.stats());
  }

  // ------------------------------------------------------------------------- handing out

  /** true: hand it out; false: it failed and is gone; a promise: the factory validates asynchronously. */
  #check(entry: Entry<R>): boolean | Promise<boolean> {
    if (this.#validate === undefined) return true;
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = this.#validate(entry.resource);
    } catch (error) {
      this.#failValidation(entry, error);
      return false;
    }
    if (verdict === true) return true;
    if (typeof (verdict as Promise<boolean> | undefined)?.then === 'function') return verdict;
    this.#failValidation(entry, undefined);
    return false;
  }

  #checkOut(entry: Entry<R>): R {
    entry.state = 'ACQUIRED';
    this.#held++;
    this.#totals.acquires++;
    this.events.emit('acquired', entry.resource);
    return entry.resource;
  }

  #checkIn(entry: Entry<R>): void {
    if (entry.state === 'BUSY') this.#busy--;
    this.#held--;
  }

  /** The slow path: a place in line (and, for a resource being validated, its verdict awaited). */
  #wait(options: AcquireOptions, validating: Entry<R> | undefined, verdict: Promise<boolean> | undefined): Promise<R> {
    const waiter = this.#waiters.enqueue(options.timeout ?? this.options.acquireTimeout, options.signal);
    if (validating !== undefined) this.#awaitVerdict(validating, verdict as Promise<boolean>);
    else this.#dispatch();
    return waiter.promise;
  }

  /** Serves waiters from idle resources, then creates what is still missing (up to `maxSize`). */
  #dispatch(): void {
    while (this.#idle.length > 0 && this.#waiters.length > this.#validating) {
      const entry = this.#idle.pop() as Entry<R>;
      const verdict = this.#check(entry);
      if (verdict === true) (this.#waiters.shift() as Waiter<R>).resolve(this.#checkOut(entry));
      else if (verdict !== false) this.#awaitVerdict(entry, verdict);
    }
    let missing = this.#waiters.length - this.#validating - this.#creating;
    while (missing-- > 0 && this.#entries.size + this.#creating < this.options.maxSize) this.#startCreate(true).catch(() => {});
  }

  #awaitVerdict(entry: Entry<R>, verdict: Promise<boolean>): void {
    this.#validating++;
    verdict.then(
      (ok) => {
        this.#validating--;
        if (entry.state === 'CLOSED') return;
        if (ok === true) this.#handOver(entry);
        else this.#failValidation(entry, undefined);
        this.#dispatch();
      },
      (error: unknown) => {
        this.#validating--;
        if (entry.state === 'CLOSED') return;
        this.#failValidation(entry, error);
        this.#dispatch();
      },
    );
  }

  /** A resource ready to use: to the oldest waiter, else into the pool. */
  #handOver(entry: Entry<R>): void {
    if (this.#phase !== 'open') {
      this.#remove(entry, undefined);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(this.#checkOut(entry));
    else this.#makeIdle(entry);
  }

  #makeIdle(entry: Entry<R>): void {
    entry.state = 'AVAILABLE';
    entry.idleSince = Date.now();
    this.#idle.push(entry);
    this.events.emit('available', entry.resource);
    if (this.#idleTimer === undefined) this.#armIdleTimer();
  }

  // ------------------------------------------------------------------------- creating and destroying

  /** One resource more; `forWaiter` says a waiter is counting on it (its failure is the waiter's). */
  async #startCreate(forWaiter: boolean): Promise<void> {
    this.#creating++;
    let resource: R;
    try {
      resource = await this.#creator.run();
    } catch (error) {
      this.#creating--;
      this.#totals.createFailures++;
      if (this.#phase === 'draining') this.#maybeDrained();
      const failure = createFailure(error, this.options.retryAttempts + 1);
      // The oldest waiter learns why it cannot have a resource; the others keep their own chances.
      if (forWaiter || this.#waiters.length > 0) this.#waiters.shift()?.reject(failure);
      throw failure;
    }
    this.#creating--;
    const entry = new Entry(resource);
    this.#entries.set(resource, entry);
    this.#totals.created++;
    this.#handOver(entry);
    if (this.#phase === 'draining') this.#maybeDrained();
  }

  #fillToMinimum(): Promise<void> {
    const creations: Promise<void>[] = [];
    while (this.#phase === 'open' && this.#entries.size + this.#creating < this.options.minSize) creations.push(this.#startCreate(false));
    return Promise.all(creations).then(() => {});
  }

  #failValidation(entry: Entry<R>, error: unknown): void {
    this.#totals.validationFailures++;
    this.#remove(entry, error ?? new ConnectionError('CB_ERR_CONNECTION_LOST', 'the resource failed validation'));
    this.#afterLoss();
  }

  /** After a resource was lost: refill to `minSize` in the background (failures are `createFailed` events). */
  #afterLoss(): void {
    if (this.#phase !== 'open') return;
    this.#fillToMinimum().catch(() => {});
    if (this.#waiters.length > 0) this.#dispatch();
  }

  /** Out of the pool for good: FAILED first when `error` says why, then CLOSED. */
  #remove(entry: Entry<R>, error: unknown): void {
    if (entry.state === 'CLOSED') return; // a verdict that arrives after drain() destroyed it
    if (error !== undefined) {
      entry.state = 'FAILED';
      this.events.emit('failed', { resource: entry.resource, error });
    }
    entry.state = 'CLOSED';
    this.#entries.delete(entry.resource);
    this.#totals.destroyed++;
    const destroying = this.#destroyResource(entry.resource);
    if (destroying !== undefined) {
      this.#destroying.add(destroying);
      destroying.then(() => this.#destroying.delete(destroying));
    }
    this.events.emit('closed', entry.resource);
    if (this.#phase === 'draining') this.#maybeDrained();
  }

  #destroyResource(resource: R): Promise<void> | undefined {
    const onError = (error: unknown): void => this.events.emit('destroyFailed', { resource, error });
    try {
      const result = this.#factory.destroy?.(resource);
      if (result !== undefined && typeof result.then === 'function') return Promise.resolve(result).catch(onError);
    } catch (error) {
      onError(error);
    }
    return undefined;
  }

  // ------------------------------------------------------------------------- idle clean-up

  #armIdleTimer(): void {
    const { idleTimeout, minSize } = this.options;
    const oldest = this.#idle[0];
    if (idleTimeout === Infinity || oldest === undefined || this.#entries.size <= minSize || this.#phase !== 'open') return;
    const due = Math.max(0, oldest.idleSince + idleTimeout - Date.now());
    this.#idleTimer = unrefTimer(setTimeout(() => this.#evictIdle(), due));
  }

  #evictIdle(): void {
    this.#idleTimer = undefined;
    const now = Date.now();
    const { idleTimeout, minSize } = this.options;
    while (this.#idle.length > 0 && this.#entries.size + this.#creating > minSize) {
      const oldest = this.#idle[0] as Entry<R>;
      if (oldest.idleSince + idleTimeout > now) break;
      this.#idle.shift();
      this.#remove(oldest, undefined);
    }
    this.#armIdleTimer();
  }

  // ------------------------------------------------------------------------- shutting down

  #shutdown(graceMs: number): Promise<void> {
    if (this.#phase === 'open') {
      this.#phase = 'draining';
      this.#drained = new Promise<void>((resolve) => {
        this.#onDrained = resolve;
      });
      if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
      this.#waiters.rejectAll(closedError);
      for (const entry of this.#idle.splice(0)) this.#remove(entry, undefined);
      this.#maybeDrained();
      if (graceMs === 0) this.#forceClose();
      else if (graceMs !== Infinity && this.#phase === 'draining') this.#drainTimer = setTimeout(() => this.#forceClose(), graceMs);
    } else if (graceMs === 0) this.#forceClose();
    return this.#drained as Promise<void>;
  }

  /** Destroys what holders still have: their later `release()` is a no-op. */
  #forceClose(): void {
    if (this.#phase !== 'draining') return;
    for (const entry of [...this.#entries.values()]) {
      if (entry.state === 'ACQUIRED' || entry.state === 'BUSY') this.#checkIn(entry);
      this.#remove(entry, undefined);
    }
    this.#finish();
  }

  #maybeDrained(): void {
    if (this.#phase === 'draining' && this.#entries.size === 0 && this.#creating === 0) this.#finish();
  }

  #finish(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    const done = this.#onDrained;
    Promise.allSettled([...this.#destroying]).then(() => done?.());
  }
}

function closedError(): ConnectionError {
  return new ConnectionError('CB_ERR_POOL_CLOSED', 'the pool is draining or closed');
}

/** A typed error for the waiter; a crossbus error from the factory already says what happened. */
function createFailure(error: unknown, attempts: number): unknown {
  if (isCrossbusError(error)) return error;
  return new ConnectionError('CB_ERR_CONNECTION_FAILED', `could not create a pooled resource in ${attempts} attempts`, {
    cause: error,
    details: { attempts },
  });
}
