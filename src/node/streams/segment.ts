/**
 * One segment file: records in ascending sequence order, and the in-memory index built when it
 * was scanned or written: byte offset and time per record. A segment is named by the first
 * sequence it covers; written by appends its records are consecutive from there (`seqAt(i)` is
 * `baseSeq + i`), rewritten by compaction (segment-compaction.ts) it holds only the records that
 * were still stored, with gaps, and keeps their sequences in `seqs`.
 * Reads verify every record's checksum again, so a bit flipped after open is never delivered.
 */
import { join } from 'node:path';
import type { StoredMessage } from '../../core/streams/storage.js';
import type { TopicEntry } from '../../core/streams/topic-index.js';
import { checkRecord, decodeRecord } from './record.js';
import type { StorageFile } from './file-ops.js';
import { corrupt, storageFailure } from './storage-errors.js';
import type { TombstoneFile } from './tombstones.js';
const NAME_RE = /^(\d{20})\.log$/;

export function segmentFileName(baseSeq: number): string {
  return `${String(baseSeq).padStart(20, '0')}.log`;
}

/** The base sequence of a segment file name, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

export class Segment {
  readonly offsets: number[];
  readonly times: number[];
  /** The sequence of each record when they are not consecutive (a compacted segment). */
  readonly seqs: number[] | undefined;
  /** End of the last valid record: where the next record is written. */
  size: number;
  /** Records still stored (not deleted, not below the log's first sequence) and their bytes. */
  live: number;
  liveBytes: number;
  /** Sequences deleted from this segment (tombstoned) that are still in the file, and their bytes. */
  dead: Set<number> | undefined;
  deadBytes = 0;
  /** Each record's topic entry, when the log keeps a topic index. */
  topics: TopicEntry[] | undefined;
  /** Where this segment's deletes are recorded (opened when the first one is). */
  tombstones: TombstoneFile | undefined;
  /** Released segments (deleted, or the log closed) close their file once no read is using it. */
  private readers = 0;
  private closing = false;

  constructor(
    readonly dir: string,
    readonly baseSeq: number,
    readonly file: StorageFile,
    offsets: number[] = [],
    times: number[] = [],
    size = 0,
    seqs?: number[],
  ) {
    this.offsets = offsets;
    this.times = times;
    this.size = size;
    this.seqs = seqs;
    this.live = offsets.length;
    this.liveBytes = size;
  }

  get name(): string {
    return segmentFileName(this.baseSeq);
  }
  get path(): string {
    return join(this.dir, this.name);
  }
  get count(): number {
    return this.offsets.length;
  }
  /** The sequence of its last record; baseSeq - 1 when empty. */
  get lastSeq(): number {
    const n = this.offsets.length;
    if (n === 0) return this.baseSeq - 1;
    return this.seqs === undefined ? this.baseSeq + n - 1 : (this.seqs[n - 1] as number);
  }

  /** The sequence of record `i`. */
  seqAt(i: number): number {
    return this.seqs === undefined ? this.baseSeq + i : (this.seqs[i] as number);
  }

  /** Index of the first record with a sequence >= `seq`, or count. */
  atOrAfter(seq: number): number {
    if (this.seqs === undefined) return Math.min(Math.max(0, seq - this.baseSeq), this.offsets.length);
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seqs[mid] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the record with sequence `seq`, or -1. */
  indexOf(seq: number): number {
    const i = this.atOrAfter(seq);
    return i < this.offsets.length && this.seqAt(i) === seq ? i : -1;
  }

  isDead(seq: number): boolean {
    return this.dead?.has(seq) === true;
  }

  /** Bytes of record `i` (index within this segment). */
  recordBytes(i: number): number {
    return ((i + 1 < this.offsets.length ? this.offsets[i + 1] : this.size) as number) - (this.offsets[i] as number);
  }

  /** Index of the first record with time >= t at or after index `from`, or count. */
  indexAtTime(t: number, from: number): number {
    let lo = from;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Reads records [from, to) (indexes) with one read, verifying each. */
  async read(from: number, to: number): Promise<StoredMessage[]> {
    const buf = await this.readBytes(from, to);
    const start = this.offsets[from] as number;
    const view = new DataView(buf.buffer);
    const out: StoredMessage[] = [];
    for (let i = from; i < to; i++) {
      const p = (this.offsets[i] as number) - start;
      const c = checkRecord(buf, p, view);
      const seq = this.seqAt(i);
      if (!c.ok) throw corrupt(this.name, p + start, `${c.reason} record on read`);
      if (c.seq !== seq) throw corrupt(this.name, p + start, `sequence ${c.seq} where ${seq} was expected`);
      try {
        out.push(decodeRecord(buf, p, c.end, c.seq, c.time));
      } catch (err) {
        throw corrupt(this.name, p + start, 'the record holds an undecodable frame', err);
      }
    }
    return out;
  }

  /** The raw bytes of records [from, to): what compaction copies and the topic index decodes. */
  async readBytes(from: number, to: number): Promise<Uint8Array> {
    const start = this.offsets[from] as number;
    const stop = to < this.offsets.length ? (this.offsets[to] as number) : this.size;
    const buf = new Uint8Array(stop - start);
    this.readers++;
    try {
      let got = 0;
      while (got < buf.length) {
        let n: number;
        try {
          n = await this.file.read(buf, got, buf.length - got, start + got);
        } catch (err) {
          throw storageFailure('read', this.path, err);
        }
        if (n === 0) throw corrupt(this.name, start + got, 'the file is shorter than its index');
        got += n;
      }
    } finally {
      this.readers--;
      if (this.closing && this.readers === 0) void this.file.close().catch(() => {});
    }
    return buf;
  }

  /** Closes now, or after the last read in flight (a deleted file stays readable until then). */
  async release(): Promise<void> {
    this.closing = true;
    await this.tombstones?.close();
    if (this.readers === 0) await this.file.close().catch(() => {});
  }
}
