/**
 * Folds a text edit into the draft's last op when both edit the same text in place: typing a word
 * while a change is on its way gives one op (one character diff from the text before the first
 * keystroke) instead of one op per keystroke. Fewer bytes on the wire, and a concurrent edit of
 * that text meets one op, so a parked conflict is one choice for a person, not one per keystroke.
 */
import { applyTextEdit, diffText, getAt, invertTextEdit, parsePointer } from '../../core/sync/index.js';
import { textOf } from '../../core/sync/json-value.js';
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
