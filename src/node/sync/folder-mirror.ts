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
 * At start, the folder and the document are joined. With a `stateFile`, which records what both
 * held at the last sync (./folder-state.ts): a file untouched since then takes the document's
 * version (or goes, when the document deleted it meanwhile); a file gone from the folder since
 * then is deleted from the document (unless the document changed it meanwhile: then it comes back,
 * with that change); a file edited or new in the folder is sent as an edit; a file only the
 * document has is written. Without a state file nothing is known of the last sync: every file that
 * differs from the document's is sent as an edit, and a file deleted while the mirror was not
 * running comes back. A file edited in the folder when a remote change to it arrives is sent as an
 * edit made after that change (the folder's content wins); the remote change stays in the
 * document's history.
 */
import { watch, type FSWatcher } from 'node:fs';
import { isCrossbusError, createError, type CrossbusError } from '../../core/errors/index.js';
import { FolderStateWriter, loadFolderState } from './folder-state.js';
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
import { resolveMirrorOptions, type FolderMirrorOptions, type MirrorEvent, type MirroredTree } from './folder-mirror-options.js';

export {
  DEFAULT_FOLDER_DETECT,
  DEFAULT_FOLDER_SCAN_MS,
  DEFAULT_FOLDER_SETTLE_MS,
  type FolderMirrorOptions,
  type MirrorEvent,
  type MirroredTree,
} from './folder-mirror-options.js';

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
  /** The files the folder and the document agree on (SHA-256 hex): what the state file keeps. */
  readonly #synced = new Map<string, string>();
  readonly #state: FolderStateWriter | undefined;
  readonly #stateFile: string | undefined;
  #stateDirty = false;
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
    const o = resolveMirrorOptions(options);
    this.#detect = o.detect;
    this.#scanMs = o.scanIntervalMs;
    this.#settleMs = o.settleMs;
    this.#onSynced = o.onSynced;
    this.#onError = o.onError;
    this.#stateFile = options.stateFile;
    this.#state = options.stateFile === undefined ? undefined : new FolderStateWriter(options.stateFile, root);
  }

  /** Joins the folder and the document, then keeps them in step; resolves once joined and watching. */
  async start(): Promise<void> {
    this.#offChange = this.#doc.on('change', (e) => {
      if (e.origin === 'remote') this.#run(() => this.#writeDown(e.paths));
    });
    this.#watcher = watch(this.root, { recursive: true }, (_event, name) => this.#notice(name));
    this.#watcher.on('error', (err) => this.#onError(asError(err, 'watching the folder failed'), '/'));
    await this.#run(() => this.#join());
    if (this.#scanMs > 0) this.#scanTimer = setInterval(() => this.#run(() => this.#scan()), this.#scanMs);
  }

  /** The folder and the document joined, as the last sync (the state file) tells. */
  async #join(): Promise<void> {
    let last: Map<string, string> | undefined;
    try {
      last = this.#stateFile === undefined ? undefined : await loadFolderState(this.#stateFile, this.root);
    } catch (err) {
      this.#onError(asError(err, 'reading the state file failed'), '/');
    }
    const down: string[] = [];
    const onDisk = new Set<string>();
    for (const path of await listFiles(this.root)) {
      onDisk.add(path);
      const was = last?.get(path);
      const file = fileOf(this.root, path);
      const read = was === undefined || file === undefined ? undefined : await readSeen(file);
      if (read === undefined || read.seen.hash !== was) {
        await this.#sendUp(path, true);
        continue;
      }
      // Untouched here since the last sync: the document's version is the newer one.
      this.#seen.set(path, read.seen);
      if (this.#docHash(path) === was) this.#agree(path, was);
      else down.push(path);
    }
    for (const path of this.#doc.paths()) {
      if (onDisk.has(path)) continue;
      const was = last?.get(path);
      // Gone from the folder since the last sync, and unchanged in the document meanwhile: deleted here.
      if (was !== undefined && this.#docHash(path) === was) {
        if (await this.#edit(path, () => this.#doc.deleteFile(path), 'delete')) this.#agree(path, undefined);
      } else down.push(path);
    }
    await this.#writeDown(down);
  }

  #docHash(path: string): string | undefined {
    const content = this.#doc.readFile(path);
    return content === undefined ? undefined : sha256Hex(bytesOf(content));
  }

  /** The folder and the document hold `hash` at `path` (undefined: neither has it). */
  #agree(path: string, hash: string | undefined): void {
    if (this.#synced.get(path) === hash) return;
    if (hash === undefined) this.#synced.delete(path);
    else this.#synced.set(path, hash);
    this.#stateDirty = true;
  }

  /** Stops watching; resolves once the task under way ended and the state is saved. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#offChange?.();
    this.#watcher?.close();
    clearInterval(this.#scanTimer);
    clearTimeout(this.#settleTimer);
    await this.#tasks;
    await this.#saveState();
    await this.#state?.idle();
  }

  /** One task after the others; errors are reported, never thrown at the queue. The state is saved after each. */
  #run(task: () => Promise<void>): Promise<void> {
    this.#tasks = this.#tasks.then(
      () =>
        this.#stopped
          ? undefined
          : task()
              .catch((err: unknown) => this.#onError(asError(err, 'mirroring failed'), '/'))
              .then(() => void this.#saveState()),
      () => {},
    );
    return this.#tasks;
  }

  /** The state, when it changed; a failure is reported (the next change tries again). */
  #saveState(): Promise<void> {
    if (this.#state === undefined || !this.#stateDirty) return Promise.resolve();
    this.#stateDirty = false;
    return this.#state.save(this.#synced).catch((err: unknown) => {
      this.#stateDirty = true;
      this.#onError(asError(err, 'saving the state file failed'), '/');
    });
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
      if (this.#doc.readFile(path) === undefined || (await this.#edit(path, () => this.#doc.deleteFile(path), 'delete'))) {
        this.#agree(path, undefined);
      }
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
    const hash = read.seen.hash;
    if (this.#docHash(path) === hash || (await this.#edit(path, () => this.#doc.writeFile(path, contentOf(read.bytes)), 'write'))) {
      this.#agree(path, hash);
    }
  }

  /** Makes an edit of the document; false when it was refused (reported). */
  async #edit(path: string, edit: () => void | Promise<void>, action: MirrorEvent['action']): Promise<boolean> {
    try {
      await edit();
      this.#onSynced({ direction: 'up', action, path });
      return true;
    } catch (err) {
      this.#onError(asError(err, `sending ${path} failed`), path);
      return false;
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
        this.#agree(q, undefined);
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
    if (this.#seen.get(path)?.hash === hash) {
      this.#agree(path, hash);
      return;
    }
    this.#seen.set(path, await writeAtomically(file, bytes));
    this.#agree(path, hash);
    this.#onSynced({ direction: 'down', action: 'write', path });
  }
}

function asError(err: unknown, message: string): CrossbusError {
  return isCrossbusError(err)
    ? err
    : createError('CB_ERR_INTERNAL', `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
