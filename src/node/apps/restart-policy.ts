/**
 * When an instance that exited is started again: exponential backoff (initial delay, times a
 * factor per restart, up to a maximum; back to the initial delay after a healthy run), and crash
 * loops (more than `crashLoopRestarts` restarts within `crashLoopWindowMs`: no more restarts).
 * Pure: times are passed in, so tests drive it with a fake clock.
 */
import { ValidationError } from '../../core/errors/index.js';
import {
  DEFAULT_CRASH_LOOP_RESTARTS,
  DEFAULT_CRASH_LOOP_WINDOW_MS,
  DEFAULT_RESTART_FACTOR,
  DEFAULT_RESTART_INITIAL_DELAY_MS,
  DEFAULT_RESTART_MAX_DELAY_MS,
  DEFAULT_RESTART_RESET_AFTER_MS,
} from './defaults.js';

export interface RestartPolicyOptions {
  /** @default 100 */
  initialDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
  /** @default 2 */
  factor?: number;
  /** @default 10000 */
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
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #resetAfter: number;
  readonly #loopRestarts: number;
  readonly #window: number;
  /** When each recent restart was decided, oldest first. */
  readonly #recent: number[] = [];
  #attempt = 0;

  constructor(options: RestartPolicyOptions = {}) {
    this.#initial = checked('initialDelayMs', options.initialDelayMs, DEFAULT_RESTART_INITIAL_DELAY_MS, 0);
    this.#max = checked('maxDelayMs', options.maxDelayMs, DEFAULT_RESTART_MAX_DELAY_MS, this.#initial);
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
    const delayMs = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return { action: 'restart', delayMs, attempt: this.#attempt };
  }

  /** Forget the history (an instance started again by hand after a crash loop). */
  reset(): void {
    this.#recent.length = 0;
    this.#attempt = 0;
  }
}
