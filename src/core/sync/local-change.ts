/**
 * A change made on this replica: its ops stamped with the HLC's time and copied (the
 * application may change its objects afterwards), checked like any change from the log, and
 * measured against `maxChangeBytes`.
 */
import { ValidationError } from '../errors/index.js';
import { utf8Length } from '../protocol/utf8.js';
import { changeProblem } from './change-check.js';
import { compact } from './entry-ops.js';
import { cloneJson } from './json-value.js';
import { deltaError } from './pointer.js';
import type { Change, ConflictResolve, DeltaOperation, DocumentMeta } from './types.js';

export interface ChangeDraft {
  readonly ops: readonly DeltaOperation[];
  readonly resolve?: ConflictResolve;
  readonly meta?: DocumentMeta;
}

/** One op with this replica's timestamp, its values copied, nothing but the known members. */
function stamp(op: DeltaOperation, timestamp: number): DeltaOperation {
  if (typeof op !== 'object' || op === null) throw deltaError('an op must be an object');
  return compact({
    type: op.type,
    path: op.path,
    value: op.value === undefined ? undefined : cloneJson(op.value),
    oldValue: op.oldValue === undefined ? undefined : cloneJson(op.oldValue),
    timestamp,
    text: op.text === undefined ? undefined : (cloneJson(op.text) as DeltaOperation['text']),
    chunks: op.chunks === undefined ? undefined : (cloneJson(op.chunks) as DeltaOperation['chunks']),
  });
}

/** The change of `draft`; throws CB_ERR_SYNC_DELTA (malformed) or CB_ERR_SYNC_TOO_LARGE (over `maxChangeBytes`). */
export function makeChange(
  draft: ChangeDraft,
  head: { replica: string; rseq: number; base: number; hlc: string; wall: number },
  maxChangeBytes: number,
): Change {
  if (!Array.isArray(draft.ops)) throw deltaError('ops must be an array of DeltaOperation');
  const change: Change = compact({
    replica: head.replica,
    rseq: head.rseq,
    base: head.base,
    hlc: head.hlc,
    ops: draft.ops.map((op) => stamp(op, head.wall)),
    resolve: draft.resolve,
    meta: draft.meta,
  });
  const problem = changeProblem(change);
  if (problem !== undefined) throw deltaError(problem);
  const bytes = utf8Length(JSON.stringify(change));
  if (bytes > maxChangeBytes) {
    throw new ValidationError('CB_ERR_SYNC_TOO_LARGE', `a change of ${bytes} bytes is over maxChangeBytes (${maxChangeBytes})`, {
      details: { size: bytes, maxChangeBytes },
    });
  }
  return change;
}
