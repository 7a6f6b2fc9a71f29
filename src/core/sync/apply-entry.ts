/**
 * One log entry applied to a document's shared state: the deterministic step every replica
 * takes for every entry, in log order. Nothing here depends on the replica running it (its id,
 * its clock, its options), so every replica ends in the same state.
 *
 * In order: entries already applied are skipped; a malformed change is rejected
 * (CB_ERR_SYNC_DELTA); a change already counted by the version vector is a duplicate; a change
 * based before the kept history is rejected (CB_ERR_SYNC_STALE) and its ops parked, so that a
 * person can still take them; then the meta, the resolve and the ops (./entry-ops.ts) apply,
 * all or nothing, and the values they leave are checked against `maxFileBytes`.
 */
import { CrossbusError, ValidationError } from '../errors/index.js';
import { changeProblem } from './change-check.js';
import { DocWriter, getAt, type EffectiveOp } from './doc-writer.js';
import type { DocState } from './doc-state.js';
import { compact, EntryOps, hlcWall } from './entry-ops.js';
import { touchedPaths } from './hash.js';
import type { HistoryRecord } from './history.js';
import { jsonEqual } from './json-value.js';
import { checkFileSizes } from './file-size.js';
import { resolveMeta, type ResolvedMeta } from './meta.js';
import { deltaError, parsePointer } from './pointer.js';
import type { ConflictInfo, DeltaOperation, DocumentMeta, LogEntry } from './types.js';

export interface EntryResult {
  /** `skipped`: the log position was already applied; nothing changed, not even the history. */
  readonly status: 'applied' | 'duplicate' | 'rejected' | 'skipped';
  readonly error?: CrossbusError;
  /** Conflicts this entry parked. */
  readonly parked: readonly ConflictInfo[];
  /** Conflicts this entry decided (lww) or settled (a resolve). */
  readonly resolved: readonly ConflictInfo[];
  /** Paths where this entry's text edits met concurrent ones and merged cleanly (the merge strategy). */
  readonly merged?: readonly string[];
  /** The paths whose hash must equal the change's: it applied exactly as its author saw it. */
  readonly check?: readonly string[];
}

const NOTHING: readonly ConflictInfo[] = [];

/** Applies `entry` to `st`. Throws only for an entry without a valid `seq` (the caller's mistake, not the log's). */
export function applyEntry(st: DocState, entry: LogEntry): EntryResult {
  const seq = (entry as { seq?: unknown } | null)?.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a log entry needs seq, an integer >= 1');
  }
  const replica = typeof entry.replica === 'string' ? entry.replica : '';
  if (seq < st.seq || (seq === st.seq && (st.msgReplica === undefined || replica !== st.msgReplica))) {
    return { status: 'skipped', parked: NOTHING, resolved: NOTHING };
  }
  if (seq > st.seq) {
    st.seq = seq;
    st.msgOps = 0;
  }
  st.msgReplica = replica;
  const problem = changeProblem(entry, true);
  if (problem !== undefined) return reject(st, entry, deltaError(`change rejected: ${problem}`, { seq }), false);
  if (st.vv.has(entry.replica, entry.rseq)) {
    placeholder(st, entry);
    return { status: 'duplicate', parked: NOTHING, resolved: NOTHING };
  }
  st.vv.observe(entry.replica, entry.rseq, seq);
  if (entry.hlc > st.maxHlc) st.maxHlc = entry.hlc;
  const opBase = st.msgOps;
  st.msgOps += entry.ops.length;
  const wall = hlcWall(entry.hlc);
  let result: EntryResult;
  try {
    if (entry.base >= seq) throw deltaError('a change is based on its own log position or a later one', { seq, base: entry.base });
    result = entry.base < st.history.floor ? stale(st, entry, opBase, wall) : applyChange(st, entry, opBase, wall);
  } catch (error) {
    const e =
      error instanceof CrossbusError ? error : new CrossbusError('CB_ERR_INTERNAL', 'a change could not be applied', { cause: error });
    result = reject(st, entry, e);
  }
  // With the history as this entry left it: every replica forgets the same writers at the same entry.
  st.vv.trim(st.meta.limits.maxReplicas, st.history.floor);
  return result;
}

function applyChange(st: DocState, entry: LogEntry, opBase: number, wall: number): EntryResult {
  const writer = new DocWriter(st.doc);
  const meta = entry.meta === undefined ? undefined : checkMeta(st, entry);
  const settled = entry.resolve === undefined ? undefined : settle(st, entry, writer, wall);
  const history = st.history;
  const concurrent: HistoryRecord[] = [];
  for (let r = history.indexAfter(entry.base); r < history.records.length; r++) {
    const record = history.records[r] as HistoryRecord;
    if (record.replica !== entry.replica) concurrent.push(record);
  }
  const cleanBefore = concurrent.length === 0 && history.records.slice(history.indexAfter(entry.base)).every((r) => r.clean);
  const ops = new EntryOps(st, entry, writer, concurrent, opBase, wall, !cleanBefore);
  ops.run();
  const eff = settled === undefined ? ops.eff : [...settled.eff, ...ops.eff];
  checkFileSizes(writer, eff, st.meta.limits.maxFileBytes);

  const clean = concurrent.length === 0 && ops.clean;
  st.doc = writer.result;
  history.push({ seq: entry.seq, replica: entry.replica, rseq: entry.rseq, base: entry.base, hlc: entry.hlc, ops: entry.ops, eff, clean });
  for (const c of ops.parked) st.conflicts.park(c);
  for (const d of ops.decided) st.conflicts.decide(d.conflict, d.overflow);
  if (settled !== undefined) st.conflicts.settle(settled.conflict);
  if (meta !== undefined) st.adoptMeta(entry.meta as DocumentMeta, meta);
  const resolved = ops.decided.map((d) => d.conflict);
  if (settled !== undefined) resolved.push(settled.conflict);
  const check = clean && cleanBefore && entry.hash !== undefined ? touchedPaths(eff) : undefined;
  const merged = ops.merged.length > 0 ? { merged: ops.merged } : {};
  return { status: 'applied', parked: ops.parked, resolved, ...merged, ...(check === undefined ? {} : { check }) };
}

