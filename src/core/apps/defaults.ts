/**
 * Every default and bound of an app manifest (`crossbus.app.json`), in one place: the schema
 * (manifest-schema.ts) reads them, and so do the docs and the supervisor.
 */

/** Instances of a node app started when the manifest does not say. @default 1 */
export const DEFAULT_APP_INSTANCES = 1;
/** The most instances one manifest may ask for. @default 64 */
export const MAX_APP_INSTANCES = 64;

/** How often an instance beats over IPC, in ms. @default 1000 */
export const DEFAULT_HEALTH_INTERVAL_MS = 1_000;
/** A check fails when no beat came for this long, in ms. @default 3000 */
export const DEFAULT_HEALTH_TIMEOUT_MS = 3_000;
/** Consecutive failed checks before the instance is restarted. @default 3 */
export const DEFAULT_HEALTH_FAILURES = 3;
/** Bounds of the health check's times, in ms. @default 10 to 600000 */
export const MIN_HEALTH_MS = 10;
export const MAX_HEALTH_MS = 600_000;
/** The most consecutive failures a manifest may allow. @default 100 */
export const MAX_HEALTH_FAILURES = 100;

/** V8's old-space bound an instance is started with (`--max-old-space-size`), in MiB. @default none: Node's own */
export const MIN_OLD_SPACE_MB = 16;
export const MAX_OLD_SPACE_MB = 65_536;
/** Resident memory past which an instance is restarted, in MiB. @default none: not watched */
export const MIN_RSS_MB = 16;
export const MAX_RSS_MB = 1_048_576;
/** CPU (percent of one core) an instance may use for as long as the health check tolerates. @default none: not watched */
export const MAX_CPU_PERCENT = 6_400;

/** Variables in `env`, and the longest value. @default 256, 32768 */
export const MAX_APP_ENV_VARS = 256;
export const MAX_APP_ENV_VALUE_LENGTH = 32_768;

/**
 * Names the runtime sets itself (and an app's environment must not shadow): the hub, the app,
 * the instance. Every `CROSSBUS_*` name is refused, so that later ones are reserved too.
 */
export const RUNTIME_ENV_PREFIX = 'CROSSBUS_';
