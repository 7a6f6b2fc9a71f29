/**
 * Line-based three-way merge of texts (node-diff3): two edits of one file made concurrently
 * merge when they touch different lines; edits of the same lines are a conflict for a person.
 */
import { diff3Merge } from 'node-diff3';

export type TextMerge = { readonly clean: true; readonly text: string } | { readonly clean: false };

/**
 * Merges `ours` and `theirs`, both edited from `base`. Lines are split on `\n` and joined back
 * with it, so `\r\n` files and a missing final newline come through unchanged. Identical
 * changes on both sides are not a conflict.
 */
export function mergeText(ours: string, base: string, theirs: string): TextMerge {
  if (ours === theirs || theirs === base) return { clean: true, text: ours };
  if (ours === base) return { clean: true, text: theirs };
  const regions = diff3Merge(ours.split('\n'), base.split('\n'), theirs.split('\n'), { excludeFalseConflicts: true });
  const lines: string[] = [];
  for (const region of regions) {
    if (region.conflict !== undefined) return { clean: false };
    if (region.ok !== undefined) for (const line of region.ok) lines.push(line);
  }
  return { clean: true, text: lines.join('\n') };
}
