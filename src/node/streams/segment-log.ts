/**
 * The embedded stream log: an append-only, segmented, checksummed log in one directory per
 * stream. Segment files are named by the first sequence they cover; every record carries its
 * sequence, time and a CRC-32 (record.ts). The index (offset and time per record, which records
 * are deleted, and the per-topic index when kept) lives in memory (log-index.ts), rebuilt by
 * scanning on open.
 *
 * Appends go through the writer (log-writer.ts: group commit). Deletes from the middle are
 * tombstones next to their segment (tombstones.ts, log-deletes.ts); segment-compaction.ts gives
 * their space back. Everything that changes files runs under one lock, in order.
 */
import { createError, type CrossbusError } from '../../core/errors/index.js';
import type { AppendInput, ReadOptions, StorageState, StoredMessage, StreamStorage } from '../../core/streams/storage.js';
import { type TopicIndex, checkKeep, checkTopic, headsOf, newestSeq, topicCount } from '../../core/streams/topic-index.js';
import { DEFAULT_READ_MAX_BYTES, DEFAULT_READ_MAX_MESSAGES } from '../defaults.js';
import { deleteRecords, syncTombstones } from './log-deletes.js';
import { type HeadHost, purgeHead, retainHead } from './log-head.js';
import { LogIndex, type Place } from './log-index.js';
import { buildTopicIndex, limitVictims } from './log-topics.js';
import { LogWriter, type WriterHost } from './log-writer.js';
import { encodeRecord } from './record.js';
import type { Segment } from './segment.js';
import { tidySegments } from './segment-compaction.js';
import { type Loaded, loadSegments, type RecoveryReport } from './segment-load.js';
import { resolveSegmentLogOptions, type ResolvedOptions, type SegmentLogOptions } from './segment-log-options.js';

export type { RecoveryReport } from './segment-load.js';

