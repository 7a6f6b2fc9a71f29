/**
 * When an instance that exited is started again. Restarts come in series: the first of a series
 * (the instance's first exit, or its first after a healthy run of `resetAfterMs`) waits
 * `firstDelayMs`, at once by default, since one crash of a healthy instance is no reason to leave
 * its share of the load unserved; the ones after it back off exponentially (the initial delay,
 * times a factor per restart, up to a maximum). Crash loops: more than `crashLoopRestarts`
 * restarts within `crashLoopWindowMs`, and no more restarts. Pure: times are passed in, so tests
 * drive it with a fake clock.
 */
import { ValidationError } from '../../core/errors/index.js';
import {
  DEFAULT_CRASH_LOOP_RESTARTS,
  DEFAULT_CRASH_LOOP_WINDOW_MS,
  DEFAULT_RESTART_FACTOR,
  DEFAULT_RESTART_FIRST_DELAY_MS,
  DEFAULT_RESTART_INITIAL_DELAY_MS,
  DEFAULT_RESTART_MAX_DELAY_MS,
  DEFAULT_RESTART_RESET_AFTER_MS,
} from './defaults.js';

export interface RestartPolicyOptions {
  /** The first restart of a series, in ms (at most `maxDelayMs`). @default 0 */
  firstDelayMs?: number;
  /** The second restart of a series, in ms (at most `maxDelayMs`). @default 100 */
  initialDelayMs?: number;
  /** The longest delay, in ms. @default 30000 */
  maxDelayMs?: number;
  /** Each restart after the second waits this many times longer than the one before. @default 2 */
  factor?: number;
  /** A run at least this long ends a series: the next exit is the first of a new one, in ms. @default 10000 */
  resetAfterMs?: number;
  /** @default 5 */
  crashLoopRestarts?: number;
  /** @default 60000 */
  crashLoopWindowMs?: number;
}

/** What to do about an exit: start again after `delayMs`, or stop (a crash loop). */
export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly attempt: number }
  | { readonly action: 'crash-loop'; readonly restarts: number; readonly windowMs: number };

function checked(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new ValidationError('CB_ERR_CONFIG_INVALID', `restart policy: ${name} must be a number of at least ${min}, got ${String(v)}`, {
      details: { path: name },
    });
  return v;
}

export class RestartPolicy {
  readonly #first: number;
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #resetAfter: number;
  readonly #loopRestarts: number;
  readonly #window: number;
  /** When each recent restart was decided, oldest first. */
  readonly #recent: number[] = [];
  /** Restarts so far in the current series. */
  #attempt = 0;

  constructor(options: RestartPolicyOptions = {}) {
    this.#first = checked('firstDelayMs', options.firstDelayMs, DEFAULT_RESTART_FIRST_DELAY_MS, 0);
    this.#initial = checked('initialDelayMs', options.initialDelayMs, DEFAULT_RESTART_INITIAL_DELAY_MS, 0);
    this.#max = checked('maxDelayMs', options.maxDelayMs, DEFAULT_RESTART_MAX_DELAY_MS, Math.max(this.#first, this.#initial));
    this.#factor = checked('factor', options.factor, DEFAULT_RESTART_FACTOR, 1);
    this.#resetAfter = checked('resetAfterMs', options.resetAfterMs, DEFAULT_RESTART_RESET_AFTER_MS, 0);
    this.#loopRestarts = Math.floor(checked('crashLoopRestarts', options.crashLoopRestarts, DEFAULT_CRASH_LOOP_RESTARTS, 1));
    this.#window = checked('crashLoopWindowMs', options.crashLoopWindowMs, DEFAULT_CRASH_LOOP_WINDOW_MS, 1);
  }

  /** An instance started at `startedAt` exited at `now`: when to start it again, if at all. */
  onExit(now: number, startedAt: number): RestartDecision {
    if (now - startedAt >= this.#resetAfter) this.#attempt = 0;
    const recent = this.#recent;
    while (recent.length > 0 && now - (recent[0] as number) >= this.#window) recent.shift();
    if (recent.length >= this.#loopRestarts) return { action: 'crash-loop', restarts: recent.length, windowMs: this.#window };
    recent.push(now);
    const attempt = this.#attempt;
    const delayMs = attempt === 0 ? this.#first : Math.min(this.#max, this.#initial * this.#factor ** (attempt - 1));
    this.#attempt++;
    return { action: 'restart', delayMs, attempt: this.#attempt };
  }

  /** Forget the history (an instance started again by hand after a crash loop). */
  reset(): void {
    this.#recent.length = 0;
    this.#attempt = 0;
  }
}
