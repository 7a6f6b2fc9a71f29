/**
 * `applyOps`: a list of ops applied to a document, all or nothing, either into a new document
 * that shares what no op touched (the default: the replica's values are shared with apps), or
 * into the caller's own document (`inPlace`), undone op by op if one fails.
 */
import { DocWriter, type EffectiveOp } from './doc-writer.js';
import { inverseOp } from './history.js';
import type { DeltaOperation } from './types.js';

export interface ApplyOpsOptions {
  /**
   * Change `doc` itself instead of copying the containers on each op's path: for a document the
   * caller owns whole (no part of it is held elsewhere). When an op fails, the ops before it are
   * undone, so `doc` is as it was. @default false
   */
  inPlace?: boolean;
}

/**
 * `doc` with `ops` applied in order, all or nothing. By default `doc` is never changed and the
 * result shares every part no op touched; with `inPlace` the result is `doc` itself (or the new
 * root an op at `""` set). Throws CB_ERR_SYNC_DELTA (with the op's index) when an op does not
 * apply: an update or delete of a path that does not exist, an index past an array's end, a
 * text edit made on another text. Values are shared with the ops, not copied.
 */
export function applyOps(doc: unknown, ops: readonly DeltaOperation[], options: ApplyOpsOptions = {}): unknown {
  const inPlace = options.inPlace === true;
  const writer = new DocWriter(doc, inPlace);
  const done: EffectiveOp[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      const e = writer.apply(ops[i] as DeltaOperation);
      if (inPlace) done.push(e);
    } catch (error) {
      if (inPlace) undo(writer, done);
      if (error instanceof Error && 'details' in error && typeof error.details === 'object' && error.details !== null) {
        (error.details as Record<string, unknown>).op = i;
      }
      throw error;
    }
  }
  return writer.result;
}

/** Undoes `done`, newest first: each inverse applies, since each op applied just before. */
function undo(writer: DocWriter, done: readonly EffectiveOp[]): void {
  for (let i = done.length - 1; i >= 0; i--) {
    const e = done[i] as EffectiveOp;
    writer.apply(inverseOp(e), e.segs);
  }
}
