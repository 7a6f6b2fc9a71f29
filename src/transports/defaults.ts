/**
 * Every default of the transports, in one place (see src/core/defaults.ts for the core's).
 */

/** How often connected windows are checked for being gone (a removed iframe, a closed popup). @default 500 */
export const DEFAULT_WATCH_INTERVAL_MS = 500;

/** @default 5000 */
export const DEFAULT_WINDOW_CONNECT_TIMEOUT_MS = 5000;
