/**
 * The hub's metrics in the Prometheus text format, through prom-client: every `Metric` the hub's
 * parts describe (src/core/metrics/metric.ts) becomes a prom-client metric read at scrape time,
 * and prom-client adds the process metrics (CPU, memory, event-loop lag, handles). Nothing is
 * computed between scrapes. Label values come from the hub's own metrics, which never take raw
 * topics or client-chosen strings as labels.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric as PromMetric } from 'prom-client';
import type { HistogramMetric, Metric, MetricsSource } from '../../core/metrics/metric.js';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** A registry with the process metrics and, read from `source` at each scrape, the hub's. */
export function prometheusRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  // The standard names (process_*, nodejs_*), which the usual dashboards expect.
  collectDefaultMetrics({ register: registry });
  // Gauges that prom-client names with `_total`, which `promtool check metrics` rejects; the
  // per-type `nodejs_active_*` gauges it also keeps say the same.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  const seen = new Set<string>();
  for (const m of source.metrics()) {
    // A metric two parts describe alike (one name) is registered once.
    if (seen.has(m.name)) continue;
    seen.add(m.name);
    registry.registerMetric(toProm(m));
  }
  return registry;
}

function toProm(m: Metric): PromMetric {
  const labelNames = [...m.labelNames];
  if (m.type === 'histogram') return histogram(m) as unknown as PromMetric;
  if (m.type === 'counter') {
    return new Counter({
      name: m.name,
      help: m.help,
      labelNames,
      registers: [],
      collect() {
        this.reset();
        for (const s of m.read()) this.inc(s.labels, s.value);
      },
    });
  }
  return new Gauge({
    name: m.name,
    help: m.help,
    labelNames,
    registers: [],
    collect() {
      this.reset();
      for (const s of m.read()) this.set(s.labels, s.value);
    },
  });
}

/**
 * A histogram whose buckets the hub keeps (cumulative counts, sum, count): prom-client's own
 * Histogram only observes values, so this answers its `get()` with the samples as they are.
 */
function histogram(m: HistogramMetric) {
  return {
    name: m.name,
    help: m.help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames: [...m.labelNames],
    reset() {},
    get: async () => {
      const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = [];
      for (const s of m.read()) {
        m.buckets.forEach((le, i) => {
          values.push({ value: s.cumulative[i] ?? 0, labels: { ...s.labels, le }, metricName: `${m.name}_bucket` });
        });
        values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${m.name}_bucket` });
        values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${m.name}_sum` });
        values.push({ value: s.count, labels: { ...s.labels }, metricName: `${m.name}_count` });
      }
      return { name: m.name, help: m.help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
