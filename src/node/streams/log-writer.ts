/**
 * The append path of a segment log. Writes are serialized through the log's lock: appends that
 * arrive while a write or fsync is running wait and then go out together in one write(2) and one
 * fdatasync (group commit), so many publishers pay for one fsync. A failed write or fsync rejects
 * exactly the appends it carried (CB_ERR_STORAGE), never uses their sequence numbers, and cuts
 * the file back to the last good record before anything else is written, so a later record
 * never follows garbage.
 */
import { join } from 'node:path';
import type { CrossbusError } from '../../core/errors/index.js';
import { topicCount, type TopicEntry } from '../../core/streams/topic-index.js';
import type { LogIndex } from './log-index.js';
import { recordTopic, sealRecord } from './record.js';
import { Segment, segmentFileName } from './segment.js';
import type { ResolvedOptions } from './segment-log-options.js';
import { storageFailure } from './storage-errors.js';

export interface PendingAppend {
  records: Uint8Array[];
  times: number[];
  bytes: number;
  resolve: (range: { firstSeq: number; lastSeq: number }) => void;
  reject: (err: CrossbusError) => void;
}

export interface WriterHost {
  readonly dir: string;
  readonly o: ResolvedOptions;
  readonly index: LogIndex;
  /** Runs `fn` once nothing else is changing the files. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** A batch was written: the limits apply before its appends resolve (undefined: none to apply). */
  afterBatch(): Promise<void> | undefined;
  /** A batch's appends resolved; still under the lock (compaction runs here; undefined: none to run). */
  afterAcks(): Promise<void> | undefined;
}

export class LogWriter {
  /** Topics an append took past the per-topic limit (only filled when the limit is set). */
  readonly overfull: TopicEntry[] = [];
  /** Written but not yet fdatasync'ed (interval policy). */
  dirty = false;
  #queue: PendingAppend[] = [];
  #flushing: Promise<void> | undefined;
  /** The active segment may hold bytes past `size` from a failed write: cut them before writing. */
  #needsTruncate = false;

  constructor(private readonly host: WriterHost) {}

  /** The batch being written, if one is. */
  get flushing(): Promise<void> | undefined {
    return this.#flushing;
  }

  enqueue(pending: PendingAppend): void {
    this.#queue.push(pending);
    this.#kick();
  }

  /** Starts the writer unless it runs; it takes everything queued, so callers in one tick share a batch. */
  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = this.host
      .exclusive(async () => {
        while (this.#queue.length > 0) {
          const acks = await this.#writeBatch(this.#queue.splice(0));
          // Limits first, so a caller that sees its append resolve also sees them applied.
          const limits = acks.length > 0 ? this.host.afterBatch() : undefined;
          if (limits !== undefined) await limits;
          for (const ack of acks) ack();
          const tidy = this.host.afterAcks();
          if (tidy !== undefined) await tidy;
        }
      })
      .finally(() => {
        this.#flushing = undefined;
        if (this.#queue.length > 0) this.#kick();
      });
  }

  /** Writes a batch as one write + one fdatasync per segment it touches; returns the acknowledgements. */
  async #writeBatch(batch: PendingAppend[]): Promise<Array<() => void>> {
    const { o, index } = this.host;
    const acks: Array<() => void> = [];
    let i = 0;
    try {
      while (i < batch.length) {
        await this.repairTail();
        let seg = index.active;
        const first = batch[i] as PendingAppend;
        if (seg.size > 0 && seg.size + first.bytes > o.maxSegmentBytes) seg = await this.roll();
        let j = i + 1;
        let bytes = first.bytes;
        while (j < batch.length && seg.size + bytes + (batch[j] as PendingAppend).bytes <= o.maxSegmentBytes)
          bytes += (batch[j++] as PendingAppend).bytes;
        acks.push(...(await this.#writeChunk(seg, batch.slice(i, j), bytes)));
        i = j;
      }
    } catch (err) {
      const e = storageFailure('append to', index.active.path, err);
      for (const p of batch.slice(i)) p.reject(e);
      await this.repairTail().catch(() => {}); // best effort now; retried before the next write
    }
    return acks;
  }

  async #writeChunk(seg: Segment, chunk: PendingAppend[], bytes: number): Promise<Array<() => void>> {
    const { o, index } = this.host;
    const buf = new Uint8Array(bytes);
    const offsets: number[] = [];
    const times: number[] = [];
    let seq = index.lastSeq;
    let time = index.lastTime;
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
    this.#needsTruncate = true; // until proven written
    for (let done = 0; done < buf.length; ) done += await seg.file.write(buf, done, buf.length - done, seg.size + done);
    if (o.durability === 'fsync') await seg.file.datasync();
    else this.dirty = true;
    this.#needsTruncate = false;
    seg.offsets.push(...offsets);
    seg.times.push(...times);
    seg.size += bytes;
    index.appended(offsets.length, bytes);
    index.lastTime = time;
    let next = index.lastSeq + 1;
    if (index.topics !== undefined) this.#indexTopics(seg, buf, offsets, next);
    index.lastSeq = seq;
    return chunk.map((pending) => {
      const range = { firstSeq: next, lastSeq: next + pending.records.length - 1 };
      next += pending.records.length;
      return () => pending.resolve(range);
    });
  }

  /** Adds written records to the topic index; notes the topics now past the per-topic limit. */
  #indexTopics(seg: Segment, buf: Uint8Array, offsets: number[], firstSeq: number): void {
    const topics = this.host.index.topics;
    const limit = this.host.o.retention.maxMessagesPerTopic;
    if (topics === undefined) return;
    seg.topics ??= [];
    const base = offsets[0] as number;
    for (let k = 0; k < offsets.length; k++) {
      const e = topics.add(recordTopic(buf, (offsets[k] as number) - base), firstSeq + k);
      seg.topics.push(e);
      if (limit !== undefined && topicCount(e) > limit) this.overfull.push(e);
    }
  }

  /** Cuts bytes a failed write may have left past the last good record (and makes that durable). */
  async repairTail(): Promise<void> {
    if (!this.#needsTruncate) return;
    const active = this.host.index.active;
    await active.file.truncate(active.size);
    await active.file.datasync();
    this.#needsTruncate = false;
  }

  /** Starts a new segment at lastSeq + 1. Older segments are always fully synced and end at a whole record. */
  async roll(): Promise<Segment> {
    const { o, index, dir } = this.host;
    await this.repairTail();
    const old = index.active;
    if (this.dirty) {
      await old.file.datasync();
      this.dirty = false;
    }
    const base = index.lastSeq + 1;
    const path = join(dir, segmentFileName(base));
    const file = await o.fs.open(path, true);
    try {
      await o.fs.syncDir(dir);
    } catch (err) {
      await file.close().catch(() => {});
      await o.fs.unlink(path).catch(() => {});
      throw err;
    }
    const seg = new Segment(dir, base, file);
    if (index.topics !== undefined) seg.topics = [];
    index.segments.push(seg);
    return seg;
  }
}
