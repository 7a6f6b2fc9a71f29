/**
 * What a pool holds: every resource with its state, how many are held, busy and being created,
 * the totals since the start, and the event of each change of state. The pool decides who gets
 * what and when; the ledger records it, and ends a removed resource through the factory.
 */
import type { TypedEmitter } from '../util/emitter.js';
import { Disposal } from './disposal.js';
import { PoolEntry } from './entry.js';
import type { PoolEvents, PoolFactory, PoolStats } from './events.js';

export class PoolLedger<R> {
  readonly #entries = new Map<R, PoolEntry<R>>();
  readonly #events: TypedEmitter<PoolEvents<R>>;
  readonly #disposal: Disposal<R>;
  /** Resources being created: part of the pool's size, not yet in the ledger. */
  creating = 0;
  #held = 0;
  #busy = 0;
  /** Totals since the pool started (read by `stats()` and the metrics). */
  readonly totals = { acquires: 0, created: 0, destroyed: 0, validationFailures: 0, createFailures: 0, timeouts: 0 };

  constructor(factory: PoolFactory<R>, events: TypedEmitter<PoolEvents<R>>) {
    this.#events = events;
    this.#disposal = new Disposal(factory, (resource, error) => events.emit('destroyFailed', { resource, error }));
  }

  /** Resources the pool holds, in any state but CLOSED. */
  get size(): number {
    return this.#entries.size;
  }

  entryOf(resource: R): PoolEntry<R> | undefined {
    return this.#entries.get(resource);
  }

  /** Every resource held, for a drain to end those still out. */
  entries(): PoolEntry<R>[] {
    return [...this.#entries.values()];
  }

  /** A resource just created: recorded, for the pool to hand over. */
  add(resource: R): PoolEntry<R> {
    const entry = new PoolEntry(resource);
    this.#entries.set(resource, entry);
    this.totals.created++;
    return entry;
  }

  /** Handed to a caller: ACQUIRED. */
  checkOut(entry: PoolEntry<R>): R {
    entry.state = 'ACQUIRED';
    this.#held++;
    this.totals.acquires++;
    this.#events.emit('acquired', entry.resource);
    return entry.resource;
  }

  /** Back from its holder (its next state is the pool's to set). */
  checkIn(entry: PoolEntry<R>): void {
    if (entry.state === 'BUSY') this.#busy--;
    this.#held--;
  }

  /** Held and running a `use()` callback: BUSY. */
  markBusy(entry: PoolEntry<R>): void {
    entry.state = 'BUSY';
    this.#busy++;
    this.#events.emit('busy', entry.resource);
  }

  /**
   * Out of the pool for good: FAILED first when `error` says why, then CLOSED, and destroyed.
   * False when it was out already (a verdict that arrives after a drain destroyed it).
   */
  remove(entry: PoolEntry<R>, error: unknown): boolean {
    if (entry.state === 'CLOSED') return false;
    if (error !== undefined) {
      entry.state = 'FAILED';
      this.#events.emit('failed', { resource: entry.resource, error });
    }
    entry.state = 'CLOSED';
    this.#entries.delete(entry.resource);
    this.totals.destroyed++;
    this.#disposal.dispose(entry.resource);
    this.#events.emit('closed', entry.resource);
    return true;
  }

  /** Settles once every destroy started so far has. */
  destroyed(): Promise<unknown> {
    return this.#disposal.settled();
  }

  stats(available: number, waiting: number): PoolStats {
    return {
      size: this.#entries.size + this.creating,
      available,
      acquired: this.#held - this.#busy,
      busy: this.#busy,
      creating: this.creating,
      waiting,
      ...this.totals,
    };
  }
}
