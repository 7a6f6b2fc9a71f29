/**
 * The hub's alert engine (src/core/alerts), wired: its rules and limits from the config's
 * `alerts` section (or `startHub({ alerts })`), the hub's metrics to read, and its sinks: the
 * hub's log, the bus (`$SYS.ALERTS.<rule>`, published by the hub) and, when configured, a
 * webhook. Its requests (`$SYS.REQ.ALERTS…`) are answered by the broker like the other `$SYS`
 * requests.
 */
import { AlertsSchema, type AlertsConfig, type AlertsConfigInput } from '../core/alerts/alert-schema.js';
import { AlertService, type AlertSink } from '../core/alerts/alert-service.js';
import { alertResponders } from '../core/alerts/alert-requests.js';
import { logAlertSink, topicAlertSink } from '../core/alerts/sinks.js';
import type { Alert } from '../core/alerts/alert-state.js';
import type { SystemResponders } from '../core/broker/system-requests.js';
import { parseConfigPart } from '../core/config/parse.js';
import type { Metric } from '../core/metrics/metric.js';
import type { AuditSink } from '../core/security/audit.js';
import type { Logger } from '../core/util/logger.js';
import { WebhookAlertSink } from '../node/alerts/webhook-sink.js';

/** `startHub({ alerts })`: the `alerts` section in code (it replaces the config file's), or false for none. */
export type HubAlertsOption = AlertsConfigInput | false;

export interface HubAlerts {
  readonly service: AlertService | undefined;
  readonly responders: SystemResponders;
  metrics(): readonly Metric[];
  close(): void;
}

export interface AlertsSetupOptions {
  readonly option: HubAlertsOption | undefined;
  /** The config file's section (undefined: the hub has no config). */
  readonly section: AlertsConfig | undefined;
  readonly metrics: () => readonly Metric[];
  readonly publish: (topic: string, alert: Alert) => void;
  readonly hubId: () => string;
  readonly logger: Logger;
  readonly audit: AuditSink;
}

const NONE: HubAlerts = { service: undefined, responders: {}, metrics: () => [], close: () => {} };

export function setupAlerts(o: AlertsSetupOptions): HubAlerts {
  if (o.option === false) return NONE;
  const config: AlertsConfig =
    o.option !== undefined ? parseConfigPart(AlertsSchema, o.option, 'alerts') : (o.section ?? parseConfigPart(AlertsSchema, {}));
  if (!config.enabled) return NONE;
  const webhook = config.webhook === undefined ? undefined : new WebhookAlertSink(config.webhook, o.logger);
  const sinks: AlertSink[] = [logAlertSink(o.logger)];
  if (config.topic) sinks.push(topicAlertSink(o.publish));
  if (webhook !== undefined) sinks.push(webhook);
  let hubId = '';
  const service = new AlertService({
    config,
    metrics: o.metrics,
    sinks,
    get hubId() {
      hubId ||= o.hubId();
      return hubId;
    },
    logger: o.logger,
    audit: o.audit,
  });
  return {
    service,
    responders: alertResponders(service),
    metrics: () => [...service.metrics(), ...(webhook?.metrics() ?? [])],
    close: () => service.close(),
  };
}
