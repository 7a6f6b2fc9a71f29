/**
 * The `alerts` section of the hub config, declared once with valibot: rules over the hub's
 * metrics, how notifications are grouped and repeated, the webhook, silences given at start, and
 * the engine's limits. Every field has a default (src/core/defaults.ts).
 */
import * as v from 'valibot';
import { TimeSchema } from '../config/app-schema.js';
import { distinct, integer, kind, list, nameProblem, rule, settings, stringOrKind, text } from '../config/rules.js';
import {
  DEFAULT_ALERT_GROUP_BY,
  DEFAULT_ALERT_INTERVAL_MS,
  DEFAULT_ALERT_REPEAT_INTERVAL_MS,
  DEFAULT_ALERT_WEBHOOK_QUEUE,
  DEFAULT_ALERT_WEBHOOK_RETRIES,
  DEFAULT_ALERT_WEBHOOK_RETRY_DELAY_MS,
  DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS,
  DEFAULT_ALERT_WINDOW_MS,
  DEFAULT_MAX_ACTIVE_ALERTS,
  DEFAULT_MAX_ALERT_RULES,
  DEFAULT_MAX_ALERT_SERIES_PER_RULE,
  DEFAULT_MAX_ALERT_SILENCES,
} from './defaults.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DAY_MS = 86_400_000;

const metricName = v.pipe(
  text(),
  rule((m) => (METRIC_NAME.test(m) ? undefined : `metric ${JSON.stringify(m)} is not a Prometheus metric name`)),
);
const labelName = v.pipe(
  text(),
  rule((l) => (LABEL_NAME.test(l) ? undefined : `label ${JSON.stringify(l)} is not a Prometheus label name`)),
);

/** Label values by label name (`{ code: "CB_ERR_FORBIDDEN" }`): short strings, few of them. */
const labelMap = Object.assign(
  v.pipe(
    v.custom<Record<string, string>>(
      (x) =>
        typeof x === 'object' &&
        x !== null &&
        !Array.isArray(x) &&
        Object.keys(x).length <= 32 &&
        Object.entries(x).every(([k, value]) => LABEL_NAME.test(k) && typeof value === 'string' && value.length <= 1024),
      (issue) =>
        `must be an object of at most 32 labels (names like a Prometheus label, string values up to 1024 characters), got ${kind(issue.input)}`,
    ),
    v.transform((x) => Object.freeze({ ...x }) as Readonly<Record<string, string>>),
  ),
  { jsonSchema: { type: 'object', additionalProperties: { type: 'string', maxLength: 1024 }, maxProperties: 32 } },
);

const threshold = Object.assign(
  v.custom<number>(
    (x) => typeof x === 'number' && Number.isFinite(x),
    (issue) => `must be a finite number, got ${typeof issue.input === 'number' ? String(issue.input) : kind(issue.input)}`,
  ),
  { jsonSchema: { type: 'number' } },
);

/** What a rule computes from its metric's samples (after `match`, summed within each `by` group). */
export const ALERT_FUNCTIONS = ['value', 'rate', 'increase', 'quantile'] as const;
export type AlertFunction = (typeof ALERT_FUNCTIONS)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * One rule: `fn` over `metric` compared with `threshold`, true for `forMs` before it fires.
 * - `value`: a gauge's (or counter's) current value;
 * - `rate`: a counter's increase per second over `windowMs`; `increase`: its increase over `windowMs`;
 * - `quantile`: a histogram's `quantile` (0..1) over the observations of the last `windowMs`.
 */
export const AlertRuleSchema = v.pipe(
  settings(
    {
      name: v.pipe(
        text(),
        rule((n) => {
          const p = nameProblem(n);
          return p === undefined ? undefined : `rule name ${p}`;
        }),
      ),
      metric: metricName,
      fn: v.optional(
        v.picklist(ALERT_FUNCTIONS, (issue) => `must be one of ${ALERT_FUNCTIONS.join(', ')}, got ${stringOrKind(issue.input)}`),
        'value',
      ),
      quantile: v.optional(
        Object.assign(
          v.custom<number>(
            (x) => typeof x === 'number' && x > 0 && x < 1,
            (issue) =>
              `must be a number between 0 and 1 (exclusive), got ${typeof issue.input === 'number' ? issue.input : kind(issue.input)}`,
          ),
          { jsonSchema: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } },
        ),
      ),
      windowMs: v.optional(integer(1000, DAY_MS), DEFAULT_ALERT_WINDOW_MS),
      /** Only samples with these label values count. */
      match: v.optional(labelMap, {}),
      /** One alert per distinct value of these labels (the rest summed); none: one alert for the whole metric. */
      by: v.optional(v.pipe(list(labelName), v.maxLength(8, 'may name at most 8 labels'), v.readonly()), []),
      op: v.optional(
        v.picklist(['>', '<'], (issue) => `must be ">" or "<", got ${stringOrKind(issue.input)}`),
        '>',
      ),
      threshold,
      forMs: v.optional(integer(0, DAY_MS), 0),
      severity: v.optional(
        v.picklist(ALERT_SEVERITIES, (issue) => `must be one of ${ALERT_SEVERITIES.join(', ')}, got ${stringOrKind(issue.input)}`),
        'warning',
      ),
      labels: v.optional(labelMap, {}),
      /** `summary`, `description`: words for the people who get the notification. */
      annotations: v.optional(labelMap, {}),
    },
    {
      checkOrder: [
        'name',
        'metric',
        'fn',
        'quantile',
        'windowMs',
        'match',
        'by',
        'op',
        'threshold',
        'forMs',
        'severity',
        'labels',
        'annotations',
      ],
    },
  ),
  rule((r) =>
    r.fn === 'quantile' && r.quantile === undefined
      ? { path: ['quantile'], message: 'is required when fn is "quantile"' }
      : r.fn !== 'quantile' && r.quantile !== undefined
        ? { path: ['quantile'], message: 'is only for fn "quantile"' }
        : undefined,
  ),
  v.readonly(),
);
export type AlertRule = v.InferOutput<typeof AlertRuleSchema>;
export type AlertRuleInput = v.InferInput<typeof AlertRuleSchema>;

