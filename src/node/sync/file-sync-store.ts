/**
 * The offline queues of documents in a folder: per document a queue file and a snapshot file
 * (named by a hash of the document's name, which may hold any character), each replaced
 * atomically, so that a crash leaves the old content or the new, never half of each. Writes of one
 * file are coalesced: a save made while another runs waits for it, and only the latest content is
 * written next. One process uses a folder at a time: the first call takes a lock on it (a second
 * process gets CB_ERR_DATA_DIR_LOCKED), released by `close()`; two processes with one replica id
 * would give two changes the same number.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createError } from '../../core/errors/index.js';
import { checkStoredQueue, type StoredDocument, type StoredQueue, type SyncStore } from '../../client/sync/store.js';
import { readIfExists, replaceFileAtomically, unlinkIfExists } from '../atomic-file.js';
import { acquireFileLock, type FileLock } from '../dir-lock.js';

/** The lock file in a store's folder. */
export const SYNC_STORE_LOCK_FILE = '.lock';

/** One file's writes: the one running, and the latest content asked for meanwhile. */
interface Writer {
  running: Promise<void>;
  next: { text: string; done: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
}

export class FileSyncStore implements SyncStore {
  readonly dir: string;
  #lock: Promise<FileLock> | undefined;
  readonly #writers = new Map<string, Writer>();
  #closed = false;

  /** `dir`: the folder (created 0700 when missing; files 0600). */
  constructor(dir: string) {
    if (typeof dir !== 'string' || dir === '') {
      throw createError('CB_ERR_INVALID_OPTION', 'FileSyncStore needs a folder', { details: { option: 'dir' } });
    }
    this.dir = dir;
  }

  /** The files that hold `doc`. */
  filesOf(doc: string): { queue: string; snapshot: string } {
    const base = join(this.dir, createHash('sha256').update(doc).digest('hex').slice(0, 40));
    return { queue: `${base}.queue.json`, snapshot: `${base}.snapshot.json` };
  }

  async load(doc: string): Promise<StoredDocument | undefined> {
    await this.#locked();
    const files = this.filesOf(doc);
    const [queueText, snapshotText] = await Promise.all([readIfExists(files.queue), readIfExists(files.snapshot)]);
    if (queueText === undefined) return undefined;
    const out: StoredDocument = checkStoredQueue(parse(queueText), doc, files.queue);
    if (snapshotText !== undefined) {
      const snapshot = parse(snapshotText);
      if (snapshot === undefined) {
        throw createError(
          'CB_ERR_STREAM_CORRUPT',
          `the saved snapshot of document ${JSON.stringify(doc)} in ${files.snapshot} is damaged`,
          {
            details: { doc, where: files.snapshot },
          },
        );
      }
      out.snapshot = snapshot;
    }
    return out;
  }

  async save(queue: StoredQueue): Promise<void> {
    await this.#locked();
    const { doc, replica, nextRseq, pending } = queue;
    return this.#write(this.filesOf(doc).queue, JSON.stringify({ doc, replica, nextRseq, pending }));
  }

  async saveSnapshot(doc: string, snapshot: unknown): Promise<void> {
    await this.#locked();
    return this.#write(this.filesOf(doc).snapshot, JSON.stringify(snapshot));
  }

  async remove(doc: string): Promise<void> {
    await this.#locked();
    const files = this.filesOf(doc);
    for (const file of [files.queue, files.snapshot]) {
      await this.#writers.get(file)?.running.catch(() => {});
      await unlinkIfExists(file);
    }
  }

  /** Waits for the writes under way, then releases the folder. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#writers.size > 0) await Promise.allSettled([...this.#writers.values()].map((w) => w.running));
    const lock = this.#lock;
    this.#lock = undefined;
    if (lock !== undefined) await (await lock.catch(() => undefined))?.release();
  }

  #write(file: string, text: string): Promise<void> {
    const writer = this.#writers.get(file);
    if (writer === undefined) {
      const w: Writer = { running: replaceFileAtomically(file, text), next: undefined };
      this.#writers.set(file, w);
      return this.#settle(file, w);
    }
    if (writer.next !== undefined) {
      writer.next.text = text;
      return writer.next.done;
    }
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    writer.next = { text, done, resolve, reject };
    return done;
  }

  /** Resolves when `w`'s running write ended; then starts the write that waited, if any. */
  async #settle(file: string, w: Writer): Promise<void> {
    try {
      await w.running;
    } finally {
      const next = w.next;
      w.next = undefined;
      if (next === undefined) this.#writers.delete(file);
      else {
        w.running = replaceFileAtomically(file, next.text);
        this.#settle(file, w).then(next.resolve, next.reject);
      }
    }
  }

  #locked(): Promise<FileLock> {
    if (this.#closed) return Promise.reject(createError('CB_ERR_STREAM_CLOSED', `the sync store in ${this.dir} is closed`));
    this.#lock ??= acquireFileLock(join(this.dir, SYNC_STORE_LOCK_FILE), { purpose: 'sync store' });
    return this.#lock;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