export class SegmentLog implements StreamStorage {
  /** The torn tail cut off when the log was opened, if there was one. */
  readonly recovered: RecoveryReport | undefined;
  readonly #o: ResolvedOptions;
  /** Retention by age, bytes or count is set: it applies after every batch. */
  readonly #hasRetention: boolean;
  readonly #index: LogIndex;
  readonly #writer: LogWriter;
  readonly #host: WriterHost & HeadHost;
  /** Serializes everything that changes files: batches, retention, deletes, compaction, interval syncs. */
  #lock: Promise<unknown> = Promise.resolve();
  /** Segments deletes touched since they were last tidied (compaction). */
  readonly #touched = new Set<Segment>();
  #topicsBuilt: Promise<TopicIndex> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  private constructor(
    readonly dir: string,
    o: ResolvedOptions,
    loaded: Loaded,
  ) {
    this.#o = o;
    const r = o.retention;
    this.#hasRetention = r.maxAgeMs !== undefined || r.maxBytes !== undefined || r.maxMessages !== undefined;
    this.recovered = loaded.recovered;
    this.#index = new LogIndex(loaded.segments, loaded.floor);
    if (loaded.topics !== undefined) this.#index.indexTopics(loaded.topics);
    const index = this.#index;
    this.#host = {
      dir,
      o,
      index,
      fs: o.fs,
      logger: o.logger,
      minCompactBytes: o.minCompactBytes,
      exclusive: (fn) => this.#exclusive(fn),
      afterBatch: () => (this.#writer.overfull.length > 0 || this.#hasRetention ? this.#afterBatch() : undefined),
      afterAcks: () => (this.#touched.size > 0 ? this.#tidy() : undefined),
      roll: () => this.#writer.roll(),
    };
    this.#writer = new LogWriter(this.#host);
  }

  /**
   * Opens (or creates) the log in `dir`, verifying every record. Throws StorageError
   * CB_ERR_STREAM_CORRUPT when data inside the log is bad (quarantine the stream), CB_ERR_STORAGE
   * when the directory cannot be used; a torn tail is cut and reported in `recovered`. The
   * per-topic limit, when set, is applied to what the log holds.
   */
  static async open(dir: string, options: SegmentLogOptions = {}): Promise<SegmentLog> {
    const o = resolveSegmentLogOptions(dir, options);
    const limit = o.retention.maxMessagesPerTopic;
    const log = new SegmentLog(dir, o, await loadSegments(dir, o.fs, o.logger, limit !== undefined));
    if (limit !== undefined) {
      for (const e of log.#index.topics?.entries() ?? []) if (topicCount(e) > limit) log.#writer.overfull.push(e);
      await log.#exclusive(() => log.#applyTopicLimit());
    }
    await log.enforceRetention();
    // Segments a crash left with deleted records wait for no further delete to be compacted.
    for (const s of log.#index.segments) if (s.deadBytes > 0) log.#touched.add(s);
    await log.#exclusive(() => log.#tidy());
    if (o.durability === 'interval') {
      log.#timer = setInterval(() => void log.#syncNow(), o.syncIntervalMs);
      log.#timer.unref?.();
    }
    return log;
  }

  append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }> {
    if (this.#closed) return Promise.reject(closedError());
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
    const last = this.#index.lastSeq;
    if (records.length === 0) return Promise.resolve({ firstSeq: last + 1, lastSeq: last });
    return new Promise((resolve, reject) => {
      this.#writer.enqueue({ records, times, bytes: records.reduce((n, r) => n + r.length, 0), resolve, reject });
    });
  }

  async read(fromSeq: number, options: ReadOptions = {}): Promise<StoredMessage[]> {
    if (this.#closed) throw closedError();
    const maxMessages = options.maxMessages ?? DEFAULT_READ_MAX_MESSAGES;
    const maxBytes = options.maxBytes ?? DEFAULT_READ_MAX_BYTES;
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1)
      throw createError('CB_ERR_INVALID_OPTION', 'maxMessages must be an integer >= 1', { details: { option: 'maxMessages' } });
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw createError('CB_ERR_INVALID_OPTION', 'maxBytes must be an integer >= 1', { details: { option: 'maxBytes' } });
    const out: StoredMessage[] = [];
    let seq = Math.max(Math.floor(fromSeq), 1);
    let bytesLeft = maxBytes;
    while (out.length < maxMessages && bytesLeft > 0) {
      // Looked up again after every await: retention, deletes or compaction may have moved on.
      const at = this.#index.nextLive(seq);
      if (at === undefined) break;
      const seg = this.#index.segments[at.s] as Segment;
      // One read for a run of stored records; a deleted one ends the run (it is not read).
      let end = at.i;
      let bytes = 0;
      while (end < seg.count && out.length + end - at.i < maxMessages && !seg.isDead(seg.seqAt(end))) {
        const b = seg.recordBytes(end);
        if ((out.length > 0 || end > at.i) && bytes + b > bytesLeft) break;
        bytes += b;
        end++;
      }
      if (end === at.i) break;
      const got = await seg.read(at.i, end);
      for (const m of got) out.push(m);
      bytesLeft -= bytes;
      seq = (got[got.length - 1] as StoredMessage).seq + 1;
    }
    return out;
  }

  async seqAtTime(timeMs: number): Promise<number | undefined> {
    return this.#index.seqAtTime(timeMs);
  }

  state(): StorageState {
    const index = this.#index;
    const st: StorageState = {
      firstSeq: index.firstSeq,
      lastSeq: index.lastSeq,
      messages: index.messages,
      bytes: index.bytes,
      segments: index.segments.length,
    };
    if (index.messages > 0) {
      st.firstTime = index.timeAt(index.locate(index.firstSeq) as Place);
      st.lastTime = index.lastStoredTime();
    }
    return st;
  }

  purge(options: { upToSeq?: number } = {}): Promise<number> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#exclusive(() => purgeHead(this.#host, options.upToSeq));
  }

  deleteMessage(seq: number): Promise<boolean> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#deleteDurably(async () => (Number.isSafeInteger(seq) ? [seq] : [])).then((n) => n > 0);
  }

  purgeTopic(topic: string, options: { keep?: number } = {}): Promise<number> {
    if (this.#closed) return Promise.reject(closedError());
    let keep: number;
    try {
      checkTopic(topic);
      keep = checkKeep(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#deleteDurably(async () => (await buildTopicIndex(this.#index)).olderThanNewest(topic, keep));
  }

  async topicHeads(): Promise<Map<string, number>> {
    if (this.#closed) throw closedError();
    return headsOf(await this.#topics());
  }

  async topicSeqs(topic: string): Promise<number[]> {
    if (this.#closed) throw closedError();
    checkTopic(topic);
    return (await this.#topics()).olderThanNewest(topic, 0);
  }

  /** The topic index, built by one pass over the log the first time a stream that kept none asks. */
  async #topics(): Promise<TopicIndex> {
    const kept = this.#index.topics;
    if (kept !== undefined) return kept;
    this.#topicsBuilt ??= this.#exclusive(() => buildTopicIndex(this.#index)).catch((err: unknown) => {
      this.#topicsBuilt = undefined;
      throw err;
    });
    return this.#topicsBuilt;
  }

  async lastForTopic(topic: string): Promise<StoredMessage | undefined> {
    if (this.#closed) throw closedError();
    checkTopic(topic);
    const topics = await this.#topics();
    for (;;) {
      const seq = newestSeq(topics.get(topic));
      if (seq === undefined) return undefined;
      const [m] = await this.read(seq, { maxMessages: 1 });
      if (m?.seq === seq) return m;
      // Deleted while it was read: the index has moved on, look again.
    }
  }

  enforceRetention(now: number = this.#o.clock()): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    return this.#exclusive(() => retainHead(this.#host, now));
  }

  /** Removes and rewrites the segments deletes have emptied or half emptied, now (they otherwise are soon after). */
  compact(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#exclusive(() => {
      for (const s of this.#index.segments) this.#touched.add(s);
      return this.#tidy();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#writer.flushing) await this.#writer.flushing;
    if (this.#timer) clearInterval(this.#timer);
    await this.#exclusive(async () => {
      const fail = (err: unknown) => this.#o.logger.error({ dir: this.dir, err: String(err) }, 'stream storage: final fsync failed');
      if (this.#writer.dirty) await this.#index.active.file.datasync().catch(fail);
      await syncTombstones(this.#index).catch(fail);
      for (const s of this.#index.segments) await s.release();
    });
  }

  // --- under the lock ------------------------------------------------------------------------

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Deletes the seqs `pick` chooses (under the lock), durably; then tidies what they emptied. */
  #deleteDurably(pick: () => Promise<number[]>): Promise<number> {
    const run = this.#exclusive(async () => {
      const { deleted, touched } = await deleteRecords(this.#host, await pick(), 'durable');
      for (const s of touched) this.#touched.add(s);
      return deleted;
    });
    void run.then(() => (this.#closed ? undefined : this.#exclusive(() => this.#tidy()))).catch(() => {});
    return run;
  }

  /** The limits, after a batch was written and before its appends resolve. */
  async #afterBatch(): Promise<void> {
    try {
      await this.#applyTopicLimit();
      if (this.#hasRetention) await retainHead(this.#host, this.#o.clock());
    } catch (err) {
      this.#o.logger.warn({ dir: this.dir, err: String(err) }, 'stream storage: retention failed');
    }
  }

  /** Deletes the oldest messages of the topics the last appends took past the per-topic limit. */
  async #applyTopicLimit(): Promise<void> {
    const limit = this.#o.retention.maxMessagesPerTopic;
    const over = this.#writer.overfull;
    if (limit === undefined || over.length === 0) return;
    const victims = limitVictims(over.splice(0), limit);
    const { touched } = await deleteRecords(this.#host, victims, 'limit');
    for (const s of touched) this.#touched.add(s);
  }

  /** Removes or compacts the segments deletes touched (failures are logged: it is tried again later). */
  async #tidy(): Promise<void> {
    if (this.#touched.size === 0 || this.#closed) return;
    const segs = [...this.#touched];
    this.#touched.clear();
    await tidySegments(this.#host, segs).catch((err) =>
      this.#o.logger.warn({ dir: this.dir, err: String(err) }, 'stream storage: compaction failed'),
    );
  }

  async #syncNow(): Promise<void> {
    if (this.#closed || (!this.#writer.dirty && !this.#index.segments.some((s) => s.tombstones?.dirty))) return;
    await this.#exclusive(async () => {
      if (this.#writer.dirty) {
        this.#writer.dirty = false;
        try {
          await this.#index.active.file.datasync();
        } catch (err) {
          this.#writer.dirty = true;
          this.#o.logger.error(
            { dir: this.dir, err: String(err) },
            'stream storage: interval fsync failed; acknowledged messages may be lost on power loss',
          );
        }
      }
      await syncTombstones(this.#index).catch((err) =>
        this.#o.logger.error({ dir: this.dir, err: String(err) }, 'stream storage: interval fsync of deletes failed'),
      );
    });
  }
}

function closedError(): CrossbusError {
  return createError('CB_ERR_STREAM_CLOSED', 'stream storage is closed');
}
