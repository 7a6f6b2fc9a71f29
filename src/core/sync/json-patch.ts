/**
 * RFC 6902 JSON Patch, both ways. `insert` is `add`, `update` is `replace`, `delete` is
 * `remove`; a text or chunk edit becomes the `replace` of its result (which takes the document
 * it applies to). From a patch, `move` and `copy` become a delete and an insert, `test` is
 * checked against the document; both take the document, as does telling `add` over an existing
 * key (an update) from a new one.
 */
import { DocWriter } from './doc-writer.js';
import { jsonEqual } from './json-value.js';
import { deltaError, parsePointer } from './pointer.js';
import type { DeltaOperation } from './types.js';

export type JsonPatchOperation =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'move' | 'copy'; readonly from: string; readonly path: string };

export interface ToJsonPatchOptions {
  /** Precede each replace and remove with a `test` of the op's `oldValue`, where it has one. @default false */
  test?: boolean;
}

/**
 * The JSON Patch of `ops`. `before` (the document the ops apply to) is needed only when an op
 * edits a text or binary in place; without it such an op throws CB_ERR_SYNC_DELTA.
 */
export function toJsonPatch(ops: readonly DeltaOperation[], before?: unknown, options: ToJsonPatchOptions = {}): JsonPatchOperation[] {
  const out: JsonPatchOperation[] = [];
  const needsDoc = ops.some((op) => op.text !== undefined || op.chunks !== undefined);
  if (needsDoc && before === undefined)
    throw deltaError('a text or chunk edit converts to JSON Patch only with the document it applies to');
  const writer = needsDoc ? new DocWriter(before) : undefined;
  for (const op of ops) {
    const segs = parsePointer(op.path);
    writer?.apply(op, segs);
    if (options.test === true && op.type !== 'insert' && op.oldValue !== undefined)
      out.push({ op: 'test', path: op.path, value: op.oldValue });
    if (op.type === 'insert') out.push({ op: 'add', path: op.path, value: op.value });
    else if (op.type === 'delete') out.push({ op: 'remove', path: op.path });
    else if (op.value !== undefined) out.push({ op: 'replace', path: op.path, value: op.value });
    else out.push({ op: 'replace', path: op.path, value: writer?.get(segs) });
  }
  return out;
}

function patchProblem(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return 'a JSON Patch operation must be an object';
  const o = p as Record<string, unknown>;
  if (typeof o.path !== 'string') return 'a JSON Patch operation needs a path';
  switch (o.op) {
    case 'add':
    case 'replace':
    case 'test':
      return 'value' in o && o.value !== undefined ? undefined : `"${o.op}" needs a value`;
    case 'remove':
      return undefined;
    case 'move':
    case 'copy':
      return typeof o.from === 'string' ? undefined : `"${o.op}" needs from`;
    default:
      return 'a JSON Patch op must be add, remove, replace, move, copy or test';
  }
}

/**
 * The ops of a JSON Patch. With `doc` (the document it applies to) every op is checked as it
 * would apply, `test` ops are evaluated (a failed one throws CB_ERR_SYNC_DELTA), `move` and
 * `copy` are supported and ops carry their `oldValue`. Without it, `test` ops are left out and
 * `move`/`copy` throw CB_ERR_SYNC_DELTA.
 */
export function fromJsonPatch(patch: readonly unknown[], doc?: unknown, timestamp = 0): DeltaOperation[] {
  if (!Array.isArray(patch)) throw deltaError('a JSON Patch must be an array');
  const writer = doc === undefined ? undefined : new DocWriter(doc);
  const out: DeltaOperation[] = [];
  const emit = (op: DeltaOperation): void => {
    out.push(op);
    writer?.apply(op);
  };
  for (let i = 0; i < patch.length; i++) {
    const problem = patchProblem(patch[i]);
    if (problem !== undefined) throw deltaError(problem, { op: i });
    const p = patch[i] as JsonPatchOperation;
    const segs = parsePointer(p.path);
    const current = writer?.get(segs);
    switch (p.op) {
      case 'add': {
        const parentIsArray = writer !== undefined && segs.length > 0 && Array.isArray(writer.get(segs.slice(0, -1)));
        if (current !== undefined && !parentIsArray) emit({ type: 'update', path: p.path, value: p.value, oldValue: current, timestamp });
        else emit({ type: 'insert', path: p.path, value: p.value, timestamp });
        break;
      }
      case 'replace':
        emit({ type: 'update', path: p.path, value: p.value, ...(current === undefined ? {} : { oldValue: current }), timestamp });
        break;
      case 'remove':
        emit({ type: 'delete', path: p.path, ...(current === undefined ? {} : { oldValue: current }), timestamp });
        break;
      case 'test':
        if (writer !== undefined && !jsonEqual(current, p.value)) throw deltaError('a JSON Patch test failed', { op: i, path: p.path });
        break;
      default: {
        if (writer === undefined) throw deltaError(`"${p.op}" converts only with the document it applies to`, { op: i });
        const value = writer.get(parsePointer(p.from));
        if (value === undefined) throw deltaError(`"${p.op}" from a path that does not exist`, { op: i, from: p.from });
        if (p.op === 'move') emit({ type: 'delete', path: p.from, oldValue: value, timestamp });
        const after = writer.get(segs);
        const parentIsArray = segs.length > 0 && Array.isArray(writer.get(segs.slice(0, -1)));
        if (after !== undefined && !parentIsArray) emit({ type: 'update', path: p.path, value, oldValue: after, timestamp });
        else emit({ type: 'insert', path: p.path, value, timestamp });
      }
    }
  }
  return out;
}
