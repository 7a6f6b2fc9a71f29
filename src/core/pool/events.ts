/**
 * What a pool says about its resources: the five states of seed 002 §1.4 and one event per state.
 * Each event carries the resource itself (no event object is made per acquire or release).
 */

/**
 * AVAILABLE: idle in the pool. ACQUIRED: held by a caller of `acquire()`. BUSY: held and running
 * the callback of `use()`. FAILED: failed validation, creation or was reported broken; it is
 * destroyed next. CLOSED: destroyed, never handed out again.
 */
export type PoolResourceState = 'AVAILABLE' | 'ACQUIRED' | 'BUSY' | 'FAILED' | 'CLOSED';

export interface PoolEvents<R> {
  /** A resource came (back) into the pool, ready for the next caller. */
  available: R;
  /** A resource was handed to a caller. */
  acquired: R;
  /** A held resource started running a `use()` callback. */
  busy: R;
  /** A resource failed (validation, a `destroy(resource, error)` by its holder); it is destroyed and replaced. */
  failed: { readonly resource: R; readonly error: unknown };
  /** A resource was destroyed (idle clean-up, failure, drain). */
  closed: R;
  /** One attempt to create a resource failed; `willRetry` says whether another follows. */
  createFailed: { readonly error: unknown; readonly attempt: number; readonly willRetry: boolean };
  /** The factory's `destroy` threw or rejected (the resource is gone from the pool all the same). */
  destroyFailed: { readonly resource: R; readonly error: unknown };
}

/** How a pool makes, checks and ends its resources. */
export interface PoolFactory<R> {
  /** Makes one resource; a rejection is retried (`retryAttempts`, `retryDelay`). */
  create(): Promise<R>;
  /** Ends a resource the pool no longer keeps. */
  destroy?(resource: R): void | Promise<void>;
  /**
   * Checked before a used resource is handed out again; false (or a throw) destroys it and the
   * caller gets another. A synchronous answer keeps `acquire()` on its fast path.
   */
  validate?(resource: R): boolean | Promise<boolean>;
}

/** Options of one `acquire()`. */
export interface AcquireOptions {
  /** Gives up waiting when aborted (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Overrides the pool's `acquireTimeout` for this call. */
  timeout?: number;
}

/** What a pool holds now, and what it did since it started. */
export interface PoolStats {
  readonly size: number;
  readonly available: number;
  readonly acquired: number;
  readonly busy: number;
  readonly creating: number;
  readonly waiting: number;
  readonly acquires: number;
  readonly created: number;
  readonly destroyed: number;
  readonly validationFailures: number;
  readonly createFailures: number;
  readonly timeouts: number;
}
