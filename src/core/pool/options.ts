/**
 * A pool's options (seed 002 §1.3 names the first six) and their check: read once, never
 * mutated, every conflict refused with a typed error before the pool creates anything.
 */
import {
  DEFAULT_POOL_ACQUIRE_TIMEOUT_MS,
  DEFAULT_POOL_DRAIN_TIMEOUT_MS,
  DEFAULT_POOL_IDLE_TIMEOUT_MS,
  DEFAULT_POOL_MAX_CREATE_RATE,
  DEFAULT_POOL_MAX_SIZE,
  DEFAULT_POOL_MIN_SIZE,
  DEFAULT_POOL_RETRY_ATTEMPTS,
  DEFAULT_POOL_RETRY_DELAY_MS,
} from '../defaults.js';
import { ConfigError } from '../errors/index.js';

export interface PoolOptions {
  /** Most resources held, idle and in use together (at least 1). @default 10 */
  maxSize?: number;
  /** Resources created up front and kept through idle clean-up (at most `maxSize`). @default 2 */
  minSize?: number;
  /** Milliseconds `acquire()` waits before failing with CB_ERR_POOL_TIMEOUT; `Infinity` waits for ever. @default 30_000 */
  acquireTimeout?: number;
  /** Milliseconds an idle resource is kept (beyond `minSize`); `Infinity` keeps them all. @default 300_000 */
  idleTimeout?: number;
  /** Attempts to create a resource after the first one failed. @default 3 */
  retryAttempts?: number;
  /** Milliseconds between two attempts to create a resource. @default 1_000 */
  retryDelay?: number;
  /** Most resources created per second (refills after an outage are spread). @default 100 */
  maxCreateRate?: number;
  /** Milliseconds `drain()` waits for held resources before destroying them. @default 30_000 */
  drainTimeout?: number;
  /** Label of the pool's metrics (`pool="…"`). @default 'default' */
  name?: string;
}

export type ResolvedPoolOptions = Readonly<Required<PoolOptions>>;

function fail(option: string, rule: string, value: unknown): never {
  throw new ConfigError('CB_ERR_INVALID_OPTION', `pool option ${option} must be ${rule}, got ${String(value)}`, {
    details: { option },
  });
}

function count(option: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(option, `an integer >= ${min}`, value);
  return value;
}

function millis(option: string, value: number | undefined, fallback: number, infinite: boolean): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && value >= 0 && (Number.isFinite(value) || (infinite && value === Infinity));
  if (!ok) fail(option, infinite ? 'a number of milliseconds >= 0 or Infinity' : 'a finite number of milliseconds >= 0', value);
  return value;
}

/** The options with their defaults filled in; throws CB_ERR_INVALID_OPTION or CB_ERR_CONFLICTING_OPTIONS. */
export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  const maxSize = count('maxSize', options.maxSize, DEFAULT_POOL_MAX_SIZE, 1);
  // An explicit small maxSize lowers the default minSize with it rather than conflicting with it.
  const minSize = count('minSize', options.minSize, Math.min(DEFAULT_POOL_MIN_SIZE, maxSize), 0);
  if (minSize > maxSize) {
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', `pool option minSize (${minSize}) exceeds maxSize (${maxSize})`, {
      details: { minSize, maxSize },
    });
  }
  const rate = options.maxCreateRate;
  if (rate !== undefined && !(typeof rate === 'number' && rate > 0)) fail('maxCreateRate', 'a number > 0', rate);
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || name.length === 0) fail('name', 'a non-empty string', name);
  return Object.freeze({
    maxSize,
    minSize,
    acquireTimeout: millis('acquireTimeout', options.acquireTimeout, DEFAULT_POOL_ACQUIRE_TIMEOUT_MS, true),
    idleTimeout: millis('idleTimeout', options.idleTimeout, DEFAULT_POOL_IDLE_TIMEOUT_MS, true),
    retryAttempts: count('retryAttempts', options.retryAttempts, DEFAULT_POOL_RETRY_ATTEMPTS, 0),
    retryDelay: millis('retryDelay', options.retryDelay, DEFAULT_POOL_RETRY_DELAY_MS, false),
    maxCreateRate: rate ?? DEFAULT_POOL_MAX_CREATE_RATE,
    drainTimeout: millis('drainTimeout', options.drainTimeout, DEFAULT_POOL_DRAIN_TIMEOUT_MS, true),
    name,
  });
}
