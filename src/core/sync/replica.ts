/**
 * `SyncReplica`: one replica of a document, pure (no bus, no I/O, no timers). The client
 * plugin feeds it the document's log in order (`receive`), publishes what it makes (`edit`,
 * `resolve`, `setMeta`, then `outgoing()`), and persists `snapshot()` and `pending`.
 *
 * `confirmed` is the log applied (equal on every replica at one seq); `view` is `confirmed`
 * with this replica's pending changes applied on top by the same rules the log will apply them
 * with, so a concurrent change met in the meantime shows as it will end. Values returned
 * (`view`, `confirmed`, `snapshot()`) share structure with the replica's state: never mutate them.
 */
import { StorageError, ValidationError } from '../errors/index.js';
import { TypedEmitter, type Listener } from '../util/emitter.js';
import { applyEntry, type EntryResult } from './apply-entry.js';
import { DocWriter, getAt, type EffectiveOp } from './doc-writer.js';
import { DocState } from './doc-state.js';
import { hlcWall } from './entry-ops.js';
import { checkFileSizes } from './file-size.js';
import { touchedHash, touchedPaths } from './hash.js';
import { clampHlc, Hlc } from './hlc.js';
import { cloneJson, jsonEqual } from './json-value.js';
import { makeChange, type ChangeDraft } from './local-change.js';
import { resolveMeta } from './meta.js';
import { deltaError, parsePointer } from './pointer.js';
import { PendingQueue } from './pending-queue.js';
import { resolveReplicaOptions, type ResolvedReplicaOptions, type SyncReplicaOptions } from './replica-options.js';
import { fromSnapshot, toSnapshot, type SyncSnapshot } from './snapshot.js';
import type { Change, ConflictInfo, DeltaOperation, DocumentMeta, LogEntry } from './types.js';
import type { VersionVector } from './version-vector.js';
import type { ReceiveResult, SyncReplicaEvents, SyncStats } from './replica-events.js';

export type { ReceiveResult, SyncReplicaEvents, SyncStats } from './replica-events.js';

export class SyncReplica {
  /** This replica's id. */
  readonly id: string;
  readonly #o: ResolvedReplicaOptions;
  #state = new DocState();
  #view: unknown;
  readonly #pending: PendingQueue;
  readonly #hlc: Hlc;
  readonly #events: TypedEmitter<SyncReplicaEvents>;

  constructor(options: SyncReplicaOptions = {}) {
    this.#o = resolveReplicaOptions(options);
    this.id = this.#o.replica;
    this.#hlc = new Hlc(this.id, this.#o.clock);
    this.#events = new TypedEmitter(this.#o.onError);
    this.#pending = new PendingQueue(this.#o.maxPending);
    this.#restore();
  }

  /** A replica starting from a snapshot (then `receive` the log after `snapshot.seq`); throws CB_ERR_PAYLOAD_INVALID. */
  static fromSnapshot(snapshot: SyncSnapshot, options: SyncReplicaOptions = {}): SyncReplica {
    const replica = new SyncReplica(options);
    replica.#state = fromSnapshot(snapshot);
    replica.#restore();
    return replica;
  }

  /** What the application reads: `confirmed` and this replica's pending changes. */
  get view(): unknown {
    return this.#view;
  }

  /** The log applied up to `seq`: the same on every replica. */
  get confirmed(): unknown {
    return this.#state.doc;
  }

  /** The last log position applied. */
  get seq(): number {
    return this.#state.seq;
  }

  /** A copy of the version vector (the highest rseq the log carried, per replica). */
  get vv(): VersionVector {
    return this.#state.vv.clone();
  }

  /** The document's meta, once the log carried it. */
  get meta(): DocumentMeta | undefined {
    return this.#state.rawMeta;
  }

  /** Parked conflicts, in log order. */
  get conflicts(): readonly ConflictInfo[] {
    return this.#state.conflicts.parked;
  }

  /** The last conflicts decided or settled (`maxResolvedConflicts`). */
  get resolvedConflicts(): readonly ConflictInfo[] {
    return this.#state.conflicts.resolved;
  }

