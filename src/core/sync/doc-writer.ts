/**
 * Applies operations to a document without mutating it: the containers on the path of each op
 * are copied (the spine), everything else is shared with the old document. A container this
 * writer copied is its own, so a second op below it changes it in place: a batch of ops costs
 * one copy per touched container, not one per op. A writer whose op failed is simply dropped,
 * which is what makes a change all-or-nothing.
 */
import { fromBase64, toBase64 } from '../security/bytes.js';
import { applyChunkEdit } from './chunk-edit.js';
import { isObject, own, setOwn, textOf, withText, base64Of, type JsonObject } from './json-value.js';
import { arrayIndex, deltaError, formatPointer, parsePointer, type Segments } from './pointer.js';
import { applyTextEdit } from './text-edit.js';
import type { ChunkEdit, DeltaOperation, TextEdit } from './types.js';

/**
 * What an op changed, with what makes it invertible: the concrete path (an append's index),
 * the old value, the text or chunk edit applied and its inverse. `arr` marks an array element
 * inserted or deleted: the indexes after it shift.
 */
export interface EffectiveOp {
  readonly type: 'insert' | 'update' | 'delete';
  readonly path: string;
  readonly segs: Segments;
  readonly value?: unknown;
  readonly oldValue?: unknown;
  readonly text?: TextEdit;
  readonly chunks?: ChunkEdit;
  /** The chunk edit that undoes `chunks`. */
  readonly back?: ChunkEdit;
  readonly arr?: boolean;
}

type Container = JsonObject | unknown[];

/** The value at `segs`, or undefined when nothing is there. */
export function getAt(doc: unknown, segs: Segments): unknown {
  let node = doc;
  for (const key of segs) {
    if (Array.isArray(node)) {
      const i = arrayIndex(key);
      if (i < 0 || i >= node.length) return undefined;
      node = node[i];
    } else if (isObject(node)) {
      node = own(node, key);
    } else {
      return undefined;
    }
  }
  return node;
}

/** Past this many keys an object is copied key by key: V8 spreads a large (dictionary-mode) object about twice as slowly. */
const SPREAD_MAX_KEYS = 32;

/** A shallow copy of `obj` with its own keys (`__proto__` included, as a data property). */
function copyObject(obj: JsonObject): JsonObject {
  const keys = Object.keys(obj);
  if (keys.length <= SPREAD_MAX_KEYS) return { ...obj };
  const copy: JsonObject = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key === '__proto__') setOwn(copy, key, obj[key]);
    else copy[key] = obj[key];
  }
  return copy;
}

export class DocWriter {
  #root: unknown;
  readonly #owned = new Set<unknown>();
  /** Writes into the document it was given, copying nothing: the caller owns every part of it. */
  readonly #inPlace: boolean;

  constructor(root: unknown, inPlace = false) {
    this.#root = root;
    this.#inPlace = inPlace;
  }

  /** The document with every op applied so far. */
  get result(): unknown {
    return this.#root;
  }

  get(segs: Segments): unknown {
    return getAt(this.#root, segs);
  }

  /** Applies `op` as written; throws CB_ERR_SYNC_DELTA when it does not apply. */
  apply(op: DeltaOperation, at?: Segments): EffectiveOp {
    const segs = at ?? parsePointer(op.path);
    if (op.text !== undefined || op.chunks !== undefined) {
      if (op.type !== 'update') throw deltaError('a text or chunk edit must be an update', { path: op.path });
      return this.#editInPlace(op, segs);
    }
    // Segments given apart from the op (a rebased op lands elsewhere) are written out again.
    const path = at === undefined ? op.path : undefined;
    if (op.type === 'delete') return this.#delete(segs, path);
    if (op.value === undefined) throw deltaError(`an ${op.type} needs a value`, { path: op.path });
    if (op.type === 'insert') return this.#insert(segs, op.value, path);
    if (op.type === 'update') return this.#update(segs, op.value, path);
    throw deltaError('an op type must be insert, update or delete', { path: op.path });
  }

  /**
   * Sets `value` at `segs` whatever is there (a decided conflict, a resolution): replaces,
   * adds an object key, inserts into an array (`arrayInsert`, appending past its end) or sets
   * an element. Returns undefined, changing nothing, when the parent is not there.
   */
  set(segs: Segments, value: unknown, arrayInsert = false): EffectiveOp | undefined {
    if (segs.length === 0) return this.#replaceRoot(value);
    const parent = getAt(this.#root, segs.slice(0, -1));
    const key = segs[segs.length - 1] as string;
    if (Array.isArray(parent)) {
      let i = key === '-' ? parent.length : arrayIndex(key);
      // An element to insert past the end (the array shrank meanwhile) is appended.
      if (arrayInsert && i > parent.length) i = parent.length;
      if (i < 0 || i > parent.length) return undefined;
      const at = [...segs.slice(0, -1), String(i)];
      return arrayInsert || i === parent.length ? this.#insert(at, value) : this.#update(at, value);
    }
    if (!isObject(parent)) return undefined;
    return Object.hasOwn(parent, key) ? this.#update(segs, value) : this.#insert(segs, value);
  }

  /** Removes what is at `segs`; undefined when nothing is there. */
  remove(segs: Segments): EffectiveOp | undefined {
    if (segs.length === 0 || this.get(segs) === undefined) return undefined;
    return this.#delete(segs);
  }

  #replaceRoot(value: unknown): EffectiveOp {
    const oldValue = this.#root;
    this.#root = value;
    this.#owned.clear();
    return { type: 'update', path: '', segs: [], value, oldValue };
  }

  /** The parent container of `segs`, copied along the way unless this writer owns it already. */
  #parent(segs: Segments): Container {
    if (this.#inPlace) return this.#parentInPlace(segs);
    if (!this.#owned.has(this.#root)) this.#root = this.#own(this.#root, segs, 0);
    let node = this.#root as Container;
    for (let d = 0; d < segs.length - 1; d++) {
      const key = segs[d] as string;
      let child: unknown;
      let i = -1;
      if (Array.isArray(node)) {
        i = arrayIndex(key);
        child = i >= 0 && i < node.length ? node[i] : undefined;
      } else {
        child = own(node, key);
      }
      if (!this.#owned.has(child)) {
        child = this.#own(child, segs, d + 1);
        if (i >= 0) (node as unknown[])[i] = child;
        else setOwn(node as JsonObject, key, child);
      }
      node = child as Container;
    }
    return node;
  }

  /** The parent container of `segs` in the document itself. */
  #parentInPlace(segs: Segments): Container {
    let node = this.#root;
    for (let d = 0; ; d++) {
      if (!isObject(node) && !Array.isArray(node))
        throw deltaError('a path goes through something that is not an object or array', { path: formatPointer(segs.slice(0, d + 1)) });
      if (d >= segs.length - 1) return node as Container;
      const key = segs[d] as string;
      node = Array.isArray(node) ? node[arrayIndex(key)] : own(node, key);
    }
  }

  #own(node: unknown, segs: Segments, depth: number): Container {
    let copy: Container;
    if (Array.isArray(node)) copy = node.slice();
    else if (isObject(node)) copy = copyObject(node);
    else
      throw deltaError('a path goes through something that is not an object or array', { path: formatPointer(segs.slice(0, depth + 1)) });
    this.#owned.add(copy);
    return copy;
  }

