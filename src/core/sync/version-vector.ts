/**
 * A version vector: for each replica, the highest per-replica sequence number (`rseq`) the log
 * has carried. A change whose rseq is not above its replica's entry is a duplicate.
 */
import { ValidationError } from '../errors/index.js';
import { replicaIdProblem } from './hlc.js';

export class VersionVector {
  readonly #seen = new Map<string, number>();

  /** The vector of a plain record (a snapshot's); throws CB_ERR_PAYLOAD_INVALID for anything else. */
  static from(record: unknown): VersionVector {
    const vv = new VersionVector();
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a version vector must be an object');
    }
    for (const [replica, rseq] of Object.entries(record)) {
      if (replicaIdProblem(replica) !== undefined || !Number.isSafeInteger(rseq) || (rseq as number) < 0) {
        throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a version vector maps replica ids to sequence numbers');
      }
      vv.#seen.set(replica, rseq as number);
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

  /** Counts the change `rseq` of `replica`. */
  observe(replica: string, rseq: number): void {
    if (rseq > this.get(replica)) this.#seen.set(replica, rseq);
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
    return vv;
  }

  /** A plain record, keys sorted (equal vectors give equal JSON). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.#seen.keys()].sort()) out[k] = this.#seen.get(k) as number;
    return out;
  }
}
