/**
 * Round-trip latency of one endpoint: an exponentially weighted moving average (smooth, reacts
 * within a few samples) and exact percentiles over the last `windowSize` samples (a fixed ring,
 * so memory does not grow with uptime and old spikes age out).
 */
export class LatencyStats {
  readonly #alpha: number;
  readonly #ring: Float64Array;
  #next = 0;
  #filled = 0;
  #ewma = Number.NaN;
  #count = 0;

  /** `alpha` in (0, 1]: the weight of a new sample; `windowSize` ≥ 1 samples kept for percentiles. */
  constructor(alpha: number, windowSize: number) {
    this.#alpha = alpha;
    this.#ring = new Float64Array(windowSize);
  }

  add(rttMs: number): void {
    this.#ewma = this.#count === 0 ? rttMs : this.#ewma + this.#alpha * (rttMs - this.#ewma);
    this.#count++;
    this.#ring[this.#next] = rttMs;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#filled < this.#ring.length) this.#filled++;
  }

  /** Samples seen since creation. */
  get count(): number {
    return this.#count;
  }

  /** The moving average in ms; NaN before the first sample. */
  get ewma(): number {
    return this.#ewma;
  }

  /**
   * The `q` quantile (0..1) of the samples in the window, nearest-rank: the smallest sample with
   * at least q of the window at or below it. NaN before the first sample. Sorts a copy: it runs
   * when somebody reads, not per heartbeat.
   */
  percentile(q: number): number {
    if (this.#filled === 0) return Number.NaN;
    const sorted = this.#ring.slice(0, this.#filled).sort();
    const rank = Math.min(this.#filled, Math.max(1, Math.ceil(q * this.#filled)));
    return sorted[rank - 1] as number;
  }
}
