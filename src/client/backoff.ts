import type { ReconnectOptions } from './options.js';

/**
 * Delay before reconnect attempt number `attempt` (0-based): exponential growth capped at
 * maxDelayMs, then "equal jitter" that takes up to `jitter` of it away, so that many clients cut
 * off by the same hub restart do not all come back in the same millisecond.
 */
export function backoffDelay(attempt: number, r: Readonly<Required<ReconnectOptions>>, random: () => number = Math.random): number {
  const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** attempt);
  return Math.round(base * (1 - r.jitter * random()));
}
