/**
 * What a mirrored folder and its document agreed on at the last sync: each file's SHA-256, kept
 * in a state file (beside the offline queue, for `crossbus sync <dir>`), so that the next start
 * tells a file deleted while the mirror was not running (it was there last time: a local delete)
 * from one the document has and the folder never had, and a file left untouched from one edited
 * meanwhile. Written atomically, the latest state after each change of it (writes coalesced).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createError, type CrossbusError } from '../../core/errors/index.js';
import { readIfExists, replaceFileAtomically } from '../atomic-file.js';

const STATE_VERSION = 1;

/** The state file of the mirror of document `doc` in the store folder `storeDir`. */
export function mirrorStateFile(storeDir: string, doc: string): string {
  return join(storeDir, `mirror-${createHash('sha256').update(doc).digest('hex').slice(0, 40)}.json`);
}

/**
 * The files (path → SHA-256 hex) folder `root` and its document agreed on at the last sync, or
 * undefined when there is no state file, or it belongs to another folder (moved, or a store shared
 * by several folders): then nothing is known, as on a first start. Throws CB_ERR_STREAM_CORRUPT for
 * a damaged file.
 */
export async function loadFolderState(file: string, root: string): Promise<Map<string, string> | undefined> {
  const text = await readIfExists(file);
  if (text === undefined) return undefined;
  let state: { version?: unknown; root?: unknown; files?: unknown };
  try {
    state = JSON.parse(text) as typeof state;
  } catch {
    throw damaged(file);
  }
  if (state?.version !== STATE_VERSION || typeof state.files !== 'object' || state.files === null) throw damaged(file);
  if (state.root !== root) return undefined;
  const out = new Map<string, string>();
  for (const [path, hash] of Object.entries(state.files)) {
    if (typeof hash !== 'string' || !path.startsWith('/')) throw damaged(file);
    out.set(path, hash);
  }
  return out;
}

function damaged(file: string): CrossbusError {
  return createError('CB_ERR_STREAM_CORRUPT', `the mirror's state file ${file} is damaged: starting as if it were not there`, {
    details: { where: file },
  });
}

/** Writes a folder's state, the latest one asked for after the write under way. */
export class FolderStateWriter {
  readonly #file: string;
  readonly #root: string;
  #running: Promise<void> | undefined;
  #next: ReadonlyMap<string, string> | undefined;

  constructor(file: string, root: string) {
    this.#file = file;
    this.#root = root;
  }

  /** Saves `files` (copied now); resolves once it, or a later state, is on disk. */
  save(files: ReadonlyMap<string, string>): Promise<void> {
    this.#next = new Map(files);
    this.#running ??= this.#drain();
    return this.#running;
  }

  /** Resolves once the writes asked for so far are done (or failed: `save()` said so). */
  async idle(): Promise<void> {
    await this.#running?.catch(() => {});
  }

  async #drain(): Promise<void> {
    try {
      while (this.#next !== undefined) {
        const files = this.#next;
        this.#next = undefined;
        const text = JSON.stringify({ version: STATE_VERSION, root: this.#root, files: Object.fromEntries(files) });
        await replaceFileAtomically(this.#file, text);
      }
    } finally {
      this.#running = undefined;
    }
  }
}
