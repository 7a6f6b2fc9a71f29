import { labelled, single, type Metric, type Sample } from '../metrics/metric.js';
import type { HubCounters } from './counters.js';
import type { OutboundQueues } from './outbound-queues.js';
import type { Router } from './router.js';
import type { SessionTable } from './session-table.js';

/** What the broker's metrics read: its counters and the modules that hold its gauges. */
export interface BrokerMetricParts {
  readonly totals: HubCounters;
  readonly sessions: SessionTable;
  readonly queues: OutboundQueues;
  readonly router: Router;
  /** An app's name as a label value: only configured apps keep theirs (BrokerOptions.metricsAppLabel). */
  readonly appLabel: (app: string) => string;
}

/** Open connections by transport kind (the hub's own words) and app label, counted when read. */
function connectionsByApp(p: BrokerMetricParts): () => Sample[] {
  return () => {
    const counts = new Map<string, Sample & { value: number }>();
    for (const s of p.sessions.values()) {
      if (s.state !== 'open') continue;
      const transport = s.transport.kind;
      const app = p.appLabel(s.auth.app);
      const key = `${transport} ${app}`;
      const sample = counts.get(key);
      if (sample === undefined) counts.set(key, { labels: { transport, app }, value: 1 });
      else sample.value++;
    }
    return [...counts.values()];
  };
}

/** `app scope` keys of HubCounters.rateLimited as labels. */
function rateLimitedSamples(map: ReadonlyMap<string, number>): () => Sample[] {
  return () =>
    [...map].map(([key, n]) => {
      const at = key.lastIndexOf(' ');
      return { labels: { app: key.slice(0, at), kind: key.slice(at + 1) }, value: n };
    });
}

function byLabel(map: ReadonlyMap<string, number>, label: string): () => Sample[] {
  return () => [...map].map(([value, n]) => ({ labels: { [label]: value }, value: n }));
}

/** The broker's counters, gauges and histograms, described for an exporter (see metric.ts). */
export function brokerMetrics(p: BrokerMetricParts): readonly Metric[] {
  const t = p.totals;
  const topics = p.router.topicMetric();
  const openSessions = (): number => {
    let n = 0;
    for (const s of p.sessions.values()) if (s.state === 'open') n++;
    return n;
  };
  const queuedMessages = (): number => {
    let n = 0;
    for (const s of p.sessions.values()) n += s.queue.queuedMessages;
    return n;
  };
  return [
    single('counter', 'crossbus_messages_in_total', 'PUBLISH, REQUEST and REPLY frames received', () => t.messagesIn),
    single(
      'counter',
      'crossbus_messages_out_total',
      'MESSAGE frames queued for connections (routed messages and stream deliveries)',
      () => t.messagesOut,
    ),
    single('counter', 'crossbus_received_bytes_total', 'bytes of frames received (records opened first on a secure hub)', () => t.bytesIn),
    single('counter', 'crossbus_sent_bytes_total', 'bytes of frames sent (before records are sealed on a secure hub)', () => t.bytesOut),
    labelled(
      'counter',
      'crossbus_errors_total',
      'ERROR frames sent (refusals, failures, slow-consumer notices), by code',
      ['code'],
      byLabel(t.errorsByCode, 'code'),
    ),
    single(
      'counter',
      'crossbus_dropped_messages_total',
      'messages not delivered because a queue or the hub-wide bound was full',
      () => t.dropped,
    ),
    single(
      'counter',
      'crossbus_slow_consumers_total',
      'slow-consumer episodes (a disconnect, or the start of dropping)',
      () => t.slowConsumers,
    ),
    single('counter', 'crossbus_no_responders_total', 'requests that nobody served', () => t.noResponders),
    single('counter', 'crossbus_handshakes_total', 'handshakes that opened a session', () => t.handshakes),
    single('counter', 'crossbus_handshake_failures_total', 'handshakes refused, timed out or broken', () => t.handshakeFailures),
    labelled(
      'counter',
      'crossbus_security_events_total',
      'security decisions recorded in the audit log, by action and outcome',
      ['action', 'outcome'],
      () =>
        [...t.securityEvents].map(([key, n]) => {
          const [action = '', outcome = ''] = key.split(' ');
          return { labels: { action, outcome }, value: n };
        }),
    ),
    single('gauge', 'crossbus_connections', 'connections held (open or handshaking)', () => p.sessions.size),
    single('gauge', 'crossbus_open_connections', 'connections past their handshake', openSessions),
    labelled(
      'gauge',
      'crossbus_app_connections',
      'connections past their handshake, by transport and app (configured apps by name; other, anonymous)',
      ['transport', 'app'],
      connectionsByApp(p),
    ),
    labelled(
      'counter',
      'crossbus_rate_limited_total',
      'messages refused by a rate limit, by app (configured apps by name) and the limit hit (app, topic)',
      ['app', 'kind'],
      rateLimitedSamples(t.rateLimited),
    ),
    single('gauge', 'crossbus_subscriptions', 'subscriptions in the routing index', () => p.router.size),
    single(
      'gauge',
      'crossbus_queued_bytes',
      'bytes queued for all connections, not yet handed to their transports',
      () => p.queues.queuedBytes,
    ),
    single('gauge', 'crossbus_queued_messages', 'frames queued for all connections', queuedMessages),
    t.handshakeSeconds.metric('crossbus_handshake_seconds', 'time from accepting a connection to its session being open'),
    t.batchBytes.metric('crossbus_batch_bytes', 'bytes in each write handed to a transport (a batch of frames)'),
    t.deliveryLatencySeconds.metric(
      'crossbus_delivery_latency_seconds',
      'time from the hub reading a routed message to the batch holding it being handed to the recipient transport; one observation per batch, for its oldest message (stream deliveries are not timed)',
    ),
    t.requestSeconds.metric('crossbus_request_duration_seconds', 'time from the hub reading a request to it reading the first reply'),
    ...(topics === undefined ? [] : [topics]),
  ];
}
