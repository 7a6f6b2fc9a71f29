/**
 * Folding edits into a draft (or a manual-mode change) never changes what the ops do: any run of
 * edits, folded one edit at a time, applies to the document it started from and gives the
 * document the edits gave, in at most as many ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { foldInto } from '../../src/client/sync/fold-edits.js';
import { applyOps, diffJson, type DeltaOperation } from '../../src/core/sync/index.js';

const seed = Number(process.env.FC_SEED ?? 20261203);

type Doc = { [key: string]: unknown };

/** One edit of a small document: keys set and deleted, texts typed into, array elements inserted, deleted and set. */
const edit = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.oneof(fc.integer(), fc.string({ maxLength: 3 })),
  }),
  fc.record({ kind: fc.constant('del' as const), key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ kind: fc.constant('type' as const), at: fc.nat(40), s: fc.string({ minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('arr' as const), op: fc.constantFrom('insert', 'delete', 'set'), at: fc.nat(6), v: fc.integer() }),
);

type Edit =
  | { kind: 'set'; key: string; value: number | string }
  | { kind: 'del'; key: string }
  | { kind: 'type'; at: number; s: string }
  | { kind: 'arr'; op: 'insert' | 'delete' | 'set'; at: number; v: number };

function step(doc: Doc, e: Edit): Doc {
  const next: Doc = { ...doc, l: [...(doc.l as number[])] };
  const l = next.l as number[];
  if (e.kind === 'set') next[e.key] = e.value;
  else if (e.kind === 'del') delete next[e.key];
  else if (e.kind === 'type') {
    const t = next.t as string;
    const i = e.at % (t.length + 1);
    next.t = t.slice(0, i) + e.s + t.slice(i);
  } else if (e.op === 'insert') l.splice(e.at % (l.length + 1), 0, e.v);
  else if (l.length > 0 && e.op === 'delete') l.splice(e.at % l.length, 1);
  else if (l.length > 0) l[e.at % l.length] = e.v;
  return next;
}

test('folded edits do what the edits did, in no more ops', () => {
  fc.assert(
    fc.property(fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }), (edits) => {
      const start: Doc = { t: 'a text long enough to be edited in place', l: [1, 2, 3], a: 0 };
      let doc = start;
      let folded: DeltaOperation[] = [];
      let count = 0;
      for (const group of edits) {
        let next = doc;
        for (const e of group) next = step(next, e);
        const ops = diffJson(doc, next, { textMinLength: 8 });
        count += ops.length;
        folded = foldInto(folded, ops, doc);
        doc = next;
      }
      assert.deepEqual(applyOps(start, folded), doc);
      assert.ok(folded.length <= count);
    }),
    { seed, numRuns: 3000, verbose: 1 },
  );
});
