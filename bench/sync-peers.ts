/**
 * The peers of `npm run bench -- sync`, on the same workloads as crossbus: fast-json-patch and
 * jsondiffpatch for JSON deltas, Yjs and Automerge for two authors typing into one text.
 */
import * as Automerge from '@automerge/automerge';
import fastJsonPatchLib from 'fast-json-patch';
import { create as createDiffPatcher } from 'jsondiffpatch';
import * as Y from 'yjs';
import type { Json, TraceEdit } from './sync-workloads.js';

/** Delta generation + apply: the delta from `a` to `b`, applied to a copy of `a` (the copy is made before the clock starts). */
export interface JsonDeltaSystem {
  /** Prepares what one round needs outside the timed part (a fresh copy to apply to, when the system mutates its input). */
  prepare(a: Json): unknown;
  /** Diff, then apply; returns the result for the check. */
  run(a: Json, b: Json, prepared: unknown): Json;
}

export const fastJsonPatch: JsonDeltaSystem = {
  // applyPatch mutates the document it is given (its fast mode): it gets its own deep copy.
  prepare: (a) => structuredClone(a),
  run: (a, b, copy) => {
    const patch = fastJsonPatchLib.compare(a as object, b as object);
    return fastJsonPatchLib.applyPatch(copy as object, patch, false, true).newDocument as Json;
  },
};

const diffPatcher = createDiffPatcher({ objectHash: (o: object, i?: number) => String((o as { id?: unknown }).id ?? `$$index:${i}`) });

export const jsonDiffPatch: JsonDeltaSystem = {
  // patch() mutates the document it is given: it gets its own deep copy.
  prepare: (a) => structuredClone(a),
  run: (a, b, copy) => {
    const delta = diffPatcher.diff(a, b);
    return (delta === undefined ? copy : diffPatcher.patch(copy, delta)) as Json;
  },
};

/** What a two-author text replay reports. */
export interface TraceResult {
  /** Bytes every update sent carried, counted once (what each author puts on the wire). */
  bytes: number;
  /** Both copies equal at the end. */
  converged: boolean;
  text: string;
}

/** Clamps a trace edit to a text of length `len` (authors replay the shared trace on their own copies). */
export function clampEdit(e: TraceEdit, len: number): { pos: number; del: number } {
  const pos = Math.min(e.pos, len);
  return { pos, del: Math.min(e.del, len - pos) };
}

/**
 * The trace cut into rounds of `every` edits, each round's edits by author: in every system an
 * author folds the edits of one round into one transaction or change, then both exchange what they
 * made (a replica syncing in realtime batches what was typed while its last change was in flight).
 */
export function rounds(edits: readonly TraceEdit[], every: number): [TraceEdit[], TraceEdit[]][] {
  const out: [TraceEdit[], TraceEdit[]][] = [];
  for (let i = 0; i < edits.length; i += every) {
    const round: [TraceEdit[], TraceEdit[]] = [[], []];
    for (const e of edits.slice(i, i + every)) round[e.author].push(e);
    out.push(round);
  }
  return out;
}

/** Yjs: each author edits its Y.Doc; each round in one transaction, then both exchange their updates. */
export function replayYjs(initial: string, edits: readonly TraceEdit[], every: number): TraceResult {
  const docs = [new Y.Doc(), new Y.Doc()];
  const outbox: Uint8Array[][] = [[], []];
  const seed = new Y.Doc();
  seed.getText('t').insert(0, initial);
  const start = Y.encodeStateAsUpdate(seed);
  docs.forEach((d, i) => {
    Y.applyUpdate(d, start);
    d.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') (outbox[i] as Uint8Array[]).push(u);
    });
  });
  let bytes = 0;
  const exchange = (): void => {
    for (const i of [0, 1]) {
      const other = docs[1 - i] as Y.Doc;
      for (const u of outbox[i] as Uint8Array[]) {
        bytes += u.length;
        Y.applyUpdate(other, u, 'remote');
      }
      outbox[i] = [];
    }
  };
  for (const round of rounds(edits, every)) {
    for (const author of [0, 1] as const) {
      const doc = docs[author] as Y.Doc;
      const t = doc.getText('t');
      doc.transact(() => {
        for (const e of round[author]) {
          const { pos, del } = clampEdit(e, t.length);
          if (del > 0) t.delete(pos, del);
          if (e.ins.length > 0) t.insert(pos, e.ins);
        }
      });
    }
    exchange();
  }
  const a = (docs[0] as Y.Doc).getText('t').toString();
  return { bytes, converged: a === (docs[1] as Y.Doc).getText('t').toString(), text: a };
}

/** Automerge: each author makes each round's edits in one change, then both exchange those changes. */
export function replayAutomerge(initial: string, edits: readonly TraceEdit[], every: number): TraceResult {
  type Doc = Automerge.Doc<{ t: string }>;
  const base = Automerge.from<{ t: string }>({ t: initial });
  const docs: [Doc, Doc] = [Automerge.clone(base), Automerge.clone(base)];
  // Reading the text's length materializes the whole string: both authors' lengths are tracked here instead.
  let len = initial.length;
  let bytes = 0;
  for (const round of rounds(edits, every)) {
    let grown = 0;
    const made: (Uint8Array | undefined)[] = [undefined, undefined];
    for (const author of [0, 1] as const) {
      if (round[author].length === 0) continue;
      let l = len;
      docs[author] = Automerge.change(docs[author], (x) => {
        for (const e of round[author]) {
          const { pos, del } = clampEdit(e, l);
          Automerge.splice(x, ['t'], pos, del, e.ins);
          l += e.ins.length - del;
        }
      });
      made[author] = Automerge.getLastLocalChange(docs[author]);
      grown += l - len;
    }
    len += grown;
    for (const author of [0, 1] as const) {
      const change = made[author];
      if (change === undefined) continue;
      bytes += change.length;
      const other = (1 - author) as 0 | 1;
      [docs[other]] = Automerge.applyChanges(docs[other], [change]);
    }
  }
  return { bytes, converged: docs[0].t === docs[1].t, text: docs[0].t };
}
