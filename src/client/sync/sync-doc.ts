/**
 * `SyncDocument`: one replicated document, as `bus.sync.open()` gives it. Read `value`; edit with
 * `change()` / `replace()` (a JSON document) or `writeFile()` / `deleteFile()` (a file tree): the
 * value changes at once, the edit reaches the log (and every other replica) as the mode says.
 * Conflicts that no rule may decide are parked in `conflicts` until `resolve()`. Runtime-neutral.
 */
import { createError, type CrossbusError } from '../../core/errors/index.js';
import type { Metric } from '../../core/metrics/metric.js';
import { diffBinary, diffJson, getAt, type ConflictInfo, type DeltaOperation, type SyncStats } from '../../core/sync/index.js';
import type { Listener } from '../../core/util/emitter.js';
import type { Bus } from '../bus.js';
import type { ConflictAnnouncer } from './conflict-announcer.js';
import type { DocContext, SyncDocumentEvents } from './doc-context.js';
import type { DocMetrics } from './doc-metrics.js';
import { fileContentOf, fileNames, filePaths, pointerOf, readFileAt, withFileAt } from './file-tree.js';
import type { LocalChanges } from './local-changes.js';
import type { LogReader } from './log-reader.js';
import { openDocument, type OpenOptions } from './open-doc.js';
import type { ResolvedSyncOptions } from './options.js';
import type { OrderedFeed } from './ordered-feed.js';
import { syncMetrics } from './sync-metrics.js';

export type { SyncDocumentEvents };

/** The parts an open document is made of (open-doc.ts puts them together). */
export interface DocumentParts {
  ctx: DocContext;
  local: LocalChanges;
  reader: LogReader;
  feed: OrderedFeed;
  announcer: ConflictAnnouncer;
  /** Stops waiting for the bus to connect (a document opened without the hub that has not joined its log yet). */
  stopJoining: () => void;
}

export class SyncDocument<T = unknown> {
  readonly #ctx: DocContext;
  readonly #local: LocalChanges;
  readonly #feed: OrderedFeed;
  readonly #announcer: ConflictAnnouncer;
  readonly #stopJoining: () => void;
  readonly #closeListeners: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  /** @internal use `bus.sync.open()` */
  constructor(parts: DocumentParts) {
    this.#ctx = parts.ctx;
    this.#local = parts.local;
    this.#feed = parts.feed;
    this.#announcer = parts.announcer;
    this.#stopJoining = parts.stopJoining;
  }

  /** @internal */
  static async open<T>(bus: Bus, doc: string, options: OpenOptions, sync: ResolvedSyncOptions): Promise<SyncDocument<T>> {
    return new SyncDocument<T>(await openDocument(bus, doc, options, sync));
  }

  /** The document's name (`project/42`). */
  get name(): string {
    return this.#ctx.names.doc;
  }

  /** Its topic (`sync.project.42`): grants are written on it (and on `<topic>.snap`). */
  get topic(): string {
    return this.#ctx.names.topic;
  }

  /** `json` or `files`: set by the document's first meta entry. */
  get kind(): 'json' | 'files' {
    return this.#ctx.kind;
  }

  /** How a file mirror notices changed files (`crossbus sync <dir>`), as the document was created with. */
  get detect(): 'seq' | 'timestamp' | 'hash' {
    const d = this.#ctx.meta.changeDetection;
    return d === 'sequence' ? 'seq' : d;
  }

  /** This replica's id. */
  get replica(): string {
    return this.#ctx.replica.id;
  }

  /**
   * The document as this replica sees it: the log, with this replica's edits not yet in it on
   * top. A file tree is nested objects with `{ text }` or `{ base64 }` files. Read-only: it shares
   * its parts with the document's state (edit with `change()` or `replace()`).
   */
  get value(): T {
    return this.#ctx.value as T;
  }

  /** The log position applied. */
  get seq(): number {
    return this.#ctx.replica.seq;
  }

  /** Changes of this replica not yet in the log (the offline queue), drafted edits included. */
  get pendingChanges(): number {
    return this.#ctx.replica.pending.length + (this.#ctx.draftOps.length > 0 ? 1 : 0);
  }

