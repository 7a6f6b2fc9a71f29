/** The typed errors a pool gives its callers. */
import { ConnectionError, isCrossbusError } from '../errors/index.js';
import type { ResolvedPoolOptions } from './options.js';

export function poolClosedError(): ConnectionError {
  return new ConnectionError('CB_ERR_POOL_CLOSED', 'the pool is draining or closed');
}

export function poolTimeoutError(timeoutMs: number, options: ResolvedPoolOptions): ConnectionError {
  return new ConnectionError('CB_ERR_POOL_TIMEOUT', `no resource came free within ${timeoutMs} ms`, {
    details: { timeoutMs, maxSize: options.maxSize, pool: options.name },
  });
}

/** A typed error for the waiter; a crossbus error from the factory already says what happened. */
export function createFailure(error: unknown, attempts: number): unknown {
  if (isCrossbusError(error)) return error;
  return new ConnectionError('CB_ERR_CONNECTION_FAILED', `could not create a pooled resource in ${attempts} attempts`, {
    cause: error,
    details: { attempts },
  });
}
