/**
 * The rules a hub evaluates unless its config says `defaultRules: false`: error rate, p99
 * delivery latency, slow consumers, consumer lag, authentication failures. The same rules, in
 * PromQL, are in docs/prometheus/crossbus-alerts.rules.yml for those who run Prometheus and
 * Alertmanager; a unit test keeps the two in step (names, thresholds, windows, `for`).
 */
import * as v from 'valibot';
import { AlertRuleSchema, type AlertRule, type AlertRuleInput } from './alert-schema.js';

const DEFAULT_RULE_DOCUMENTS: readonly AlertRuleInput[] = [
  {
    name: 'CrossbusHighErrorRate',
    metric: 'crossbus_errors_total',
    fn: 'rate',
    windowMs: 300_000,
    threshold: 5,
    forMs: 300_000,
    severity: 'warning',
    annotations: {
      summary: 'the hub sends {{ $value }} ERROR frames per second',
      description: 'Refusals, failures and slow-consumer notices over the last 5 minutes; crossbus_errors_total by code says which.',
    },
  },
  {
    name: 'CrossbusHighDeliveryLatency',
    metric: 'crossbus_delivery_latency_seconds',
    fn: 'quantile',
    quantile: 0.99,
    windowMs: 300_000,
    threshold: 0.5,
    forMs: 300_000,
    severity: 'warning',
    annotations: {
      summary: 'p99 delivery latency is {{ $value }} s',
      description: 'From the hub reading a message to handing it to the recipient transport, over the last 5 minutes.',
    },
  },
  {
    name: 'CrossbusSlowConsumers',
    metric: 'crossbus_slow_consumers_total',
    fn: 'increase',
    windowMs: 300_000,
    threshold: 0,
    severity: 'warning',
    annotations: {
      summary: '{{ $value }} slow-consumer episodes in the last 5 minutes',
      description: 'Connections whose outbound queue overflowed (disconnected, or dropping messages).',
    },
  },
  {
    name: 'CrossbusConsumerLag',
    metric: 'crossbus_stream_consumer_lag',
    by: ['stream', 'consumer'],
    threshold: 10_000,
    forMs: 600_000,
    severity: 'warning',
    annotations: {
      summary: 'consumer {{ $labels.consumer }} of stream {{ $labels.stream }} is {{ $value }} messages behind',
      description: 'The consumer has lagged for 10 minutes.',
    },
  },
  {
    name: 'CrossbusAuthFailures',
    metric: 'crossbus_handshake_failures_total',
    fn: 'rate',
    windowMs: 300_000,
    threshold: 1,
    forMs: 120_000,
    severity: 'critical',
    annotations: {
      summary: '{{ $value }} failed handshakes per second',
      description: 'Handshakes refused, timed out or broken over the last 5 minutes: wrong secrets, expired keys, or a scan.',
    },
  },
];

/** The default rules, parsed (every default filled in). */
export function defaultAlertRules(): readonly AlertRule[] {
  return DEFAULT_RULE_DOCUMENTS.map((r) => v.parse(AlertRuleSchema, r));
}
