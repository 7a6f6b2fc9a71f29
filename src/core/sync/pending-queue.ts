/**
 * A replica's offline queue: its changes not yet in the log, in rseq order, each with the
 * promise of its hash, and the last rseq it used (never reused: the log would take a change
 * with a used rseq for a duplicate).
 */
import { ValidationError } from '../errors/index.js';
import type { Awaitable } from '../security/crypto.js';
import type { Change } from './types.js';

interface Pending {
  change: Change;
  ready: Promise<Change>;
}

export class PendingQueue {
  #items: Pending[] = [];
  #rseq = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get changes(): Change[] {
    return this.#items.map((p) => p.change);
  }

  get length(): number {
    return this.#items.length;
  }

  get rseq(): number {
    return this.#rseq;
  }

  get first(): Change | undefined {
    return this.#items[0]?.change;
  }

  /** Throws CB_ERR_SYNC_TOO_LARGE when `maxPending` changes wait already. */
  checkRoom(): void {
    if (this.#items.length < this.#max) return;
    const message = `${this.#items.length} changes wait to be confirmed: maxPending (${this.#max})`;
    throw new ValidationError('CB_ERR_SYNC_TOO_LARGE', message, { details: { maxPending: this.#max } });
  }

  /** Queues `change`; `hash` (when given) is sealed into it once computed. Returns the change as it will be published. */
  push(change: Change, hash?: Awaitable<string>): Promise<Change> {
    this.#rseq = change.rseq;
    const p: Pending = { change, ready: Promise.resolve(change) };
    this.#items.push(p);
    if (hash !== undefined) {
      const seal = (h: string): Change => (p.change = { ...p.change, hash: h });
      p.ready = typeof hash === 'string' ? Promise.resolve(seal(hash)) : hash.then(seal);
    }
    return p.ready;
  }

  /** Puts `change` (of the same rseq) in place of the last one; `hash` as in `push`. */
  replaceLast(change: Change, hash?: Awaitable<string>): Promise<Change> {
    this.#items.pop();
    return this.push(change, hash);
  }

  /** Drops the changes the log has counted (rseq up to `mine`); returns them. */
  confirm(mine: number): Change[] {
    const out: Change[] = [];
    while (this.#items.length > 0 && (this.#items[0] as Pending).change.rseq <= mine) out.push((this.#items.shift() as Pending).change);
    return out;
  }

  /** The changes, each with its hash. */
  async ready(): Promise<Change[]> {
    await Promise.all(this.#items.map((p) => p.ready));
    return this.changes;
  }

  /** Starts over from a restored queue (those the log has not counted) and the last rseq used. */
  restore(changes: readonly Change[], rseq: number): void {
    this.#items = changes.map((change) => ({ change, ready: Promise.resolve(change) }));
    this.#rseq = rseq;
  }
}
