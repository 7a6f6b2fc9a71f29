/**
 * What the parts of one open document share: the bus and names, the options, the store, the
 * replica (replaced when the document reloads from a snapshot or drops refused changes), the
 * draft (edits not yet made into a change) and the events. The parts: LocalChanges (edits,
 * folding, the offline queue, sending), LogReader (the log in order, snapshots), and the public
 * SyncDocument. Runtime-neutral.
 */
import type { CrossbusError } from '../../core/errors/index.js';
import type { Sha256Provider } from './sha256.js';
import {
  SyncReplica,
  resolveMeta,
  type Change,
  type ConflictInfo,
  type DeltaOperation,
  type DocumentMeta,
  type ResolvedMeta,
  type SyncReplicaOptions,
  type SyncSnapshot,
} from '../../core/sync/index.js';
import { TypedEmitter } from '../../core/util/emitter.js';
import { utf8Length } from '../../core/protocol/utf8.js';
import type { Bus } from '../bus.js';
import { DocMetrics } from './doc-metrics.js';
import type { DocNames } from './names.js';
import type { ResolvedClientOpenOptions } from './options.js';
import type { SyncStore } from './store.js';

/** What a SyncDocument tells its listeners (`doc.on(...)`). */
export interface SyncDocumentEvents {
  /**
   * The value changed: by an edit here (`local`) or by the log (`remote`). `paths`: JSON pointers
   * in a JSON document, file paths (`/dir/file.txt`) in a file tree; a path may stand for all
   * below it (`''` or `/`: anything). `replica`: the replica whose change a remote change was,
   * when it is another replica's (a file mirror names a conflicted copy after it).
   */
  change: { readonly origin: 'local' | 'remote'; readonly paths: readonly string[]; readonly replica?: string };
  /** A conflict was parked (`doc.conflicts`): a resolver or a person settles it. */
  conflict: ConflictInfo;
  /** A conflict was decided (lww) or settled (a resolve change). */
  resolved: ConflictInfo;
  /**
   * A change of this replica will never be in the log: rejected by the log's rules (it did not
   * apply), or refused by the hub (CB_ERR_FORBIDDEN: the app may not write here). Its edits left
   * the value.
   */
  rejected: { readonly rseq: number; readonly error: CrossbusError; readonly seq?: number };
  /**
   * Something went wrong that has no caller: reading stopped, a save failed, a snapshot was not
   * published. `joining`: a document opened from its store could not join its log once the hub
   * answered (it tries again at the next connect; `error.retryable` false means that will not help).
   */
  error: { readonly error: CrossbusError; readonly joining?: boolean };
}

/** The state of one open document, shared by its parts. */
export class DocContext {
  readonly events: TypedEmitter<SyncDocumentEvents>;
  /** What the document counts for its metrics. */
  readonly metrics = new DocMetrics();
  #replica!: SyncReplica;
  #offReplica: Array<() => void> = [];
  /** The meta in force, compiled once (its strategies are globs). */
  #resolvedMeta: { raw: DocumentMeta; resolved: ResolvedMeta } | undefined;
  /** Called when the replica finds its copy corrupt (CB_ERR_SYNC_HASH_MISMATCH): the reader reloads it. */
  onCorrupt: (error: CrossbusError) => void = () => {};
  /** Edits not yet made into a change, and the value with them applied. */
  draftOps: DeltaOperation[] = [];
  draftView: unknown = undefined;
  draftBytes = 0;
  /** The JSON size of each pending change, by rseq (the offline queue's byte bound). */
  readonly pendingBytes = new Map<number, number>();
  pendingTotal = 0;
  /** The highest rseq whose change was counted in `pendingBytes`. */
  countedRseq: number;
  /** Set once the hub refused a change as not allowed: later edits are refused at once with it. */
  refusal: CrossbusError | undefined;
  closed = false;
  /** The kind and meta asked for when opening (the log's meta wins once it has one). */
  readonly proposedMeta: DocumentMeta;