  #insert(segs: Segments, value: unknown, path = formatPointer(segs)): EffectiveOp {
    if (segs.length === 0) return this.#replaceRoot(value);
    const parent = this.#parent(segs);
    const key = segs[segs.length - 1] as string;
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : arrayIndex(key);
      if (i < 0 || i > parent.length) throw deltaError('an insert index is past the end of the array', { path: formatPointer(segs) });
      if (i === parent.length) parent.push(value);
      else parent.splice(i, 0, value);
      const at = key === '-' ? [...segs.slice(0, -1), String(i)] : segs;
      return { type: 'insert', path: key === '-' ? formatPointer(at) : path, segs: at, value, arr: true };
    }
    const had = Object.hasOwn(parent, key);
    const oldValue = had ? parent[key] : undefined;
    setOwn(parent, key, value);
    // An insert over an existing key replaces it (RFC 6902 add): recorded as the update it was.
    return had ? { type: 'update', path, segs, value, oldValue } : { type: 'insert', path, segs, value };
  }

  #update(segs: Segments, value: unknown, path = formatPointer(segs)): EffectiveOp {
    if (segs.length === 0) return this.#replaceRoot(value);
    const parent = this.#parent(segs);
    const key = segs[segs.length - 1] as string;
    let oldValue: unknown;
    if (Array.isArray(parent)) {
      const i = arrayIndex(key);
      if (i < 0 || i >= parent.length) throw deltaError('an update index is not in the array', { path });
      oldValue = parent[i];
      parent[i] = value;
    } else {
      if (!Object.hasOwn(parent, key)) throw deltaError('an update path does not exist', { path });
      oldValue = parent[key];
      setOwn(parent, key, value);
    }
    return { type: 'update', path, segs, value, oldValue };
  }

  #delete(segs: Segments, path = formatPointer(segs)): EffectiveOp {
    if (segs.length === 0) throw deltaError('the root cannot be deleted', { path: '' });
    const parent = this.#parent(segs);
    const key = segs[segs.length - 1] as string;
    let oldValue: unknown;
    if (Array.isArray(parent)) {
      const i = arrayIndex(key);
      if (i < 0 || i >= parent.length) throw deltaError('a delete index is not in the array', { path });
      oldValue = parent[i];
      parent.splice(i, 1);
      return { type: 'delete', path, segs, oldValue, arr: true };
    }
    if (!Object.hasOwn(parent, key)) throw deltaError('a delete path does not exist', { path });
    oldValue = parent[key];
    delete parent[key];
    return { type: 'delete', path, segs, oldValue };
  }

  /** A text or chunk edit of the value at `segs`, which must be a text or a binary file. */
  #editInPlace(op: DeltaOperation, segs: Segments): EffectiveOp {
    const current = this.get(segs);
    const path = formatPointer(segs);
    if (op.text !== undefined) {
      const text = textOf(current);
      if (text === undefined) throw deltaError('a text edit needs a text there', { path });
      const next = withText(current, applyTextEdit(text, op.text));
      this.#put(segs, next);
      return { type: 'update', path, segs, text: op.text };
    }
    const b64 = base64Of(current);
    const bytes = b64 === undefined ? undefined : fromBase64(b64);
    if (bytes === undefined) throw deltaError('a chunk edit needs a binary file there', { path });
    const { bytes: next, back } = applyChunkEdit(bytes, op.chunks as ChunkEdit);
    this.#put(segs, { base64: toBase64(next) });
    return { type: 'update', path, segs, chunks: op.chunks as ChunkEdit, back };
  }

  /** Replaces an existing value (the caller checked it is there). */
  #put(segs: Segments, value: unknown): void {
    if (segs.length === 0) {
      this.#replaceRoot(value);
      return;
    }
    const parent = this.#parent(segs);
    const key = segs[segs.length - 1] as string;
    if (Array.isArray(parent)) parent[arrayIndex(key)] = value;
    else setOwn(parent, key, value);
  }
}
