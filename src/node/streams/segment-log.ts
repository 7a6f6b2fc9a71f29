/**
 * The embedded stream log: an append-only, segmented, checksummed log in one directory per
 * stream. Segment files are named by their first sequence number; every record carries a CRC-32
 * (record.ts). The index (offset and time per record) lives in memory, rebuilt by scanning on open.
 *
 * Writes are serialized through one queue: appends that arrive while a write or fsync is running
 * wait and then go out together in one write(2) and one fdatasync (group commit), so many
 * publishers pay for one fsync. A failed write or fsync rejects exactly the appends it carried
 * (CB_ERR_STORAGE), never uses their sequence numbers, and cuts the file back to the last good
 * record before anything else is written, so a later record never follows garbage.
 */
import { join } from 'node:path';
import { createError, type CrossbusError } from '../../core/errors/index.js';
import type { AppendInput, ReadOptions, StorageState, StoredMessage, StreamStorage } from '../../core/streams/storage.js';
import { encodeRecord, sealRecord } from './record.js';
import { Segment, segmentFileName } from './segment.js';
import { FIRST_SEQ_FILE, loadSegments, type RecoveryReport } from './segment-load.js';
import { resolveSegmentLogOptions, type ResolvedOptions, type SegmentLogOptions } from './segment-log-options.js';
import { storageFailure } from './storage-errors.js';

export type { RecoveryReport } from './segment-load.js';
import { DEFAULT_READ_MAX_BYTES, DEFAULT_READ_MAX_MESSAGES } from '../defaults.js';

interface PendingAppend {
  records: Uint8Array[];
  times: number[];
  bytes: number;
  resolve: (range: { firstSeq: number; lastSeq: number }) => void;
  reject: (err: CrossbusError) => void;
}

