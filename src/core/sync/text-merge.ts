/**
 * Three-way merge of texts (node-diff3): two edits of one file made concurrently merge when they
 * touch different lines; lines both changed are merged by characters, and only edits of the same
 * characters are a conflict for a person.
 */
import { diff3Merge } from 'node-diff3';

/** Lines both sides changed are merged character by character up to this many characters a side (the LCS is quadratic). */
export const MAX_CHAR_MERGE = 2_000;

/**
 * Lines both sides changed, merged by characters: two people typing at different places of one
 * line both keep their words. Undefined when the characters overlap too (a conflict for a person)
 * or the region is too long to compare character by character.
 */
function mergeChars(ours: string, base: string, theirs: string): string | undefined {
  if (ours.length > MAX_CHAR_MERGE || base.length > MAX_CHAR_MERGE || theirs.length > MAX_CHAR_MERGE) return undefined;
  let out = '';
  for (const region of diff3Merge([...ours], [...base], [...theirs], { excludeFalseConflicts: true })) {
    if (region.conflict !== undefined) return undefined;
    if (region.ok !== undefined) out += region.ok.join('');
  }
  return out;
}

export type TextMerge = { readonly clean: true; readonly text: string } | { readonly clean: false };

/**
 * Merges `ours` and `theirs`, both edited from `base`. Lines are split on `\n` and joined back
 * with it, so `\r\n` files and a missing final newline come through unchanged. Identical
 * changes on both sides are not a conflict.
 */
export function mergeText(ours: string, base: string, theirs: string): TextMerge {
  if (ours === theirs || theirs === base) return { clean: true, text: ours };
  if (ours === base) return { clean: true, text: theirs };
  const o = ours.split('\n');
  const b = base.split('\n');
  const t = theirs.split('\n');
  // Lines all three share at the start and at the end are the merge's anyway: diff3's LCS is
  // quadratic in what it is given, and concurrent edits of a file usually touch a few lines of it.
  const min = Math.min(o.length, b.length, t.length);
  let head = 0;
  while (head < min && o[head] === b[head] && b[head] === t[head]) head++;
  let tail = 0;
  while (tail < min - head && o[o.length - 1 - tail] === b[b.length - 1 - tail] && b[b.length - 1 - tail] === t[t.length - 1 - tail])
    tail++;
  const regions = diff3Merge(o.slice(head, o.length - tail), b.slice(head, b.length - tail), t.slice(head, t.length - tail), {
    excludeFalseConflicts: true,
  });
  const lines = o.slice(0, head);
  for (const region of regions) {
    if (region.conflict !== undefined) {
      const { a, o: from, b: to } = region.conflict;
      const merged = mergeChars(a.join('\n'), from.join('\n'), to.join('\n'));
      if (merged === undefined) return { clean: false };
      for (const line of merged.split('\n')) lines.push(line);
    }
    if (region.ok !== undefined) for (const line of region.ok) lines.push(line);
  }
  for (let i = o.length - tail; i < o.length; i++) lines.push(o[i] as string);
  return { clean: true, text: lines.join('\n') };
}
