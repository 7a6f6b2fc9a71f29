/**
 * The offline queues of documents in IndexedDB: a page, a worker or an extension's service
 * worker (which has no localStorage) keeps its edits across reloads and browser restarts. Two
 * object stores, queues and snapshots, keyed by the document's name; each save is one
 * transaction that resolves once committed. Tabs of one origin share the database, so one store
 * holds it at a time: the first use takes an exclusive Web Lock named after it (released on
 * `close()`), and a second tab's store is refused with CB_ERR_DATA_DIR_LOCKED rather than sharing
 * a replica id (give each tab its own `database` to edit the same document in both).
 */
import { createError } from '../core/errors/index.js';
import { checkStoredQueue, type StoredDocument, type StoredQueue, type SyncStore } from '../client/sync/store.js';

/** The database when none is named. @default 'crossbus-sync' */
export const DEFAULT_SYNC_DATABASE = 'crossbus-sync';
const QUEUES = 'queues';
const SNAPSHOTS = 'snapshots';

export interface IndexedDbSyncStoreOptions {
  /** The database's name. @default DEFAULT_SYNC_DATABASE */
  database?: string;
  /** The IndexedDB factory. @default globalThis.indexedDB */
  indexedDB?: IDBFactory;
  /** Web Locks, which keep one store per database across tabs; without them nothing is locked. @default globalThis.navigator.locks */
  locks?: LockManagerLike;
}

/** The part of the Web Locks API (`navigator.locks`) the store uses. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>;
}

/** The Web Lock a store holds its database with. */
export const syncStoreLockName = (database: string): string => `crossbus-sync:${database}`;

function failed(what: string, cause: unknown): Error {
  return createError('CB_ERR_STORAGE', `IndexedDB: ${what} failed`, { cause });
}

/** A plain copy through JSON: a record holds what the state's JSON form does, as a file would. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class IndexedDbSyncStore implements SyncStore {
  readonly database: string;
  readonly #factory: IDBFactory | undefined;
  readonly #locks: LockManagerLike | undefined;
  #db: Promise<IDBDatabase> | undefined;
  /** Ends the held lock's callback, which releases it. */
  #release: (() => void) | undefined;

  constructor(options: IndexedDbSyncStoreOptions = {}) {
    this.database = options.database ?? DEFAULT_SYNC_DATABASE;
    this.#factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    this.#locks = options.locks ?? (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  }

  async load(doc: string): Promise<StoredDocument | undefined> {
    const [queue, snapshot] = await this.#run([QUEUES, SNAPSHOTS], 'readonly', 'reading a document', (tx) => [
      tx.objectStore(QUEUES).get(doc),
      tx.objectStore(SNAPSHOTS).get(doc),
    ]);
    if (queue === undefined) return undefined;
    const out: StoredDocument = checkStoredQueue(queue, doc, `IndexedDB ${this.database}`);
    if (snapshot !== undefined) out.snapshot = snapshot;
    return out;
  }

  async save(queue: StoredQueue): Promise<void> {
    const { doc, replica, nextRseq, pending } = queue;
    const record = plain({ doc, replica, nextRseq, pending });
    await this.#run([QUEUES], 'readwrite', 'saving a queue', (tx) => [tx.objectStore(QUEUES).put(record, doc)]);
  }

  async saveSnapshot(doc: string, snapshot: unknown): Promise<void> {
    const record = plain(snapshot);
    await this.#run([SNAPSHOTS], 'readwrite', 'saving a snapshot', (tx) => [tx.objectStore(SNAPSHOTS).put(record, doc)]);
  }

  async remove(doc: string): Promise<void> {
    await this.#run([QUEUES, SNAPSHOTS], 'readwrite', 'removing a document', (tx) => [
      tx.objectStore(QUEUES).delete(doc),
      tx.objectStore(SNAPSHOTS).delete(doc),
    ]);
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    (await db?.catch(() => undefined))?.close();
    this.#release?.();
    this.#release = undefined;
  }

  /** Requests in one transaction; resolves with their results once it committed. */
  async #run(stores: string[], mode: IDBTransactionMode, what: string, make: (tx: IDBTransaction) => IDBRequest[]): Promise<unknown[]> {
    const db = await this.#open();
    return new Promise<unknown[]>((resolve, reject) => {
      try {
        const tx = db.transaction(stores, mode);
        const requests = make(tx);
        tx.oncomplete = () => resolve(requests.map((r) => r.result));
        tx.onabort = tx.onerror = () => reject(failed(what, tx.error));
      } catch (err) {
        reject(failed(what, err));
      }
    });
  }

  /** Takes this database's Web Lock and keeps it until close(); CB_ERR_DATA_DIR_LOCKED when another store holds it. */
  #lock(): Promise<void> {
    const locks = this.#locks;
    if (locks === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      locks
        .request(syncStoreLockName(this.database), { ifAvailable: true }, (lock) => {
          if (lock === null) {
            reject(
              createError(
                'CB_ERR_DATA_DIR_LOCKED',
                `IndexedDB database ${this.database} is in use by another sync store (another tab or worker)`,
                {
                  details: { database: this.database },
                },
              ),
            );
            return Promise.resolve();
          }
          resolve();
          return new Promise<void>((release) => {
            this.#release = release;
          });
        })
        .catch((err: unknown) => reject(failed(`locking database ${this.database}`, err)));
    });
  }

  #open(): Promise<IDBDatabase> {
    if (this.#db === undefined) {
      const opening = this.#lock().then(() => this.#openDatabase());
      this.#db = opening;
      // A refusal is not kept: the next call tries again (the other tab may have closed by then).
      opening.catch(() => {
        if (this.#db !== opening) return;
        this.#db = undefined;
        this.#release?.();
        this.#release = undefined;
      });
    }
    return this.#db;
  }

  #openDatabase(): Promise<IDBDatabase> {
    return new Promise<IDBDatabase>((resolve, reject) => {
      const factory = this.#factory;
      if (factory === undefined) {
        reject(createError('CB_ERR_INVALID_OPTION', 'IndexedDB is not available here: pass options.indexedDB, or use another SyncStore'));
        return;
      }
      const request = factory.open(this.database, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        for (const name of [QUEUES, SNAPSHOTS]) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(failed(`opening database ${this.database}`, request.error));
      request.onblocked = () => reject(failed(`opening database ${this.database} (another tab holds an older version open)`, undefined));
    });
  }
}
