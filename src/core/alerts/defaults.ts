/**
 * Every default of the alert engine, in one place (kept apart from src/core/defaults.ts, which
 * the page client bundles: the page has no alerts). The `alerts` config schema reads them from here.
 */
/** How often alert rules are evaluated against the hub's metrics. @default 15_000 */
export const DEFAULT_ALERT_INTERVAL_MS = 15_000;
/** The window a rate, an increase or a quantile is taken over when a rule names none. @default 300_000 (five minutes) */
export const DEFAULT_ALERT_WINDOW_MS = 300_000;
/** A firing alert is notified again after this long while it keeps firing. @default 14_400_000 (four hours) */
export const DEFAULT_ALERT_REPEAT_INTERVAL_MS = 14_400_000;
/** Rules an alert engine holds, the default rules included. @default 100 */
export const DEFAULT_MAX_ALERT_RULES = 100;
/** Silences held at once (expired ones are forgotten). @default 100 */
export const DEFAULT_MAX_ALERT_SILENCES = 100;
/** Alerts pending or firing at once; more are not tracked (and logged). @default 1000 */
export const DEFAULT_MAX_ACTIVE_ALERTS = 1000;
/** Label sets (`by` groups) one rule follows; samples beyond are ignored. @default 1000 */
export const DEFAULT_MAX_ALERT_SERIES_PER_RULE = 1000;
/** The labels notifications are grouped by (one webhook POST per group and evaluation). @default ['alertname'] */
export const DEFAULT_ALERT_GROUP_BY: readonly string[] = /* @__PURE__ */ Object.freeze(['alertname']);
/** How long one webhook POST may take before it is cut off. @default 5_000 */
export const DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS = 5_000;
/** Attempts after the first failed POST of a notification. @default 2 */
export const DEFAULT_ALERT_WEBHOOK_RETRIES = 2;
/** Pause before the first retry; doubled for each next one. @default 1_000 */
export const DEFAULT_ALERT_WEBHOOK_RETRY_DELAY_MS = 1_000;
/** Notifications waiting for the webhook; the oldest is dropped (and counted) beyond. @default 100 */
export const DEFAULT_ALERT_WEBHOOK_QUEUE = 100;