  constructor(
    readonly bus: Bus,
    readonly names: DocNames,
    readonly options: ResolvedClientOpenOptions,
    readonly store: SyncStore,
    readonly crypto: Sha256Provider,
    readonly replicaOptions: SyncReplicaOptions,
    replica: SyncReplica,
    proposedMeta: DocumentMeta,
  ) {
    this.events = new TypedEmitter<SyncDocumentEvents>();
    this.events.on('rejected', (e) => this.metrics.rejected(e.seq));
    this.replica = replica;
    this.countedRseq = replica.rseq;
    this.proposedMeta = proposedMeta;
    for (const c of replica.pending) this.#count(c);
  }

  get replica(): SyncReplica {
    return this.#replica;
  }

  /** Puts `replica` in place (at open, after a reload or a refusal), its events forwarded to the document's. */
  set replica(replica: SyncReplica) {
    for (const off of this.#offReplica) off();
    this.#replica = replica;
    const events = this.events;
    this.#offReplica = [
      replica.on('conflict', (c) => events.emit('conflict', c)),
      replica.on('resolved', (c) => events.emit('resolved', c)),
      replica.on('rejected', (e) => {
        if (e.own) events.emit('rejected', { rseq: e.rseq, error: e.error, seq: e.seq });
      }),
      replica.on('corrupt', (e) => this.onCorrupt(e.error)),
    ];
  }

  /** Stops forwarding the replica's events. */
  detach(): void {
    for (const off of this.#offReplica) off();
    this.#offReplica = [];
  }

  /** The value the application reads: the replica's view, with the draft on top. */
  get value(): unknown {
    return this.draftOps.length > 0 ? this.draftView : this.replica.view;
  }

  /** The document's meta as in force: the log's, or the one proposed until the log has one. */
  get meta(): ResolvedMeta {
    const raw = this.replica.meta ?? this.proposedMeta;
    if (this.#resolvedMeta?.raw !== raw) this.#resolvedMeta = { raw, resolved: resolveMeta(raw) };
    return this.#resolvedMeta.resolved;
  }

  get kind(): 'json' | 'files' {
    return this.meta.kind;
  }

  /** A replica with the same id and options from `snapshot` (none: from the log's start), with `pending` as its queue. */
  rebuild(snapshot: SyncSnapshot | undefined, pending: readonly Change[]): SyncReplica {
    const options = { ...this.replicaOptions, pending, rseq: this.replica.rseq };
    return snapshot === undefined ? new SyncReplica(options) : SyncReplica.fromSnapshot(snapshot, options);
  }

  /** Counts the changes the replica made since the last call (edits, resolves, meta, resolvers run by the core). */
  countNew(): boolean {
    const rseq = this.replica.rseq;
    if (rseq <= this.countedRseq) return false;
    for (const c of this.replica.pending) if (c.rseq > this.countedRseq) this.#count(c);
    this.countedRseq = rseq;
    return true;
  }

  #count(c: Change): void {
    if (this.pendingBytes.has(c.rseq)) return;
    const bytes = utf8Length(JSON.stringify(c));
    this.pendingBytes.set(c.rseq, bytes);
    this.pendingTotal += bytes;
  }

  /** Measures the last change again: a draft joined it (manual mode). */
  recount(rseq: number): void {
    const c = this.replica.pending.at(-1);
    const old = this.pendingBytes.get(rseq);
    if (c === undefined || c.rseq !== rseq || old === undefined) return;
    this.pendingBytes.delete(rseq);
    this.pendingTotal -= old;
    this.#count(c);
  }

  /** Forgets the sizes of changes no longer pending (in the log, rejected, dropped). */
  uncount(): void {
    const pending = this.replica.pending;
    if (pending.length === this.pendingBytes.size) return;
    const live = new Set(pending.map((c) => c.rseq));
    for (const [rseq, bytes] of this.pendingBytes) {
      if (live.has(rseq)) continue;
      this.pendingBytes.delete(rseq);
      this.pendingTotal -= bytes;
    }
  }

  emitError(error: CrossbusError, joining = false): void {
    if (!this.closed) this.events.emit('error', joining ? { error, joining } : { error });
  }
}