/** A silence: alerts whose labels equal every matcher are not notified until `expiresAt`. */
export const SilenceSchema = v.pipe(
  settings({
    matchers: v.pipe(
      labelMap,
      rule((m) => (Object.keys(m).length === 0 ? 'must name at least one label (a silence of everything is not allowed)' : undefined)),
    ),
    expiresAt: TimeSchema,
    comment: v.optional(v.pipe(text(), v.maxLength(1024, 'must be at most 1024 characters')), ''),
  }),
  v.readonly(),
);
export type SilenceInput = v.InferInput<typeof SilenceSchema>;

export const WebhookSchema = v.pipe(
  settings({
    /** http(s) URL the notifications are POSTed to, as JSON. Never logged whole (it may carry a token). */
    url: v.pipe(
      text(),
      rule((u) => {
        let url: URL;
        try {
          url = new URL(u);
        } catch {
          return 'url is not a valid URL';
        }
        return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'url must be http: or https:';
      }),
    ),
    timeoutMs: v.optional(integer(100, 300_000), DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS),
    retries: v.optional(integer(0, 10), DEFAULT_ALERT_WEBHOOK_RETRIES),
    retryDelayMs: v.optional(integer(0, 600_000), DEFAULT_ALERT_WEBHOOK_RETRY_DELAY_MS),
    maxQueue: v.optional(integer(1, 100_000), DEFAULT_ALERT_WEBHOOK_QUEUE),
  }),
  v.readonly(),
);
export type WebhookConfig = v.InferOutput<typeof WebhookSchema>;

export const AlertsSchema = v.pipe(
  settings({
    enabled: v.optional(
      v.boolean((issue) => `must be true or false, got ${kind(issue.input)}`),
      true,
    ),
    intervalMs: v.optional(integer(100, 3_600_000), DEFAULT_ALERT_INTERVAL_MS),
    /** The built-in rules (error rate, p99 latency, slow consumers, consumer lag, auth failures) besides `rules`. */
    defaultRules: v.optional(
      v.boolean((issue) => `must be true or false, got ${kind(issue.input)}`),
      true,
    ),
    rules: v.optional(
      v.pipe(
        list(AlertRuleSchema),
        distinct(
          (r) => r.name,
          (n) => `rule "${n}" is defined twice`,
          'name',
        ),
        v.readonly(),
      ),
      [],
    ),
    groupBy: v.optional(v.pipe(list(labelName), v.maxLength(8, 'may name at most 8 labels'), v.readonly()), DEFAULT_ALERT_GROUP_BY),
    repeatIntervalMs: v.optional(integer(1000, 30 * DAY_MS), DEFAULT_ALERT_REPEAT_INTERVAL_MS),
    /** Publish every alert's changes on `$SYS.ALERTS.<rule>`. */
    topic: v.optional(
      v.boolean((issue) => `must be true or false, got ${kind(issue.input)}`),
      true,
    ),
    webhook: v.optional(WebhookSchema),
    silences: v.optional(v.pipe(list(SilenceSchema), v.readonly()), []),
    maxRules: v.optional(integer(1, 10_000), DEFAULT_MAX_ALERT_RULES),
    maxSilences: v.optional(integer(1, 100_000), DEFAULT_MAX_ALERT_SILENCES),
    maxActiveAlerts: v.optional(integer(1, 1_000_000), DEFAULT_MAX_ACTIVE_ALERTS),
    maxSeriesPerRule: v.optional(integer(1, 100_000), DEFAULT_MAX_ALERT_SERIES_PER_RULE),
  }),
  rule((a) =>
    a.silences.length > a.maxSilences
      ? { path: ['silences'], message: `lists ${a.silences.length} silences; maxSilences is ${a.maxSilences}` }
      : a.rules.length > a.maxRules
        ? { path: ['rules'], message: `lists ${a.rules.length} rules; maxRules is ${a.maxRules}` }
        : undefined,
  ),
  v.readonly(),
);
/** The parsed `alerts` section: every default filled in. */
export type AlertsConfig = v.InferOutput<typeof AlertsSchema>;
export type AlertsConfigInput = v.InferInput<typeof AlertsSchema>;
