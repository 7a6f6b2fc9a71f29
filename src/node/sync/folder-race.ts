/**
 * One file of a mirrored folder brought in step with the document, by a three-way decision whose
 * base is what both held at the last sync (./folder-synced.ts). The folder's notices and the
 * document's remote changes both end here, one task at a time, and the file is always read first:
 * whichever side notices first, a change made on the other side meanwhile is seen, never
 * overwritten unseen.
 *
 * - The folder and the document hold the same: they agree (nothing is written or sent).
 * - Only the document changed: its version is written into the folder (atomically), or the file is
 *   removed when the document deleted it.
 * - Only the folder changed: its version (or its delete) is sent as an edit of the document.
 * - Both changed (the race): a file deleted on one side and changed on the other comes back with
 *   that change, on both sides. Two texts are merged three-way (the core's `mergeText`: lines,
 *   then characters of lines both changed); a clean merge is written into the folder and sent as
 *   an edit, so both end with both edits. Otherwise (overlapping edits, a binary file, no base
 *   known) nothing is lost: the folder's version stays and is sent as the edit, and the document's
 *   version is written beside it as a conflicted copy (./conflicted-copy.ts), an ordinary file
 *   from then on, sent as an edit too. A `conflict` event names both.
 *
 * A file is replaced only when it is still as it was read (size and mtime, checked just before
 * the rename); when it is not, it is read again and decided anew. What remains is the instant
 * between that check and the rename, as in any tool that replaces files without locking them.
 */
import type { CrossbusError } from '../../core/errors/index.js';
import { mergeText } from '../../core/sync/text-merge.js';
import { conflictedCopyPath } from './conflicted-copy.js';
import {
  bytesOf,
  contentOf,
  fileOf,
  readSeen,
  removeFile,
  sha256Hex,
  statFile,
  unchangedSince,
  writeAtomically,
  type FileSeen,
} from './folder-files.js';
import { asMirrorError, type MirrorEvent, type MirroredTree } from './folder-mirror-options.js';
import type { SyncedFiles } from './folder-synced.js';

/** A file as read from the folder. */
export interface LocalFile {
  bytes: Uint8Array;
  seen: FileSeen;
}

/** What reconciling a file needs of the mirror. */
export interface MirrorParts {
  readonly root: string;
  readonly doc: MirroredTree;
  /** Each file as the mirror last read or wrote it (kept up to date here). */
  readonly seen: Map<string, FileSeen>;
  readonly synced: SyncedFiles;
  /** For the names of conflicted copies. */
  readonly clock: () => number;
  /** See FolderMirrorOptions.maxRereads. */
  readonly maxRereads: number;
  readonly emit: (event: MirrorEvent) => void;
  readonly report: (error: CrossbusError, path: string) => void;
}

export class FileReconciler {
  readonly #m: MirrorParts;
  /** The replica whose change a file of the document last came from, for a conflicted copy's name. */
  readonly #authors = new Map<string, string>();

  constructor(parts: MirrorParts) {
    this.#m = parts;
  }

