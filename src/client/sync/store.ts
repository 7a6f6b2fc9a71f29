/**
 * The offline queue of a document: what a replica must keep across restarts. Two parts, saved
 * apart because they change at different rates: the queue (its id, its next per-replica sequence
 * number, the changes it made that are not yet in the log), written before each change is sent,
 * and the confirmed state (a snapshot of the view and of the log position it is at), written now
 * and then. A `SyncStore` holds both for any number of documents; `MemorySyncStore` here,
 * `FileSyncStore` (Node) and `IndexedDbSyncStore` (browsers, extensions) elsewhere.
 * Runtime-neutral.
 */
import { createError } from '../../core/errors/index.js';

/** A document's queue. JSON throughout: a store may keep it as text. */
export interface StoredQueue {
  /** The document's name (`project/42`). */
  doc: string;
  /** This replica's id: random, fixed for as long as its queue is kept. */
  replica: string;
  /** The per-replica sequence number its next change gets. */
  nextRseq: number;
  /** Changes made here and not yet seen in the log, in rseq order: sent again after a restart. */
  pending: unknown[];
}

/** What a store gives back: the queue, and the confirmed state when one was saved. */
export interface StoredDocument extends StoredQueue {
  /** The replica's snapshot of its confirmed state (as `SyncReplica.snapshot()` made it). */
  snapshot?: unknown;
}

/** Where documents' offline queues are kept. Each call may be slow (a disk, IndexedDB); none runs per message. */
export interface SyncStore {
  /** What was saved of `doc`, or undefined when its queue never was. */
  load(doc: string): Promise<StoredDocument | undefined>;
  /** Replaces the queue of `queue.doc`; resolves once it would survive a restart. */
  save(queue: StoredQueue): Promise<void>;
  /** Replaces the confirmed state of `doc`; resolves once it would survive a restart. */
  saveSnapshot(doc: string, snapshot: unknown): Promise<void>;
  /** Forgets `doc`. */
  remove(doc: string): Promise<void>;
  /** Releases what the store holds open (files, a database connection). @default nothing to release */
  close?(): Promise<void>;
}

/**
 * Throws CB_ERR_STREAM_CORRUPT unless `value` is a StoredQueue of `doc`: what a store reads may
 * have been written by another version, or damaged. Never starts over silently: the queue may hold
 * edits that exist nowhere else.
 */
export function checkStoredQueue(value: unknown, doc: string, where: string): StoredQueue {
  const v = value as Partial<StoredQueue> | null;
  const ok =
    typeof v === 'object' &&
    v !== null &&
    v.doc === doc &&
    typeof v.replica === 'string' &&
    v.replica !== '' &&
    Number.isSafeInteger(v.nextRseq) &&
    (v.nextRseq as number) >= 1 &&
    Array.isArray(v.pending);
  if (!ok) {
    throw createError('CB_ERR_STREAM_CORRUPT', `the saved queue of document ${JSON.stringify(doc)} in ${where} is damaged`, {
      details: { doc, where },
    });
  }
  return { doc, replica: v.replica as string, nextRseq: v.nextRseq as number, pending: v.pending as unknown[] };
}

/** Keeps documents in this process only: edits made offline are lost when it ends. */
export class MemorySyncStore implements SyncStore {
  readonly #queues = new Map<string, string>();
  readonly #snapshots = new Map<string, string>();

  async load(doc: string): Promise<StoredDocument | undefined> {
    const queue = this.#queues.get(doc);
    if (queue === undefined) return undefined;
    const snapshot = this.#snapshots.get(doc);
    const out = JSON.parse(queue) as StoredDocument;
    if (snapshot !== undefined) out.snapshot = JSON.parse(snapshot);
    return out;
  }

  async save(queue: StoredQueue): Promise<void> {
    this.#queues.set(queue.doc, JSON.stringify(queue));
  }

  async saveSnapshot(doc: string, snapshot: unknown): Promise<void> {
    this.#snapshots.set(doc, JSON.stringify(snapshot));
  }

  async remove(doc: string): Promise<void> {
    this.#queues.delete(doc);
    this.#snapshots.delete(doc);
  }
}
