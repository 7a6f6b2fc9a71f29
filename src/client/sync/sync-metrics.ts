/**
 * Open documents' metrics as typed `Metric`s (src/core/metrics), Prometheus-style, read when an
 * exporter asks: `doc.metrics()` for one document, `bus.sync.metrics()` for every open one. Labels
 * are bounded: `doc` (the documents open), `strategy` (lww, merge, manual, the document's
 * `custom:<name>`s, and `stale`), `outcome` and `origin` (fixed sets). Runtime-neutral.
 */
import { labelled, type HistogramMetric, type HistogramSample, type Metric, type Sample } from '../../core/metrics/metric.js';
import { SYNC_RESOLUTION_BUCKETS, type DocMetrics } from './doc-metrics.js';

/** What the metrics read of one open document. */
export interface MetricsSource {
  readonly name: string;
  readonly counts: DocMetrics;
  /** Changes of this replica not yet in the log (drafted edits included). */
  readonly pendingChanges: number;
  readonly conflicts: readonly unknown[];
}

/** The metrics of the documents `sources()` gives at each read. */
export function syncMetrics(sources: () => Iterable<MetricsSource>): readonly Metric[] {
  const perDoc = (type: 'counter' | 'gauge', name: string, help: string, value: (s: MetricsSource) => number): Metric =>
    labelled(type, name, help, ['doc'], () => [...sources()].map((s) => ({ labels: { doc: s.name }, value: value(s) })));
  const byOrigin = (name: string, help: string, local: (m: DocMetrics) => number, remote: (m: DocMetrics) => number): Metric =>
    labelled('counter', name, help, ['doc', 'origin'], () => {
      const out: Sample[] = [];
      for (const s of sources()) {
        out.push({ labels: { doc: s.name, origin: 'local' }, value: local(s.counts) });
        out.push({ labels: { doc: s.name, origin: 'remote' }, value: remote(s.counts) });
      }
      return out;
    });
  const resolution: HistogramMetric = {
    type: 'histogram',
    name: 'crossbus_sync_conflict_resolution_seconds',
    help: 'seconds from the detection of a parked conflict to its resolution (HLC times of the two changes), by strategy',
    labelNames: ['doc', 'strategy'],
    buckets: SYNC_RESOLUTION_BUCKETS,
    read: () => {
      const out: HistogramSample[] = [];
      for (const s of sources()) {
        for (const [strategy, h] of s.counts.resolution) out.push({ labels: { doc: s.name, strategy }, ...h.snapshot() });
      }
      return out;
    },
  };
  return [
    labelled(
      'counter',
      'crossbus_sync_conflicts_total',
      'conflicts the log met, by strategy and outcome (parked, merged, lww, resolved: a parked one settled)',
      ['doc', 'strategy', 'outcome'],
      () => {
        const out: Sample[] = [];
        for (const s of sources()) {
          for (const c of s.counts.conflicts)
            out.push({ labels: { doc: s.name, strategy: c.strategy, outcome: c.outcome }, value: c.count });
        }
        return out;
      },
    ),
    resolution,
    perDoc('counter', 'crossbus_sync_changes_sent_total', 'changes of this replica the hub stored', (s) => s.counts.sent),
    perDoc(
      'counter',
      'crossbus_sync_clocks_clamped_total',
      "changes from the log whose clock was further ahead of the hub's time than limits.maxClockSkewMs, ordered as if made at that bound",
      (s) => s.counts.clockClamped,
    ),
    byOrigin(
      'crossbus_sync_changes_applied_total',
      'changes from the log applied here: of this replica (local) or of others (remote)',
      (m) => m.appliedLocal,
      (m) => m.appliedRemote,
    ),
    byOrigin(
      'crossbus_sync_changes_rejected_total',
      'changes rejected whole: of this replica (local: by the rules of the log, or by the hub) or of others (remote: by the rules of the log)',
      (m) => m.rejectedLocal,
      (m) => m.rejectedRemote,
    ),
    perDoc(
      'gauge',
      'crossbus_sync_pending_changes',
      'changes of this replica not yet in the log (the offline queue)',
      (s) => s.pendingChanges,
    ),
    perDoc(
      'gauge',
      'crossbus_sync_conflicts_parked',
      'conflicts parked now, waiting for a resolver or a person',
      (s) => s.conflicts.length,
    ),
  ];
}
