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
 * Each file is brought in step by a three-way decision (./folder-race.ts) against what the folder
 * and the document held at the last sync (./folder-synced.ts): the side that changed wins; a file
 * changed on both sides (edited here while a remote change to it arrived) is merged when both are
 * texts and the edits do not overlap, else the folder keeps its version and the document's is
 * written beside it as a conflicted copy; a file deleted here while changed remotely comes back
 * with the remote change (and one edited here while deleted remotely comes back with the edit).
 * A remote change is written only after the file was read and found unchanged since the last sync.
 *
 * At start, the folder and the document are joined by the same decision. With a `stateFile`, which
 * records what both held at the last sync (./folder-state.ts): a file untouched since then takes
 * the document's version (or goes, when the document deleted it meanwhile); a file gone from the
 * folder since then is deleted from the document (unless the document changed it meanwhile: then
 * it comes back, with that change); a file edited or new in the folder is sent as an edit (when the
 * document changed it too, the document's version becomes a conflicted copy: only hashes are kept
 * across runs, so there is no base to merge on); a file only the document has is written. Without a
 * state file nothing is known of the last sync: every file that differs from the document's is sent
 * as an edit, and a file deleted while the mirror was not running comes back.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { CrossbusError } from '../../core/errors/index.js';
import { FolderStateWriter, loadFolderState } from './folder-state.js';
import {
  bytesOf,
  contentOf,
  fileOf,
  isPrivate,
  listFiles,
  readSeen,
  sha256Hex,
  statFile,
  type FileSeen,
  type FolderDetect,
} from './folder-files.js';
import { asMirrorError, resolveMirrorOptions, type FolderMirrorOptions, type MirroredTree } from './folder-mirror-options.js';
import { FileReconciler, type LocalFile } from './folder-race.js';
import { SyncedFiles } from './folder-synced.js';

export {
  DEFAULT_FOLDER_DETECT,
  DEFAULT_FOLDER_SCAN_MS,
  DEFAULT_FOLDER_SETTLE_MS,
  DEFAULT_FOLDER_MAX_REREADS,
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
  readonly #onError: (error: CrossbusError, path: string) => void;
  /** Each file as the mirror last read or wrote it. */
  readonly #seen = new Map<string, FileSeen>();
  /** What the folder and the document agreed on: the state file keeps its hashes. */
  readonly #synced = new SyncedFiles();
  readonly #files: FileReconciler;
  readonly #state: FolderStateWriter | undefined;
  readonly #stateFile: string | undefined;
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
    this.#onError = o.onError;
    this.#stateFile = options.stateFile;
    this.#state = options.stateFile === undefined ? undefined : new FolderStateWriter(options.stateFile, root);
    this.#files = new FileReconciler({
      root,
      doc,
      seen: this.#seen,
      synced: this.#synced,
      clock: o.clock,
      maxRereads: o.maxRereads,
      emit: o.onSynced,
      report: o.onError,
    });
  }

  /** Joins the folder and the document, then keeps them in step; resolves once joined and watching. */
  async start(): Promise<void> {
    this.#offChange = this.#doc.on('change', (e) => {
      if (e.origin !== 'remote') return;
      this.#files.noteRemote(e.paths, e.replica);
      this.#run(() => this.#writeDown(e.paths));
    });
    this.#watcher = watch(this.root, { recursive: true }, (_event, name) => this.#notice(name));
    this.#watcher.on('error', (err) => this.#onError(asMirrorError(err, 'watching the folder failed'), '/'));
    await this.#run(() => this.#join());
    if (this.#scanMs > 0) this.#scanTimer = setInterval(() => this.#run(() => this.#scan()), this.#scanMs);
  }

  /** The folder and the document joined, as the last sync (the state file) tells. */
  async #join(): Promise<void> {
    let last: Map<string, string> | undefined;
    try {
      last = this.#stateFile === undefined ? undefined : await loadFolderState(this.#stateFile, this.root);
    } catch (err) {
      this.#onError(asMirrorError(err, 'reading the state file failed'), '/');
    }
    const onDisk = new Set(await listFiles(this.root));
    for (const path of new Set([...onDisk, ...this.#doc.paths()].sort())) {
      const file = fileOf(this.root, path);
      if (file === undefined) continue;
      const read = onDisk.has(path) ? await readSeen(file) : undefined;
      const docHash = this.#docHash(path);
      // What both held at the last sync; without a state file, the document's version stands for
      // it where the folder has the file (so a file that differs is the folder's edit), and
      // nothing where it does not (so the document's file comes down).
      const was = last !== undefined ? last.get(path) : read !== undefined ? docHash : undefined;
      this.#synced.agree(path, was, baseContent(was, read, docHash, this.#doc.readFile(path)));
      await this.#files.reconcile(path, read);
    }
  }

  #docHash(path: string): string | undefined {
    const content = this.#doc.readFile(path);
    return content === undefined ? undefined : sha256Hex(bytesOf(content));
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
              .catch((err: unknown) => this.#onError(asMirrorError(err, 'mirroring failed'), '/'))
              .then(() => void this.#saveState()),
      () => {},
    );
    return this.#tasks;
  }

  /** The state, when it changed; a failure is reported (the next change tries again). */
  #saveState(): Promise<void> {
    const files = this.#state === undefined ? undefined : this.#synced.takeChanged();
    if (files === undefined) return Promise.resolve();
    return (this.#state as FolderStateWriter).save(files).catch((err: unknown) => {
      this.#synced.markChanged();
      this.#onError(asMirrorError(err, 'saving the state file failed'), '/');
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
      if (before !== undefined) await this.#files.reconcile(path, undefined);
      return;
    }
    if (!force && before !== undefined && this.#detect === 'timestamp' && before.size === s.size && before.mtimeMs === s.mtimeMs) return;
    const read = await readSeen(file);
    if (read === undefined) return;
    if (!force && before !== undefined && before.hash === read.seen.hash) {
      this.#seen.set(path, read.seen);
      return;
    }
    await this.#files.reconcile(path, read);
  }

  /** The document's files at or under `paths` into the folder: each read first, so that an edit made here meanwhile is not lost. */
  async #writeDown(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    // The files the document has, and those both had: only these can the document have changed.
    const known = [...new Set([...this.#doc.paths(), ...this.#synced.paths()])];
    const done = new Set<string>();
    for (const p of paths) {
      const under = (q: string): boolean => q === p || q.startsWith(p.endsWith('/') ? p : `${p}/`);
      for (const q of known) {
        const file = fileOf(this.root, q);
        if (done.has(q) || file === undefined || !under(q)) continue;
        done.add(q);
        await this.#files.reconcile(q, await readSeen(file));
      }
    }
  }
}

/** The content both held at the last sync (`was`), when the folder's or the document's file is it: the base of a merge. */
function baseContent(
  was: string | undefined,
  read: LocalFile | undefined,
  docHash: string | undefined,
  docContent: string | Uint8Array | undefined,
): string | Uint8Array | undefined {
  if (was === undefined) return undefined;
  if (docHash === was) return docContent;
  return read !== undefined && read.seen.hash === was ? contentOf(read.bytes) : undefined;
}
