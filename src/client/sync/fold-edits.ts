/**
 * Folds an edit into the last op of a draft (or of a manual-mode change waiting for `sync()`)
 * when both edit one text in place, or both set one value: typing a word while a change is on its
 * way gives one op (one character diff from the text before the first keystroke) instead of one
 * op per keystroke. Fewer bytes on the wire, and a concurrent edit of that text meets one op, so a
 * parked conflict is one choice for a person, not one per keystroke.
 */
import { applyTextEdit, diffText, getAt, invertTextEdit, parsePointer } from '../../core/sync/index.js';
import { DocWriter } from '../../core/sync/doc-writer.js';
import { textOf } from '../../core/sync/json-value.js';
import { arrayIndex, overlaps } from '../../core/sync/pointer.js';
import type { DeltaOperation } from '../../core/sync/types.js';

/**
 * The op that does what `last` then `next` do, or undefined when they do not fold (not both
 * in-place text edits of one path). `value` is the document with `last` applied.
 */
export function foldTextEdit(last: DeltaOperation | undefined, next: DeltaOperation, value: unknown): DeltaOperation | undefined {
  if (last === undefined || last.text === undefined || next.text === undefined || last.path !== next.path) return undefined;
  if (last.type !== 'update' || next.type !== 'update') return undefined;
  const now = textOf(getAt(value, parsePointer(next.path)));
  if (now === undefined) return undefined;
  const before = applyTextEdit(now, invertTextEdit(last.text));
  const after = applyTextEdit(now, next.text);
  return { type: 'update', path: next.path, text: diffText(before, after), timestamp: next.timestamp };
}

/**
 * The op that does what `last` then `next` do: text edits fold as `foldTextEdit` does, and a
 * value set twice at one path (an insert or update, then an update) is the last value set there.
 * Undefined when they do not fold.
 */
export function foldEdit(last: DeltaOperation | undefined, next: DeltaOperation, value: unknown): DeltaOperation | undefined {
  const text = foldTextEdit(last, next, value);
  if (text !== undefined || last === undefined || last.path !== next.path || last.path.endsWith('/-')) return text;
  if (last.type === 'delete' || last.value === undefined || last.text !== undefined || last.chunks !== undefined) return undefined;
  if (next.type !== 'update' || next.value === undefined || next.text !== undefined || next.chunks !== undefined) return undefined;
  const op: DeltaOperation = { type: last.type, path: next.path, value: next.value, timestamp: next.timestamp };
  return last.oldValue === undefined ? op : { ...op, oldValue: last.oldValue };
}

/** How far back an op looks for one to fold into: typing folds into a recent op; a bulk edit is left as it is. */
const FOLD_LOOKBACK = 32;

/**
 * `ops` then `next`, each op of `next` folded into the latest op of `ops` at its path (see
 * `foldEdit`) when no op after that one touches the path or moves array elements. `value` is the
 * document with `ops` applied, and every op of `next` applies to it in turn (the caller checked).
 */
export function foldInto(ops: readonly DeltaOperation[], next: readonly DeltaOperation[], value: unknown): DeltaOperation[] {
  const out = [...ops];
  if (next.length > FOLD_LOOKBACK) {
    out.push(...next);
    return out;
  }
  const writer = new DocWriter(value);
  for (const op of next) {
    const segs = parsePointer(op.path);
    const at = foldTarget(out, segs);
    const folded = at < 0 ? undefined : foldEdit(out[at], op, writer.result);
    if (folded !== undefined) out[at] = folded;
    else out.push(op);
    writer.apply(op, segs);
  }
  return out;
}

/** The index of the latest op in `ops` at `segs` with nothing after it in the way, or -1. */
function foldTarget(ops: readonly DeltaOperation[], segs: readonly string[]): number {
  for (let i = ops.length - 1; i >= 0 && i >= ops.length - FOLD_LOOKBACK; i--) {
    const prev = ops[i] as DeltaOperation;
    const prevSegs = parsePointer(prev.path);
    if (overlaps(prevSegs, segs)) return prevSegs.length === segs.length ? i : -1;
    // An element inserted or deleted may shift the one `segs` names: nothing before it is the same element.
    const last = prevSegs[prevSegs.length - 1];
    if (prev.type !== 'update' && last !== undefined && (last === '-' || arrayIndex(last) >= 0)) return -1;
  }
  return -1;
}
