import { isPromise, type Awaitable } from './crypto.js';

/**
 * Chains on a value that may or may not be a promise. With Node's synchronous crypto the whole
 * chain runs synchronously (no promise per record); with WebCrypto it becomes a promise chain.
 */
export function then<T, U>(value: Awaitable<T>, fn: (v: T) => Awaitable<U>): Awaitable<U> {
  return isPromise(value) ? value.then(fn) : fn(value);
}

/**
 * Runs tasks strictly in order. A task whose result is synchronous completes at once; once one
 * goes asynchronous, later tasks wait for it, so records are sealed and opened in sequence
 * whatever the crypto provider does.
 */
export class SerialQueue {
  private tail: Promise<void> | undefined;
  private pendingCount = 0;

  /** True when nothing is in flight: a task run now completes before run() returns if its result is synchronous. */
  get idle(): boolean {
    return this.tail === undefined;
  }

  /** Tasks queued behind an asynchronous one. */
  get pending(): number {
    return this.pendingCount;
  }

  run<T>(task: () => Awaitable<T>, done: (value: T) => void, fail: (error: unknown) => void): void {
    if (this.tail === undefined) {
      let result: Awaitable<T>;
      try {
        result = task();
      } catch (err) {
        fail(err);
        return;
      }
      if (!isPromise(result)) {
        done(result);
        return;
      }
      this.track(result.then(done, fail));
      return;
    }
    this.#queue(task, done, fail);
  }

  /**
   * A task the caller already ran while the queue was idle (see `idle`) and that went
   * asynchronous: later tasks wait for it. Saves the closures of run() on the synchronous path.
   */
  follow<T>(result: Promise<T>, done: (value: T) => void, fail: (error: unknown) => void): void {
    this.track(result.then(done, fail));
  }

  #queue<T>(task: () => Awaitable<T>, done: (value: T) => void, fail: (error: unknown) => void): void {
    this.pendingCount++;
    this.track(
      (this.tail as Promise<void>)
        .then(() => {
          this.pendingCount--;
          return then(task(), done);
        })
        .catch(fail),
    );
  }

  private track(p: Promise<void>): void {
    const tail = p.finally(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
