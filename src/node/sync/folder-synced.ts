/**
 * What a mirrored folder and its document agreed on at their last sync, file by file: the SHA-256
 * (what the state file keeps, ./folder-state.ts) and, for a text file, the text itself. That text
 * is the base of the three-way merge when a file changed in the folder and in the document at once
 * (./folder-race.ts).
 *
 * Why the text is kept rather than derived from the document: the document keeps only the
 * effective changes of its recent history, and a snapshot reload or a trimmed history leaves no way
 * back to the version this folder last saw. Kept in memory, it costs little: the mirror hands in
 * the document's own string when the two are equal (strings are immutable and shared), so the text
 * is a second copy only for a file the document changed since, one version per file, each within
 * the document's `maxFileBytes`. Binary files keep their hash alone: bytes are never merged, so a
 * base would be of no use. Across restarts only the hashes are kept (the state file): a file
 * changed on both sides while the mirror was not running gets a conflicted copy, not a merge.
 */
export class SyncedFiles {
  readonly #hashes = new Map<string, string>();
  readonly #texts = new Map<string, string>();
  #changed = false;

  /** The SHA-256 (hex) both held at `path`, or undefined when neither had it (or it is not known). */
  hash(path: string): string | undefined {
    return this.#hashes.get(path);
  }

  /** The text both held at `path`, when it was a text file. */
  text(path: string): string | undefined {
    return this.#texts.get(path);
  }

  /** Every path both held. */
  paths(): IterableIterator<string> {
    return this.#hashes.keys();
  }

  /** The files both hold now: `hash` of `content` at `path` (undefined: neither has it). */
  agree(path: string, hash: string | undefined, content?: string | Uint8Array): void {
    if (typeof content === 'string' && hash !== undefined) this.#texts.set(path, content);
    else this.#texts.delete(path);
    if (this.#hashes.get(path) === hash) return;
    if (hash === undefined) this.#hashes.delete(path);
    else this.#hashes.set(path, hash);
    this.#changed = true;
  }

  /** The hashes to save when they changed since the last call (undefined: nothing to save). */
  takeChanged(): ReadonlyMap<string, string> | undefined {
    if (!this.#changed) return undefined;
    this.#changed = false;
    return this.#hashes;
  }

  /** A save failed: the next call of takeChanged() tries again. */
  markChanged(): void {
    this.#changed = true;
  }
}
