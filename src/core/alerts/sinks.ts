/**
 * The sinks every runtime has: the log (one line per alert) and a bus topic (the hub publishes
 * each alert on `$SYS.ALERTS.<rule>`, where the dashboard and any app granted it subscribe). The
 * webhook, which needs HTTP, is the Node hub's (src/node/alerts/webhook-sink.ts).
 */
import type { Logger } from '../util/logger.js';
import type { Alert } from './alert-state.js';
import type { AlertNotification, AlertSink } from './alert-service.js';

/** Alerts are published under this prefix, one topic per rule: `$SYS.ALERTS.CrossbusAuthFailures`. */
export const ALERTS_TOPIC_PREFIX = '$SYS.ALERTS.';

/** Firing alerts at `warn` (`error` when critical), resolutions at `info`. */
export function logAlertSink(logger: Logger): AlertSink {
  return {
    name: 'log',
    notify(n: AlertNotification): void {
      for (const a of n.alerts) {
        const fields = {
          alert: a.name,
          state: a.state,
          severity: a.severity,
          value: a.value,
          labels: a.labels,
          annotations: a.annotations,
        };
        const message = `alert ${a.name} ${a.state}${a.annotations.summary ? `: ${a.annotations.summary}` : ''}`;
        if (a.state === 'resolved') logger.info(fields, message);
        else if (a.severity === 'critical') logger.error(fields, message);
        else logger.warn(fields, message);
      }
    },
  };
}

/** Publishes each alert of a notification as JSON on `$SYS.ALERTS.<rule>` through `publish`. */
export function topicAlertSink(publish: (topic: string, alert: Alert) => void): AlertSink {
  return {
    name: 'topic',
    notify(n: AlertNotification): void {
      for (const a of n.alerts) publish(`${ALERTS_TOPIC_PREFIX}${a.name}`, a);
    },
  };
}
