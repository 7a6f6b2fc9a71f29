import type { CrossbusError } from '../core/errors/index.js';

interface Entry<T> {
  resolve(value: T): void;
  reject(error: CrossbusError): void;
  /** now() after which the entry times out. */
  deadline: number;
  onTimeout(): CrossbusError;
}

/**
 * Timeouts are checked at most this often: an entry may time out up to this much late, never
 * early. One shared timer instead of one per entry, because arming and clearing a timer costs
 * more than the rest of a round trip's bookkeeping in a browser.
 */
export const TIMEOUT_GRANULARITY_MS = 10;

/** A monotonic clock: a system clock set forward must not time everything out at once. */
const now = (): number => performance.now();

/** setTimeout fires at once for longer delays (2^31 - 1 ms, about 24.8 days): a longer wait is made of several. */
const MAX_TIMER_DELAY_MS = 0x7fff_ffff;

/**
 * Operations waiting for an answer, by correlation id, each with its own timeout: subscribe
 * confirmations, flushes and acked publishes (answered by OK/PONG), and requests (answered by a
 * reply). Every entry settles exactly once: answer, error, timeout or rejectAll.
 */
export class PendingTable<T> {
  readonly #entries = new Map<number, Entry<T>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  #armedFor = Infinity;
  /** The timer keeps a Node process alive (it does while anything waits). */
  #timerRefed = true;

  add(id: number, timeoutMs: number, onTimeout: () => CrossbusError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = now() + timeoutMs;
      this.#entries.set(id, { resolve, reject, deadline, onTimeout });
      // Only a deadline earlier than the armed one needs the timer moved; later ones are found when it fires.
      if (deadline < this.#armedFor) this.#arm(deadline);
      else if (!this.#timerRefed) this.#setRef(true);
    });
  }

  has(id: number): boolean {
    return this.#entries.has(id);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Returns false when nothing waits under `id` (late answer after a timeout). */
  resolve(id: number, value: T): boolean {
    const e = this.#take(id);
    e?.resolve(value);
    return e !== undefined;
  }

  reject(id: number, error: CrossbusError): boolean {
    const e = this.#take(id);
    e?.reject(error);
    return e !== undefined;
  }

  rejectAll(error: CrossbusError): void {
    for (const id of [...this.#entries.keys()]) this.reject(id, error);
  }

  #take(id: number): Entry<T> | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    this.#entries.delete(id);
    // The timer stays armed when the table empties (the next entry, with a later deadline, reuses
    // it instead of arming its own), but it must not keep a Node process alive on its own.
    if (this.#entries.size === 0 && this.#timerRefed) this.#setRef(false);
    return e;
  }

  #setRef(on: boolean): void {
    const t = this.#timer as { ref?: () => void; unref?: () => void } | undefined;
    if (on) t?.ref?.();
    else t?.unref?.();
    this.#timerRefed = on;
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Never sooner than the granularity after now, so a stream of short deadlines cannot make the scan run hot.
    const at = Math.max(deadline, now() + (this.#armedFor === Infinity ? 0 : TIMEOUT_GRANULARITY_MS));
    this.#armedFor = at;
    this.#timer = setTimeout(this.#expire, Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at - now())));
    this.#timerRefed = true;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const t = now();
    let next = Infinity;
    const expired: Entry<T>[] = [];
    for (const [id, e] of this.#entries) {
      if (e.deadline <= t) {
        this.#entries.delete(id);
        expired.push(e);
      } else if (e.deadline < next) next = e.deadline;
    }
    if (next !== Infinity) this.#arm(Math.max(next, t + TIMEOUT_GRANULARITY_MS));
    // A late timer (a busy event loop) finds several expired at once: they still fail in deadline order.
    expired.sort((a, b) => a.deadline - b.deadline);
    for (const e of expired) e.reject(e.onTimeout());
  };
}
