/** The metrics of the versions the hub runs: instances by state, and restarts, per app and version. */
import { labelled, type Metric } from '../../core/metrics/metric.js';
import { INSTANCE_STATES } from '../../node/apps/instance-slot.js';
import type { RunningRevision } from './running-revision.js';

export function revisionMetrics(running: () => readonly RunningRevision[]): readonly Metric[] {
  return [
    labelled('gauge', 'crossbus_app_instances', "The hub's app instances, by version and state", ['app', 'version', 'state'], () =>
      running().flatMap((r) =>
        INSTANCE_STATES.map((state) => ({
          labels: { app: r.record.app, version: r.record.version, state },
          value: r.supervisor.instances().filter((i) => i.state === state).length,
        })),
      ),
    ),
    labelled('counter', 'crossbus_app_restarts_total', "Restarts of the hub's app instances, by version", ['app', 'version'], () =>
      running().map((r) => ({
        labels: { app: r.record.app, version: r.record.version },
        value: r.supervisor.instances().reduce((t, i) => t + i.restarts, 0),
      })),
    ),
  ];
}
