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
import { edit, startDoc, step, type Doc } from '../helpers/json-edits.js';

const seed = Number(process.env.FC_SEED ?? 20261203);

test('folded edits do what the edits did, in no more ops', () => {
  fc.assert(
    fc.property(fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }), (edits) => {
      const start: Doc = startDoc();
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
