/**
 * Mirrors a folder and a file tree document both ways (`crossbus sync <dir> --doc <name>`): a file
 * written, changed or deleted in the folder becomes an edit of the document, and a change that
 * arrives from another replica is written into the folder atomically (a temporary file, then a
 * rename) and remembered, so that the folder's own notice of that write is not sent back.
 *
 * The folder is watched (`fs.watch`, recursive) and also scanned now and then, because a watch can
 * miss events (an overflowing queue, some network file systems); the chosen detection decides
 * which files a notice or a scan reads: `timestamp` those whose size or mtime changed, `hash`
 * those whose SHA-256 changed (every file is read), `seq` every file named by a notice. Whatever
 * the detection, a file whose content equals the document's makes no edit. All work runs one task
 * at a time, so a remote write and a local read of one file never interleave.
 *
 * At start, the folder and the document are joined: a file that differs from the document's (or
 * that the document lacks) is sent as an edit, and a file only the document has is written. A file
 * deleted while the mirror was not running cannot be told from one never synced: it comes back.
 * A file edited in the folder when a remote change to it arrives is sent as an edit made after that
 * change (the folder's content wins); the remote change stays in the document's history.
 */
import { watch, type FSWatcher } from 'node:fs';
import { isCrossbusError, createError, type CrossbusError } from '../../core/errors/index.js';
import {
  bytesOf,
  contentOf,
  fileOf,
  isPrivate,
  listFiles,
  readSeen,
  removeFile,
  sha256Hex,
  statFile,
  writeAtomically,
  type FileSeen,
  type FolderDetect,
} from './folder-files.js';

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
}

/** @default 'timestamp' */
export const DEFAULT_FOLDER_DETECT: FolderDetect = 'timestamp';
/** @default 2_000 */
export const DEFAULT_FOLDER_SCAN_MS = 2_000;
/** @default 30 */
export const DEFAULT_FOLDER_SETTLE_MS = 30;

export class FolderMirror {
  readonly root: string;
  readonly #doc: MirroredTree;
  readonly #detect: FolderDetect;
  readonly #scanMs: number;
  readonly #settleMs: number;
  readonly #onSynced: (event: MirrorEvent) => void;
  readonly #onError: (error: CrossbusError, path: string) => void;
  /** Each file as the mirror last read or wrote it. */
  readonly #seen = new Map<string, FileSeen>();
  /** Paths the folder named since the last settle. */
  readonly #noticed = new Set<string>();
  #tasks: Promise<void> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #scanTimer: ReturnType<typeof setInterval> | undefined;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  #offChange: (() => void) | undefined;
  #stopped = false;