  /** Parked conflicts, in log order: each waits for `resolve()` (or a resolver). */
  get conflicts(): readonly ConflictInfo[] {
    return this.#ctx.replica.conflicts;
  }

  /** Conflict counts since the document began, the same on every replica (parked, decided by lww, settled, rejected changes). */
  get stats(): SyncStats {
    return this.#ctx.replica.stats;
  }

  /** @internal what the metrics count */
  get counts(): DocMetrics {
    return this.#ctx.metrics;
  }

  /**
   * This document's metrics, counted by this process, for an exporter (Prometheus-style names,
   * label `doc`): `crossbus_sync_conflicts_total` by strategy and outcome,
   * `crossbus_sync_conflict_resolution_seconds`, changes sent, applied and rejected, the offline
   * queue's depth and the conflicts parked. `bus.sync.metrics()` gives every open document's.
   */
  metrics(): readonly Metric[] {
    return syncMetrics(() => [this]);
  }

  on<K extends keyof SyncDocumentEvents>(name: K, listener: Listener<SyncDocumentEvents[K]>): () => void {
    return this.#ctx.events.on(name, listener);
  }

  /**
   * A JSON document: `mutator` gets a copy of the value to change in place (or returns a new
   * value); the difference is the edit. Throws, changing nothing, CB_ERR_SYNC_TOO_LARGE (a limit,
   * the offline queue's bound), CB_ERR_FORBIDDEN (the hub refused this app's changes before).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a mutator changes the draft in place (void) or returns a new value
  change(mutator: (draft: T) => T | void): void {
    const before = this.#ctx.value;
    const draft = JSON.parse(JSON.stringify(before ?? null)) as T;
    const returned = mutator(draft);
    this.replace(returned === undefined ? draft : returned);
  }

  /** A JSON document: `next` becomes the value (the difference is the edit; `next` is copied, not kept). */
  replace(next: T): void {
    this.#json('replace');
    const ops = diffJson(this.#ctx.value, next);
    this.#local.edit(
      ops,
      ops.map((o) => o.path),
    );
  }

