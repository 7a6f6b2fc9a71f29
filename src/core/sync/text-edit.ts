/**
 * Texts edited in place: `diffText` (fast-diff, character level, surrogate pairs kept whole),
 * `applyTextEdit` (checks every retained length and deleted text against the old text, so an
 * edit made on another text is refused rather than garbling it) and `invertTextEdit`.
 */
import fastDiff from 'fast-diff';
import { deltaError } from './pointer.js';
import type { TextEdit, TextStep } from './types.js';

/** The edit that turns `before` into `after`. Equal texts give `[length]` (or `[]` for two empty texts). */
export function diffText(before: string, after: string): TextStep[] {
  if (before === after) return before.length === 0 ? [] : [before.length];
  const out: TextStep[] = [];
  for (const [kind, text] of fastDiff(before, after)) {
    if (text.length === 0) continue;
    if (kind === 0) pushRetain(out, text.length);
    else if (kind === 1) out.push(text);
    else out.push({ d: text });
  }
  return out;
}

function pushRetain(out: TextStep[], n: number): void {
  const last = out[out.length - 1];
  if (typeof last === 'number') out[out.length - 1] = last + n;
  else out.push(n);
}

/** Checks the shape of an edit (untrusted input); returns a reason, or undefined. */
export function textEditProblem(edit: unknown): string | undefined {
  if (!Array.isArray(edit)) return 'a text edit must be an array';
  for (const step of edit) {
    if (typeof step === 'number') {
      if (!Number.isInteger(step) || step <= 0) return 'a retain must be a positive integer';
    } else if (typeof step === 'object' && step !== null) {
      if (typeof (step as { d?: unknown }).d !== 'string' || Object.keys(step).length !== 1) return 'a delete must be { d: string }';
    } else if (typeof step !== 'string') return 'a text edit step must be a number, a string or { d }';
  }
  return undefined;
}

/** `text` edited; throws CB_ERR_SYNC_DELTA when the edit does not fit it exactly. */
export function applyTextEdit(text: string, edit: TextEdit): string {
  let pos = 0;
  const parts: string[] = [];
  for (const step of edit) {
    if (typeof step === 'number') {
      if (pos + step > text.length) throw deltaError('a text edit retains past the end of the text', { length: text.length });
      parts.push(text.slice(pos, pos + step));
      pos += step;
    } else if (typeof step === 'string') {
      parts.push(step);
    } else {
      const d = step.d;
      if (text.startsWith(d, pos) === false) throw deltaError('a text edit deletes text that is not there', { at: pos });
      pos += d.length;
    }
  }
  if (pos !== text.length) throw deltaError('a text edit does not cover the whole text', { covered: pos, length: text.length });
  return parts.length === 1 ? (parts[0] as string) : parts.join('');
}

/** The edit that undoes `edit` (applied to the text `edit` produced). */
export function invertTextEdit(edit: TextEdit): TextStep[] {
  const out: TextStep[] = [];
  for (const step of edit) {
    if (typeof step === 'number') out.push(step);
    else if (typeof step === 'string') out.push({ d: step });
    else out.push(step.d);
  }
  return out;
}
