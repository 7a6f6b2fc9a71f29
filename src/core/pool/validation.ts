/**
 * Validation before reuse: the factory's `validate` asked before an idle resource is handed out
 * again. A synchronous answer keeps `acquire()` on its fast path; an asynchronous one is awaited
 * while a waiter holds its place, and counted, so that the pool does not create a resource for a
 * waiter a verdict may still serve.
 */
import type { PoolEntry } from './entry.js';
import type { PoolFactory } from './events.js';

/** What validation tells its pool. */
export interface ValidationHost<R> {
  /** It failed (false, a throw or a rejection): the pool destroys and replaces it. */
  failed(entry: PoolEntry<R>, error: unknown): void;
  /** An asynchronous verdict passed: the resource is ready to hand over. */
  passed(entry: PoolEntry<R>): void;
  /** An asynchronous verdict settled, whichever way: serve the waiters again. */
  settled(): void;
}

export class ReuseValidation<R> {
  readonly #validate: ((resource: R) => boolean | Promise<boolean>) | undefined;
  readonly #host: ValidationHost<R>;
  /** Verdicts awaited now, each promised to a waiter. */
  pending = 0;

  constructor(factory: PoolFactory<R>, host: ValidationHost<R>) {
    this.#validate = factory.validate?.bind(factory);
    this.#host = host;
  }

  /** true: hand it out; false: it failed and is gone; a promise: the factory validates asynchronously (see `await`). */
  check(entry: PoolEntry<R>): boolean | Promise<boolean> {
    if (this.#validate === undefined) return true;
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = this.#validate(entry.resource);
    } catch (error) {
      this.#host.failed(entry, error);
      return false;
    }
    if (verdict === true) return true;
    if (typeof (verdict as Promise<boolean> | undefined)?.then === 'function') return verdict;
    this.#host.failed(entry, undefined);
    return false;
  }

  /** Waits for an asynchronous verdict; a resource the pool destroyed meanwhile (a drain) is left alone. */
  await(entry: PoolEntry<R>, verdict: Promise<boolean>): void {
    this.pending++;
    const host = this.#host;
    verdict.then(
      (ok) => {
        this.pending--;
        if (entry.state === 'CLOSED') return;
        if (ok === true) host.passed(entry);
        else host.failed(entry, undefined);
        host.settled();
      },
      (error: unknown) => {
        this.pending--;
        if (entry.state === 'CLOSED') return;
        host.failed(entry, error);
        host.settled();
      },
    );
  }
}
