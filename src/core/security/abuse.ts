/**
 * Adaptive abuse control. Every refused or broken message of an app (over its rate, malformed,
 * forbidden, failing integrity) is a violation. A few are normal (a client racing its own limit);
 * many in a short window mean a buggy or hostile client, so the hub first slows it down (the
 * RateLimiter divides its refill rate by `penaltyFactor`) and finally disconnects it.
 *
 * The window slides: a violation counts for `windowMs` after it happened, so penalties decay by
 * themselves once the app behaves, and are gone when a whole window passes without violations.
 * State is per app (not per connection), so reconnecting does not wipe the slate.
 */
import { ConfigError } from '../errors/index.js';
import { DEFAULT_ABUSE_SLOWDOWN_AFTER, DEFAULT_ABUSE_VIOLATIONS_PER_WINDOW, DEFAULT_ABUSE_WINDOW_MS } from '../defaults.js';

/** Each further this many violations halves the rate again. @default 10 */
export const ABUSE_PENALTY_STEP = 10;
/** The rate is never divided by more than this (1/16 of the configured rate). @default 16 */
export const ABUSE_MAX_PENALTY_FACTOR = 16;

/** Tracked apps above which a violation first sweeps out apps whose window has emptied. */
const SWEEP_ABOVE = 1024;

export type ViolationKind = 'rate' | 'invalid' | 'forbidden' | 'integrity';
export type AbuseAction = 'none' | 'slow' | 'disconnect';

export interface AbuseOptions {
  violationsPerWindow?: number;
  windowMs?: number;
  slowdownAfter?: number;
}

export interface AbuseVerdict {
  readonly action: AbuseAction;
  /** Violations of the app in the current window, this one included. */
  readonly count: number;
  /** The app's rates are divided by this: 1, 2, 4, 8 or 16. */
  readonly penaltyFactor: number;
}

type Resolved = Required<AbuseOptions>;

function resolve(options: AbuseOptions): Resolved {
  const out: Resolved = {
    violationsPerWindow: options.violationsPerWindow ?? DEFAULT_ABUSE_VIOLATIONS_PER_WINDOW,
    windowMs: options.windowMs ?? DEFAULT_ABUSE_WINDOW_MS,
    slowdownAfter: options.slowdownAfter ?? DEFAULT_ABUSE_SLOWDOWN_AFTER,
  };
  const bad = (name: keyof Resolved, rule: string): never => {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `abuse.${name} must be ${rule}, got ${String(out[name])}`, {
      details: { option: `abuse.${name}` },
    });
  };
  if (!Number.isSafeInteger(out.violationsPerWindow) || out.violationsPerWindow < 1) bad('violationsPerWindow', 'an integer >= 1');
  if (!Number.isFinite(out.windowMs) || out.windowMs <= 0) bad('windowMs', 'a positive finite number');
  // Above violationsPerWindow is allowed: it means "no slow-down phase, disconnect straight away".
  if (!Number.isSafeInteger(out.slowdownAfter) || out.slowdownAfter < 1) bad('slowdownAfter', 'an integer >= 1');
  return out;
}

export class AbuseTracker {
  private options: Resolved;
  /** Per app, the times of its violations in the window, oldest first. */
  private readonly times = new Map<string, number[]>();

  constructor(
    options: AbuseOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = resolve(options);
  }

  /** Records one violation of `app` and says what the hub must do about it. */
  violation(app: string, kind: ViolationKind): AbuseVerdict {
    void kind; // every kind weighs the same today; the parameter keeps call sites explicit for audit
    const t = this.now();
    let list = this.times.get(app);
    if (list === undefined) {
      if (this.times.size >= SWEEP_ABOVE) this.sweep(t);
      list = [];
      this.times.set(app, list);
    }
    this.expire(list, t);
    list.push(t);
    // Counting past the disconnect threshold changes nothing, so memory per app stays bounded.
    if (list.length > this.options.violationsPerWindow) list.shift();
    return this.verdict(list.length);
  }

  /** The app's current penalty, without recording anything. 1 means no penalty. */
  penaltyFactor(app: string): number {
    // Runs on every message: an app without violations (nearly always) costs one lookup.
    if (!this.times.has(app)) return 1;
    return this.verdict(this.count(app)).penaltyFactor;
  }

  /** Violations of `app` in the current window. */
  count(app: string): number {
    const list = this.times.get(app);
    if (list === undefined) return 0;
    this.expire(list, this.now());
    // Forgetting apps that behave keeps the map as small as the set of misbehaving apps.
    if (list.length === 0) this.times.delete(app);
    return list.length;
  }

  /** New thresholds (config reload); violations already counted stay counted. */
  reconfigure(options: AbuseOptions): void {
    this.options = resolve(options);
    for (const list of this.times.values()) {
      if (list.length > this.options.violationsPerWindow) list.splice(0, list.length - this.options.violationsPerWindow);
    }
  }

  private sweep(t: number): void {
    for (const [app, list] of this.times) {
      this.expire(list, t);
      if (list.length === 0) this.times.delete(app);
    }
  }

  private expire(list: number[], t: number): void {
    const cutoff = t - this.options.windowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] as number) <= cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
  }

  private verdict(count: number): AbuseVerdict {
    const { violationsPerWindow, slowdownAfter } = this.options;
    const penaltyFactor =
      count < slowdownAfter ? 1 : Math.min(ABUSE_MAX_PENALTY_FACTOR, 2 ** (1 + Math.floor((count - slowdownAfter) / ABUSE_PENALTY_STEP)));
    const action: AbuseAction = count >= violationsPerWindow ? 'disconnect' : count >= slowdownAfter ? 'slow' : 'none';
    return { action, count, penaltyFactor };
  }
}
