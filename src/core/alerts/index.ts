export { AlertsSchema, AlertRuleSchema, SilenceSchema, WebhookSchema } from './alert-schema.js';
export type {
  AlertRule,
  AlertRuleInput,
  AlertsConfig,
  AlertsConfigInput,
  AlertFunction,
  AlertSeverity,
  SilenceInput,
  WebhookConfig,
} from './alert-schema.js';
export { AlertService, systemAlertClock } from './alert-service.js';
export type { AlertClock, AlertNotification, AlertServiceOptions, AlertSink, AlertsSnapshot } from './alert-service.js';
export type { Alert, AlertState } from './alert-state.js';
export type { Silence } from './silences.js';
export { defaultAlertRules } from './default-rules.js';
export { histogramQuantile } from './rule-series.js';
export { ALERTS_TOPIC_PREFIX, logAlertSink, topicAlertSink } from './sinks.js';
export { ALERTS_LIST_TOPIC, ALERTS_SILENCE_ADD_TOPIC, ALERTS_SILENCE_REMOVE_TOPIC, alertResponders } from './alert-requests.js';
