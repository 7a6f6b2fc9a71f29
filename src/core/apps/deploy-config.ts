/**
 * DeploymentConfig (seed 002 §5.4), declared once with valibot: the strategy, the target
 * environment, whether a failure rolls back, the smoke requests every new instance must answer
 * (validationChecks), the bus topics told of each step (notificationChannels), the time limit; and
 * each strategy's own settings (blue-green's scale-down delay, rolling's surge and unavailability,
 * canary's steps and analysis thresholds). Types are inferred; defaults live in deploy-defaults.ts.
 */
import * as v from 'valibot';
import { parseConfigPart } from '../config/parse.js';
import { integer, list, rule, settings, stringOrKind, text } from '../config/rules.js';
import { topicProblem } from '../topic.js';
import * as d from './deploy-defaults.js';

const topic = (mode: 'topic' | 'pattern') =>
  v.pipe(
    text(),
    rule((t) => topicProblem(t, mode)),
  );
const topics = v.optional(
  v.pipe(
    list(topic('topic')),
    rule((l) => (l.length > d.MAX_DEPLOY_TOPICS ? `must name at most ${d.MAX_DEPLOY_TOPICS} topics, got ${l.length}` : undefined)),
    v.readonly(),
  ),
  [],
);
const ms = (min: number, max: number, fallback: number) => v.optional(integer(min, max), fallback);
const fraction = (fallback: number) =>
  v.optional(
    v.pipe(
      v.number(),
      rule((n) => (n >= 0 && n <= 1 ? undefined : `must be from 0 to 1, got ${n}`)),
    ),
    fallback,
  );

const blueGreen = v.optional(
  v.pipe(
    settings({
      /** The old version keeps running this long after the switch, for an instant rollback (ms). @default 30000 */
      scaleDownDelayMs: ms(0, d.MAX_DEPLOY_TIMEOUT_MS, d.DEFAULT_SCALE_DOWN_DELAY_MS),
      /** Switch as soon as the preview passes its checks; false: wait for `deploy promote`. @default true */
      autoPromote: v.optional(v.boolean(), true),
      /** After the switch, the new version's live metrics are analysed this long before the old one may go (ms; 0: none). @default 0 */
      postPromotionAnalysisMs: ms(0, d.MAX_DEPLOY_TIMEOUT_MS, 0),
    }),
    v.readonly(),
  ),
  {},
);

const rolling = v.optional(
  v.pipe(
    settings({
      /** New instances started above the count at once. @default 1 */
      maxSurge: v.optional(integer(0, 64), d.DEFAULT_MAX_SURGE),
      /** Old instances stopped before their replacements are ready. @default 0 */
      maxUnavailable: v.optional(integer(0, 64), d.DEFAULT_MAX_UNAVAILABLE),
    }),
    // With neither, no instance could ever be replaced.
    rule(({ maxSurge, maxUnavailable }) =>
      maxSurge === 0 && maxUnavailable === 0 ? { path: ['maxSurge'], message: 'maxSurge and maxUnavailable cannot both be 0' } : undefined,
    ),
    v.readonly(),
  ),
  {},
);

const step = v.pipe(
  settings({
    /** Percent of the group's requests that go to the new version during this step. */
    weight: integer(1, 100),
    /** How long the step runs (its analysis with it) before the next, in ms; absent with `pause: "manual"`. */
    pauseMs: v.optional(integer(0, d.MAX_DEPLOY_TIMEOUT_MS)),
    /** "manual": the step holds until `deploy promote`. */
    pause: v.optional(v.picklist(['manual'], (i) => `must be "manual", got ${stringOrKind(i.input)}`)),
  }),
  rule((s) =>
    s.pauseMs === undefined && s.pause === undefined
      ? 'needs pauseMs or pause: "manual"'
      : s.pauseMs !== undefined && s.pause !== undefined
        ? 'takes pauseMs or pause: "manual", not both'
        : undefined,
  ),
  v.readonly(),
);

