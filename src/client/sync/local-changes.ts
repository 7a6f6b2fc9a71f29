/**
 * A document's own edits on their way into the log. An edit is applied to the value at once and
 * gathered into the draft; the draft becomes one change (`SyncReplica.edit`) when it is time:
 * in realtime mode as soon as no change is on its way to the hub, or the hub is out of reach (so
 * the edits made while one is in flight travel together next), in batch mode every interval, in manual mode at once (kept, not sent,
 * until `sync()`, and joined by the next edits until then), and always before a log entry is
 * applied, so that a change is based on what its author saw. A change is saved to the store before it is sent; changes are sent one at a
 * time in rseq order, with `msgId` `${replica}:${rseq}`. Runtime-neutral.
 */
import { foldInto } from './fold-edits.js';
import { createError, type CrossbusError } from '../../core/errors/index.js';
import { utf8Length } from '../../core/protocol/utf8.js';
import { applyOps, encodeBatch, getAt, parsePointer, type Change, type DeltaOperation } from '../../core/sync/index.js';
import type { PublishAck } from '../../core/streams/wire.js';
import { unrefTimer } from '../../core/util/timers.js';
import type { DocContext } from './doc-context.js';
import { ChangePublisher } from './publisher.js';
import { checkQueueRoom } from './queue-bound.js';

/** Bytes a change adds around its ops (ids, clock, hash), kept free when a draft is measured against maxChangeBytes. */
const CHANGE_ENVELOPE_BYTES = 512;

export class LocalChanges {
  readonly #ctx: DocContext;
  readonly #publisher: ChangePublisher;
  /** The highest rseq the hub stored, the highest saved, the highest `sync()` let go (manual and batch modes). */
  #sentUpTo = 0;
  #savedUpTo = 0;
  #allowedUpTo = 0;
  /** The rseq of the change being sent. */
  #inFlight = 0;
  /** Set by `start()`, once the document has joined its log: nothing is sent before (an offline open waits for the hub). */
  #started = false;
  #saving: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #waiters: Array<{ resolve: () => void; reject: (e: CrossbusError) => void }> = [];
  readonly #offBus: Array<() => void>;

