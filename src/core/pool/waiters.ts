/**
 * The callers waiting for a resource, served strictly first come first served. An array with a
 * moving head: `shift()` is O(1), and a waiter that gave up (timeout, abort) is only marked and
 * skipped when it reaches the head, so leaving the queue is O(1) as well.
 */

/** One caller in line: its promise, its deadline, and what to undo once it is settled. */
export class Waiter<R> {
  /** True once served or given up: the queue skips it. */
  done = false;
  /** When it times out; waiters on the pool's own timeout share one timer (see Pool). */
  readonly deadline: number;
  /** Its own timer, for a per-call timeout other than the pool's. */
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  readonly promise: Promise<R>;
  #resolve!: (resource: R) => void;
  #reject!: (error: unknown) => void;

  constructor(deadline: number) {
    this.deadline = deadline;
    this.promise = new Promise<R>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  resolve(resource: R): void {
    this.#settle();
    this.#resolve(resource);
  }

  reject(error: unknown): void {
    this.#settle();
    this.#reject(error);
  }

  #settle(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
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

  /** Called when a queued waiter gave up (its owner settled it). */
  forget(): void {
    this.#live--;
  }

  /** Visits the waiters still waiting, oldest first, until `visit` returns false. */
  visit(visit: (waiter: Waiter<R>) => boolean): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const waiter = this.#items[i];
      if (waiter !== undefined && !waiter.done && !visit(waiter)) return;
    }
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
