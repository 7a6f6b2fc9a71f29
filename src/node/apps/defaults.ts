/**
 * Every default of the app supervisor (src/node/apps/), in one place. The manifest's own defaults
 * (instances, health check, resources) are the core's: src/core/apps/defaults.ts.
 */

/**
 * Delay before the first restart of a series (the instance's first exit, or its first after a run
 * of at least `resetAfterMs`), in ms: a crash after a healthy run is replaced at once. @default 0
 */
export const DEFAULT_RESTART_FIRST_DELAY_MS = 0;
/** Delay before the second restart of a series, in ms; each further one waits `factor` times longer. @default 100 */
export const DEFAULT_RESTART_INITIAL_DELAY_MS = 100;
/** The longest delay between restarts, in ms. @default 30000 */
export const DEFAULT_RESTART_MAX_DELAY_MS = 30_000;
/** Each further restart waits this many times longer. @default 2 */
export const DEFAULT_RESTART_FACTOR = 2;
/** An instance that ran this long before it exited starts a new series (first delay, then the initial one), in ms. @default 10000 */
export const DEFAULT_RESTART_RESET_AFTER_MS = 10_000;
/** Restarts within `crashLoopWindowMs` past which an instance is in a crash loop and no longer restarted. @default 5 */
export const DEFAULT_CRASH_LOOP_RESTARTS = 5;
/** The window crash-loop restarts are counted in, in ms. @default 60000 */
export const DEFAULT_CRASH_LOOP_WINDOW_MS = 60_000;
/** How long a stopping instance may drain after SIGTERM before SIGKILL, in ms. @default 10000 */
export const DEFAULT_STOP_GRACE_MS = 10_000;
/** How long a new instance has to say it is connected (`ready`) before it counts as unhealthy, in ms. @default 10000 */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
