/**
 * What a deployment steers and watches per connection: its traffic weight (a factor on each of its
 * group members' weights, set by the hub: 0 drains it of new group messages) and, once someone
 * watches it, the requests it was handed and how it answered them. The Router keeps both in
 * `session.routing`; nothing is counted for a connection nobody watches.
 */
import { Histogram } from '../metrics/histogram.js';
import type { HistogramSample } from '../metrics/metric.js';

/** The reply header a service's failure carries (the client's HEADER_ERROR: a reply that is an error). */
export const REPLY_ERROR_HEADER = 'cb-error';

/** A connection's traffic weight is an integer in 0..MAX_TRAFFIC_WEIGHT. */
export const MAX_TRAFFIC_WEIGHT = 1_000_000;

/** Reply latency buckets, in seconds: from fast local services to slow ones. */
const REPLY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests one connection was handed and its answers, since it was first watched (counters only grow). */
export class ReplyStats {
  /** Requests delivered to the connection. */
  requests = 0;
  /** Replies it sent to them (errors included). */
  replies = 0;
  /** Replies that were errors (a service handler failed). */
  errors = 0;
  /** Requests it left unanswered by going away. */
  abandoned = 0;
  /** Time from the hub reading a request to it reading this connection's reply. */
  readonly latency = new Histogram(REPLY_BUCKETS);
}

/** A copy of the counters at one moment, for a caller that compares two of them. */
export interface ReplyStatsSnapshot {
  readonly requests: number;
  readonly replies: number;
  readonly errors: number;
  readonly abandoned: number;
  readonly latency: Omit<HistogramSample, 'labels'> & { readonly buckets: readonly number[] };
}

export function snapshotReplyStats(s: ReplyStats): ReplyStatsSnapshot {
  return {
    requests: s.requests,
    replies: s.replies,
    errors: s.errors,
    abandoned: s.abandoned,
    latency: { ...s.latency.snapshot(), buckets: REPLY_BUCKETS },
  };
}

/** Why `weight` cannot be a connection's traffic weight, or undefined. */
export function trafficWeightProblem(weight: unknown): string | undefined {
  return Number.isInteger(weight) && (weight as number) >= 0 && (weight as number) <= MAX_TRAFFIC_WEIGHT
    ? undefined
    : `a traffic weight must be an integer from 0 to ${MAX_TRAFFIC_WEIGHT}, got ${String(weight)}`;
}
