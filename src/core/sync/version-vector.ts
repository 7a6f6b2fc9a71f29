/**
 * A version vector: for each replica, the highest per-replica sequence number (`rseq`) the log
 * has carried. A change whose rseq is not above its replica's entry is a duplicate.
 *
 * It is bounded (`trim`): a replica whose last change left the kept history may be forgotten,
 * oldest first, once the vector holds more than the document allows. Its old changes cannot come
 * back as duplicates unnoticed: they are based before the history, so the log finds them stale.
 */
import { ValidationError } from '../errors/index.js';
import { replicaIdProblem } from './hlc.js';

export class VersionVector {
  readonly #seen = new Map<string, number>();
  /** The log position of each replica's last change (0: not known, a snapshot from before it was kept). */
  readonly #lastSeq = new Map<string, number>();

  /**
   * The vector of plain records (a snapshot's: rseq and, when kept, last log position per
   * replica); throws CB_ERR_PAYLOAD_INVALID for anything else.
   */
  static from(record: unknown, lastSeq: unknown = {}): VersionVector {
    const vv = new VersionVector();
    for (const [map, what] of [
      [vv.#seen, record],
      [vv.#lastSeq, lastSeq],
    ] as const) {
      if (typeof what !== 'object' || what === null || Array.isArray(what)) {
        throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a version vector must be an object');
      }
      for (const [replica, n] of Object.entries(what)) {
        if (replicaIdProblem(replica) !== undefined || !Number.isSafeInteger(n) || (n as number) < 0) {
          throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a version vector maps replica ids to sequence numbers');
        }
        map.set(replica, n as number);
      }
    }
    for (const replica of vv.#lastSeq.keys()) {
      if (!vv.#seen.has(replica))
        throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a version vector has a position for a replica it lacks');
    }
    return vv;
  }

  /** Highest rseq seen from `replica` (0: none). */
  get(replica: string): number {
    return this.#seen.get(replica) ?? 0;
  }

  /** True when the change `rseq` of `replica` is already counted. */
  has(replica: string, rseq: number): boolean {
    return rseq <= this.get(replica);
  }

  /** Counts the change `rseq` of `replica`, in the log at `seq`. */
  observe(replica: string, rseq: number, seq = 0): void {
    if (rseq > this.get(replica)) this.#seen.set(replica, rseq);
    if (seq > 0) this.#lastSeq.set(replica, seq);
  }

  /**
   * Forgets replicas whose last change is at or before `floor`, the oldest first (ties by id),
   * until at most `max` are left or none of them is that old; returns how many it forgot.
   */
  trim(max: number, floor: number): number {
    if (this.#seen.size <= max) return 0;
    const old: Array<[string, number]> = [];
    for (const replica of this.#seen.keys()) {
      const last = this.#lastSeq.get(replica) ?? 0;
      if (last <= floor) old.push([replica, last]);
    }
    old.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    const n = Math.min(old.length, this.#seen.size - max);
    for (let i = 0; i < n; i++) {
      const replica = (old[i] as [string, number])[0];
      this.#seen.delete(replica);
      this.#lastSeq.delete(replica);
    }
    return n;
  }

  /** True when this vector has seen everything `other` has. */
  covers(other: VersionVector): boolean {
    for (const [replica, rseq] of other.#seen) if (this.get(replica) < rseq) return false;
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  clone(): VersionVector {
    const vv = new VersionVector();
    for (const [k, v] of this.#seen) vv.#seen.set(k, v);
    for (const [k, v] of this.#lastSeq) vv.#lastSeq.set(k, v);
    return vv;
  }

  /** A plain record, keys sorted (equal vectors give equal JSON). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.#seen.keys()].sort()) out[k] = this.#seen.get(k) as number;
    return out;
  }

  /** The last log position of each replica, as a plain record, keys sorted. */
  lastSeqJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.#lastSeq.keys()].sort()) out[k] = this.#lastSeq.get(k) as number;
    return out;
  }
}