  /** A remote change of `paths`, made by `replica` (when one author is known). */
  noteRemote(paths: readonly string[], replica: string | undefined): void {
    for (const p of paths) {
      if (replica !== undefined && this.#m.doc.readFile(p) !== undefined) this.#authors.set(p, replica);
      else this.#authors.delete(p);
    }
  }

  /** Brings `path` in step; `local` is the folder's file as just read (undefined: not there). */
  async reconcile(path: string, local: LocalFile | undefined): Promise<void> {
    const file = fileOf(this.#m.root, path);
    if (file === undefined) return;
    for (let reads = 0; !(await this.#decide(path, file, local)); reads++) {
      // Edited between being read and being replaced: read again. A file that keeps changing is
      // left to the notice of its next edit.
      if (reads >= this.#m.maxRereads) return;
      local = await readSeen(file);
    }
  }

  /** The decision, carried out; false when the file changed since `local` was read (nothing was replaced). */
  async #decide(path: string, file: string, local: LocalFile | undefined): Promise<boolean> {
    const m = this.#m;
    const remote = m.doc.readFile(path);
    const remoteHash = remote === undefined ? undefined : sha256Hex(bytesOf(remote));
    const localHash = local?.seen.hash;
    const base = m.synced.hash(path);
    if (local === undefined) m.seen.delete(path);
    else m.seen.set(path, local.seen);
    if (localHash === remoteHash) {
      this.#agree(path, remoteHash, remote);
      return true;
    }
    // Changed on one side only: that side's version.
    if (localHash === base) return this.#takeRemote(path, file, local, remote, remoteHash);
    if (remoteHash === base) return this.#sendLocal(path, local);
    // Changed on both sides. A delete loses to a change: deleted here, it comes back with the
    // document's change; deleted there, the folder's version is sent.
    if (local === undefined) return this.#takeRemote(path, file, local, remote, remoteHash);
    if (remote === undefined) return this.#sendLocal(path, local);
    const ours = contentOf(local.bytes);
    const baseText = m.synced.text(path);
    if (typeof ours === 'string' && typeof remote === 'string' && baseText !== undefined) {
      const merged = mergeText(ours, baseText, remote);
      if (merged.clean) return this.#merged(path, file, local, remote, merged.text);
    }
    return this.#keepBoth(path, local, ours, remote);
  }

  #agree(path: string, hash: string | undefined, content: string | Uint8Array | undefined): void {
    this.#m.synced.agree(path, hash, content);
    this.#authors.delete(path);
  }

  async #takeRemote(
    path: string,
    file: string,
    local: LocalFile | undefined,
    remote: string | Uint8Array | undefined,
    hash: string | undefined,
  ): Promise<boolean> {
    const m = this.#m;
    if (remote === undefined) {
      if (local !== undefined && !(await unchangedSince(file, local.seen))) return false;
      const removed = await removeFile(file);
      m.seen.delete(path);
      this.#agree(path, undefined, undefined);
      if (removed) m.emit({ direction: 'down', action: 'delete', path });
      return true;
    }
    const written = await writeAtomically(file, bytesOf(remote), local?.seen ?? null);
    if (written === undefined) return false;
    m.seen.set(path, written);
    this.#agree(path, hash, remote);
    m.emit({ direction: 'down', action: 'write', path });
    return true;
  }

  async #sendLocal(path: string, local: LocalFile | undefined): Promise<boolean> {
    if (local === undefined) {
      if (await this.#send(path, undefined)) {
        this.#agree(path, undefined, undefined);
        this.#m.emit({ direction: 'up', action: 'delete', path });
      }
      return true;
    }
    const content = contentOf(local.bytes);
    if (await this.#send(path, content)) {
      this.#agree(path, local.seen.hash, this.#held(path, content));
      this.#m.emit({ direction: 'up', action: 'write', path });
    }
    return true;
  }

  /** Both edits kept: the merge into the folder, and into the document as an edit. */
  async #merged(path: string, file: string, local: LocalFile, theirs: string, text: string): Promise<boolean> {
    const m = this.#m;
    const bytes = bytesOf(text);
    if (text !== contentOf(local.bytes)) {
      const written = await writeAtomically(file, bytes, local.seen);
      if (written === undefined) return false;
      m.seen.set(path, written);
    }
    if (text === theirs || (await this.#send(path, text))) {
      this.#agree(path, sha256Hex(bytes), this.#held(path, text));
      m.emit({ direction: 'both', action: 'merge', path });
    }
    return true;
  }

  /** Nothing lost: the folder's version stays and is sent; the document's is written beside it, and sent too. */
  async #keepBoth(path: string, local: LocalFile, ours: string | Uint8Array, remote: string | Uint8Array): Promise<boolean> {
    const m = this.#m;
    const from = this.#authors.get(path);
    const copy = await conflictedCopyPath(
      path,
      from,
      m.clock(),
      async (p) => m.doc.readFile(p) !== undefined || m.seen.has(p) || (await statFile(fileOf(m.root, p) ?? '')) !== undefined,
    );
    const remoteBytes = bytesOf(remote);
    // The copy is on disk before anything is sent: whatever fails next, the remote version is kept.
    // Never over a file: one created under that name meanwhile makes the decision start again.
    const written = await writeAtomically(fileOf(m.root, copy) as string, remoteBytes, null);
    if (written === undefined) return false;
    m.seen.set(copy, written);
    if (await this.#send(path, ours)) this.#agree(path, local.seen.hash, this.#held(path, ours));
    if (await this.#send(copy, remote)) this.#agree(copy, sha256Hex(remoteBytes), this.#held(copy, remote));
    m.emit({ direction: 'both', action: 'conflict', path, copy, ...(from !== undefined ? { from } : {}) });
    return true;
  }

  /** An edit of the document (undefined: a delete); false when refused (reported). */
  async #send(path: string, content: string | Uint8Array | undefined): Promise<boolean> {
    try {
      if (content === undefined) this.#m.doc.deleteFile(path);
      else await this.#m.doc.writeFile(path, content);
      return true;
    } catch (err) {
      this.#m.report(asMirrorError(err, `sending ${path} failed`), path);
      return false;
    }
  }

  /** The document's own string when it holds `content`: kept as the base, it is shared, not copied. */
  #held(path: string, content: string | Uint8Array): string | Uint8Array {
    const held = this.#m.doc.readFile(path);
    return typeof held === 'string' && held === content ? held : content;
  }
}
