/**
 * mergeText: lines both sides changed merge by characters, so two edits at different places of
 * a text always merge, into what applying both gives; and it never merges what diff3 on whole
 * lines merges into something else.
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

test('where diff3 on whole lines merges, mergeText gives the same text', () => {
  fc.assert(
    fc.property(text, text, text, (ours, base, theirs) => {
      const whole = wholeDiff3(ours, base, theirs);
      if (whole === null) return;
      const merged = mergeText(ours, base, theirs);
      assert.ok(merged.clean, 'diff3 merges these lines');
      assert.equal(merged.text, whole);
    }),
    { seed, numRuns: 5000, verbose: 1 },
  );
});

test('two edits at different places of a text (lines shared or not) both land', () => {
  fc.assert(
    fc.property(
      // Distinct characters: which character an edit removed is never ambiguous (with repeats, diff3
      // may align a change elsewhere, as it does for lines).
      fc.shuffledSubarray([...'abcdefghijklmnopqrstuvw \n'], { minLength: 4 }).map((c) => c.join('')),
      fc.nat(),
      fc.nat(),
      (base, p, q) => {
        fc.pre(base.length >= 4);
        // Two ranges with at least one untouched character between them; inserts use letters the base never holds.
        const cut = 1 + (p % (base.length - 2));
        const first = { from: q % cut, to: Math.min(cut - 1, (q % cut) + (p % 3)), insert: 'X' };
        const second = {
          from: cut + (q % (base.length - cut)),
          to: Math.min(base.length, cut + (q % (base.length - cut)) + (q % 3)),
          insert: 'YZ',
        };
        const apply = (t: string, e: { from: number; to: number; insert: string }, shift = 0) =>
          t.slice(0, e.from + shift) + e.insert + t.slice(e.to + shift);
        const ours = apply(base, first);
        const theirs = apply(base, second);
        const both = apply(ours, second, first.insert.length - (first.to - first.from));
        const merged = mergeText(ours, base, theirs);
        assert.ok(merged.clean, JSON.stringify({ base, ours, theirs }));
        assert.equal(merged.text, both);
      },
    ),
    { seed, numRuns: 3000, verbose: 1 },
  );
});
