/**
 * Snapshots of a document's shared state: plain JSON, published on `<doc topic>.snap` so that a
 * new replica starts from one plus the log after it, and equal on every replica at one log
 * position. They carry the history (a replica started from a snapshot must find the same
 * changes stale and concurrent as one that read the whole log) and the conflicts.
 */
import { ValidationError } from '../errors/index.js';
import type { ConflictCounts } from './conflict-book.js';
import { ConflictBook } from './conflict-book.js';
import type { EffectiveOp } from './doc-writer.js';
import { DocState } from './doc-state.js';
import { compact } from './entry-ops.js';
import { History, type HistoryRecord } from './history.js';
import { resolveMeta } from './meta.js';
import { parsePointer } from './pointer.js';
import type { ConflictInfo, DocumentMeta } from './types.js';
import { VersionVector } from './version-vector.js';

export type SnapshotEffect = Omit<EffectiveOp, 'segs'>;

/** A history record as a snapshot carries it: its effects without their parsed paths. */
export interface SnapshotRecord extends Omit<HistoryRecord, 'eff'> {
  readonly eff: readonly SnapshotEffect[];
}

export interface SyncSnapshot {
  readonly v: 1;
  /** The log position it was taken at: replay the entries after it. */
  readonly seq: number;
  readonly doc: unknown;
  readonly vv: Readonly<Record<string, number>>;
  /** The log position of each replica's last change (absent in snapshots made before it was kept). */
  readonly vvSeq?: Readonly<Record<string, number>>;
  readonly meta?: DocumentMeta;
  /** Entries at or before this seq are out of the history. */
  readonly floor: number;
  readonly history: readonly SnapshotRecord[];
  readonly parked: readonly ConflictInfo[];
  readonly resolved: readonly ConflictInfo[];
  readonly counts: Readonly<ConflictCounts>;
  /** Ops and replica of the message at `seq` so far (a batch's changes share a seq). */
  readonly msgOps: number;
  readonly msgReplica?: string;
  /** The greatest HLC the log carried. */
  readonly maxHlc: string;
}

export function toSnapshot(st: DocState): SyncSnapshot {
  const history: SnapshotRecord[] = st.history.records.map((r) => ({
    seq: r.seq,
    replica: r.replica,
    rseq: r.rseq,
    base: r.base,
    hlc: r.hlc,
    ops: r.ops,
    eff: r.eff.map(({ segs: _segs, ...rest }) => compact(rest)),
    clean: r.clean,
  }));
  return compact({
    v: 1 as const,
    seq: st.seq,
    doc: st.doc,
    vv: st.vv.toJSON(),
    vvSeq: st.vv.lastSeqJSON(),
    meta: st.rawMeta,
    floor: st.history.floor,
    history,
    parked: st.conflicts.parked,
    resolved: st.conflicts.resolved,
    counts: { ...st.conflicts.counts },
    msgOps: st.msgOps,
    msgReplica: st.msgReplica,
    maxHlc: st.maxHlc,
  });
}

function invalid(reason: string): ValidationError {
  return new ValidationError('CB_ERR_PAYLOAD_INVALID', `a sync snapshot ${reason}`);
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function conflicts(value: unknown, what: string): ConflictInfo[] {
  if (!Array.isArray(value)) throw invalid(`needs ${what}, an array`);
  for (const c of value) {
    const o = c as Partial<ConflictInfo> | null;
    if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || typeof o.path !== 'string' || typeof o.replica !== 'string') {
      throw invalid(`has a malformed conflict in ${what}`);
    }
  }
  return value as ConflictInfo[];
}

function record(value: unknown): HistoryRecord {
  const r = value as Partial<SnapshotRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    !isInt(r.seq) ||
    typeof r.replica !== 'string' ||
    !isInt(r.rseq) ||
    !isInt(r.base) ||
    typeof r.hlc !== 'string' ||
    !Array.isArray(r.ops) ||
    !Array.isArray(r.eff) ||
    typeof r.clean !== 'boolean'
  ) {
    throw invalid('has a malformed history record');
  }
  const eff = r.eff.map((e): EffectiveOp => {
    if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || !['insert', 'update', 'delete'].includes(e.type)) {
      throw invalid('has a malformed effect in its history');
    }
    return { ...e, segs: parsePointer(e.path) };
  });
  return { seq: r.seq, replica: r.replica, rseq: r.rseq, base: r.base, hlc: r.hlc, ops: r.ops, eff, clean: r.clean };
}

/** The state a snapshot holds; throws CB_ERR_PAYLOAD_INVALID for anything that is not one. */
export function fromSnapshot(snapshot: SyncSnapshot): DocState {
  const s = snapshot as Partial<SyncSnapshot> | null;
  if (typeof s !== 'object' || s === null || s.v !== 1) throw invalid('must be an object of version 1');
  if (!isInt(s.seq) || !isInt(s.floor) || s.floor > s.seq || !isInt(s.msgOps)) throw invalid('needs seq, floor and msgOps, integers');
  if (s.msgReplica !== undefined && typeof s.msgReplica !== 'string') throw invalid('has a malformed msgReplica');
  if (typeof s.maxHlc !== 'string') throw invalid('needs maxHlc, a string');
  if (!Array.isArray(s.history)) throw invalid('needs history, an array');
  const c = s.counts as Partial<ConflictCounts> | undefined;
  if (typeof c !== 'object' || c === null || ![c.parked, c.decided, c.overflow, c.resolved, c.rejected].every(isInt)) {
    throw invalid('needs counts');
  }
  const st = new DocState();
  if (s.meta !== undefined) {
    try {
      st.adoptMeta(s.meta, resolveMeta(s.meta));
    } catch (cause) {
      throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a sync snapshot has an invalid meta', { cause });
    }
  }
  const records = s.history.map(record);
  for (let i = 1; i < records.length; i++) {
    if ((records[i] as HistoryRecord).seq < (records[i - 1] as HistoryRecord).seq) throw invalid('has its history out of order');
  }
  st.doc = s.doc === undefined ? {} : s.doc;
  st.seq = s.seq;
  st.vv = VersionVector.from(s.vv, s.vvSeq ?? {});
  st.history = new History(st.meta.limits.historyLimit, records, s.floor);
  st.conflicts = new ConflictBook(
    st.meta.limits.maxResolvedConflicts,
    conflicts(s.parked, 'parked'),
    conflicts(s.resolved, 'resolved'),
    c as ConflictCounts,
  );
  st.msgOps = s.msgOps;
  st.msgReplica = s.msgReplica;
  st.maxHlc = s.maxHlc;
  return st;
}