export class SegmentLog implements StreamStorage {
  /** The torn tail cut off when the log was opened, if there was one. */
  readonly recovered: RecoveryReport | undefined;
  private readonly segments: Segment[];
  private firstSeq: number;
  private lastSeq: number;
  private bytes = 0;
  private lastTime = 0;
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  /** Serializes everything that changes files: batches, retention, purge, interval syncs. */
  private lock: Promise<unknown> = Promise.resolve();
  /** The active segment may hold bytes past `size` from a failed write: cut them before writing. */
  private needsTruncate = false;
  /** Written but not yet fdatasync'ed (interval policy). */
  private dirty = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly o: ResolvedOptions,
    segments: Segment[],
    floor: number,
    recovered: RecoveryReport | undefined,
  ) {
    this.segments = segments;
    this.recovered = recovered;
    const last = segments[segments.length - 1] as Segment;
    this.lastSeq = last.lastSeq;
    this.firstSeq = Math.min(Math.max(floor, (segments[0] as Segment).baseSeq), this.lastSeq + 1);
    for (const s of segments) this.bytes += s.bytesFrom(Math.max(0, this.firstSeq - s.baseSeq));
    for (const s of segments) if (s.count > 0) this.lastTime = s.times[s.count - 1] as number;
  }

  /**
   * Opens (or creates) the log in `dir`, verifying every record. Throws StorageError
   * CB_ERR_STREAM_CORRUPT when data inside the log is bad (quarantine the stream), CB_ERR_STORAGE
   * when the directory cannot be used; a torn tail is cut and reported in `recovered`.
   */
  static async open(dir: string, options: SegmentLogOptions = {}): Promise<SegmentLog> {
    const o = resolveSegmentLogOptions(dir, options);
    const { segments, floor, recovered } = await loadSegments(dir, o.fs, o.logger);
    const log = new SegmentLog(dir, o, segments, floor, recovered);
    await log.enforceRetention();
    if (o.durability === 'interval') {
      log.timer = setInterval(() => void log.syncNow(), o.syncIntervalMs);
      log.timer.unref?.();
    }
    return log;
  }

  append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }> {
    if (this.closed) return Promise.reject(closedError());
    let records: Uint8Array[];
    const times: number[] = [];
    try {
      records = msgs.map((m) => {
        if (!Number.isSafeInteger(m.time) || m.time < 0) {
          throw createError('CB_ERR_INVALID_OPTION', `time must be milliseconds since the epoch, got ${m.time}`, {
            details: { option: 'time' },
          });
        }
        times.push(m.time);
        return encodeRecord(m);
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve({ firstSeq: this.lastSeq + 1, lastSeq: this.lastSeq });
    return new Promise((resolve, reject) => {
      this.queue.push({ records, times, bytes: records.reduce((n, r) => n + r.length, 0), resolve, reject });
      this.kick();
    });
  }

  async read(fromSeq: number, options: ReadOptions = {}): Promise<StoredMessage[]> {
    if (this.closed) throw closedError();
    const maxMessages = options.maxMessages ?? DEFAULT_READ_MAX_MESSAGES;
    const maxBytes = options.maxBytes ?? DEFAULT_READ_MAX_BYTES;
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1)
      throw createError('CB_ERR_INVALID_OPTION', 'maxMessages must be an integer >= 1', { details: { option: 'maxMessages' } });
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw createError('CB_ERR_INVALID_OPTION', 'maxBytes must be an integer >= 1', { details: { option: 'maxBytes' } });
    const out: StoredMessage[] = [];
    let seq = Math.max(Math.floor(fromSeq), 1);
    let bytesLeft = maxBytes;
    for (;;) {
      seq = Math.max(seq, this.firstSeq); // retention may have moved on during the last await
      if (seq > this.lastSeq || out.length >= maxMessages) break;
      const seg = this.segmentFor(seq);
      const idx = seq - seg.baseSeq;
      if (out.length > 0 && seg.recordBytes(idx) > bytesLeft) break;
      const to = Math.min(seg.count, idx + maxMessages - out.length, this.lastSeq - seg.baseSeq + 1);
      const got = await seg.read(idx, to, bytesLeft);
      for (let k = 0; k < got.length; k++) bytesLeft -= seg.recordBytes(idx + k);
      out.push(...got);
      seq += got.length;
      if (bytesLeft <= 0) break;
    }
    return out;
  }

  async seqAtTime(timeMs: number): Promise<number | undefined> {
    for (const s of this.segments) {
      const from = Math.max(0, this.firstSeq - s.baseSeq);
      if (from >= s.count || (s.times[s.count - 1] as number) < timeMs) continue;
      return s.baseSeq + s.indexAtTime(timeMs, from);
    }
    return undefined;
  }

  state(): StorageState {
    const messages = this.lastSeq - this.firstSeq + 1;
    const st: StorageState = {
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      messages,
      bytes: this.bytes,
      segments: this.segments.length,
    };
    if (messages > 0) {
      const s = this.segmentFor(this.firstSeq);
      st.firstTime = s.times[this.firstSeq - s.baseSeq] as number;
      st.lastTime = this.lastTime;
    }
    return st;
  }

  purge(options: { upToSeq?: number } = {}): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    return this.exclusive(async () => {
      const target = Math.min(options.upToSeq === undefined ? Infinity : Math.floor(options.upToSeq) + 1, this.lastSeq + 1);
      if (target <= this.firstSeq) return 0;
      // Retention is recomputed on open, a purge is not: its floor must be on disk before it counts.
      const path = join(this.dir, FIRST_SEQ_FILE);
      const floor = new TextEncoder().encode(`${target}\n`);
      try {
        await this.o.fs.writeFileAtomic(path, floor);
      } catch (err) {
        // A full disk is the very moment to purge. Dropping whole segments first frees space
        // (and a purge of everything starts a segment named by the new first seq, which records
        // the floor by itself); then the floor file is tried again.
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' && (err as NodeJS.ErrnoException).code !== 'EDQUOT')
          throw storageFailure('write', path, err);
        const dropped = await this.advanceTo(target);
        try {
          await this.o.fs.writeFileAtomic(path, floor);
        } catch (again) {
          if (this.firstSeq <= this.lastSeq) throw storageFailure('write', path, again);
          this.o.logger.warn(
            {
              dir: this.dir,
              err: String(again),
            },
            'stream storage: purged everything, but could not record the floor file (the new segment records it)',
          );
        }
        return dropped;
      }
      return this.advanceTo(target);
    });
  }

  enforceRetention(now: number = this.o.clock()): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return this.exclusive(() => this.retain(now));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    if (this.timer) clearInterval(this.timer);
    await this.exclusive(async () => {
      if (this.dirty)
        await this.active.file
          .datasync()
          .catch((err) => this.o.logger.error({ dir: this.dir, err: String(err) }, 'stream storage: final fsync failed'));
      for (const s of this.segments) await s.release();
    });
  }

  // --- writing ---------------------------------------------------------------------------

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  /** Starts the writer unless it runs; it takes everything queued, so callers in one tick share a batch. */
  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.exclusive(async () => {
      while (this.queue.length > 0) {
        const acks = await this.writeBatch(this.queue.splice(0));
        // Retention first, so a caller that sees its append resolve also sees the limits applied.
        if (acks.length > 0 && this.hasRetention()) {
          await this.retain(this.o.clock()).catch((err) =>
            this.o.logger.warn({ dir: this.dir, err: String(err) }, 'stream storage: retention failed'),
          );
        }
        for (const ack of acks) ack();
      }
    }).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Writes a batch as one write + one fdatasync per segment it touches; returns the acknowledgements. */
  private async writeBatch(batch: PendingAppend[]): Promise<Array<() => void>> {
    const acks: Array<() => void> = [];
    let i = 0;
    try {
      while (i < batch.length) {
        await this.repairTail();
        let seg = this.active;
        const first = batch[i] as PendingAppend;
        if (seg.size > 0 && seg.size + first.bytes > this.o.maxSegmentBytes) seg = await this.roll();
        let j = i + 1;
        let bytes = first.bytes;
        while (j < batch.length && seg.size + bytes + (batch[j] as PendingAppend).bytes <= this.o.maxSegmentBytes)
          bytes += (batch[j++] as PendingAppend).bytes;
        acks.push(...(await this.writeChunk(seg, batch.slice(i, j), bytes)));
        i = j;
      }
    } catch (err) {
      const e = storageFailure('append to', this.active.path, err);
      for (const p of batch.slice(i)) p.reject(e);
      await this.repairTail().catch(() => {}); // best effort now; retried before the next write
    }
    return acks;
  }

  private async writeChunk(seg: Segment, chunk: PendingAppend[], bytes: number): Promise<Array<() => void>> {
    const buf = new Uint8Array(bytes);
    const offsets: number[] = [];
    const times: number[] = [];
    let seq = this.lastSeq;
    let time = this.lastTime;
    let p = 0;
    for (const pending of chunk) {
      pending.records.forEach((rec, k) => {
        // Times never go backwards, so time lookups can binary search even if the clock steps back.
        time = Math.max(time, pending.times[k] as number);
        sealRecord(rec, ++seq, time);
        buf.set(rec, p);
        offsets.push(seg.size + p);
        times.push(time);
        p += rec.length;
      });
    }
    this.needsTruncate = true; // until proven written
    for (let done = 0; done < buf.length; ) done += await seg.file.write(buf, done, buf.length - done, seg.size + done);
    if (this.o.durability === 'fsync') await seg.file.datasync();
    else this.dirty = true;
    this.needsTruncate = false;
    seg.offsets.push(...offsets);
    seg.times.push(...times);
    seg.size += bytes;
    this.bytes += bytes;
    this.lastTime = time;
    let next = this.lastSeq + 1;
    this.lastSeq = seq;
    return chunk.map((pending) => {
      const range = { firstSeq: next, lastSeq: next + pending.records.length - 1 };
      next += pending.records.length;
      return () => pending.resolve(range);
    });
  }

  /** Cuts bytes a failed write may have left past the last good record (and makes that durable). */
  private async repairTail(): Promise<void> {
    if (!this.needsTruncate) return;
    await this.active.file.truncate(this.active.size);
    await this.active.file.datasync();
    this.needsTruncate = false;
  }

  /** Starts a new segment at lastSeq + 1. Older segments are always fully synced. */
  private async roll(): Promise<Segment> {
    const old = this.active;
    if (this.dirty) {
      await old.file.datasync();
      this.dirty = false;
    }
    const base = this.lastSeq + 1;
    const path = join(this.dir, segmentFileName(base));
    const file = await this.o.fs.open(path, true);
    try {
      await this.o.fs.syncDir(this.dir);
    } catch (err) {
      await file.close().catch(() => {});
      await this.o.fs.unlink(path).catch(() => {});
      throw err;
    }
    const seg = new Segment(this.dir, base, file);
    this.segments.push(seg);
    return seg;
  }

  private async syncNow(): Promise<void> {
    if (!this.dirty || this.closed) return;
    await this.exclusive(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.active.file.datasync();
      } catch (err) {
        this.dirty = true;
        this.o.logger.error(
          {
            dir: this.dir,
            err: String(err),
          },
          'stream storage: interval fsync failed; acknowledged messages may be lost on power loss',
        );
      }
    });
  }

  // --- retention -------------------------------------------------------------------------

  private hasRetention(): boolean {
    const r = this.o.retention;
    return r.maxAgeMs !== undefined || r.maxBytes !== undefined || r.maxMessages !== undefined;
  }

  private async retain(now: number): Promise<number> {
    const r = this.o.retention;
    let target = this.firstSeq;
    if (r.maxMessages !== undefined && this.lastSeq - target + 1 > r.maxMessages) target = this.lastSeq - r.maxMessages + 1;
    if (r.maxBytes !== undefined) {
      let b = this.bytesFrom(target);
      while (b > r.maxBytes && target <= this.lastSeq) {
        const s = this.segmentFor(target);
        b -= s.recordBytes(target - s.baseSeq);
        target++;
      }
    }
    if (r.maxAgeMs !== undefined) {
      // Kept while now - time <= maxAgeMs, i.e. time >= now - maxAgeMs.
      const keep = await this.seqAtTime(now - r.maxAgeMs);
      target = Math.max(target, keep ?? this.lastSeq + 1);
    }
    return this.advanceTo(target);
  }

  /** Moves the logical start to `target` and deletes segments entirely below it. */
  private async advanceTo(target: number): Promise<number> {
    if (target <= this.firstSeq) return 0;
    const dropped = target - this.firstSeq;
    this.bytes = this.bytesFrom(target);
    this.firstSeq = target;
    // An emptied log starts a fresh segment so the old one can go; its name keeps firstSeq on disk.
    if (this.firstSeq > this.lastSeq && this.active.count > 0) {
      try {
        await this.repairTail();
        await this.roll();
      } catch (err) {
        // Harmless: the old segment stays until the next roll; the purge floor or retention covers it on open.
        this.o.logger.warn({ dir: this.dir, err: String(err) }, 'stream storage: could not start a fresh segment');
      }
    }
    let deleted = false;
    while (this.segments.length > 1 && (this.segments[0] as Segment).lastSeq < this.firstSeq) {
      const s = this.segments[0] as Segment;
      try {
        await this.o.fs.unlink(s.path);
      } catch (err) {
        this.o.logger.warn({ file: s.path, err: String(err) }, 'stream storage: could not delete an expired segment');
        break;
      }
      this.segments.shift();
      deleted = true;
      await s.release();
    }
    if (deleted) await this.o.fs.syncDir(this.dir).catch(() => {});
    return dropped;
  }

  private bytesFrom(seq: number): number {
    let b = 0;
    for (const s of this.segments) b += s.bytesFrom(Math.max(0, seq - s.baseSeq));
    return b;
  }

  /** The segment holding `seq` (firstSeq <= seq <= lastSeq). */
  private segmentFor(seq: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.segments[mid] as Segment).baseSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo] as Segment;
  }
}

function closedError(): CrossbusError {
  return createError('CB_ERR_STREAM_CLOSED', 'stream storage is closed');
}
