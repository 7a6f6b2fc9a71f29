/**
 * The conflicts of a document: parked ones (bounded by `maxConflicts`, in log order) until a
 * `resolve` change settles them, and the last `maxResolvedConflicts` settled ones, with the
 * counts metrics read. Part of the document: every replica holds the same book.
 */
import type { ConflictInfo } from './types.js';

/** Counts since the document began (snapshots carry them). */
export interface ConflictCounts {
  /** Conflicts parked for a resolver or a person. */
  parked: number;
  /** Conflicts lww decided (the strategy, or past `maxConflicts`). */
  decided: number;
  /** Conflicts decided by lww because `maxConflicts` were parked. */
  overflow: number;
  /** Parked conflicts a `resolve` change settled. */
  resolved: number;
  /** Changes rejected whole (delta, stale, too large, unknown conflict). */
  rejected: number;
}

export class ConflictBook {
  readonly #parked: Map<string, ConflictInfo>;
  #resolved: ConflictInfo[];
  #maxResolved: number;
  readonly counts: ConflictCounts;

  constructor(maxResolved: number, parked: readonly ConflictInfo[] = [], resolved: readonly ConflictInfo[] = [], counts?: ConflictCounts) {
    this.#maxResolved = maxResolved;
    this.#parked = new Map(parked.map((c) => [c.id, c]));
    this.#resolved = resolved.slice();
    this.counts = counts === undefined ? { parked: 0, decided: 0, overflow: 0, resolved: 0, rejected: 0 } : { ...counts };
    this.#trim();
  }

  get parkedCount(): number {
    return this.#parked.size;
  }

  get parked(): readonly ConflictInfo[] {
    return [...this.#parked.values()];
  }

  get resolved(): readonly ConflictInfo[] {
    return this.#resolved;
  }

  set maxResolved(n: number) {
    this.#maxResolved = n;
    this.#trim();
  }

  get(id: string): ConflictInfo | undefined {
    return this.#parked.get(id);
  }

  park(conflict: ConflictInfo): void {
    this.#parked.set(conflict.id, conflict);
    this.counts.parked++;
  }

  /** A conflict lww decided at once (`overflow`: because the parked ones reached their bound). */
  decide(conflict: ConflictInfo, overflow: boolean): void {
    this.counts.decided++;
    if (overflow) this.counts.overflow++;
    this.#keep(conflict);
  }

  /** Moves a parked conflict to the settled ones, as `settled`. */
  settle(settled: ConflictInfo): void {
    this.#parked.delete(settled.id);
    this.counts.resolved++;
    this.#keep(settled);
  }

  clone(): ConflictBook {
    return new ConflictBook(this.#maxResolved, this.parked, this.#resolved, this.counts);
  }

  #keep(conflict: ConflictInfo): void {
    this.#resolved.push(conflict);
    this.#trim();
  }

  #trim(): void {
    const over = this.#resolved.length - this.#maxResolved;
    if (over > 0) this.#resolved = this.#resolved.slice(over);
  }
}