  constructor(ctx: DocContext) {
    this.#ctx = ctx;
    this.#publisher = new ChangePublisher(ctx.bus, ctx.names.topic, ctx.options.retryMs, {
      stored: (_id, ack) => this.#stored(ack),
      refused: (_id, error) => this.#refused(error),
      stopped: (_id, error) => {
        if (ctx.bus.state !== 'closed') ctx.emitError(error);
      },
    });
    this.#offBus = [
      ctx.bus.on('connected', () => this.pump()),
      // Offline, nothing is in flight: what is drafted becomes a change and is saved.
      ctx.bus.on('disconnected', () => this.seal()),
    ];
    if (ctx.options.mode === 'batch') {
      this.#timer = unrefTimer(setInterval(() => this.sync(), ctx.options.intervalMs));
    }
  }

  /** Starts sending the queue a restart left: changes up to `savedUpTo` were saved before. */
  start(savedUpTo: number): void {
    this.#started = true;
    if (savedUpTo > this.#savedUpTo) this.#savedUpTo = savedUpTo;
    this.#allowedUpTo = Math.max(this.#allowedUpTo, savedUpTo);
    this.pump();
  }

  /**
   * Applies `ops` to the value and drafts them; throws, changing nothing, CB_ERR_SYNC_TOO_LARGE
   * (the offline queue's bound, `maxChangeBytes`, `maxFileBytes`), CB_ERR_SYNC_DELTA (an op that
   * does not apply), or the hub's earlier refusal of this app's changes.
   */
  edit(ops: readonly DeltaOperation[], paths: readonly string[]): void {
    const ctx = this.#ctx;
    this.#checkWritable();
    if (ops.length === 0) return;
    // Through JSON: the draft keeps no object of the caller's, and the size is the wire's.
    const text = JSON.stringify(ops);
    const own = JSON.parse(text) as DeltaOperation[];
    const bytes = utf8Length(text);
    const limits = ctx.meta.limits;
    if (bytes + CHANGE_ENVELOPE_BYTES > limits.maxChangeBytes) {
      throw createError('CB_ERR_SYNC_TOO_LARGE', `an edit of ${bytes} bytes is over maxChangeBytes (${limits.maxChangeBytes})`, {
        details: { size: bytes, maxChangeBytes: limits.maxChangeBytes },
      });
    }
    // A draft that would grow past one change's size becomes a change first; this edit starts the next.
    if (ctx.draftBytes + bytes + CHANGE_ENVELOPE_BYTES > limits.maxChangeBytes) this.seal();
    const changes = ctx.replica.pending.length + (ctx.draftOps.length === 0 && this.#joinable() === undefined ? 1 : 0);
    checkQueueRoom(ctx.names.doc, ctx.options, changes, ctx.pendingTotal + ctx.draftBytes + bytes);
    const view = applyOps(ctx.value, own);
    checkValueSizes(view, own, limits.maxFileBytes);
    if (ctx.draftOps.length === 0) {
      ctx.draftOps = own;
      ctx.draftBytes = bytes;
    } else {
      const had = ctx.draftOps.length;
      ctx.draftOps = foldInto(ctx.draftOps, own, ctx.value);
      // Measured again only when an op folded (its size changed); otherwise the edit's bytes add up.
      ctx.draftBytes = ctx.draftOps.length === had + own.length ? ctx.draftBytes + bytes : utf8Length(JSON.stringify(ctx.draftOps));
    }
    ctx.draftView = view;
    ctx.events.emit('change', { origin: 'local', paths });
    const { mode } = ctx.options;
    if (mode === 'manual') this.seal();
    else if (mode === 'realtime' && (!this.#unsent() || ctx.bus.state !== 'connected')) this.seal();
  }

  /** Whether a change is on its way to the hub (saving, waiting, or in flight): realtime edits fold until it is stored. */
  #unsent(): boolean {
    const pending = this.#ctx.replica.pending;
    return (pending[pending.length - 1]?.rseq ?? 0) > this.#sentUpTo;
  }

  /** Throws what makes edits impossible now: a closed document, the hub's refusal of this app's changes. */
  #checkWritable(): void {
    if (this.#ctx.closed) throw createError('CB_ERR_CONNECTION_CLOSED', `document ${JSON.stringify(this.#ctx.names.doc)} is closed`);
    if (this.#ctx.refusal !== undefined) throw this.#ctx.refusal;
  }

  /** A resolve of a parked conflict, as a change of its own. */
  resolve(conflict: string, take: 'local' | 'remote' | 'merged', value: unknown): void {
    this.#checkWritable();
    this.seal();
    this.#made(this.#ctx.replica.resolve(conflict, take, value));
  }

  /** The document's meta, proposed once the log is read and has none. */
  proposeMeta(): void {
    const ctx = this.#ctx;
    if (ctx.replica.meta !== undefined || ctx.refusal !== undefined || ctx.replica.pending.some((c) => c.meta !== undefined)) return;
    this.#made(ctx.replica.setMeta(ctx.proposedMeta));
  }

  /** Makes the draft a change (saved, then sent when its turn comes). */
  seal(): void {
    const ctx = this.#ctx;
    if (ctx.draftOps.length === 0 || ctx.closed) return;
    const ops = ctx.draftOps;
    ctx.draftOps = [];
    ctx.draftView = undefined;
    ctx.draftBytes = 0;
    if (this.#rewrite(ops)) return;
    const before = ctx.replica.rseq;
    const made = ctx.replica.edit(ops);
    if (ctx.replica.rseq === before) {
      // The core refused what the checks here let pass: the draft's edits leave the value, visibly.
      made.catch((error: CrossbusError) => {
        ctx.events.emit('rejected', { rseq: before + 1, error });
        ctx.events.emit('change', { origin: 'local', paths: ops.map((o) => o.path) });
        this.#settleWaiters(error);
      });
      return;
    }
    this.#made(made);
  }

  /**
   * Manual mode: the change the draft may join, the last one while it waits for `sync()` (not
   * sent, and no log entry came in since it was made), so that the edits between two syncs are
   * one change and a concurrent edit of the same text meets them once.
   */
  #joinable(): Change | undefined {
    const last = this.#ctx.replica.rewritable;
    if (this.#ctx.options.mode !== 'manual' || last === undefined || last.rseq <= this.#allowedUpTo || last.rseq <= this.#sentUpTo) {
      return undefined;
    }
    return last;
  }

  /** The draft joined to the change it may join (see `#joinable`); false when it may not. */
  #rewrite(ops: DeltaOperation[]): boolean {
    const ctx = this.#ctx;
    const last = this.#joinable();
    if (last === undefined) return false;
    const combined = foldInto(last.ops, ops, ctx.replica.view);
    if (utf8Length(JSON.stringify(combined)) + CHANGE_ENVELOPE_BYTES > ctx.meta.limits.maxChangeBytes) return false;
    const made = ctx.replica.rewriteLast(combined);
    if (made === undefined) return false;
    ctx.recount(last.rseq);
    made.then(
      () => this.save(),
      (error: CrossbusError) => {
        ctx.events.emit('rejected', { rseq: last.rseq, error });
        ctx.events.emit('change', { origin: 'local', paths: ops.map((o) => o.path) });
      },
    );
    return true;
  }

  /** After the replica made a change (or several: a resolver's): counted, saved, and sent in its turn. */
  #made(made: Promise<Change>): void {
    made.catch(() => {}); // its failure, if any, is the caller's (resolve, meta) or reported by the core
    if (this.#ctx.countNew()) this.save();
  }

  /** Saves the queue (each change with its hash), then sends what is saved. */
  save(): void {
    const ctx = this.#ctx;
    this.#saving = this.#saving
      .then(async () => {
        const replica = ctx.replica;
        const pending = await replica.outgoing();
        await ctx.store.save({ doc: ctx.names.doc, replica: replica.id, nextRseq: replica.rseq + 1, pending: [...pending] });
        const top = pending[pending.length - 1]?.rseq ?? 0;
        if (top > this.#savedUpTo) this.#savedUpTo = top;
        this.pump();
      })
      .catch((error: CrossbusError) => ctx.emitError(error));
  }

  /** Waits for the saves under way. */
  saved(): Promise<void> {
    return this.#saving;
  }

  /** Manual and batch modes: the draft becomes a change and everything queued is sent now. */
  sync(): void {
    this.seal();
    this.#allowedUpTo = this.#ctx.replica.rseq;
    this.pump();
  }

  /** Sends the next saved change when none is on its way. */
  pump(): void {
    const ctx = this.#ctx;
    if (ctx.closed || !this.#started || this.#publisher.busy) return;
    const next = ctx.replica.pending.find((c) => c.rseq > this.#sentUpTo);
    if (next === undefined) {
      this.#checkFlushed();
      return;
    }
    if (next.rseq > this.#savedUpTo) return;
    // A draft sealed early (a log entry came in, the bus went down) still waits for the interval or sync().
    if (ctx.options.mode !== 'realtime' && next.rseq > this.#allowedUpTo) return;
    let payload: Uint8Array;
    try {
      payload = encodeBatch([next]);
    } catch (error) {
      this.#inFlight = next.rseq;
      this.#refused(error as CrossbusError);
      return;
    }
    this.#inFlight = next.rseq;
    this.#publisher.send(`${ctx.replica.id}:${next.rseq}`, payload);
  }

  #stored(_ack: PublishAck): void {
    this.#sentUpTo = Math.max(this.#sentUpTo, this.#inFlight);
    this.#ctx.metrics.sent++;
    if (this.#ctx.options.mode === 'realtime' && !this.#unsent()) this.seal();
    this.pump();
  }

  /**
   * The hub refused the change being sent for good (not allowed, too large): it and the changes
   * made after it (which were made on top of it), and the draft, leave the queue and the value.
   * CB_ERR_FORBIDDEN makes every later edit fail at once with it.
   */
  #refused(error: CrossbusError): void {
    const ctx = this.#ctx;
    const from = this.#inFlight;
    const replica = ctx.replica;
    const dropped = replica.pending.filter((c) => c.rseq >= from);
    const paths = [...dropped.flatMap((c) => c.ops.map((o) => o.path)), ...ctx.draftOps.map((o) => o.path)];
    const draftRseq = ctx.draftOps.length > 0 ? replica.rseq + 1 : undefined;
    ctx.draftOps = [];
    ctx.draftView = undefined;
    ctx.draftBytes = 0;
    if (error.code === 'CB_ERR_FORBIDDEN') ctx.refusal = error;
    ctx.replica = ctx.rebuild(
      replica.snapshot(),
      replica.pending.filter((c) => c.rseq < from),
    );
    ctx.uncount();
    this.save();
    for (const c of dropped) ctx.events.emit('rejected', { rseq: c.rseq, error });
    if (draftRseq !== undefined) ctx.events.emit('rejected', { rseq: draftRseq, error });
    ctx.events.emit('change', { origin: 'local', paths });
    this.#settleWaiters(error);
    this.pump();
  }

  /** Resolves once the draft and every pending change are in the log; rejects when one is refused. */
  flushed(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.closed) return Promise.reject(createError('CB_ERR_CONNECTION_CLOSED', `document ${JSON.stringify(ctx.names.doc)} is closed`));
    this.seal();
    if (ctx.draftOps.length === 0 && ctx.replica.pending.length === 0) return Promise.resolve();
    // Batch mode: waiting for the log lets the queue go now rather than at the interval.
    if (ctx.options.mode === 'batch') this.#allowedUpTo = ctx.replica.rseq;
    this.pump();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** After a log entry was applied: what left the queue, and whether everything is in. */
  afterEntry(): void {
    const ctx = this.#ctx;
    ctx.uncount();
    if (ctx.countNew()) this.save();
    this.#checkFlushed();
  }

  #checkFlushed(): void {
    const ctx = this.#ctx;
    if (this.#waiters.length === 0 || ctx.draftOps.length > 0 || ctx.replica.pending.length > 0) return;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #settleWaiters(error: CrossbusError): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  /** Stops sending and timers; the draft becomes a change (saved with the queue). */
  close(error: CrossbusError): void {
    this.seal();
    this.#publisher.close();
    clearInterval(this.#timer);
    for (const off of this.#offBus) off();
    this.#settleWaiters(error);
  }
}

/**
 * Texts and binary files an edit leaves must stay within `maxFileBytes` (the core checks it again
 * when the change is made; checked here so that the edit is refused before it shows).
 */
function checkValueSizes(view: unknown, ops: readonly DeltaOperation[], max: number): void {
  for (const op of ops) {
    if (op.type === 'delete') continue;
    const v = getAt(view, parsePointer(op.path));
    const text = typeof v === 'string' ? v : typeof (v as { text?: unknown })?.text === 'string' ? (v as { text: string }).text : undefined;
    const b64 = typeof (v as { base64?: unknown })?.base64 === 'string' ? (v as { base64: string }).base64 : undefined;
    const size =
      text !== undefined ? (text.length * 3 > max ? utf8Length(text) : 0) : b64 !== undefined ? Math.floor((b64.length * 3) / 4) : 0;
    if (size > max) {
      throw createError('CB_ERR_SYNC_TOO_LARGE', `${op.path.slice(0, 200)} would be ${size} bytes, over maxFileBytes (${max})`, {
        details: { path: op.path.slice(0, 200), size, maxFileBytes: max },
      });
    }
  }
}
