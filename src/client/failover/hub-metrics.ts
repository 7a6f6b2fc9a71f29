/**
 * A client's view of its hubs as typed metrics (the same `Metric` seam the hub's exporters
 * read), label `hub` = the hub's name. Read when scraped; nothing is computed before.
 */
import { labelled, type Metric, type Sample } from '../../core/metrics/metric.js';
import type { EndpointHealth, EndpointState } from './endpoint-health.js';
import type { MoveReason } from './events.js';

const STATES: readonly EndpointState[] = ['probing', 'healthy', 'degraded', 'down'];

export interface HubMetricsSource {
  readonly names: readonly string[];
  readonly health: readonly EndpointHealth[];
  /** Index of the hub the client is on, -1 between hubs. */
  current(): number;
  readonly moves: Readonly<Record<MoveReason, number>>;
}

export function hubMetrics(src: HubMetricsSource): Metric[] {
  const { names, health } = src;
  const perHub = (value: (h: EndpointHealth, i: number) => number) => (): Sample[] =>
    names.map((hub, i) => ({ labels: { hub }, value: value(health[i] as EndpointHealth, i) }));
  return [
    labelled('gauge', 'crossbus_client_hub_state', 'Hub state as seen by this client (1 for its current state)', ['hub', 'state'], () =>
      names.flatMap((hub, i) => STATES.map((state) => ({ labels: { hub, state }, value: health[i]?.state === state ? 1 : 0 }))),
    ),
    labelled(
      'gauge',
      'crossbus_client_hub_current',
      '1 for the hub this client is connected to',
      ['hub'],
      perHub((_h, i) => (i === src.current() ? 1 : 0)),
    ),
    labelled(
      'gauge',
      'crossbus_client_hub_rtt_seconds',
      'Heartbeat round trip: moving average',
      ['hub'],
      perHub((h) => h.latency.ewma / 1000),
    ),
    labelled(
      'gauge',
      'crossbus_client_hub_rtt_p50_seconds',
      'Heartbeat round trip: median of the recent window',
      ['hub'],
      perHub((h) => h.latency.percentile(0.5) / 1000),
    ),
    labelled(
      'gauge',
      'crossbus_client_hub_rtt_p99_seconds',
      'Heartbeat round trip: 99th percentile of the recent window',
      ['hub'],
      perHub((h) => h.latency.percentile(0.99) / 1000),
    ),
    labelled(
      'counter',
      'crossbus_client_hub_missed_heartbeats_total',
      'Heartbeats that went unanswered',
      ['hub'],
      perHub((h) => h.missedTotal),
    ),
    labelled('counter', 'crossbus_client_hub_moves_total', 'Moves to another hub, by reason', ['reason'], () =>
      (Object.keys(src.moves) as MoveReason[]).map((reason) => ({ labels: { reason }, value: src.moves[reason] })),
    ),
  ];
}