const analysis = v.optional(
  v.pipe(
    settings({
      /** How often the new version's live metrics are judged, in ms. @default 10000 */
      intervalMs: ms(d.MIN_ANALYSIS_INTERVAL_MS, d.MAX_DEPLOY_TIMEOUT_MS, d.DEFAULT_ANALYSIS_INTERVAL_MS),
      /** The highest error rate (failed replies / replies) that passes. @default 0.05 */
      maxErrorRate: fraction(d.DEFAULT_MAX_ERROR_RATE),
      /** The highest p99 reply latency that passes, in ms. @default 1000 */
      maxP99Ms: ms(1, d.MAX_DEPLOY_TIMEOUT_MS, d.DEFAULT_MAX_P99_MS),
      /** An interval with fewer requests than this is inconclusive. @default 20 */
      minRequests: v.optional(integer(1, 1_000_000), d.DEFAULT_MIN_REQUESTS),
      /** Inconclusive intervals in a row that fail the step. @default 6 */
      maxInconclusive: v.optional(integer(1, 1_000), d.DEFAULT_MAX_INCONCLUSIVE),
    }),
    v.readonly(),
  ),
  {},
);

const canary = v.optional(
  v.pipe(
    settings({
      /** Traffic steps, in increasing weight; after the last, the new version takes everything. @default 10 % then 50 %, 30 s each */
      steps: v.optional(
        v.pipe(
          list(step),
          rule((l) => {
            if (l.length === 0) return 'needs at least one step';
            if (l.length > d.MAX_CANARY_STEPS) return `must have at most ${d.MAX_CANARY_STEPS} steps, got ${l.length}`;
            for (let i = 1; i < l.length; i++)
              if (l[i]!.weight <= l[i - 1]!.weight)
                return { path: [i, 'weight'], message: `must be above the step before's (${l[i - 1]!.weight}), got ${l[i]!.weight}` };
            return undefined;
          }),
          v.readonly(),
        ),
        () => d.DEFAULT_CANARY_STEPS,
      ),
      analysis,
    }),
    v.readonly(),
  ),
  {},
);

export const DeploymentConfigSchema = v.pipe(
  settings(
    {
      /** @default "rolling" */
      strategy: v.optional(
        v.picklist(['blue-green', 'rolling', 'canary'], (i) => `must be "blue-green", "rolling" or "canary", got ${stringOrKind(i.input)}`),
        d.DEFAULT_STRATEGY,
      ),
      /** Its policy (production: an approval through consent) is the hub's. @default "development" */
      targetEnvironment: v.optional(
        v.picklist(
          ['development', 'staging', 'testing', 'production'],
          (i) => `must be "development", "staging", "testing" or "production", got ${stringOrKind(i.input)}`,
        ),
        d.DEFAULT_ENVIRONMENT,
      ),
      /** A failed check, analysis or time limit rolls back automatically; false: the deployment stops where it failed. @default true */
      rollbackEnabled: v.optional(v.boolean(), true),
      /** Topics every new instance must answer (a request each, no error) before it takes traffic. @default none */
      validationChecks: topics,
      /** Topics the hub publishes each step of the deployment to (besides `$SYS.DEPLOY.<app>`). @default none */
      notificationChannels: topics,
      /** The whole deployment's time limit, in ms. @default 600000 */
      timeout: ms(d.MIN_DEPLOY_TIMEOUT_MS, d.MAX_DEPLOY_TIMEOUT_MS, d.DEFAULT_DEPLOY_TIMEOUT_MS),
      /** A new instance's time to connect, attach and answer its checks, in ms. @default 30000 */
      readyTimeoutMs: ms(100, d.MAX_DEPLOY_TIMEOUT_MS, d.DEFAULT_READY_TIMEOUT_MS),
      /** One smoke request's time limit, in ms. @default 5000 */
      checkTimeoutMs: ms(10, d.MAX_DEPLOY_TIMEOUT_MS, d.DEFAULT_CHECK_TIMEOUT_MS),
      blueGreen,
      rolling,
      canary,
    },
    {
      checkOrder: [
        'strategy',
        'targetEnvironment',
        'rollbackEnabled',
        'validationChecks',
        'notificationChannels',
        'timeout',
        'readyTimeoutMs',
        'checkTimeoutMs',
        'blueGreen',
        'rolling',
        'canary',
      ],
    },
  ),
  v.readonly(),
);

export type DeploymentConfig = v.InferOutput<typeof DeploymentConfigSchema>;
export type DeploymentConfigInput = v.InferInput<typeof DeploymentConfigSchema>;
export type DeployStrategy = DeploymentConfig['strategy'];
export type DeployEnvironment = DeploymentConfig['targetEnvironment'];

/** Validates and normalizes a deployment config; never mutates `raw`. Throws ConfigError CB_ERR_CONFIG_INVALID with each problem's path. */
export function parseDeploymentConfig(raw: unknown, source?: string): DeploymentConfig {
  return parseConfigPart(DeploymentConfigSchema, raw ?? {}, source);
}