/** The meta of a change: the first one is taken; a different later one is refused. */
function checkMeta(st: DocState, entry: LogEntry): ResolvedMeta | undefined {
  if (st.rawMeta !== undefined) {
    if (jsonEqual(st.rawMeta, entry.meta)) return undefined;
    throw deltaError("a document's meta is set once, by the first meta change in its log");
  }
  try {
    return resolveMeta(entry.meta);
  } catch (error) {
    throw deltaError(`a meta change is invalid: ${(error as Error).message}`);
  }
}

/** A resolve: the parked conflict it names is settled as it says. */
function settle(st: DocState, entry: LogEntry, writer: DocWriter, wall: number): { conflict: ConflictInfo; eff: EffectiveOp[] } {
  const r = entry.resolve as NonNullable<LogEntry['resolve']>;
  const parked = st.conflicts.get(r.conflict);
  if (parked === undefined) {
    throw new ValidationError('CB_ERR_SYNC_NO_CONFLICT', `no parked conflict ${JSON.stringify(r.conflict.slice(0, 64))}`, {
      details: { conflict: r.conflict.slice(0, 64) },
    });
  }
  const eff: EffectiveOp[] = [];
  const put = (op: DeltaOperation): void => {
    const segs = parsePointer(op.path);
    let e: EffectiveOp | undefined;
    if (op.text !== undefined || op.chunks !== undefined) e = writer.apply(op, segs);
    else if (op.type === 'delete' || op.value === undefined) e = writer.remove(segs);
    else {
      e = writer.set(segs, op.value, op.type === 'insert' && Array.isArray(writer.get(segs.slice(0, -1))));
      if (e === undefined) throw deltaError('a resolution sets a path whose parent is gone', { path: op.path });
    }
    if (e !== undefined) eff.push(e);
  };
  if (r.take === 'remote') put(parked.remoteChange);
  else if (r.take === 'merged') put(compact({ type: 'update', path: parked.path, value: r.value, timestamp: wall }));
  const conflict: ConflictInfo = { ...parked, resolution: r.take, resolvedTime: wall, resolvedBy: entry.replica };
  return { conflict, eff };
}

/** A change based before the kept history: rejected, its ops parked (past `maxConflicts`, dropped and counted). */
function stale(st: DocState, entry: LogEntry, opBase: number, wall: number): EntryResult {
  const parked: ConflictInfo[] = [];
  for (let i = 0; i < entry.ops.length; i++) {
    const op = entry.ops[i] as DeltaOperation;
    if (st.conflicts.parkedCount >= st.meta.limits.maxConflicts) {
      st.conflicts.counts.overflow++;
      continue;
    }
    const segs = parsePointer(op.path);
    const current = getAt(st.doc, segs);
    const conflict: ConflictInfo = {
      id: `${entry.seq}:${opBase + i}`,
      path: op.path,
      localChange: compact({ type: current === undefined ? 'delete' : 'update', path: op.path, value: current, timestamp: wall }),
      remoteChange: inPlaceResult(st.doc, op, segs, current),
      detectionTime: wall,
      strategy: 'stale',
      replica: entry.replica,
    };
    st.conflicts.park(conflict);
    parked.push(conflict);
  }
  const error = new ValidationError(
    'CB_ERR_SYNC_STALE',
    `change ${entry.replica}:${entry.rseq} is based on log position ${entry.base}, before the kept history`,
    {
      details: { seq: entry.seq, base: entry.base, floor: st.history.floor },
    },
  );
  const result = reject(st, entry, error);
  return { ...result, parked };
}

/**
 * A text or chunk edit that still applies to what is there now is recorded with its result, so
 * that taking it sets a value; one that does not is kept as it was (taking it then fails, and a
 * person merges by hand).
 */
function inPlaceResult(doc: unknown, op: DeltaOperation, segs: readonly string[], current: unknown): DeltaOperation {
  if (op.text === undefined && op.chunks === undefined) return op;
  try {
    const writer = new DocWriter(doc);
    writer.apply(op, segs);
    return { type: 'update', path: op.path, value: writer.get(segs), oldValue: current, timestamp: op.timestamp };
  } catch {
    return op;
  }
}

function reject(st: DocState, entry: LogEntry, error: CrossbusError, wellFormed = true): EntryResult {
  // A rejected change of its author's was in its author's view when it made later ones: they may miss it.
  placeholder(st, entry, wellFormed ? entry.ops : [], false);
  st.conflicts.counts.rejected++;
  return { status: 'rejected', error, parked: NOTHING, resolved: NOTHING };
}

/**
 * An entry that changed nothing still takes its place in the history: every replica counts it
 * alike. A rejected change keeps its ops, which its author's later changes were made on.
 */
function placeholder(st: DocState, entry: LogEntry, ops: readonly DeltaOperation[] = [], clean = true): void {
  const e = entry as Partial<LogEntry>;
  st.history.push({
    seq: st.seq,
    replica: typeof e.replica === 'string' ? e.replica : '',
    rseq: Number.isSafeInteger(e.rseq) ? (e.rseq as number) : 0,
    base: Number.isSafeInteger(e.base) ? (e.base as number) : 0,
    hlc: typeof e.hlc === 'string' ? e.hlc : '',
    ops,
    eff: [],
    clean,
  });
}
