/**
 * Login attempts per remote address: `attempts` per fixed window, counted before the secret is
 * checked, so guessing secrets costs a window per handful of guesses. The map of addresses is
 * bounded (addresses are the attacker's to choose): past the bound the oldest window is forgotten.
 */
import { DEFAULT_DASHBOARD_MAX_TRACKED_ADDRESSES } from './options.js';

interface Window {
  startedAt: number;
  count: number;
}

export class LoginLimiter {
  readonly #attempts: number;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(attempts: number, windowMs: number, now: () => number, maxTracked = DEFAULT_DASHBOARD_MAX_TRACKED_ADDRESSES) {
    this.#attempts = attempts;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#maxTracked = maxTracked;
  }

  /** Counts one attempt from `address`: undefined when allowed, else the ms until the next is. */
  attempt(address: string): number | undefined {
    const now = this.#now();
    let w = this.#windows.get(address);
    if (w === undefined || now >= w.startedAt + this.#windowMs) {
      if (w !== undefined) this.#windows.delete(address);
      w = { startedAt: now, count: 0 };
      this.#windows.set(address, w);
      if (this.#windows.size > this.#maxTracked) this.#windows.delete(this.#windows.keys().next().value as string);
    }
    if (w.count >= this.#attempts) return w.startedAt + this.#windowMs - now;
    w.count++;
    return undefined;
  }
}
