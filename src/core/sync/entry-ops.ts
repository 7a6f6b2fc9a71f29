/**
 * The ops of one log entry, applied to the document with the rules every replica follows alike.
 *
 * An op that meets nothing concurrent applies as written; if it does not apply and nothing
 * concurrent happened since the change's base, the change is rejected whole (thrown); if
 * something did, the op meets it like an overlapping one. An op that meets concurrent ops goes to its path's strategy, with
 * what its author wanted there (`view`: the path before and after the op, in the document the
 * author saw, rebuilt by undoing the history back to the change's base and replaying the
 * author's own later changes):
 * - the log already holds what the author wanted: nothing to do;
 * - the concurrent ops left the path as the author saw it: the op applies (except under lww);
 * - `lww`: the greater HLC wins; a loser is recorded as a decided conflict;
 * - `merge`: two texts edited concurrently are merged line by line (a clean merge applies);
 *   anything else is parked, as are `manual` and `custom:<name>`.
 * Past `maxConflicts` parked, lww decides instead (counted).
 */
import type { DocWriter, EffectiveOp } from './doc-writer.js';
import type { DocState } from './doc-state.js';
import { land, type Landing } from './concurrency.js';
import { documentAt, type HistoryRecord } from './history.js';
import { jsonEqual, textOf } from './json-value.js';
import { formatPointer, overlaps, parsePointer, type Segments } from './pointer.js';
import { diffText } from './text-edit.js';
import { mergeText } from './text-merge.js';
import type { ConflictInfo, DeltaOperation, LogEntry, SyncStrategy } from './types.js';

interface AuthorView {
  readonly before: unknown;
  readonly after: unknown;
}

