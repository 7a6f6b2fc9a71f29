/**
 * The settings service's WAIT requests: each names layer keys and is answered once one of them is
 * written, or at its timeout. Bounded in number and in how long each is held.
 */
import { createError } from '../errors/index.js';

interface Waiter {
  readonly keys: readonly string[];
  readonly resolve: (r: { changed: boolean }) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class SettingsWaiters {
  readonly #byKey = new Map<string, Set<Waiter>>();
  #count = 0;

  constructor(
    readonly maxWaitMs: number,
    readonly maxWaiters: number,
  ) {}

  get size(): number {
    return this.#count;
  }

  /** A waiter on `versions`' keys, answered at `timeoutMs` (clamped to 0..maxWaitMs) at the latest. */
  add(versions: Record<string, number>, timeoutMs: unknown): Promise<{ changed: boolean }> {
    const wait = timeoutMs === undefined ? this.maxWaitMs : timeoutMs;
    if (!Number.isSafeInteger(wait) || (wait as number) < 0) {
      throw createError('CB_ERR_INVALID_OPTION', 'timeoutMs must be an integer >= 0', { details: { option: 'timeoutMs' } });
    }
    if (this.#count >= this.maxWaiters) {
      throw createError('CB_ERR_RATE_LIMITED', `the hub holds its maximum of ${this.maxWaiters} settings waits`, {
        details: { limit: this.maxWaiters },
      });
    }
    return new Promise((resolve) => {
      const keys = Object.keys(versions);
      const waiter: Waiter = {
        keys,
        resolve,
        timer: setTimeout(() => this.#settle(waiter, false), Math.min(wait as number, this.maxWaitMs)),
      };
      this.#count++;
      for (const k of keys) {
        let set = this.#byKey.get(k);
        if (set === undefined) this.#byKey.set(k, (set = new Set()));
        set.add(waiter);
      }
    });
  }

  /** `key` was written: its waiters are answered. */
  changed(key: string): void {
    const set = this.#byKey.get(key);
    if (set !== undefined) for (const w of [...set]) this.#settle(w, true);
  }

  close(): void {
    for (const set of [...this.#byKey.values()]) for (const w of [...set]) this.#settle(w, false);
  }

  #settle(w: Waiter, changed: boolean): void {
    let held = false;
    for (const k of w.keys) {
      const set = this.#byKey.get(k);
      if (set?.delete(w)) held = true;
      if (set?.size === 0) this.#byKey.delete(k);
    }
    if (!held) return;
    clearTimeout(w.timer);
    this.#count--;
    w.resolve({ changed });
  }
}
