/**
 * applyOps in place does what the copying apply does, and a failing op leaves the document as it
 * was (the ops before it undone); the copying apply never changes its input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyOps, diffJson, type DeltaOperation } from '../../src/core/sync/index.js';
import { edit, startDoc, step } from '../helpers/json-edits.js';

const seed = Number(process.env.FC_SEED ?? 20261203);

const bad: DeltaOperation[] = [
  { type: 'delete', path: '/missing', timestamp: 0 },
  { type: 'update', path: '/l/99', value: 1, timestamp: 0 },
  { type: 'insert', path: '/a/b/c', value: 1, timestamp: 0 },
  { type: 'update', path: '/t', text: [{ retain: 100_000 }], timestamp: 0 } as unknown as DeltaOperation,
];

test(`applyOps in place: the same result as a copy; all or nothing (seed ${seed})`, () => {
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 30 }), fc.integer({ min: -1, max: bad.length - 1 }), (edits, failWith) => {
      const start = startDoc();
      let end = start;
      for (const e of edits) end = step(end, e);
      const ops = diffJson(start, end, { textMinLength: 8 });
      const frozen = JSON.stringify(start);
      assert.deepEqual(applyOps(start, ops), end);
      assert.equal(JSON.stringify(start), frozen, 'the copying apply leaves its input');
      const mine = structuredClone(start);
      if (failWith < 0) {
        assert.equal(applyOps(mine, ops, { inPlace: true }), mine, 'the same object');
        assert.deepEqual(mine, end);
        return;
      }
      assert.throws(() => applyOps(mine, [...ops, bad[failWith] as DeltaOperation], { inPlace: true }), { code: 'CB_ERR_SYNC_DELTA' });
      assert.deepEqual(mine, start, 'undone');
    }),
    { seed, numRuns: 3000, verbose: 1 },
  );
});
