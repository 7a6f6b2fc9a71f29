/**
 * Pure pieces of a rollout: the per-connection weights that give a new version a percent of a
 * service group's requests, and the judgement of one analysis interval from the reply counters
 * of the new version's connections (their difference between two snapshots).
 */
import type { ReplyStatsSnapshot } from '../broker/traffic.js';
import type { AnalysisRecord } from './deploy-topics.js';

/** Thresholds of one judgement (the canary config's `analysis`). */
export interface AnalysisThresholds {
  readonly maxErrorRate: number;
  readonly maxP99Ms: number;
  readonly minRequests: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Per-connection weights so that `percent` of the group's requests go to the `next` instances and
 * the rest to the `current` ones (the router picks by weight over all members).
 */
export function splitWeights(percent: number, current: number, next: number): { current: number; next: number } {
  if (percent <= 0 || next === 0) return { current: 1, next: 0 };
  if (percent >= 100 || current === 0) return { current: 0, next: 1 };
  const c = (100 - percent) * next;
  const n = percent * current;
  const g = gcd(c, n);
  return { current: c / g, next: n / g };
}

/** The counters of several connections added up (a version's instances). */
export function sumStats(list: readonly ReplyStatsSnapshot[]): ReplyStatsSnapshot | undefined {
  const first = list[0];
  if (first === undefined) return undefined;
  const cumulative = first.latency.cumulative.map((_, i) => list.reduce((t, s) => t + (s.latency.cumulative[i] ?? 0), 0));
  return {
    requests: list.reduce((t, s) => t + s.requests, 0),
    replies: list.reduce((t, s) => t + s.replies, 0),
    errors: list.reduce((t, s) => t + s.errors, 0),
    abandoned: list.reduce((t, s) => t + s.abandoned, 0),
    latency: {
      buckets: first.latency.buckets,
      cumulative,
      count: list.reduce((t, s) => t + s.latency.count, 0),
      sum: list.reduce((t, s) => t + s.latency.sum, 0),
    },
  };
}

/** What happened between two snapshots of the same counters. */
export function statsDelta(before: ReplyStatsSnapshot, after: ReplyStatsSnapshot): ReplyStatsSnapshot {
  return {
    requests: after.requests - before.requests,
    replies: after.replies - before.replies,
    errors: after.errors - before.errors,
    abandoned: after.abandoned - before.abandoned,
    latency: {
      buckets: after.latency.buckets,
      cumulative: after.latency.cumulative.map((c, i) => c - (before.latency.cumulative[i] ?? 0)),
      count: after.latency.count - before.latency.count,
      sum: after.latency.sum - before.latency.sum,
    },
  };
}

/** Upper bound (ms) of the bucket holding quantile q; Infinity above the last bound; null with no observation. */
export function quantileMs(delta: ReplyStatsSnapshot, q: number): number | null {
  const { count, cumulative, buckets } = delta.latency;
  if (count <= 0) return null;
  const rank = Math.ceil(q * count);
  for (let i = 0; i < cumulative.length; i++) if ((cumulative[i] as number) >= rank) return (buckets[i] as number) * 1000;
  return Number.POSITIVE_INFINITY;
}

/**
 * One interval judged: failed when the error rate (failed replies and requests abandoned by a
 * crash, over requests answered or abandoned) or the p99 latency is over its threshold;
 * inconclusive with fewer than `minRequests` answered; passed otherwise.
 */
export function judgeInterval(delta: ReplyStatsSnapshot, t: AnalysisThresholds, at: number): AnalysisRecord {
  const settled = delta.replies + delta.abandoned;
  const errors = delta.errors + delta.abandoned;
  const errorRate = settled === 0 ? 0 : errors / settled;
  const p99 = quantileMs(delta, 0.99);
  const base = { at, requests: settled, errors, errorRate, p99Ms: p99 === Number.POSITIVE_INFINITY ? null : p99 };
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  if (settled > 0 && errorRate > t.maxErrorRate)
    return { ...base, verdict: 'fail', reason: `error rate ${pct(errorRate)} is over ${pct(t.maxErrorRate)} (${errors} of ${settled})` };
  if (p99 !== null && p99 > t.maxP99Ms)
    return {
      ...base,
      verdict: 'fail',
      reason: `p99 latency ${p99 === Number.POSITIVE_INFINITY ? 'above every bucket' : `≤ ${p99} ms`} is over ${t.maxP99Ms} ms`,
    };
  if (settled < t.minRequests)
    return { ...base, verdict: 'inconclusive', reason: `${settled} requests answered, fewer than ${t.minRequests}` };
  return { ...base, verdict: 'pass', reason: `error rate ${pct(errorRate)}, p99 ≤ ${p99} ms over ${settled} requests` };
}
