/**
 * Checks an audit log's hash chain (written by audit-log.ts). Streams the file, so memory stays
 * bounded by the longest line, not the file. What it proves: no entry was edited, removed,
 * reordered or inserted, and no write was torn, since the first line. Removing entries from the
 * end is only visible against a `lastHash` kept elsewhere (print it, ship it off-host).
 */
import { createReadStream } from 'node:fs';
import { createError } from '../../core/errors/index.js';
import { GENESIS_HASH, entryHash, entryLine, parseAuditEntry } from './audit-log.js';

export type VerifyResult =
  | { ok: true; entries: number; lastHash: string }
  | { ok: false; entries: number /** 1-based line number */; brokenAt: number; seq?: number; reason: string };

/** A line longer than this is not something the writer produced; stop before it exhausts memory. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Throws CB_ERR_AUDIT when the file cannot be read (missing, EACCES); a readable file always yields a result. */
export async function verifyAuditLog(file: string): Promise<VerifyResult> {
  let line = 0;
  let prev = GENESIS_HASH;
  let entries = 0;
  const broken = (reason: string, seq?: number): VerifyResult =>
    seq !== undefined ? { ok: false, entries, brokenAt: line, seq, reason } : { ok: false, entries, brokenAt: line, reason };

  const check = (bytes: Buffer): VerifyResult | undefined => {
    line++;
    if (bytes.length === 0) return broken('empty line');
    const text = bytes.toString('utf8');
    const r = parseAuditEntry(text);
    if (!r.ok) return broken(r.reason, r.seq);
    const e = r.entry;
    // A gap, a duplicate or a swap all show up first as a sequence break.
    if (e.seq !== entries + 1) return broken(`seq ${e.seq}, expected ${entries + 1}`, e.seq);
    if (e.prev !== prev) return broken("prev does not match the previous entry's hash", e.seq);
    const { hash, ...unhashed } = e;
    if (entryHash(unhashed) !== hash) return broken("hash does not match the entry's content", e.seq);
    // Same content, different bytes (spacing, key order in details...) is still a modification.
    if (entryLine(e) !== text) return broken('line is not in canonical form', e.seq);
    prev = hash;
    entries++;
    return undefined;
  };

  let parts: Buffer[] = [];
  let partLen = 0;
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        parts.push(chunk.subarray(start, nl));
        const bad = check(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
        if (bad) return bad; // leaving the loop destroys the stream
        parts = [];
        partLen = 0;
        start = nl + 1;
      }
      if (start < chunk.length) {
        parts.push(chunk.subarray(start));
        partLen += chunk.length - start;
        if (partLen > MAX_LINE_BYTES) {
          line++;
          return broken(`line longer than ${MAX_LINE_BYTES} bytes`);
        }
      }
    }
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw createError('CB_ERR_AUDIT', `cannot read audit log ${file}`, {
      cause,
      details: { file, code: typeof code === 'string' ? code : undefined },
    });
  }
  if (partLen > 0) {
    // The writer ends every entry with a newline: anything after the last one is a torn write or a cut.
    line++;
    return broken('last line is incomplete (no trailing newline)');
  }
  return { ok: true, entries, lastHash: prev };
}
