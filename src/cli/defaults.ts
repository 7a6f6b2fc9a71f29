/**
 * Every default of the command line, in one place: the help of each command reads them.
 */
import type { LogLevel } from '../core/util/logger.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../hub/defaults.js';

/** The hub a client command connects to: a hub started with its defaults on this machine. @default 'ws://127.0.0.1:7070' */
export const DEFAULT_URL = `ws://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/** Entries `audit tail` prints when -n is not given. @default 20 */
export const DEFAULT_TAIL_ENTRIES = 20;

/** The demo's own state directory, so it never edits the config of your real hub. @default '.crossbus-demo' */
export const DEFAULT_DEMO_DATA_DIR = '.crossbus-demo';
/** Where the demo serves its editor page. @default 7071 */
export const DEFAULT_EDITOR_PORT = 7071;
/** Where the demo serves its preview page: another origin than the editor's. @default 7072 */
export const DEFAULT_PREVIEW_PORT = 7072;

/**
 * Dead letters republished per second by default: half a default app's rate limit (1000/s). Going
 * over an app's limit is refused and counts as abuse (slowed, then disconnected), so the replay
 * paces itself; --rate changes it, --rate 0 turns pacing off. @default 500
 */
export const DEFAULT_REPLAY_RATE = 500;

/** @default 'info' */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** The app a default config gives to clients. @default 'app' */
export const DEFAULT_CLIENT_APP = 'app';

/** Shell commands `crossbus reply --command` runs at once. @default 8 */
export const DEFAULT_REPLY_CONCURRENCY = 8;
/** How long one `crossbus reply --command` run may take before it is killed. @default 10_000 */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

/**
 * How long `crossbus deploy start` waits for the hub to take the package and stage it: an upload
 * of up to a frame (1 MiB) and the new version's instances started. @default 120_000
 */
export const DEFAULT_DEPLOY_START_TIMEOUT_MS = 120_000;
/** While following a deployment, the record is also read with a request this often. @default 5_000 */
export const DEFAULT_DEPLOY_POLL_MS = 5_000;
/** Deployments `crossbus deploy history` prints when --limit is not given. @default 20 */
export const DEFAULT_DEPLOY_HISTORY_LIMIT = 20;
