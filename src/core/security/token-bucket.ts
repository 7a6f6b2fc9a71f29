/**
 * A token bucket with continuous refill: `burst` tokens at most, `perSecond` tokens added per
 * second, spread evenly (no refill ticks, so there is no edge at which a whole second's worth
 * arrives at once). Time comes from an injected clock so tests never sleep.
 */
import { ConfigError } from '../errors/index.js';
import type { RateLimit } from '../config/schema.js';

/**
 * Tolerance for float error in token arithmetic: waiting exactly the advertised retry-after must
 * let the message through even if 0.1 + 0.2 style rounding leaves the level a hair short.
 */
const EPSILON = 1e-9;

/** Throws CB_ERR_INVALID_OPTION unless `perSecond` > 0 and `burst` >= 1, both finite. */
export function assertRate(rate: unknown, what: string): asserts rate is RateLimit {
  const r = rate as Partial<RateLimit> | null;
  const bad = (m: string): never => {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${what}: ${m}`, { details: { option: what } });
  };
  if (typeof r !== 'object' || r === null) bad('must be an object { perSecond, burst }');
  const { perSecond, burst } = r as Partial<RateLimit>;
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0)
    bad(`perSecond must be a positive finite number, got ${String(perSecond)}`);
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) bad(`burst must be a finite number >= 1, got ${String(burst)}`);
}

export class TokenBucket {
  private perSecond: number;
  private burst: number;
  private tokens: number;
  private last: number;

  /** Starts full, so a fresh client may send its whole burst at once. */
  constructor(
    rate: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    assertRate(rate, 'rate');
    this.perSecond = rate.perSecond;
    this.burst = rate.burst;
    this.tokens = rate.burst;
    this.last = now();
  }

  /**
   * Takes `n` tokens if available and returns 0; otherwise takes nothing and returns the
   * milliseconds until `n` tokens will be there (Infinity if `n` exceeds the burst: never).
   * `slowdown` divides the refill rate (abuse penalties) for the time since the previous call.
   */
  take(n = 1, slowdown = 1): number {
    const wait = this.retryAfter(n, slowdown);
    if (wait === 0) this.tokens = Math.max(0, this.tokens - n);
    return wait;
  }

  /** Like `take` but takes nothing: lets a caller check several buckets before debiting any. */
  retryAfter(n = 1, slowdown = 1): number {
    if (!(n > 0) || !Number.isFinite(n))
      throw new ConfigError('CB_ERR_INVALID_OPTION', `token count must be a positive finite number, got ${String(n)}`);
    if (!(slowdown >= 1) || !Number.isFinite(slowdown))
      throw new ConfigError('CB_ERR_INVALID_OPTION', `slowdown must be a finite number >= 1, got ${String(slowdown)}`);
    this.refill(slowdown);
    if (this.tokens + EPSILON >= n) return 0;
    if (n > this.burst) return Infinity;
    // At least 1 ms: 0 means "allowed", and the float tolerance must not turn a refusal into it.
    return Math.max(1, Math.ceil(((n - this.tokens) * 1000 * slowdown) / this.perSecond - EPSILON));
  }

  /** Current level, after refill at the unpenalised rate. For tests and metrics. */
  level(): number {
    this.refill(1);
    return this.tokens;
  }

  /**
   * Changes the rate and burst (config reload) keeping the current level, capped at the new
   * burst: a reload must neither hand out a fresh burst nor punish a client that was idle.
   */
  configure(rate: RateLimit, slowdown = 1): void {
    assertRate(rate, 'rate');
    this.refill(slowdown); // time up to now is accounted at the old rate
    this.perSecond = rate.perSecond;
    this.burst = rate.burst;
    this.tokens = Math.min(this.tokens, this.burst);
  }

  private refill(slowdown: number): void {
    const t = this.now();
    // A clock stepping backwards adds nothing, and must not freeze refill until it catches up.
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / (1000 * slowdown));
  }
}
