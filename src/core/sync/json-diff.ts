/**
 * `diffJson(before, after)`: the operations that turn one JSON value into another.
 *
 * Objects are compared key by key. Arrays by index: equal lengths pair every element with the
 * one at its index; otherwise the equal elements at both ends are set aside (an element
 * inserted or removed in the middle becomes one insert or delete), the rest is paired by index
 * and what is left over is inserted, or deleted from the last index down, at the end of the
 * changed stretch. No moves: a reordered array is a run of updates. Long strings become text
 * edits. Subtrees that are the same object are skipped without a look, and the path of an op is
 * only written out when there is one, so an unchanged document costs one walk.
 */
import { DEFAULT_SYNC_TEXT_DIFF_MIN_LENGTH } from './defaults.js';
import { jsonEqual, textOf, type JsonObject } from './json-value.js';
import { formatPointer } from './pointer.js';
import { diffText } from './text-edit.js';
import type { DeltaOperation } from './types.js';

export interface DiffOptions {
  /** The `timestamp` of every op (`SyncReplica.edit` stamps its own). @default 0 */
  timestamp?: number;
  /** Strings at least this long (either side) become text edits; `Infinity` replaces them whole. @default 256 */
  textMinLength?: number;
  /** A file tree: `{ text }` files are edited as text at the file's path, `{ base64 }` files replaced whole. @default false */
  files?: boolean;
}

class JsonDiff {
  readonly out: DeltaOperation[] = [];
  readonly #path: string[] = [];
  readonly #timestamp: number;
  readonly #textMin: number;
  readonly #files: boolean;

  constructor(options: DiffOptions) {
    this.#timestamp = options.timestamp ?? 0;
    this.#textMin = options.textMinLength ?? DEFAULT_SYNC_TEXT_DIFF_MIN_LENGTH;
    this.#files = options.files ?? false;
  }

  walk(a: unknown, b: unknown): void {
    if (a === b) return;
    if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
      const arrayA = Array.isArray(a);
      if (arrayA === Array.isArray(b)) {
        if (arrayA) this.#array(a as unknown[], b as unknown[]);
        else if (!this.#files || !this.#file(a as JsonObject, b as JsonObject)) this.#object(a as JsonObject, b as JsonObject);
        return;
      }
    } else if (typeof a === 'string' && typeof b === 'string') {
      if (a.length >= this.#textMin || b.length >= this.#textMin) {
        this.out.push({ type: 'update', path: formatPointer(this.#path), text: diffText(a, b), timestamp: this.#timestamp });
        return;
      }
    }
    this.out.push({ type: 'update', path: formatPointer(this.#path), value: b, oldValue: a, timestamp: this.#timestamp });
  }

  /** A file tree's file: edited as text, or replaced. False when either side is a directory. */
  #file(a: JsonObject, b: JsonObject): boolean {
    const ta = textOf(a);
    const tb = textOf(b);
    if (ta !== undefined && tb !== undefined) {
      if (ta !== tb) this.out.push({ type: 'update', path: formatPointer(this.#path), text: diffText(ta, tb), timestamp: this.#timestamp });
      return true;
    }
    if (ta === undefined && tb === undefined && !isFile(a) && !isFile(b)) return false;
    if (!jsonEqual(a, b))
      this.out.push({ type: 'update', path: formatPointer(this.#path), value: b, oldValue: a, timestamp: this.#timestamp });
    return true;
  }

  #object(a: JsonObject, b: JsonObject): void {
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (sameKeys(keysA, keysB)) this.#sameKeyObject(a, b, keysA);
    else this.#keyedObject(a, b, keysA, keysB);
  }

  /** Two objects with the same own keys (the common case: one is an edited copy of the other). */
  #sameKeyObject(a: JsonObject, b: JsonObject, keys: readonly string[]): void {
    const path = this.#path;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const va = a[key];
      const vb = b[key];
      if (va === vb) continue;
      path.push(key);
      // A JSON value is never undefined nor a function: either is no value at all.
      if (vb === undefined || typeof vb === 'function')
        this.out.push({ type: 'delete', path: formatPointer(path), oldValue: va, timestamp: this.#timestamp });
      else this.walk(va, vb);
      path.pop();
    }
  }

  #keyedObject(a: JsonObject, b: JsonObject, keysA: readonly string[], keysB: readonly string[]): void {
    const path = this.#path;
    let kept = 0;
    for (let i = 0; i < keysA.length; i++) {
      const key = keysA[i] as string;
      const vb = b[key];
      // A JSON value is never undefined nor a function: either means `b` lacks the key (or only inherits it).
      if (vb !== undefined && typeof vb !== 'function' && (key !== '__proto__' || Object.hasOwn(b, key))) {
        kept++;
        const va = a[key];
        if (va === vb) continue;
        path.push(key);
        this.walk(va, vb);
      } else {
        path.push(key);
        this.out.push({ type: 'delete', path: formatPointer(path), oldValue: a[key], timestamp: this.#timestamp });
      }
      path.pop();
    }
    if (kept === keysB.length) return;
    for (let i = 0; i < keysB.length; i++) {
      const key = keysB[i] as string;
      if (Object.hasOwn(a, key)) continue;
      path.push(key);
      this.out.push({ type: 'insert', path: formatPointer(path), value: b[key], timestamp: this.#timestamp });
      path.pop();
    }
  }

  #array(a: unknown[], b: unknown[]): void {
    let start = 0;
    let endA = a.length;
    let endB = b.length;
    if (endA !== endB) {
      const min = Math.min(endA, endB);
      while (start < min && jsonEqual(a[start], b[start])) start++;
      while (endA > start && endB > start && jsonEqual(a[endA - 1], b[endB - 1])) {
        endA--;
        endB--;
      }
    }
    const paired = Math.min(endA - start, endB - start);
    const path = this.#path;
    for (let k = start; k < start + paired; k++) {
      path.push(String(k));
      this.walk(a[k], b[k]);
      path.pop();
    }
    for (let k = start + paired; k < endB; k++) {
      path.push(String(k));
      this.out.push({ type: 'insert', path: formatPointer(path), value: b[k], timestamp: this.#timestamp });
      path.pop();
    }
    for (let k = endA - 1; k >= start + paired; k--) {
      path.push(String(k));
      this.out.push({ type: 'delete', path: formatPointer(path), oldValue: a[k], timestamp: this.#timestamp });
      path.pop();
    }
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isFile(v: JsonObject): boolean {
  const keys = Object.keys(v);
  return keys.length === 1 && (typeof v.text === 'string' || typeof v.base64 === 'string');
}

/**
 * The ops that turn `before` into `after`, in the order they apply (`applyOps(before, ops)`
 * equals `after`). Values in the ops are shared with `after`, not copied.
 */
export function diffJson(before: unknown, after: unknown, options: DiffOptions = {}): DeltaOperation[] {
  const diff = new JsonDiff(options);
  diff.walk(before, after);
  return diff.out;
}
