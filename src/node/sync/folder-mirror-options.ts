/** The folder mirror's options, their defaults and their checks, and the document it mirrors as it sees it. */
import { createError, isCrossbusError, type CrossbusError } from '../../core/errors/index.js';
import type { FolderDetect } from './folder-files.js';

/** What the mirror needs of a file tree document. */
export interface MirroredTree {
  /** Every file's path. */
  paths(): string[];
  readFile(path: string): string | Uint8Array | undefined;
  /** An edit: throws (or rejects with) a typed error when refused (too large, the offline queue full). */
  writeFile(path: string, content: string | Uint8Array): void | Promise<void>;
  deleteFile(path: string): void;
  /** `replica`: who made a remote change, when one replica did (a conflicted copy is named after it). */
  on(event: 'change', listener: (e: { origin: 'local' | 'remote'; paths: readonly string[]; replica?: string }) => void): () => void;
}

/** One file the mirror carried across, for a log. */
export type MirrorEvent =
  | {
      /** `up`: the folder's change went into the document; `down`: the document's change was written into the folder. */
      direction: 'up' | 'down';
      action: 'write' | 'delete';
      path: string;
    }
  | {
      /** The file changed in the folder and in the document at once, and the two were merged: both hold the merge. */
      direction: 'both';
      action: 'merge';
      path: string;
    }
  | {
      /**
       * The file changed in the folder and in the document at once, and the two could not be
       * merged: the folder's version stays at `path` (and went into the document), the document's
       * was written to `copy` (and is a file of the document too).
       */
      direction: 'both';
      action: 'conflict';
      path: string;
      copy: string;
      /** The replica whose change the copy holds, when known. */
      from?: string;
    };

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
  /** The time a conflicted copy is named with (ms since the epoch). @default Date.now */
  clock?: () => number;
  /**
   * How often a file edited while it is being reconciled is read again before it is left to the
   * notice of its next edit (it is never overwritten either way). @default DEFAULT_FOLDER_MAX_REREADS
   */
  maxRereads?: number;
}

/** @default 'timestamp' */
export const DEFAULT_FOLDER_DETECT: FolderDetect = 'timestamp';
/** @default 2_000 */
export const DEFAULT_FOLDER_SCAN_MS = 2_000;
/** @default 30 */
export const DEFAULT_FOLDER_SETTLE_MS = 30;
/** @default 3 */
export const DEFAULT_FOLDER_MAX_REREADS = 3;

/** The options with their defaults; CB_ERR_INVALID_OPTION names a bad one. */
export function resolveMirrorOptions(o: FolderMirrorOptions): Required<Omit<FolderMirrorOptions, 'stateFile'>> {
  if (o.clock !== undefined && typeof o.clock !== 'function') {
    throw createError('CB_ERR_INVALID_OPTION', 'clock must be a function', { details: { option: 'clock' } });
  }
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
    maxRereads: nonNegative('maxRereads', o.maxRereads, DEFAULT_FOLDER_MAX_REREADS),
    onSynced: o.onSynced ?? (() => {}),
    onError: o.onError ?? (() => {}),
    clock: o.clock ?? Date.now,
  };
}

function nonNegative(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw createError('CB_ERR_INVALID_OPTION', `${name} must be an integer >= 0, got ${String(v)}`, { details: { option: name } });
  }
  return v;
}

/** `err` as a typed error: a CrossbusError as it is, anything else as CB_ERR_INTERNAL saying what failed. */
export function asMirrorError(err: unknown, message: string): CrossbusError {
  return isCrossbusError(err)
    ? err
    : createError('CB_ERR_INTERNAL', `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
