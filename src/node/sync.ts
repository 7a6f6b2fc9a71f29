/**
 * Replicated documents in Node (`crossbus/sync`): `createSync(bus)` for a Bus made otherwise,
 * `FileSyncStore` (offline edits in a folder, kept across restarts) and `FolderMirror` (a folder
 * and a file tree document kept in step both ways, as `crossbus sync <dir>` does).
 */
export * from '../client/sync/index.js';
export { FileSyncStore } from './sync/file-sync-store.js';
export {
  FolderMirror,
  DEFAULT_FOLDER_DETECT,
  DEFAULT_FOLDER_SCAN_MS,
  DEFAULT_FOLDER_SETTLE_MS,
  type FolderMirrorOptions,
  type MirrorEvent,
  type MirroredTree,
} from './sync/folder-mirror.js';
export type { FolderDetect } from './sync/folder-files.js';
