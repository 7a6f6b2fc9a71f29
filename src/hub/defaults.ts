/**
 * Every default of the hub (where it listens, how long it drains, where streams live), in one place.
 */
import type { StreamStorageChoice } from './stream-setup.js';

/** @default '127.0.0.1' (loopback only: exposing a hub is an explicit choice) */
export const DEFAULT_HOST = '127.0.0.1';
/** @default 7070 */
export const DEFAULT_PORT = 7070;
/** @default 5_000 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/** @default 'auto' */
export const DEFAULT_STREAM_STORAGE: StreamStorageChoice = 'auto';
