/**
 * A file tree document held in memory for the folder mirror's tests: it records the edits the
 * mirror makes, can refuse one path's writes, and plays changes from other replicas (with or
 * without telling its listeners, so that either side of a race can be made to come first).
 */
import type { MirroredTree } from '../../src/node/sync/folder-mirror.js';
import { createError } from '../../src/core/errors/index.js';

type ChangeListener = (e: { origin: 'local' | 'remote'; paths: readonly string[]; replica?: string }) => void;

export class MemoryTree implements MirroredTree {
  readonly files = new Map<string, string | Uint8Array>();
  readonly edits: Array<[string, string]> = [];
  readonly #listeners = new Set<ChangeListener>();
  refuse: string | undefined;

  paths(): string[] {
    return [...this.files.keys()];
  }
  readFile(path: string): string | Uint8Array | undefined {
    return this.files.get(path);
  }
  writeFile(path: string, content: string | Uint8Array): void {
    if (path === this.refuse) throw createError('CB_ERR_PAYLOAD_INVALID', 'refused');
    this.files.set(path, content);
    this.edits.push(['write', path]);
  }
  deleteFile(path: string): void {
    this.files.delete(path);
    this.edits.push(['delete', path]);
  }
  on(_event: 'change', listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** A change from another replica (`replica`, when given), applied and announced. */
  remote(path: string, content: string | Uint8Array | undefined, replica?: string): void {
    this.apply(path, content);
    this.announce(path, replica);
  }
  /** A change from another replica applied, not announced yet: the document holds it before its listeners hear of it. */
  apply(path: string, content: string | Uint8Array | undefined): void {
    if (content === undefined) this.files.delete(path);
    else this.files.set(path, content);
  }
  announce(path: string, replica?: string): void {
    for (const l of this.#listeners)
      l(replica === undefined ? { origin: 'remote', paths: [path] } : { origin: 'remote', paths: [path], replica });
  }
}
