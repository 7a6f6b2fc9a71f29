/**
 * The metrics seam: every counter, gauge and histogram the hub keeps, described and readable
 * through one typed interface. An exporter (Prometheus, OpenTelemetry, a dashboard) registers
 * against `Metric`s and reads them when it is scraped; nothing reaches into the broker's private
 * state, and nothing is computed until somebody reads. Names follow Prometheus conventions
 * (`crossbus_` prefix, base units, `_total` on counters).
 */

/** Label values by label name; every sample of a metric carries the metric's `labelNames`. */
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly labels: Labels;
  /** Observations at or below each of the metric's `buckets`, cumulative (Prometheus `le`); +Inf is `count`. */
  readonly cumulative: readonly number[];
  readonly count: number;
  readonly sum: number;
}

interface MetricInfo {
  /** e.g. `crossbus_messages_in_total`. */
  readonly name: string;
  /** One line: what is counted, in which unit. */
  readonly help: string;
  readonly labelNames: readonly string[];
}

/** Only goes up (until the hub restarts). */
export interface CounterMetric extends MetricInfo {
  readonly type: 'counter';
  read(): readonly Sample[];
}

/** Goes up and down: a current value. */
export interface GaugeMetric extends MetricInfo {
  readonly type: 'gauge';
  read(): readonly Sample[];
}

export interface HistogramMetric extends MetricInfo {
  readonly type: 'histogram';
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  read(): readonly HistogramSample[];
}

export type Metric = CounterMetric | GaugeMetric | HistogramMetric;

/** Something that keeps metrics: the broker, the stream service, the hub (which joins them). */
export interface MetricsSource {
  metrics(): readonly Metric[];
}

const NO_LABELS: Labels = Object.freeze({});

/** A metric without labels whose value is read when asked. */
export function single(type: 'counter' | 'gauge', name: string, help: string, value: () => number): CounterMetric | GaugeMetric {
  return { type, name, help, labelNames: [], read: () => [{ labels: NO_LABELS, value: value() }] };
}

/** A metric with labels whose samples are read when asked. */
export function labelled(
  type: 'counter' | 'gauge',
  name: string,
  help: string,
  labelNames: readonly string[],
  read: () => readonly Sample[],
): CounterMetric | GaugeMetric {
  return { type, name, help, labelNames, read };
}