  constructor(root: string, doc: MirroredTree, options: FolderMirrorOptions = {}) {
    this.root = root;
    this.#doc = doc;
    this.#detect = options.detect ?? DEFAULT_FOLDER_DETECT;
    if (!['seq', 'timestamp', 'hash'].includes(this.#detect)) {
      throw createError('CB_ERR_INVALID_OPTION', `detect must be 'seq', 'timestamp' or 'hash', got ${JSON.stringify(this.#detect)}`, {
        details: { option: 'detect' },
      });
    }
    this.#scanMs = nonNegative('scanIntervalMs', options.scanIntervalMs, DEFAULT_FOLDER_SCAN_MS);
    this.#settleMs = nonNegative('settleMs', options.settleMs, DEFAULT_FOLDER_SETTLE_MS);
    this.#onSynced = options.onSynced ?? (() => {});
    this.#onError = options.onError ?? (() => {});
  }

  /** Joins the folder and the document, then keeps them in step; resolves once joined and watching. */
  async start(): Promise<void> {
    this.#offChange = this.#doc.on('change', (e) => {
      if (e.origin === 'remote') this.#run(() => this.#writeDown(e.paths));
    });
    this.#watcher = watch(this.root, { recursive: true }, (_event, name) => this.#notice(name));
    this.#watcher.on('error', (err) => this.#onError(asError(err, 'watching the folder failed'), '/'));
    await this.#run(async () => {
      for (const path of await listFiles(this.root)) await this.#sendUp(path, true);
      const onDisk = new Set(this.#seen.keys());
      await this.#writeDown(this.#doc.paths().filter((p) => !onDisk.has(p)));
    });
    if (this.#scanMs > 0) this.#scanTimer = setInterval(() => this.#run(() => this.#scan()), this.#scanMs);
  }

  /** Stops watching; resolves once the task under way ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#offChange?.();
    this.#watcher?.close();
    clearInterval(this.#scanTimer);
    clearTimeout(this.#settleTimer);
    await this.#tasks;
  }

  /** One task after the others; errors are reported, never thrown at the queue. */
  #run(task: () => Promise<void>): Promise<void> {
    this.#tasks = this.#tasks.then(
      () => (this.#stopped ? undefined : task().catch((err: unknown) => this.#onError(asError(err, 'mirroring failed'), '/'))),
      () => {},
    );
    return this.#tasks;
  }

  #notice(name: string | Buffer | null): void {
    if (this.#stopped) return;
    if (name === null) {
      this.#run(() => this.#scan());
      return;
    }
    const rel = name.toString();
    if (isPrivate(rel)) return;
    this.#noticed.add(`/${rel.split(/[\\/]/).join('/')}`);
    this.#settleTimer ??= setTimeout(() => {
      this.#settleTimer = undefined;
      const paths = [...this.#noticed];
      this.#noticed.clear();
      this.#run(async () => {
        for (const p of paths) await this.#sendUp(p, this.#detect === 'seq');
      });
    }, this.#settleMs);
  }

  /** Every file on disk, and every file seen before: each checked by the detection. */
  async #scan(): Promise<void> {
    const paths = new Set([...(await listFiles(this.root)), ...this.#seen.keys()]);
    for (const p of paths) await this.#sendUp(p, false);
  }

  /** The folder's `path` into the document, when it changed (`force`: read it whatever the detection says). */
  async #sendUp(path: string, force: boolean): Promise<void> {
    const file = fileOf(this.root, path);
    if (file === undefined) return;
    const before = this.#seen.get(path);
    const s = await statFile(file);
    if (s === undefined) {
      // A directory's notice names the directory: only a file seen before can have been deleted.
      if (before === undefined) return;
      this.#seen.delete(path);
      if (this.#doc.readFile(path) === undefined) return;
      await this.#edit(path, () => this.#doc.deleteFile(path), 'delete');
      return;
    }
    if (!force && before !== undefined && this.#detect === 'timestamp' && before.size === s.size && before.mtimeMs === s.mtimeMs) return;
    const read = await readSeen(file);
    if (read === undefined) return;
    if (!force && before !== undefined && before.hash === read.seen.hash) {
      this.#seen.set(path, read.seen);
      return;
    }
    this.#seen.set(path, read.seen);
    const current = this.#doc.readFile(path);
    if (current !== undefined && sha256Hex(bytesOf(current)) === read.seen.hash) return;
    await this.#edit(path, () => this.#doc.writeFile(path, contentOf(read.bytes)), 'write');
  }

  async #edit(path: string, edit: () => void | Promise<void>, action: MirrorEvent['action']): Promise<void> {
    try {
      await edit();
      this.#onSynced({ direction: 'up', action, path });
    } catch (err) {
      this.#onError(asError(err, `sending ${path} failed`), path);
    }
  }

  /** The document's files at or under `paths` into the folder. */
  async #writeDown(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const docPaths = this.#doc.paths();
    for (const p of paths) {
      const under = (q: string): boolean => q === p || q.startsWith(p.endsWith('/') ? p : `${p}/`);
      for (const q of docPaths.filter(under)) await this.#writeFile(q);
      for (const q of [...this.#seen.keys()].filter(under)) {
        if (this.#doc.readFile(q) !== undefined) continue;
        const file = fileOf(this.root, q);
        if (file === undefined) continue;
        await this.#sendUp(q, false); // a local edit not yet sent goes first
        if (this.#doc.readFile(q) !== undefined) continue;
        this.#seen.delete(q);
        if (await removeFile(file)) this.#onSynced({ direction: 'down', action: 'delete', path: q });
      }
    }
  }

  async #writeFile(path: string): Promise<void> {
    const file = fileOf(this.root, path);
    const content = this.#doc.readFile(path);
    if (file === undefined || content === undefined) return;
    // A local edit not yet sent goes first: the folder's content is not overwritten unseen.
    await this.#sendUp(path, false);
    const now = this.#doc.readFile(path);
    if (now === undefined) return;
    const bytes = bytesOf(now);
    const hash = sha256Hex(bytes);
    if (this.#seen.get(path)?.hash === hash) return;
    this.#seen.set(path, await writeAtomically(file, bytes));
    this.#onSynced({ direction: 'down', action: 'write', path });
  }
}

function nonNegative(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw createError('CB_ERR_INVALID_OPTION', `${name} must be an integer >= 0, got ${String(v)}`, { details: { option: name } });
  }
  return v;
}

function asError(err: unknown, message: string): CrossbusError {
  return isCrossbusError(err)
    ? err
    : createError('CB_ERR_INTERNAL', `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
