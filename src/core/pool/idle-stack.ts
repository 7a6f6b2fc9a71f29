/**
 * A pool's idle resources and their clean-up. A stack: the most recently used is handed out first
 * (it is the likeliest to still be healthy), so the bottom is the oldest and clean-up only ever
 * looks there. One timer, armed for the oldest, evicts those idle past `idleTimeout` while the pool
 * holds more than `minSize`.
 */
import { unrefTimer } from '../util/timers.js';
import type { PoolEntry } from './entry.js';

/** What the stack asks of its pool. */
export interface IdleHost<R> {
  /** Resources the pool holds (idle or not) and is creating: its size for `minSize`. */
  held(): number;
  creating(): number;
  /** False once the pool drains: no more clean-up. */
  open(): boolean;
  /** Takes an evicted resource out of the pool for good. */
  evict(entry: PoolEntry<R>): void;
}

export class IdleStack<R> {
  readonly #entries: PoolEntry<R>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly idleTimeout: number,
    private readonly minSize: number,
    private readonly host: IdleHost<R>,
  ) {}

  get length(): number {
    return this.#entries.length;
  }

  /** Puts a resource on top, idle from now (the pool tells it is AVAILABLE, then calls `watch()`). */
  push(entry: PoolEntry<R>): void {
    entry.state = 'AVAILABLE';
    entry.idleSince = Date.now();
    this.#entries.push(entry);
  }

  /** The most recently used, off the stack; undefined when none is idle. */
  pop(): PoolEntry<R> | undefined {
    return this.#entries.pop();
  }

  /** Arms the clean-up timer for the oldest, unless it is armed already. */
  watch(): void {
    if (this.#timer === undefined) this.#arm();
  }

  /** Stops the clean-up and takes every idle resource off (the pool drains). */
  takeAll(): PoolEntry<R>[] {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#entries.splice(0);
  }

  #arm(): void {
    const oldest = this.#entries[0];
    if (this.idleTimeout === Infinity || oldest === undefined || this.host.held() <= this.minSize || !this.host.open()) return;
    const due = Math.max(0, oldest.idleSince + this.idleTimeout - Date.now());
    this.#timer = unrefTimer(setTimeout(() => this.#evict(), due));
  }

  #evict(): void {
    this.#timer = undefined;
    const now = Date.now();
    const host = this.host;
    while (this.#entries.length > 0 && host.held() + host.creating() > this.minSize) {
      const oldest = this.#entries[0] as PoolEntry<R>;
      if (oldest.idleSince + this.idleTimeout > now) break;
      this.#entries.shift();
      host.evict(oldest);
    }
    this.#arm();
  }
}