  /** A file tree: every file's path (`/dir/file.txt`), sorted. */
  paths(): string[] {
    this.#files('paths');
    return filePaths(this.#ctx.value);
  }

  /** A file tree: the file's text (a string), its bytes (a Uint8Array), or undefined. */
  readFile(path: string): string | Uint8Array | undefined {
    this.#files('readFile');
    return readFileAt(this.#ctx.value, path);
  }

  /**
   * A file tree: writes a file (directories on the way are made). A text file is edited in place
   * (a text diff); a binary file that exists is sent as the content-defined chunks it lacks, and
   * then shows once they are computed (the promise says when); anything else shows at once.
   * Throws (the promise rejects), changing nothing, CB_ERR_SYNC_TOO_LARGE over `maxFileBytes`.
   */
  writeFile(path: string, content: string | Uint8Array): Promise<void> {
    try {
      this.#files('writeFile');
      const file = fileContentOf(content);
      const max = this.#ctx.meta.limits.maxFileBytes;
      const size = typeof content === 'string' ? content.length : content.byteLength;
      if (size > max) {
        throw createError('CB_ERR_SYNC_TOO_LARGE', `${path.slice(0, 200)} is ${size} bytes or more, over maxFileBytes (${max})`, {
          details: { path: path.slice(0, 200), size, maxFileBytes: max },
        });
      }
      const current = this.#ctx.value;
      const old = readFileAt(current, path);
      if (content instanceof Uint8Array && old instanceof Uint8Array && old.byteLength > 0 && content.byteLength > 0) {
        return this.#writeChunks(path, old, content);
      }
      const ops = diffJson(current, withFileAt(current, path, file), { files: true });
      this.#local.edit(ops, [path]);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A binary file that exists: only the chunks it lacks travel; whole when it changed meanwhile. */
  async #writeChunks(path: string, old: Uint8Array, content: Uint8Array): Promise<void> {
    const names = fileNames(path);
    const node = getAt(this.#ctx.value, names);
    const chunks = await diffBinary(old, content, this.#ctx.crypto);
    const newBytes = chunks.parts.reduce((n, p) => n + ('data' in p ? p.data.length : 0), 0);
    const current = this.#ctx.value;
    let ops: DeltaOperation[];
    if (getAt(current, names) === node && newBytes < (content.byteLength * 4) / 3) {
      ops = [{ type: 'update', path: pointerOf(path), chunks, timestamp: 0 }];
    } else {
      ops = diffJson(current, withFileAt(current, path, fileContentOf(content)), { files: true });
    }
    this.#local.edit(ops, [path]);
  }

  /** A file tree: deletes a file (and the directories it leaves empty); nothing when there is none. */
  deleteFile(path: string): void {
    this.#files('deleteFile');
    const current = this.#ctx.value;
    const ops = diffJson(current, withFileAt(current, path, undefined), { files: true });
    this.#local.edit(ops, [path]);
  }

  /**
   * Settles a parked conflict, for every replica: `local` keeps what the log holds, `remote` takes
   * the parked change, `merged` sets `value` (undefined deletes the path). Throws
   * CB_ERR_SYNC_NO_CONFLICT when no such conflict is parked. Awaiting `flushed()` waits for the log.
   */
  resolve(conflict: string, take: 'local' | 'remote' | 'merged', value?: unknown): void {
    if (take !== 'local' && take !== 'remote' && take !== 'merged') {
      throw createError('CB_ERR_INVALID_OPTION', `take must be 'local', 'remote' or 'merged', got ${JSON.stringify(String(take))}`, {
        details: { option: 'take' },
      });
    }
    const parked = this.#ctx.replica.conflicts.some((c) => c.id === conflict);
    const pending = this.#ctx.replica.pending.some((c) => c.resolve?.conflict === conflict);
    if (!parked || pending) {
      throw createError(
        'CB_ERR_SYNC_NO_CONFLICT',
        `document ${JSON.stringify(this.name)} has no parked conflict ${JSON.stringify(String(conflict).slice(0, 64))}`,
        {
          details: { conflict: String(conflict).slice(0, 64) },
        },
      );
    }
    this.#local.resolve(conflict, take, value);
  }

  /** Manual and batch modes: sends what is queued now (realtime sends by itself). */
  sync(): void {
    this.#local.sync();
  }

  /**
   * Resolves once every edit made so far is in the log (in manual mode, after `sync()`; in batch mode it sends what waits for the interval now); rejects
   * when one is refused (CB_ERR_FORBIDDEN) or the document closes first.
   */
  flushed(): Promise<void> {
    return this.#local.flushed();
  }

  /** @internal called when the document starts closing */
  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  /**
   * Stops reading and sending; drafted edits become a change, and the queue and the confirmed
   * state are saved, so that the next open of this document with this store sends them.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const ctx = this.#ctx;
    const error: CrossbusError = createError('CB_ERR_CONNECTION_CLOSED', `document ${JSON.stringify(this.name)} was closed`);
    for (const l of this.#closeListeners.splice(0)) l();
    this.#stopJoining();
    this.#local.close(error);
    this.#feed.close();
    ctx.closed = true;
    ctx.detach();
    await Promise.all([this.#local.saved(), this.#announcer.settled()]);
    const replica = ctx.replica;
    const pending = await replica.outgoing();
    await ctx.store.save({ doc: ctx.names.doc, replica: replica.id, nextRseq: replica.rseq + 1, pending: [...pending] });
    await ctx.store.saveSnapshot(ctx.names.doc, replica.snapshot());
  }

  #json(method: string): void {
    if (this.#ctx.kind !== 'json') {
      throw createError(
        'CB_ERR_INVALID_OPTION',
        `${method}() edits a JSON document; ${JSON.stringify(this.name)} is a file tree (writeFile, deleteFile)`,
        {
          details: { option: 'kind' },
        },
      );
    }
  }

  #files(method: string): void {
    if (this.#ctx.kind !== 'files') {
      throw createError(
        'CB_ERR_INVALID_OPTION',
        `${method}() is for a file tree; ${JSON.stringify(this.name)} is a JSON document (change, replace)`,
        {
          details: { option: 'kind' },
        },
      );
    }
  }
}
