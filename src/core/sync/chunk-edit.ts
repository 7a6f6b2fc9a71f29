/**
 * Binary files edited in place: `diffBinary` chunks both versions (content-defined), names each
 * chunk by its SHA-256 and sends only the chunks the old version lacks, as base64; the rest are
 * references to where the old version holds them. `applyChunkEdit` rebuilds the new bytes and
 * the edit that undoes it (which carries only the bytes the edit removed).
 */
import type { CryptoProvider } from '../security/crypto.js';
import { fromBase64, toBase64 } from '../security/bytes.js';
import { chunk, chunkIds, resolveChunkOptions, type ChunkOptions } from './chunking.js';
import { deltaError } from './pointer.js';
import type { ChunkEdit, ChunkPart } from './types.js';

type Part = { at: number; len: number } | { bytes: Uint8Array };

/** Adds a part, joining it to the last one when both are contiguous references or both new bytes. */
function pushPart(parts: Part[], part: Part): void {
  const last = parts[parts.length - 1];
  if (last !== undefined && 'at' in last && 'at' in part && last.at + last.len === part.at) {
    last.len += part.len;
    return;
  }
  if (last !== undefined && 'bytes' in last && 'bytes' in part) {
    const joined = new Uint8Array(last.bytes.length + part.bytes.length);
    joined.set(last.bytes);
    joined.set(part.bytes, last.bytes.length);
    last.bytes = joined;
    return;
  }
  parts.push(part);
}

function toEdit(from: number, parts: readonly Part[]): ChunkEdit {
  return { from, parts: parts.map((p): ChunkPart => ('at' in p ? { at: p.at, len: p.len } : { data: toBase64(p.bytes) })) };
}

/** The edit that turns `before` into `after`, carrying only chunks `before` does not have. */
export async function diffBinary(
  before: Uint8Array,
  after: Uint8Array,
  crypto: Pick<CryptoProvider, 'sha256'>,
  options: ChunkOptions = {},
): Promise<ChunkEdit> {
  const resolved = resolveChunkOptions(options);
  const oldChunks = chunk(before, resolved);
  const newChunks = chunk(after, resolved);
  const oldIds = await chunkIds(before, oldChunks, crypto);
  const newIds = await chunkIds(after, newChunks, crypto);
  const known = new Map<string, number>();
  for (let i = oldChunks.length - 1; i >= 0; i--) known.set(oldIds[i] as string, (oldChunks[i] as { start: number }).start);
  const parts: Part[] = [];
  for (let i = 0; i < newChunks.length; i++) {
    const c = newChunks[i] as { start: number; end: number };
    const at = known.get(newIds[i] as string);
    if (at !== undefined) pushPart(parts, { at, len: c.end - c.start });
    else pushPart(parts, { bytes: after.slice(c.start, c.end) });
  }
  return toEdit(before.length, parts);
}

/** Checks the shape of a chunk edit (untrusted input); returns a reason, or undefined. */
export function chunkEditProblem(edit: unknown): string | undefined {
  if (typeof edit !== 'object' || edit === null) return 'a chunk edit must be an object';
  const e = edit as { from?: unknown; parts?: unknown };
  if (!Number.isSafeInteger(e.from) || (e.from as number) < 0) return 'a chunk edit needs from, the old length';
  if (!Array.isArray(e.parts)) return 'a chunk edit needs parts';
  for (const p of e.parts) {
    if (typeof p !== 'object' || p === null) return 'a chunk part must be an object';
    const q = p as { at?: unknown; len?: unknown; data?: unknown };
    if (typeof q.data === 'string') continue;
    if (!Number.isSafeInteger(q.at) || !Number.isSafeInteger(q.len) || (q.at as number) < 0 || (q.len as number) < 0) {
      return 'a chunk part is { at, len } or { data }';
    }
  }
  return undefined;
}

/** `before` edited, and the edit that undoes it; throws CB_ERR_SYNC_DELTA when the edit does not fit `before`. */
export function applyChunkEdit(before: Uint8Array, edit: ChunkEdit): { bytes: Uint8Array; back: ChunkEdit } {
  if (edit.from !== before.length)
    throw deltaError('a chunk edit was made on a file of another length', { from: edit.from, length: before.length });
  const decoded: Array<Uint8Array | { at: number; len: number }> = [];
  let total = 0;
  for (const p of edit.parts) {
    if ('data' in p) {
      const bytes = fromBase64(p.data);
      if (bytes === undefined) throw deltaError('a chunk part is not base64');
      decoded.push(bytes);
      total += bytes.length;
    } else {
      if (p.at + p.len > before.length) throw deltaError('a chunk reference is past the end of the file', { at: p.at, len: p.len });
      decoded.push(p);
      total += p.len;
    }
  }
  const bytes = new Uint8Array(total);
  const refs: Array<{ at: number; len: number; to: number }> = [];
  let pos = 0;
  for (const d of decoded) {
    if (d instanceof Uint8Array) {
      bytes.set(d, pos);
      pos += d.length;
    } else {
      bytes.set(before.subarray(d.at, d.at + d.len), pos);
      if (d.len > 0) refs.push({ at: d.at, len: d.len, to: pos });
      pos += d.len;
    }
  }
  return { bytes, back: inverse(before, total, refs) };
}

/** Old bytes the new file still holds are references into it; the rest travel as data. */
function inverse(before: Uint8Array, afterLength: number, refs: Array<{ at: number; len: number; to: number }>): ChunkEdit {
  refs.sort((a, b) => a.at - b.at);
  const parts: Part[] = [];
  let pos = 0;
  for (const r of refs) {
    if (r.at > pos) {
      pushPart(parts, { bytes: before.slice(pos, r.at) });
      pos = r.at;
    }
    if (r.at + r.len > pos) {
      pushPart(parts, { at: r.to + (pos - r.at), len: r.at + r.len - pos });
      pos = r.at + r.len;
    }
  }
  if (pos < before.length) pushPart(parts, { bytes: before.slice(pos) });
  return toEdit(afterLength, parts);
}
