/**
 * What one rule reads from its metric at each evaluation, and the number it compares: the
 * metric's samples filtered by `match` and summed within each `by` group, remembered over the
 * rule's window so that a counter gives a rate or an increase and a histogram a quantile of the
 * recent observations (as Prometheus's `rate`, `increase` and `histogram_quantile` do, without
 * their extrapolation to the window's edges).
 */
import type { HistogramSample, Labels, Metric, Sample } from '../metrics/metric.js';
import type { AlertRule } from './alert-schema.js';

/** One group's reading at one evaluation. */
interface Point {
  readonly labels: Labels;
  value: number;
  /** Histograms: cumulative counts per bucket, and the count. */
  cumulative: number[] | undefined;
  count: number;
}

interface Reading {
  readonly at: number;
  readonly points: ReadonlyMap<string, Point>;
}

/** Readings kept per window at most: older ones are thinned so that a long window stays small. */
const POINTS_PER_WINDOW = 256;

export interface GroupValue {
  /** The `by` labels of the group. */
  readonly labels: Labels;
  readonly value: number;
}

export class RuleSeries {
  readonly rule: AlertRule;
  readonly #maxSeries: number;
  /** Readings from oldest to newest; the oldest is the base a rate or a quantile is taken from. */
  #history: Reading[] = [];
  #buckets: readonly number[] = [];
  /** Groups not followed because the rule already followed `maxSeries` at the last reading. */
  dropped = 0;

  /**
   * `startedAt`: when the engine started, with the hub, so its counters were all 0 then: the first
   * base, so that what happened before the first evaluation counts too.
   */
  constructor(rule: AlertRule, maxSeries: number, startedAt: number) {
    this.rule = rule;
    this.#maxSeries = maxSeries;
    this.#history.push({ at: startedAt, points: new Map() });
  }

  /** Reads the metric (undefined: the hub has none by that name) and returns each group's value. */
  evaluate(metric: Metric | undefined, now: number): GroupValue[] {
    const current: Reading = { at: now, points: metric === undefined ? new Map() : this.#read(metric) };
    const base = this.#remember(current);
    const out: GroupValue[] = [];
    for (const [key, point] of current.points) {
      const value = this.#value(point, base?.points.get(key), base === undefined ? 0 : (now - base.at) / 1000);
      if (value !== undefined && !Number.isNaN(value)) out.push({ labels: point.labels, value });
    }
    return out;
  }

  #read(metric: Metric): Map<string, Point> {
    const r = this.rule;
    const points = new Map<string, Point>();
    this.dropped = 0;
    if (metric.type === 'histogram') this.#buckets = metric.buckets;
    for (const s of metric.read() as readonly (Sample | HistogramSample)[]) {
      if (!matches(s.labels, r.match)) continue;
      const labels: Record<string, string> = {};
      for (const l of r.by) labels[l] = s.labels[l] ?? '';
      const key = r.by.map((l) => labels[l]).join('\u0000');
      let p = points.get(key);
      if (p === undefined) {
        if (points.size >= this.#maxSeries) {
          this.dropped++;
          continue;
        }
        p = { labels, value: 0, cumulative: undefined, count: 0 };
        points.set(key, p);
      }
      if ('cumulative' in s) {
        const c = (p.cumulative ??= new Array<number>(s.cumulative.length).fill(0));
        for (let i = 0; i < c.length; i++) c[i] = (c[i] as number) + (s.cumulative[i] ?? 0);
        p.count += s.count;
      } else {
        p.value += s.value;
      }
    }
    return points;
  }

  /**
   * Adds the reading; returns the base to compare it with: the newest reading at least a window
   * old, or the oldest one while the rule is younger than its window (undefined at the first).
   */
  #remember(current: Reading): Reading | undefined {
    const h = this.#history;
    const windowStart = current.at - this.rule.windowMs;
    while (h.length > 1 && (h[1] as Reading).at <= windowStart) h.shift();
    const base = h[0];
    const last = h[h.length - 1];
    if (last === undefined || current.at - last.at >= this.rule.windowMs / POINTS_PER_WINDOW) h.push(current);
    return base;
  }

  #value(p: Point, base: Point | undefined, seconds: number): number | undefined {
    const r = this.rule;
    switch (r.fn) {
      case 'value':
        return p.value;
      case 'increase':
      case 'rate': {
        if (seconds <= 0) return undefined;
        const before = base?.value ?? 0;
        // A counter that went down was reset (the hub restarted): all of it is new.
        const increase = p.value >= before ? p.value - before : p.value;
        return r.fn === 'increase' ? increase : increase / seconds;
      }
      case 'quantile': {
        if (seconds <= 0 || p.cumulative === undefined) return undefined;
        const reset = base?.cumulative === undefined || base.count > p.count;
        const cumulative = reset ? p.cumulative : p.cumulative.map((c, i) => c - (base.cumulative?.[i] ?? 0));
        return histogramQuantile(r.quantile ?? 0.99, this.#buckets, cumulative, reset ? p.count : p.count - base.count);
      }
    }
  }
}

function matches(labels: Labels, match: Labels): boolean {
  for (const k in match) if (labels[k] !== match[k]) return false;
  return true;
}

/**
 * The `q` quantile of a histogram's observations, by linear interpolation within the bucket that
 * holds it, as Prometheus's `histogram_quantile`: in the +Inf bucket, the highest finite bound.
 * NaN when there were no observations.
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: readonly number[], count: number): number {
  if (count <= 0) return Number.NaN;
  const rank = q * count;
  let i = 0;
  while (i < bounds.length && (cumulative[i] ?? 0) < rank) i++;
  if (i === bounds.length) return bounds[bounds.length - 1] ?? Number.NaN;
  const upper = bounds[i] as number;
  const lower = i === 0 ? 0 : (bounds[i - 1] as number);
  const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
  const inBucket = (cumulative[i] ?? 0) - below;
  if (inBucket <= 0) return upper;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}
