/** The folder mirror's options, their defaults and their checks, and the document it mirrors as it sees it. */
import { createError, type CrossbusError } from '../../core/errors/index.js';
import type { FolderDetect } from './folder-files.js';

/** What the mirror needs of a file tree document. */
export interface MirroredTree {
  /** Every file's path. */
  paths(): string[];
  readFile(path: string): string | Uint8Array | undefined;
  /** An edit: throws (or rejects with) a typed error when refused (too large, the offline queue full). */
  writeFile(path: string, content: string | Uint8Array): void | Promise<void>;
  deleteFile(path: string): void;
  on(event: 'change', listener: (e: { origin: 'local' | 'remote'; paths: readonly string[] }) => void): () => void;
}

/** One file the mirror carried across, for a log. */
export interface MirrorEvent {
  /** `up`: the folder's change went into the document; `down`: the document's change was written into the folder. */
  direction: 'up' | 'down';
  action: 'write' | 'delete';
  path: string;
}

export interface FolderMirrorOptions {
  /** How a changed file is noticed. @default DEFAULT_FOLDER_DETECT */
  detect?: FolderDetect;
  /** The folder is scanned this often besides being watched; 0: never. @default DEFAULT_FOLDER_SCAN_MS */
  scanIntervalMs?: number;
  /** Notices about one file within this long are handled once. @default DEFAULT_FOLDER_SETTLE_MS */
  settleMs?: number;
  /** Each file carried across. @default none */
  onSynced?: (event: MirrorEvent) => void;
  /** A file that could not be carried (refused by the document, unreadable): the mirror goes on. @default none */
  onError?: (error: CrossbusError, path: string) => void;
  /**
   * Where the mirror records what the folder and the document held at the last sync (a JSON file,
   * replaced atomically; one per folder and document: see `mirrorStateFile`), so that a file
   * deleted while the mirror was not running is a delete, not a file missing. @default none: such a file comes back
   */
  stateFile?: string;
}

/** @default 'timestamp' */
export const DEFAULT_FOLDER_DETECT: FolderDetect = 'timestamp';
/** @default 2_000 */
export const DEFAULT_FOLDER_SCAN_MS = 2_000;
/** @default 30 */
export const DEFAULT_FOLDER_SETTLE_MS = 30;

/** The options with their defaults; CB_ERR_INVALID_OPTION names a bad one. */
export function resolveMirrorOptions(o: FolderMirrorOptions): Required<Omit<FolderMirrorOptions, 'stateFile'>> {
  const detect = o.detect ?? DEFAULT_FOLDER_DETECT;
  if (!['seq', 'timestamp', 'hash'].includes(detect)) {
    throw createError('CB_ERR_INVALID_OPTION', `detect must be 'seq', 'timestamp' or 'hash', got ${JSON.stringify(detect)}`, {
      details: { option: 'detect' },
    });
  }
  return {
    detect,
    scanIntervalMs: nonNegative('scanIntervalMs', o.scanIntervalMs, DEFAULT_FOLDER_SCAN_MS),
    settleMs: nonNegative('settleMs', o.settleMs, DEFAULT_FOLDER_SETTLE_MS),
    onSynced: o.onSynced ?? (() => {}),
    onError: o.onError ?? (() => {}),
  };
}

function nonNegative(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw createError('CB_ERR_INVALID_OPTION', `${name} must be an integer >= 0, got ${String(v)}`, { details: { option: name } });
  }
  return v;
}
