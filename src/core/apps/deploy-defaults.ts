/**
 * Every default and bound of a deployment (DeploymentConfig, seed 002 §5.4, and its strategies),
 * in one place: the schema (deploy-config.ts) and the hub's deployment manager read them.
 */

/** @default 'rolling' */
export const DEFAULT_STRATEGY = 'rolling';
/** @default 'development' */
export const DEFAULT_ENVIRONMENT = 'development';
/** The whole deployment's time limit, in ms; past it, it is rolled back. @default 600000 */
export const DEFAULT_DEPLOY_TIMEOUT_MS = 600_000;
export const MIN_DEPLOY_TIMEOUT_MS = 1_000;
export const MAX_DEPLOY_TIMEOUT_MS = 24 * 3_600_000;
/** A new instance's time to connect, attach and pass its checks, in ms. @default 30000 */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** One smoke request's time limit, in ms. @default 5000 */
export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
/** Smoke requests (validationChecks) and notification topics one config may name. @default 16 */
export const MAX_DEPLOY_TOPICS = 16;

/** Blue-green: how long the old version keeps running after the switch (instant rollback), in ms. @default 30000 */
export const DEFAULT_SCALE_DOWN_DELAY_MS = 30_000;
/** Rolling: new instances above the count at once. @default 1 */
export const DEFAULT_MAX_SURGE = 1;
/** Rolling: instances fewer than the count at once. @default 0 */
export const DEFAULT_MAX_UNAVAILABLE = 0;

/** Canary: the traffic steps (percent of the group's requests to the new version) and their pauses. */
export const DEFAULT_CANARY_STEPS: readonly { readonly weight: number; readonly pauseMs: number }[] = Object.freeze([
  { weight: 10, pauseMs: 30_000 },
  { weight: 50, pauseMs: 30_000 },
]);
export const MAX_CANARY_STEPS = 20;
/** Canary analysis: how often live metrics are judged, in ms. @default 10000 */
export const DEFAULT_ANALYSIS_INTERVAL_MS = 10_000;
export const MIN_ANALYSIS_INTERVAL_MS = 50;
/** Canary analysis: the highest error rate (errors / replies) that passes. @default 0.05 */
export const DEFAULT_MAX_ERROR_RATE = 0.05;
/** Canary analysis: the highest p99 reply latency that passes, in ms. @default 1000 */
export const DEFAULT_MAX_P99_MS = 1_000;
/** Canary analysis: fewer requests than this in an interval judge nothing (inconclusive). @default 20 */
export const DEFAULT_MIN_REQUESTS = 20;
/** Canary analysis: inconclusive intervals in a row before the step is judged failed. @default 6 */
export const DEFAULT_MAX_INCONCLUSIVE = 6;

/** Deployments kept in each app's history. @default 50 */
export const DEFAULT_DEPLOY_HISTORY = 50;
