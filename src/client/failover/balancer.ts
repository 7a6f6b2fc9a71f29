/**
 * Weighted choice among hub endpoints: each endpoint's configured weight scaled by what its
 * health says. A down or recovering endpoint gets nothing while any answering one is left; a
 * degraded one a quarter; a slower one in proportion to how much slower it is than the fastest
 * (never less than a tenth, so a slow hub still takes some share rather than none).
 */
import type { EndpointState } from './endpoint-health.js';

export interface Weighted {
  /** Configured weight (≥ 0; 0 is a backup, chosen only when no weighted endpoint answers). */
  readonly weight: number;
  readonly state: EndpointState;
  /** Latency average in ms (NaN when unknown). */
  readonly rttMs: number;
}

const STATE_FACTOR: Readonly<Record<EndpointState, number>> = { healthy: 1, degraded: 0.25, probing: 0, down: 0 };
const MIN_LATENCY_FACTOR = 0.1;

/** The share each endpoint gets: weight × state factor × latency factor. */
export function effectiveWeights(endpoints: readonly Weighted[]): number[] {
  let fastest = Number.POSITIVE_INFINITY;
  for (const e of endpoints) if (STATE_FACTOR[e.state] > 0 && e.rttMs < fastest) fastest = e.rttMs;
  return endpoints.map((e) => {
    const latency = Number.isFinite(fastest) && e.rttMs > 0 ? Math.max(MIN_LATENCY_FACTOR, Math.min(1, fastest / e.rttMs)) : 1;
    return e.weight * STATE_FACTOR[e.state] * latency;
  });
}

/**
 * Picks an endpoint index, `random()` in [0, 1). In order of preference: a weighted draw among
 * the answering endpoints; the backups (weight 0) that answer, first first; endpoints not yet
 * known (probing), first first; and when everything is down, the one that has been down
 * longest (`changedAt`), so that attempts go round. -1 for an empty list or when `exclude` covers all.
 */
export function pickEndpoint(
  endpoints: readonly (Weighted & { readonly changedAt: number })[],
  random: () => number,
  exclude = -1,
): number {
  const weights = effectiveWeights(endpoints);
  let total = 0;
  for (let i = 0; i < weights.length; i++) if (i !== exclude) total += weights[i] as number;
  if (total > 0) {
    let r = random() * total;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      const w = i === exclude ? 0 : (weights[i] as number);
      if (w <= 0) continue;
      last = i;
      r -= w;
      if (r < 0) return i;
    }
    return last;
  }
  const answering = endpoints.findIndex((e, i) => i !== exclude && (e.state === 'healthy' || e.state === 'degraded'));
  if (answering >= 0) return answering;
  const unknown = endpoints.findIndex((e, i) => i !== exclude && e.state === 'probing');
  if (unknown >= 0) return unknown;
  let oldest = -1;
  for (let i = 0; i < endpoints.length; i++) {
    if (i === exclude) continue;
    if (oldest < 0 || (endpoints[i] as { changedAt: number }).changedAt < (endpoints[oldest] as { changedAt: number }).changedAt)
      oldest = i;
  }
  return oldest;
}
