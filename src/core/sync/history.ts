/**
 * The effective changes of the last `historyLimit` log entries: what concurrency is judged
 * against, and what rebuilds the document an author saw (by undoing them). Every replica keeps
 * the same records (snapshots carry them), so every replica finds a change stale alike.
 */
import { DocWriter, type EffectiveOp } from './doc-writer.js';
import { invertTextEdit } from './text-edit.js';
import type { DeltaOperation } from './types.js';

export interface HistoryRecord {
  readonly seq: number;
  readonly replica: string;
  readonly rseq: number;
  readonly base: number;
  readonly hlc: string;
  /** The ops as the log carries them (an author's own earlier changes are replayed from these). */
  readonly ops: readonly DeltaOperation[];
  /** What the entry changed, in order. */
  readonly eff: readonly EffectiveOp[];
  /** Nothing concurrent was met: the author's view after it was the log's, so its hash holds. */
  readonly clean: boolean;
}

export class History {
  #records: HistoryRecord[];
  #floor: number;
  #limit: number;

  constructor(limit: number, records: HistoryRecord[] = [], floor = 0) {
    this.#limit = limit;
    this.#records = records;
    this.#floor = floor;
    this.#trim();
  }

  /** Entries at or before this seq are gone: a change based before it is stale. */
  get floor(): number {
    return this.#floor;
  }

  get records(): readonly HistoryRecord[] {
    return this.#records;
  }

  push(record: HistoryRecord): void {
    this.#records.push(record);
    this.#trim();
  }

  set limit(limit: number) {
    this.#limit = limit;
    this.#trim();
  }

  /** Index of the first record with a seq above `seq`. */
  indexAfter(seq: number): number {
    let lo = 0;
    let hi = this.#records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#records[mid] as HistoryRecord).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clone(): History {
    return new History(this.#limit, this.#records.slice(), this.#floor);
  }

  #trim(): void {
    const over = this.#records.length - this.#limit;
    if (over <= 0) return;
    this.#floor = (this.#records[over - 1] as HistoryRecord).seq;
    this.#records = this.#records.slice(over);
  }
}

/** The op that undoes an effective op. */
export function inverseOp(e: EffectiveOp): DeltaOperation {
  if (e.type === 'insert') return { type: 'delete', path: e.path, timestamp: 0 };
  if (e.type === 'delete') return { type: 'insert', path: e.path, value: e.oldValue, timestamp: 0 };
  if (e.text !== undefined) return { type: 'update', path: e.path, text: invertTextEdit(e.text), timestamp: 0 };
  if (e.back !== undefined) return { type: 'update', path: e.path, chunks: e.back, timestamp: 0 };
  return { type: 'update', path: e.path, value: e.oldValue, timestamp: 0 };
}

/**
 * The document as it was at log position `seq`: `doc` (the document after the last record)
 * with every later record undone, newest first. Throws CB_ERR_SYNC_DELTA if the records do not
 * undo (they always do unless the document was corrupted).
 */
export function documentAt(doc: unknown, history: History, seq: number): DocWriter {
  const writer = new DocWriter(doc);
  const records = history.records;
  for (let r = records.length - 1; r >= 0 && (records[r] as HistoryRecord).seq > seq; r--) {
    const eff = (records[r] as HistoryRecord).eff;
    for (let i = eff.length - 1; i >= 0; i--) {
      const e = eff[i] as EffectiveOp;
      writer.apply(inverseOp(e), e.segs);
    }
  }
  return writer;
}
