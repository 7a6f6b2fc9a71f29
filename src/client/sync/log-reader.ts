/**
 * A document's log applied in order (the OrderedFeed's handler): each message decoded and given
 * to the replica, what changed announced. Entries purged before this replica read them are taken
 * from the latest snapshot; a copy found corrupt (CB_ERR_SYNC_HASH_MISMATCH) reloads from it and
 * reads the log again after it. Every `snapshotEvery` entries, the author of the entry at the
 * mark publishes a snapshot and purges the entries no replica needs (older than the mark minus
 * the history); the confirmed state is saved to the store as often. What each entry did to
 * conflicts and changes is counted (the document's metrics) and, for this replica's own, announced
 * (ConflictAnnouncer), once per entry: entries read again after a reload are not. Runtime-neutral.
 */
import { createError, isCrossbusError, type CrossbusError } from '../../core/errors/index.js';
import { decodeBatch, DEFAULT_SYNC_MAX_INFLATED_BYTES, type Change, type ConflictInfo, type SyncSnapshot } from '../../core/sync/index.js';
import type { StreamMessage } from '../stream-message.js';
import type { ConflictAnnouncer } from './conflict-announcer.js';
import type { DocContext } from './doc-context.js';
import { filePathOf } from './file-tree.js';
import type { LocalChanges } from './local-changes.js';
import type { FeedHandler, OrderedFeed } from './ordered-feed.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { latestSnapshot } from './stream-setup.js';

export class LogReader implements FeedHandler {
  readonly #ctx: DocContext;
  readonly #local: LocalChanges;
  readonly #announcer: ConflictAnnouncer;
  #feed: OrderedFeed | undefined;
  /** Entries applied since the confirmed state was last saved. */
  #sinceSaved = 0;
  /** Set when the entry being applied found this copy corrupt. */
  #corrupt = false;
  /** The seq whose mismatch made the last reload: the same mismatch again is its author's, not this copy's. */
  #reloadedAt = 0;
  /** Waits for the reader to reach a seq (open() reads the log to its end first). */
  readonly #waiters: Array<{ seq: number; resolve: () => void; reject: (e: CrossbusError) => void }> = [];

  constructor(ctx: DocContext, local: LocalChanges, announcer: ConflictAnnouncer) {
    this.#ctx = ctx;
    this.#local = local;
    this.#announcer = announcer;
    ctx.onCorrupt = (error) => {
      ctx.emitError(error);
      this.#corrupt = true;
    };
  }

  attach(feed: OrderedFeed): void {
    this.#feed = feed;
  }

