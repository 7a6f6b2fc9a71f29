/**
 * mergeText sets aside the lines all three texts share at both ends before diff3 (its LCS is
 * quadratic): that must never merge what diff3 on the whole texts calls a conflict, and where
 * both merge, the texts must be the same. (It may park a few more: two inserts at one point of
 * an almost empty file, which diff3 on the whole texts interleaves.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { diff3Merge } from 'node-diff3';
import { mergeText } from '../../src/core/sync/text-merge.js';

const seed = Number(process.env.FC_SEED ?? 20261203);

function wholeDiff3(ours: string, base: string, theirs: string): string | null {
  if (ours === theirs || theirs === base) return ours;
  if (ours === base) return theirs;
  const lines: string[] = [];
  for (const r of diff3Merge(ours.split('\n'), base.split('\n'), theirs.split('\n'), { excludeFalseConflicts: true })) {
    if (r.conflict !== undefined) return null;
    if (r.ok !== undefined) lines.push(...r.ok);
  }
  return lines.join('\n');
}

const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', ''), { maxLength: 10 }).map((l) => l.join('\n'));

test('trimmed merge: never cleaner than diff3 on the whole texts, the same text when both merge', () => {
  fc.assert(
    fc.property(text, text, text, (ours, base, theirs) => {
      const trimmed = mergeText(ours, base, theirs);
      const whole = wholeDiff3(ours, base, theirs);
      if (trimmed.clean) assert.equal(trimmed.text, whole);
    }),
    { seed, numRuns: 5000, verbose: 1 },
  );
});
