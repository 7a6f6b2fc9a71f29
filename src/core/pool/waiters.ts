/**
 * The callers waiting for a resource, served strictly first come first served. An array with a
 * moving head: `shift()` is O(1), and a waiter that gave up (timeout, abort) is only marked and
 * skipped when it reaches the head, so leaving the queue is O(1) as well.
 */
export interface Waiter<R> {
  /** True once settled, timed out or aborted: the queue skips it. */
  done: boolean;
  resolve(resource: R): void;
  reject(error: unknown): void;
}

export class WaiterQueue<R> {
  #items: (Waiter<R> | undefined)[] = [];
  #head = 0;
  #live = 0;

  /** Waiters still waiting. */
  get length(): number {
    return this.#live;
  }

  push(waiter: Waiter<R>): void {
    this.#items.push(waiter);
    this.#live++;
  }

  /** The oldest waiter still waiting, taken out of the queue; undefined when none waits. */
  shift(): Waiter<R> | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (waiter !== undefined && !waiter.done) {
        this.#live--;
        this.#compact();
        return waiter;
      }
    }
    this.#compact();
    return undefined;
  }

  /** Called when a queued waiter gave up (it is marked done by its owner). */
  forget(): void {
    this.#live--;
  }

  /** Takes every waiter out (for rejecting them all when the pool closes). */
  takeAll(): Waiter<R>[] {
    const out: Waiter<R>[] = [];
    for (let w = this.shift(); w !== undefined; w = this.shift()) out.push(w);
    return out;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
