/**
 * Recovery: walks a segment's bytes verifying every record. A bad record at the very end of the
 * last segment is a torn tail (a crash mid-write: nothing after it was ever acknowledged) and is
 * cut; a bad record with valid records after it, or in an older segment, means the data rotted or
 * was tampered with, and the stream must be quarantined rather than silently shortened.
 *
 * Sequences rise by one from the segment's base, except in a segment compaction rewrote, where
 * they only rise; the last segment is never compacted (appends go there), so a gap in it is damage.
 */
import { checkRecord, MIN_RECORD_LENGTH, RECORD_PREFIX_BYTES, recordTopic } from './record.js';
import { corrupt } from './storage-errors.js';

export interface ScanResult {
  offsets: number[];
  times: number[];
  /** Each record's sequence, when they are not consecutive from the base. */
  seqs: number[] | undefined;
  /** Each record's topic, when asked for. */
  topics: string[] | undefined;
  /** Where the valid records end (the file is truncated here when there is a torn tail). */
  end: number;
  torn?: { offset: number; bytes: number; reason: string };
}

export function scanSegment(buf: Uint8Array, baseSeq: number, file: string, isLast: boolean, withTopics = false): ScanResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const offsets: number[] = [];
  const times: number[] = [];
  const topics = withTopics ? ([] as string[]) : undefined;
  let seqs: number[] | undefined;
  let p = 0;
  while (p < buf.length) {
    const expected = baseSeq + offsets.length;
    const c = checkRecord(buf, p, view);
    if (c.ok) {
      if (seqs === undefined && c.seq !== expected) {
        if (isLast || c.seq < expected) throw corrupt(file, p, `sequence ${c.seq} where ${expected} was expected`);
        seqs = offsets.map((_, i) => baseSeq + i);
      }
      if (seqs !== undefined) {
        if (c.seq <= (seqs[seqs.length - 1] ?? baseSeq - 1)) throw corrupt(file, p, `sequence ${c.seq} does not rise`);
        seqs.push(c.seq);
      }
      offsets.push(p);
      times.push(c.time);
      topics?.push(recordTopic(buf, p));
      p = c.end;
      continue;
    }
    if (!isLast) throw corrupt(file, p, `${c.reason} record in a segment that is not the last`);
    if (validRecordAfter(buf, view, p + 1, expected)) throw corrupt(file, p, `${c.reason} record followed by valid records`);
    return { offsets, times, seqs, topics, end: p, torn: { offset: p, bytes: buf.length - p, reason: c.reason } };
  }
  return { offsets, times, seqs, topics, end: p };
}

/**
 * Is there a whole, checksummed record anywhere after `from` with a plausible sequence number?
 * Only runs on the error path; the sequence pre-check keeps it from CRC-ing every byte offset.
 */
function validRecordAfter(buf: Uint8Array, view: DataView, from: number, seq: number): boolean {
  const maxSeq = seq + Math.ceil((buf.length - from) / (RECORD_PREFIX_BYTES + MIN_RECORD_LENGTH));
  for (let q = from; q + RECORD_PREFIX_BYTES + MIN_RECORD_LENGTH <= buf.length; q++) {
    const s = view.getUint32(q + 8) * 2 ** 32 + view.getUint32(q + 12);
    if (s < seq || s > maxSeq) continue;
    if (checkRecord(buf, q, view).ok) return true;
  }
  return false;
}
