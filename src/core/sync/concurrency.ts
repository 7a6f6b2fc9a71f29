/**
 * Where an op lands after the concurrent changes, and which of them it meets.
 *
 * An op's path is written against the document its author saw. The concurrent changes (other
 * replicas' entries after the op's base) may have inserted or deleted array elements before the
 * op's index: the index is shifted through them, in log order. Two ops then overlap when their
 * paths are equal or one is an ancestor of the other, except that inserting an array element
 * meets neither an edit of the element at its index nor another insert (both elements are kept), and
 * an element deleted under an op that edits it is met (`gone`: the op's target no longer exists).
 */
import type { EffectiveOp } from './doc-writer.js';
import type { HistoryRecord } from './history.js';
import { arrayIndex, isPrefix, overlaps, type Segments } from './pointer.js';

export interface Overlap {
  readonly record: HistoryRecord;
  readonly op: EffectiveOp;
}

export interface Landing {
  /** The op's path after the concurrent array inserts and deletes. */
  readonly segs: string[];
  /** The concurrent ops it meets, in log order. */
  readonly met: Overlap[];
  /** The element the op edits was deleted concurrently. */
  readonly gone: boolean;
}

function sharesPrefix(a: Segments, b: Segments, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Lands an op at `segs` (`arrayInsert`: it inserts an array element) through `concurrent`, the
 * other replicas' records after its base, in log order.
 */
export function land(segs: Segments, arrayInsert: boolean, concurrent: readonly HistoryRecord[]): Landing {
  const cur = segs.slice();
  const met: Overlap[] = [];
  let gone = false;
  for (const record of concurrent) {
    for (const f of record.eff) {
      const fs = f.segs;
      if (f.arr === true) {
        const q = fs.length - 1;
        if (cur.length > q && sharesPrefix(fs, cur, q)) {
          const i = arrayIndex(cur[q] as string);
          if (i < 0) continue;
          const j = Number(fs[q]);
          if (f.type === 'insert') {
            if (j <= i) cur[q] = String(i + 1);
          } else if (j < i) {
            cur[q] = String(i - 1);
          } else if (j === i && !(arrayInsert && cur.length === q + 1)) {
            gone = true;
            met.push({ record, op: f });
          }
          continue;
        }
      }
      if (!overlaps(fs, cur)) continue;
      // A new array element does not meet what happens to (or inside) the element that was at its index.
      if (arrayInsert && cur.length <= fs.length && isPrefix(cur, fs)) continue;
      met.push({ record, op: f });
    }
  }
  return { segs: cur, met, gone };
}
