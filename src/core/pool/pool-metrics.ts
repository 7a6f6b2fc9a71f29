/** A pool's counters and gauges for an exporter (see metrics/metric.ts), labelled `pool="<name>"`. */
import { labelled, type Metric } from '../metrics/metric.js';
import type { PoolStats } from './events.js';

export function poolMetrics(name: string, read: () => PoolStats): readonly Metric[] {
  const one = (type: 'counter' | 'gauge', metric: string, help: string, value: (s: PoolStats) => number): Metric =>
    labelled(type, metric, help, ['pool'], () => [{ labels: { pool: name }, value: value(read()) }]);
  return [
    labelled('gauge', 'crossbus_pool_resources', 'resources in the pool, by state (AVAILABLE, ACQUIRED, BUSY)', ['pool', 'state'], () => {
      const s = read();
      return [
        { labels: { pool: name, state: 'AVAILABLE' }, value: s.available },
        { labels: { pool: name, state: 'ACQUIRED' }, value: s.acquired },
        { labels: { pool: name, state: 'BUSY' }, value: s.busy },
      ];
    }),
    one('gauge', 'crossbus_pool_creating', 'resources being created', (s) => s.creating),
    one('gauge', 'crossbus_pool_waiting', 'callers waiting for a resource', (s) => s.waiting),
    one('counter', 'crossbus_pool_acquires_total', 'resources handed out', (s) => s.acquires),
    one('counter', 'crossbus_pool_created_total', 'resources created', (s) => s.created),
    one('counter', 'crossbus_pool_destroyed_total', 'resources destroyed (CLOSED): idle, failed or drained', (s) => s.destroyed),
    one(
      'counter',
      'crossbus_pool_failed_total',
      'resources that failed validation (FAILED) and were replaced',
      (s) => s.validationFailures,
    ),
    one('counter', 'crossbus_pool_create_failures_total', 'creations that failed after every retry', (s) => s.createFailures),
    one('counter', 'crossbus_pool_acquire_timeouts_total', 'acquires that failed with CB_ERR_POOL_TIMEOUT', (s) => s.timeouts),
  ];
}
