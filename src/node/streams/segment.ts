/**
 * One segment file: records with consecutive sequence numbers starting at `baseSeq` (its name),
 * and the in-memory index built when it was scanned or written: byte offset and time per record.
 * Reads verify every record's checksum again, so a bit flipped after open is never delivered.
 */
import { join } from 'node:path';
import type { StoredMessage } from '../../core/streams/storage.js';
import { checkRecord, decodeRecord } from './record.js';
import type { StorageFile } from './file-ops.js';
import { corrupt, storageFailure } from './storage-errors.js';

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
  /** End of the last valid record: where the next record is written. */
  size: number;
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
  ) {
    this.offsets = offsets;
    this.times = times;
    this.size = size;
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
  /** baseSeq - 1 when empty. */
  get lastSeq(): number {
    return this.baseSeq + this.offsets.length - 1;
  }

  /** Bytes of record `i` (index within this segment). */
  recordBytes(i: number): number {
    return ((i + 1 < this.offsets.length ? this.offsets[i + 1] : this.size) as number) - (this.offsets[i] as number);
  }

  /** Bytes of records from index `i` to the end. */
  bytesFrom(i: number): number {
    return i >= this.offsets.length ? 0 : this.size - (this.offsets[i] as number);
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

  /**
   * Reads records [from, to) (indexes) with one read, verifying each. `maxBytes` stops early but
   * always returns the first record.
   */
  async read(from: number, to: number, maxBytes: number): Promise<StoredMessage[]> {
    let end = to;
    const start = this.offsets[from] as number;
    while (end > from + 1 && this.bytesFromTo(from, end) > maxBytes) end--;
    const stop = end < this.offsets.length ? (this.offsets[end] as number) : this.size;
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
    const view = new DataView(buf.buffer);
    const out: StoredMessage[] = [];
    for (let i = from; i < end; i++) {
      const p = (this.offsets[i] as number) - start;
      const c = checkRecord(buf, p, view);
      const seq = this.baseSeq + i;
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

  private bytesFromTo(from: number, to: number): number {
    const stop = to < this.offsets.length ? (this.offsets[to] as number) : this.size;
    return stop - (this.offsets[from] as number);
  }

  /** Closes now, or after the last read in flight (a deleted file stays readable until then). */
  async release(): Promise<void> {
    this.closing = true;
    if (this.readers === 0) await this.file.close().catch(() => {});
  }
}
