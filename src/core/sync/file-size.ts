/**
 * `maxFileBytes`: the texts and binary files a change leaves, checked after it applied (on the
 * author's view before the change is made, on every replica when it arrives).
 */
import { ValidationError } from '../errors/index.js';
import { utf8Length } from '../protocol/utf8.js';
import type { DocWriter, EffectiveOp } from './doc-writer.js';
import { base64Of, textOf } from './json-value.js';

/** Texts and binary files a change leaves must stay within `maxFileBytes`; throws CB_ERR_SYNC_TOO_LARGE. */
export function checkFileSizes(writer: DocWriter, eff: readonly EffectiveOp[], max: number): void {
  for (const e of eff) {
    if (e.type === 'delete') continue;
    const v = writer.get(e.segs);
    const text = textOf(v);
    const b64 = text === undefined ? base64Of(v) : undefined;
    // UTF-8 takes at most three bytes per UTF-16 unit: shorter texts need no count. Base64 is four characters per three bytes.
    const size =
      text !== undefined ? (text.length * 3 > max ? utf8Length(text) : 0) : b64 !== undefined ? Math.floor((b64.length * 3) / 4) : 0;
    if (size > max) {
      throw new ValidationError(
        'CB_ERR_SYNC_TOO_LARGE',
        `a value at ${e.path.slice(0, 200)} would be ${size} bytes, over maxFileBytes (${max})`,
        {
          details: { path: e.path.slice(0, 200), size, maxFileBytes: max },
        },
      );
    }
  }
}