  /** Resolves once the log is applied up to `seq` (a snapshot message counts). */
  reached(seq: number): Promise<void> {
    if ((this.#feed?.lastSeq ?? 0) >= seq || this.#ctx.replica.seq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
  }

  async apply(msg: StreamMessage<unknown>, gap: boolean): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.closed) return;
    if (gap && !(await this.#recover(msg))) return this.#reached(msg.seq);
    if (msg.topic !== ctx.names.snapshotTopic) await this.#entry(msg);
    this.#reached(msg.seq);
  }

  async #entry(msg: StreamMessage<unknown>): Promise<void> {
    const ctx = this.#ctx;
    const seq = msg.seq;
    // Edits made until now become a change based on what their author saw.
    this.#local.seal();
    const before = ctx.value;
    const prevSeq = ctx.replica.seq;
    let changes: Change[];
    try {
      changes = decodeBatch(msg.data as Uint8Array);
    } catch (error) {
      // Every replica counts a message that does not decode as a rejected entry alike.
      await ctx.replica.skip(seq);
      ctx.metrics.entry({ seq, parked: [], resolved: [], merged: [], appliedLocal: 0, appliedRemote: 0, rejectedRemote: 1 }, () => '');
      ctx.emitError(asError(error));
      return;
    }
    const paths: string[] = [];
    const parked: ConflictInfo[] = [];
    const resolved: ConflictInfo[] = [];
    const merged: string[] = [];
    let appliedLocal = 0;
    let appliedRemote = 0;
    let rejectedRemote = 0;
    let clockClamped = 0;
    for (const change of changes) {
      const result = await ctx.replica.receive({ ...change, seq, stored: msg.timestamp });
      if (result.clockClamped === true) clockClamped++;
      for (const op of change.ops) paths.push(op.path);
      for (const c of [...result.parked, ...result.resolved]) paths.push(c.path);
      parked.push(...result.parked);
      resolved.push(...result.resolved);
      if (result.merged !== undefined) merged.push(...result.merged);
      const own = change.replica === ctx.replica.id;
      if (result.status === 'applied' && own) appliedLocal++;
      else if (result.status === 'applied') appliedRemote++;
      else if (result.status === 'rejected' && !own) rejectedRemote++;
    }
    if (this.#corrupt) {
      this.#corrupt = false;
      // Reloaded once for this entry already: every copy disagrees with its author, so the log is
      // what counts (the same on every replica) and reading goes on.
      if (this.#reloadedAt !== seq) {
        this.#reloadedAt = seq;
        await this.reload();
        return;
      }
    }
    // Before the queue settles: a resolve's announcement is handed to the bus before flushed() resolves.
    if (ctx.metrics.isNew(seq)) {
      this.#announcer.entry(parked, resolved);
      const meta = ctx.meta;
      const report = { seq, parked, resolved, merged, appliedLocal, appliedRemote, rejectedRemote, clockClamped };
      ctx.metrics.entry(report, (p) => meta.strategyFor(p));
    }
    this.#local.afterEntry();
    if (ctx.value !== before) {
      const shown = ctx.kind === 'files' ? paths.map((p) => (p === '' ? '/' : filePathOf(p))) : paths;
      const author = changes.length === 1 && changes[0]?.replica !== ctx.replica.id ? changes[0]?.replica : undefined;
      ctx.events.emit(
        'change',
        author === undefined ? { origin: 'remote', paths: shown } : { origin: 'remote', paths: shown, replica: author },
      );
    }
    const every = ctx.options.snapshotEvery;
    if (Math.floor(seq / every) > Math.floor(prevSeq / every)) {
      if (changes[0]?.replica === ctx.replica.id) void this.#publishSnapshot(seq);
      this.saveSnapshot();
    } else if (++this.#sinceSaved >= every) this.saveSnapshot();
  }

  /**
   * Entries before `msg` are gone from the stream: the latest snapshot stands in for them.
   * Returns whether `msg` itself is still to be applied.
   */
  async #recover(msg: StreamMessage<unknown>): Promise<boolean> {
    const ctx = this.#ctx;
    const from = ctx.replica.seq;
    const found = msg.topic === ctx.names.snapshotTopic ? msg : await latestSnapshot(ctx.bus, ctx.names);
    const snapshot = found === undefined ? undefined : decodeSnapshot(found.data, DEFAULT_SYNC_MAX_INFLATED_BYTES);
    if (snapshot === undefined || snapshot.seq < msg.seq - 1 || snapshot.seq < from) {
      throw createError(
        'CB_ERR_SYNC_STALE',
        `document ${JSON.stringify(ctx.names.doc)}: log entries ${from + 1} to ${msg.seq - 1} are gone and no snapshot covers them`,
        { details: { doc: ctx.names.doc, fromSeq: from + 1, toSeq: msg.seq - 1 } },
      );
    }
    this.load(snapshot);
    this.#feed?.skipTo(snapshot.seq);
    return msg.seq > snapshot.seq && msg.topic !== ctx.names.snapshotTopic;
  }

  /** This replica's copy is corrupt: reload from the latest snapshot (or the log's start) and read on from there. */
  async reload(): Promise<void> {
    const ctx = this.#ctx;
    const found = await latestSnapshot(ctx.bus, ctx.names);
    if (found !== undefined) {
      const snapshot = decodeSnapshot(found.data, DEFAULT_SYNC_MAX_INFLATED_BYTES);
      this.load(snapshot);
      this.#feed?.restart(snapshot.seq);
      return;
    }
    const { state } = await ctx.bus.streams.info(ctx.names.stream);
    if (state.firstSeq > 1 && state.messages > 0) {
      throw createError(
        'CB_ERR_SYNC_STALE',
        `document ${JSON.stringify(ctx.names.doc)}: its log starts at ${state.firstSeq} and no snapshot is kept`,
      );
    }
    this.load(undefined);
    this.#feed?.restart(0);
  }

  /** The replica from `snapshot` (none: from the log's start), this replica's queue kept on top. */
  load(snapshot: SyncSnapshot | undefined): void {
    const ctx = this.#ctx;
    const before = ctx.value;
    this.#local.seal();
    ctx.replica = ctx.rebuild(snapshot, ctx.replica.pending);
    this.#local.afterEntry();
    this.saveSnapshot();
    if (ctx.value !== before) ctx.events.emit('change', { origin: 'remote', paths: [ctx.kind === 'files' ? '/' : ''] });
  }

  async #publishSnapshot(seq: number): Promise<void> {
    const ctx = this.#ctx;
    try {
      const bytes = encodeSnapshot(ctx.replica.snapshot());
      await ctx.bus.publish(ctx.names.snapshotTopic, bytes, { durable: true, msgId: `snap-${seq}` });
      const mark = Math.floor(seq / ctx.options.snapshotEvery) * ctx.options.snapshotEvery;
      const upToSeq = mark - ctx.meta.limits.historyLimit;
      if (upToSeq > 0) await ctx.bus.streams.purge(ctx.names.stream, { upToSeq });
    } catch (error) {
      // Not fatal: the log stays longer, and the next mark tries again.
      ctx.emitError(asError(error));
    }
  }

  /** Saves the confirmed state to the store (in the background; a failure is an `error` event). */
  saveSnapshot(): void {
    const ctx = this.#ctx;
    this.#sinceSaved = 0;
    ctx.store.saveSnapshot(ctx.names.doc, ctx.replica.snapshot()).catch((error: unknown) => ctx.emitError(asError(error)));
  }

  #reached(seq: number): void {
    if (this.#waiters.length === 0) return;
    const done = this.#waiters.filter((w) => w.seq <= seq);
    for (const w of done) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  /** Reading stopped: the waiters learn why, the application too. */
  failed(error: CrossbusError): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
    if (!(error.code === 'CB_ERR_CONNECTION_CLOSED' && this.#ctx.bus.state === 'closed')) this.#ctx.emitError(error);
  }
}

function asError(error: unknown): CrossbusError {
  return isCrossbusError(error) ? error : createError('CB_ERR_INTERNAL', 'sync failed', { cause: error });
}
