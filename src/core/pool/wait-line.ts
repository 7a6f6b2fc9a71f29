/**
 * The line of callers waiting for a resource: first come first served, each gives up after its
 * timeout or when its signal aborts. Waiters on the pool's own timeout time out in the order they
 * queued, so one timer armed for the oldest of them serves them all (a timer per waiter cost more
 * than the rest of a contended acquire); a per-call timeout gets a timer of its own.
 */
import { Waiter, WaiterQueue } from './waiters.js';

export class WaitLine<R> {
  readonly #queue = new WaiterQueue<R>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** The pool's `acquireTimeout`. */
    private readonly timeout: number,
    /** The error a waiter gets when its time is up (the pool counts it). */
    private readonly timeoutError: (timeoutMs: number) => unknown,
  ) {}

  /** Callers still waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /** Puts a caller at the end of the line; it leaves by `shift()`, its timeout or its signal. */
  enqueue(timeout: number, signal: AbortSignal | undefined): Waiter<R> {
    const waiter = new Waiter<R>(Date.now() + timeout);
    if (timeout !== this.timeout) {
      if (timeout !== Infinity) waiter.timer = setTimeout(() => this.#giveUp(waiter, this.timeoutError(timeout)), timeout);
    } else if (this.#timer === undefined && timeout !== Infinity) {
      this.#timer = setTimeout(() => this.#sweep(), timeout);
    }
    if (signal !== undefined) {
      waiter.signal = signal;
      waiter.onAbort = () => this.#giveUp(waiter, signal.reason);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#queue.push(waiter);
    return waiter;
  }

  /** The oldest caller still waiting, out of the line, for the caller to settle. */
  shift(): Waiter<R> | undefined {
    const waiter = this.#queue.shift();
    if (this.#queue.length === 0) this.#stopTimer();
    return waiter;
  }

  rejectAll(error: () => unknown): void {
    for (const waiter of this.#queue.takeAll()) waiter.reject(error());
    this.#stopTimer();
  }

  #giveUp(waiter: Waiter<R>, error: unknown): void {
    if (waiter.done) return;
    waiter.reject(error);
    this.#queue.forget();
    if (this.#queue.length === 0) this.#stopTimer();
  }

  /** Times out every waiter on the pool's timeout whose deadline passed; re-arms for the next. */
  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let next: number | undefined;
    const expired: Waiter<R>[] = [];
    this.#queue.visit((waiter) => {
      if (waiter.timer !== undefined || waiter.deadline === Infinity) return true; // on its own timer
      if (waiter.deadline > now) {
        next = waiter.deadline;
        return false;
      }
      expired.push(waiter);
      return true;
    });
    for (const waiter of expired) this.#giveUp(waiter, this.timeoutError(this.timeout));
    if (next !== undefined && this.#queue.length > 0) this.#timer = setTimeout(() => this.#sweep(), next - now);
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
