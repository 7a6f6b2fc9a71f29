/**
 * JSON pointers (RFC 6901) as sync uses them: parsed into segments, formatted back, compared
 * for overlap (equal, or one an ancestor of the other), and the typed error of a change that
 * does not apply.
 */
import { ValidationError } from '../errors/index.js';

/** A parsed pointer: `''` is the root, `[]`. */
export type Segments = readonly string[];

/** The error of an op that does not apply: the change it belongs to is rejected whole. */
export function deltaError(message: string, details: Record<string, unknown> = {}): ValidationError {
  return new ValidationError('CB_ERR_SYNC_DELTA', message, { details });
}

/** Segments of `pointer`; throws CB_ERR_SYNC_DELTA for anything that is not a JSON pointer. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (typeof pointer !== 'string' || pointer.charCodeAt(0) !== 0x2f) {
    throw deltaError('a path must be a JSON pointer ("" or starting with "/")', { path: String(pointer).slice(0, 200) });
  }
  const raw = pointer.slice(1).split('/');
  if (pointer.indexOf('~') === -1) return raw;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i] as string;
    if (/~(?![01])/.test(s)) throw deltaError('a path has "~" not followed by 0 or 1', { path: pointer.slice(0, 200) });
    raw[i] = s.replace(/~1/g, '/').replace(/~0/g, '~');
  }
  return raw;
}

/** One segment escaped for a pointer. */
export function escapeSegment(segment: string): string {
  return segment.indexOf('~') === -1 && segment.indexOf('/') === -1 ? segment : segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The pointer of `segments`. */
export function formatPointer(segments: Segments): string {
  let out = '';
  for (const s of segments) out += `/${escapeSegment(s)}`;
  return out;
}

/** True when `a` equals `b` or is one of its ancestors. */
export function isPrefix(a: Segments, b: Segments): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Two paths overlap when they are equal or one is an ancestor of the other. */
export function overlaps(a: Segments, b: Segments): boolean {
  return a.length <= b.length ? isPrefix(a, b) : isPrefix(b, a);
}

/** An array index as a pointer writes it: `0` or a number without leading zeros; otherwise -1. */
export function arrayIndex(segment: string): number {
  const n = segment.length;
  if (n === 0 || n > 15) return -1;
  const c0 = segment.charCodeAt(0);
  if (c0 === 0x30) return n === 1 ? 0 : -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = segment.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}
