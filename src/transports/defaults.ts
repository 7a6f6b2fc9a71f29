/**
 * Every default of the transports, in one place (see src/core/defaults.ts for the core's).
 */

/** How often connected windows are checked for being gone (a removed iframe, a closed popup). @default 500 */
export const DEFAULT_WATCH_INTERVAL_MS = 500;

/** @default 5000 */
export const DEFAULT_WINDOW_CONNECT_TIMEOUT_MS = 5000;

/** Bytes in each of a shared-memory connection's two rings (a power of two, 1 KiB to 1 GiB). @default 262144 */
export const DEFAULT_SHM_RING_BYTES = 256 * 1024;

/** How often each end of a shared-memory connection says it is alive (its beat word). @default 1000 */
export const DEFAULT_SHM_LIVENESS_MS = 1000;

/**
 * A shared-memory peer whose beat has not moved for this long is taken for dead (0: rely on the
 * port's close event only, where the runtime has one). @default 5000
 */
export const DEFAULT_SHM_DEAD_AFTER_MS = 5000;

/**
 * How long a reader that has just read blocks its thread in Atomics.wait for more before it goes
 * back to its event loop (woken at once when bytes arrive): the lowest latency between threads
 * that answer each other at once, for up to this much of the thread's time when no answer
 * comes. Only for a thread whose one connection this is (a worker and its hub): while it blocks,
 * nothing else in the thread runs, another ring's reader included. Ignored where a thread may
 * not block (a browser's main thread). 0 never blocks. @default 0
 */
export const DEFAULT_SHM_BLOCKING_WAIT_MICROS = 0;