  /** This replica's changes not yet in the log (the offline queue), in rseq order. */
  get pending(): readonly Change[] {
    return this.#pending.changes;
  }

  /** The last rseq this replica used: persist it with the offline queue. */
  get rseq(): number {
    return this.#pending.rseq;
  }

  get stats(): SyncStats {
    const c = this.#state.conflicts;
    return { seq: this.#state.seq, pending: this.#pending.length, parkedNow: c.parkedCount, ...c.counts };
  }

  on<K extends keyof SyncReplicaEvents>(name: K, listener: Listener<SyncReplicaEvents[K]>): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends keyof SyncReplicaEvents>(name: K, listener: Listener<SyncReplicaEvents[K]>): void {
    this.#events.off(name, listener);
  }

  /**
   * Applies `ops` to the view at once and queues them as a change. The promise settles with the
   * change once its hash is computed; it rejects, changing nothing, with CB_ERR_SYNC_DELTA (an
   * op that does not apply to the view) or CB_ERR_SYNC_TOO_LARGE (`maxChangeBytes`,
   * `maxFileBytes`, `maxPending`).
   */
  edit(ops: readonly DeltaOperation[]): Promise<Change> {
    try {
      return this.#make({ ops }, true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Puts a change with `ops` in place of the last pending one (its rseq and base, a new clock):
   * a draft that grows until a person syncs stays one change, so a concurrent edit meets it once.
   * Only the caller knows that change was not sent. It must carry ops only, and no log entry may
   * have been applied since it was made, so that `ops` were made on the view it was made on.
   * Returns undefined, changing nothing, when it may not be rewritten; rejects as `edit` does.
   */
  rewriteLast(ops: readonly DeltaOperation[]): Promise<Change> | undefined {
    const last = this.rewritable;
    if (last === undefined) return undefined;
    try {
      return this.#make({ ops }, true, last);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The last pending change when `rewriteLast` may put another in its place (as that method says); otherwise undefined. */
  get rewritable(): Change | undefined {
    const last = this.#pending.changes.at(-1);
    if (last === undefined || last.base !== this.#state.seq || last.resolve !== undefined || last.meta !== undefined) return undefined;
    return last;
  }

  /**
   * Settles a parked conflict on every replica: `local` keeps what the log holds, `remote` takes
   * the parked change, `merged` sets `value` (undefined deletes the path). Rejects with
   * CB_ERR_SYNC_NO_CONFLICT when no such conflict is parked (or a resolve of it is pending).
   */
  resolve(conflictId: string, take: 'local' | 'remote' | 'merged', value?: unknown): Promise<Change> {
    try {
      const parked = this.#state.conflicts.get(conflictId);
      if (parked === undefined || this.#pending.changes.some((c) => c.resolve?.conflict === conflictId)) {
        throw new ValidationError('CB_ERR_SYNC_NO_CONFLICT', `no parked conflict ${JSON.stringify(String(conflictId).slice(0, 64))}`);
      }
      if (take !== 'local' && take !== 'remote' && take !== 'merged') throw deltaError('take must be local, remote or merged');
      if (take === 'remote') checkTakeable(this.#state.doc, parked);
      const copy = take === 'merged' && value !== undefined ? cloneJson(value) : undefined;
      return this.#make({ ops: [], resolve: { conflict: conflictId, take, ...(copy === undefined ? {} : { value: copy }) } }, false);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Proposes the document's meta (the first in the log is taken). Rejects with
   * CB_ERR_INVALID_OPTION / CB_ERR_CONFLICTING_OPTIONS for a bad meta, CB_ERR_SYNC_DELTA when
   * the log already carries a different one.
   */
  setMeta(meta: DocumentMeta): Promise<Change> {
    try {
      resolveMeta(meta);
      const copy = cloneJson(meta) as DocumentMeta;
      if (this.#state.rawMeta !== undefined && !jsonEqual(this.#state.rawMeta, copy)) {
        throw deltaError("a document's meta is set once, by the first meta change in its log");
      }
      return this.#make({ ops: [], meta: copy }, false);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs the resolver of a parked `custom:<name>` conflict and proposes its value; undefined without that resolver. */
  runResolver(conflictId: string): Promise<Change | undefined> {
    const conflict = this.#state.conflicts.get(conflictId);
    const name = conflict?.strategy.startsWith('custom:') ? conflict.strategy.slice(7) : undefined;
    const resolver = name === undefined ? undefined : this.#o.resolvers[name];
    if (conflict === undefined || resolver === undefined) return Promise.resolve(undefined);
    try {
      const value = resolver(conflict, getAt(this.#state.doc, parsePointer(conflict.path)));
      return this.resolve(conflictId, 'merged', value);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Applies the next log entry (in seq order; an entry at or before `seq` is skipped, except
   * the next change of the same message). Everything the entry does happens before this
   * returns; the promise waits only for the hash check, whose failure is reported in the
   * result and as `corrupt`, never thrown.
   */
  receive(entry: LogEntry): Promise<ReceiveResult> {
    let result: ReceiveResult;
    try {
      const hlc = !Number.isFinite(entry.stored)
        ? entry.hlc
        : clampHlc(entry.hlc, (entry.stored as number) + this.#state.meta.limits.maxClockSkewMs);
      result = hlc === entry.hlc ? this.#receive(entry) : { ...this.#receive({ ...entry, hlc }), clockClamped: true };
    } catch (error) {
      return Promise.reject(error);
    }
    const crypto = this.#o.crypto;
    if (result.check === undefined || crypto === undefined || entry.hash === undefined) return Promise.resolve(result);
    try {
      const actual = touchedHash(crypto, this.#state.doc, result.check);
      return Promise.resolve(actual).then((hash) => (hash === entry.hash ? result : this.#corrupt(entry, result)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #corrupt(entry: LogEntry, result: EntryResult): ReceiveResult {
    const seq = entry.seq;
    const error = new StorageError('CB_ERR_SYNC_HASH_MISMATCH', `after log entry ${seq} this replica's copy differs from its author's`, {
      details: { seq, replica: entry.replica, rseq: entry.rseq },
    });
    this.#events.emit('corrupt', { seq, error });
    return { ...result, hashMismatch: error };
  }

  /** A log message at `seq` that does not decode: every replica counts it as a rejected entry. */
  skip(seq: number): Promise<ReceiveResult> {
    return this.receive({ seq } as LogEntry);
  }

  /** The pending changes, each with its hash, once computed: what to publish (in order). */
  async outgoing(): Promise<readonly Change[]> {
    return this.#pending.ready();
  }

  /** The shared state at `seq`: equal on every replica there. Pending changes are not in it (see `pending`, `rseq`). */
  snapshot(): SyncSnapshot {
    return toSnapshot(this.#state);
  }

  #receive(entry: LogEntry): EntryResult {
    let before = this.#view;
    if (typeof entry?.hlc === 'string') this.#hlc.receive(entry.hlc);
    const first = this.#pending.first;
    const result = applyEntry(this.#state, entry);
    if (result.status === 'skipped') return result;
    const own = entry.replica === this.id;
    const mine = this.#state.vv.get(this.id);
    const lost = this.#pending.confirm(mine).filter((c) => !(own && c.rseq === entry.rseq));
    const records = this.#state.history.records;
    // Its own first pending change applied as the view had it: the view stays as it is.
    const same =
      own && result.status === 'applied' && first?.rseq === entry.rseq && lost.length === 0 && records[records.length - 1]?.clean === true;
    if (!same) this.#rebuildView();
    else if (this.#pending.length === 0) this.#view = before = this.#state.doc;
    const seq = this.#state.seq;
    if (result.error !== undefined) {
      this.#events.emit('rejected', { seq, replica: String(entry.replica), rseq: Number(entry.rseq), own, error: result.error });
    }
    for (const c of lost) {
      const error = deltaError(`change ${c.rseq} of this replica never reached the log: a later one did first`, { rseq: c.rseq });
      this.#events.emit('rejected', { seq, replica: this.id, rseq: c.rseq, own: true, error });
    }
    for (const c of result.parked) this.#events.emit('conflict', c);
    for (const c of result.resolved) this.#events.emit('resolved', c);
    if (this.#view !== before) this.#events.emit('change', { origin: 'remote', seq });
    for (const c of result.parked) {
      if (c.replica === this.id && c.strategy.startsWith('custom:')) this.runResolver(c.id).catch(this.#o.onError);
    }
    return result;
  }

  /** A new pending change of `draft`, or the one that takes the place of `replacing` (see `rewriteLast`). */
  #make(draft: ChangeDraft, onView: boolean, replacing?: Change): Promise<Change> {
    if (replacing === undefined) this.#pending.checkRoom();
    const hlc = this.#hlc.now();
    const rseq = replacing?.rseq ?? this.#pending.rseq + 1;
    const head = { replica: this.id, rseq, base: this.#state.seq, hlc, wall: hlcWall(hlc) };
    const limits = this.#state.meta.limits;
    const change = makeChange(draft, head, limits.maxChangeBytes);
    let eff: EffectiveOp[] = [];
    let view = this.#view;
    if (onView) {
      const writer = new DocWriter(replacing === undefined ? this.#view : this.#viewOf(this.#pending.changes.slice(0, -1)));
      eff = change.ops.map((op) => writer.apply(op, parsePointer(op.path)));
      checkFileSizes(writer, eff, limits.maxFileBytes);
      view = writer.result;
    }
    const crypto = onView ? this.#o.crypto : undefined;
    const hash = crypto === undefined ? undefined : touchedHash(crypto, view, touchedPaths(eff));
    const ready = replacing === undefined ? this.#pending.push(change, hash) : this.#pending.replaceLast(change, hash);
    if (onView) this.#view = view;
    else this.#rebuildView();
    this.#events.emit('change', { origin: 'local', seq: this.#state.seq, change: this.#pending.changes.at(-1) as Change });
    return ready;
  }

  /** The view: `confirmed` with the pending changes applied as the log would apply them next. */
  #rebuildView(): void {
    this.#view = this.#viewOf(this.#pending.changes);
  }

  /** `confirmed` with `changes` applied as the log would apply them next. */
  #viewOf(changes: readonly Change[]): unknown {
    if (changes.length === 0) return this.#state.doc;
    const sim = this.#state.fork();
    for (const c of changes) applyEntry(sim, { ...c, seq: sim.seq + 1 });
    return sim.doc;
  }

  /** After the state changed wholesale: the clock past every time seen, the queue without what the log has. */
  #restore(): void {
    if (this.#state.maxHlc !== '') this.#hlc.receive(this.#state.maxHlc);
    const mine = this.#state.vv.get(this.id);
    const queue = this.#o.pending.filter((c) => c.rseq > mine);
    for (const c of queue) this.#hlc.receive(c.hlc);
    this.#pending.restore(queue, Math.max(this.#o.rseq, mine));
    this.#rebuildView();
  }
}

/**
 * Throws CB_ERR_SYNC_DELTA, before anything is published, when the parked change is a text or
 * chunk edit that no longer applies: it was made on a version of the file that is gone (a stale
 * change whose file others changed meanwhile). Taking it would be rejected by the log; a person
 * takes `local`, or `merged` with the content they want.
 */
function checkTakeable(doc: unknown, parked: ConflictInfo): void {
  const op = parked.remoteChange;
  if (op.text === undefined && op.chunks === undefined) return;
  try {
    new DocWriter(doc).apply(op);
  } catch (cause) {
    throw deltaError(
      `conflict ${parked.id}: the parked edit of ${parked.path.slice(0, 200)} was made on a version of it that is gone, so it cannot be taken; take 'local', or 'merged' with the content you want`,
      { conflict: parked.id, path: parked.path.slice(0, 200), cause: (cause as Error).message },
    );
  }
}