/** The object without its undefined members (what JSON keeps), so that snapshots compare equal. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o)) if ((o as Record<string, unknown>)[k] === undefined) delete (o as Record<string, unknown>)[k];
  return o;
}

export class EntryOps {
  readonly eff: EffectiveOp[] = [];
  readonly parked: ConflictInfo[] = [];
  readonly decided: Array<{ conflict: ConflictInfo; overflow: boolean }> = [];
  /** Paths where concurrent text edits met and merged cleanly: conflicts the merge strategy settled. */
  readonly merged: string[] = [];
  /** Every op applied as written, meeting nothing. */
  clean = true;
  #author: DocWriter | undefined;
  #authorBroken = false;
  #authorDone = 0;
  readonly #skipped: Segments[] = [];

  constructor(
    readonly state: DocState,
    readonly entry: LogEntry,
    readonly writer: DocWriter,
    readonly concurrent: readonly HistoryRecord[],
    readonly opBase: number,
    readonly wall: number,
    /** Something concurrent happened since the change's base: an op that misses meets it rather than being wrong. */
    readonly blame: boolean,
  ) {}

  run(): void {
    const ops = this.entry.ops;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as DeltaOperation;
      const segs = parsePointer(op.path);
      const arrayInsert = op.type === 'insert' && this.#insertsIntoArray(segs);
      const landing: Landing = this.concurrent.length === 0 ? { segs, met: [], gone: false } : land(segs, arrayInsert, this.concurrent);
      if (landing.met.length === 0) {
        try {
          this.eff.push(this.writer.apply(op, landing.segs));
          continue;
        } catch (error) {
          // With nothing concurrent to blame (no other replica's change since the base, the author's own earlier
          // changes applied as it saw them), an op that does not apply is a bad delta: the change is rejected.
          if (!this.blame && !this.#skipped.some((s) => overlaps(s, segs))) throw error;
        }
      }
      this.clean = false;
      this.#meet(i, op, segs, landing, arrayInsert);
    }
  }

  #insertsIntoArray(segs: Segments): boolean {
    if (segs.length === 0) return false;
    return segs[segs.length - 1] === '-' || Array.isArray(this.writer.get(segs.slice(0, -1)));
  }

  #meet(i: number, op: DeltaOperation, segs: Segments, landing: Landing, arrayInsert: boolean): void {
    const view = this.#authorView(i, op, segs);
    const current = landing.gone ? undefined : this.writer.get(landing.segs);
    const strategy: SyncStrategy = this.state.meta.strategyFor(op.path);
    if (view !== undefined && !landing.gone && !arrayInsert) {
      if (jsonEqual(view.after, current)) return;
      // Under lww the greater HLC decides even when the concurrent ops left the value as the author saw it.
      const unchanged = strategy !== 'lww' && landing.met.length > 0 && jsonEqual(view.before, current);
      if (unchanged && this.#force(landing.segs, view.after, false)) return;
    }
    if (strategy === 'merge' && view !== undefined && this.#merge(op, landing, view, current)) return;
    const full = this.state.conflicts.parkedCount + this.parked.length >= this.state.meta.limits.maxConflicts;
    if (strategy === 'lww' || full) {
      let maxMet = '';
      for (const o of landing.met) if (o.record.hlc > maxMet) maxMet = o.record.hlc;
      const remoteWins =
        this.entry.hlc > maxMet && view !== undefined && !landing.gone && this.#force(landing.segs, view.after, arrayInsert);
      if (!remoteWins) this.#skipped.push(segs);
      const conflict = this.#conflict(i, op, landing, view, current, arrayInsert, 'lww');
      this.decided.push({
        conflict: { ...conflict, resolution: remoteWins ? 'remote' : 'local', resolvedTime: this.wall },
        overflow: strategy !== 'lww',
      });
      return;
    }
    this.#skipped.push(segs);
    this.parked.push(this.#conflict(i, op, landing, view, current, arrayInsert, strategy));
  }

  /** Two texts edited concurrently: a clean line merge applies. */
  #merge(op: DeltaOperation, landing: Landing, view: AuthorView, current: unknown): boolean {
    if (landing.gone || landing.met.some((m) => m.op.segs.length !== landing.segs.length || !overlaps(m.op.segs, landing.segs)))
      return false;
    const base = textOf(view.before);
    const ours = textOf(view.after);
    const theirs = textOf(current);
    if (base === undefined || ours === undefined || theirs === undefined || typeof view.after !== typeof current) return false;
    const merged = mergeText(ours, base, theirs);
    if (!merged.clean) return false;
    if (merged.text !== theirs) {
      this.eff.push(
        this.writer.apply({ type: 'update', path: op.path, text: diffText(theirs, merged.text), timestamp: op.timestamp }, landing.segs),
      );
    }
    this.merged.push(formatPointer(landing.segs));
    return true;
  }

  /** Sets (or, for undefined, removes) `value` at `segs` whatever is there; false when its parent is gone. */
  #force(segs: Segments, value: unknown, arrayInsert: boolean): boolean {
    const e = value === undefined ? this.writer.remove(segs) : this.writer.set(segs, value, arrayInsert);
    if (e !== undefined) this.eff.push(e);
    return e !== undefined || value === undefined;
  }

  /** The path before and after op `i` in the document its author saw; undefined when that cannot be rebuilt. */
  #authorView(i: number, op: DeltaOperation, segs: Segments): AuthorView | undefined {
    const author = this.#authorDoc();
    if (author === undefined) return undefined;
    const ops = this.entry.ops;
    for (; this.#authorDone < i; this.#authorDone++) tryApply(author, ops[this.#authorDone] as DeltaOperation);
    this.#authorDone = i + 1;
    const before = author.get(segs);
    try {
      const e = author.apply(op, segs);
      return { before, after: op.type === 'delete' ? undefined : author.get(e.segs) };
    } catch {
      return undefined;
    }
  }

  #authorDoc(): DocWriter | undefined {
    if (this.#author !== undefined || this.#authorBroken) return this.#author;
    try {
      const history = this.state.history;
      const author = documentAt(this.state.doc, history, this.entry.base);
      const records = history.records;
      for (let r = history.indexAfter(this.entry.base); r < records.length; r++) {
        const record = records[r] as HistoryRecord;
        if (record.replica === this.entry.replica) for (const op of record.ops) tryApply(author, op);
      }
      this.#author = author;
    } catch {
      this.#authorBroken = true;
    }
    return this.#author;
  }

  #conflict(
    i: number,
    op: DeltaOperation,
    landing: Landing,
    view: AuthorView | undefined,
    current: unknown,
    arrayInsert: boolean,
    strategy: string,
  ): ConflictInfo {
    const path = formatPointer(landing.segs);
    const last = landing.met[landing.met.length - 1];
    const before = view?.before;
    const localChange: DeltaOperation = compact({
      type: current === undefined ? 'delete' : before === undefined ? 'insert' : 'update',
      path,
      value: current,
      oldValue: before,
      timestamp: last === undefined ? this.wall : hlcWall(last.record.hlc),
    });
    const remoteChange: DeltaOperation =
      view === undefined
        ? { ...op, path }
        : compact({
            type: arrayInsert ? 'insert' : view.after === undefined ? 'delete' : before === undefined ? 'insert' : 'update',
            path,
            value: view.after,
            oldValue: before,
            timestamp: op.timestamp,
          });
    return {
      id: `${this.entry.seq}:${this.opBase + i}`,
      path,
      localChange,
      remoteChange,
      detectionTime: this.wall,
      strategy,
      replica: this.entry.replica,
    };
  }
}

function tryApply(writer: DocWriter, op: DeltaOperation): void {
  try {
    writer.apply(op);
  } catch {
    // The author's view skipped an op that did not apply to it, as its view did.
  }
}

/** The physical part of an HLC string, in ms. */
export function hlcWall(hlc: string): number {
  return Number.parseInt(hlc.slice(0, 12), 16) || 0;
}
