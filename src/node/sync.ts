/**
 * Replicated documents in Node (`crossbus/sync`): `createSync(bus)` for a Bus made otherwise
 * (with Node's crypto), `FileSyncStore` (offline edits in a folder, kept across restarts) and
 * `FolderMirror` (a folder and a file tree document kept in step both ways, as
 * `crossbus sync <dir>` does).
 */
import type { Bus } from '../client/bus.js';
import { createSync as createSyncWith, type SyncApi, type SyncOptions } from '../client/sync/sync-api.js';
import { createNodeCryptoProvider } from './crypto/node-provider.js';

export * from '../client/sync/index.js';
export { FileSyncStore } from './sync/file-sync-store.js';
export {
  FolderMirror,
  DEFAULT_FOLDER_DETECT,
  DEFAULT_FOLDER_SCAN_MS,
  DEFAULT_FOLDER_SETTLE_MS,
  DEFAULT_FOLDER_MAX_REREADS,
  type FolderMirrorOptions,
  type MirrorEvent,
  type MirroredTree,
} from './sync/folder-mirror.js';
export type { FolderDetect } from './sync/folder-files.js';
export { mirrorStateFile } from './sync/folder-state.js';

/** `bus.sync` for a Bus made otherwise; SHA-256 is Node's unless `options.crypto` names another. */
export function createSync(bus: Bus, options: SyncOptions = {}): SyncApi {
  return createSyncWith(bus, options.crypto === undefined ? { ...options, crypto: createNodeCryptoProvider() } : options);
}
