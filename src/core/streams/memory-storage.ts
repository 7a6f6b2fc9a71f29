/**
 * StreamStorage in memory: the same contract as the segment log without a disk. Used by hubs
 * that have no data directory (tests, an in-page hub) and as the model in storage tests.
 *
 * Messages sit in one array in sequence order. A message deleted from the middle stays in place,
 * marked, until half of the array is such holes (then the array is rebuilt), so a delete costs a
 * binary search; the first and last entries are always stored messages.
 */
import { createError } from '../errors/index.js';
import type { AppendInput, ReadOptions, RetentionLimits, StorageState, StoredMessage, StreamStorage } from './storage.js';
import { TopicIndex, checkKeep, checkTopic, headsOf, newestSeq, oldestSeq, topicCount } from './topic-index.js';

interface Held extends StoredMessage {
  /** What retention by bytes counts for it. */
  size: number;
  /** Deleted from the middle; still in the array as a hole. */
  gone: boolean;
}

/** Holes are compacted away once there are this many and they are half of the array. */
const COMPACT_HOLES_AT = 32;

/** Approximate stored size of one message: what retention by bytes counts. */
function sizeOf(m: AppendInput): number {
  let n = 48 + m.topic.length + m.payload.length + (m.msgId?.length ?? 0);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + v.length + 4;
  return n;
}

function stored(h: Held): StoredMessage {
  const { size: _size, gone: _gone, ...m } = h;
  return m;
}

export class MemoryStorage implements StreamStorage {
  #msgs: Held[] = [];
  #holes = 0;
  #lastSeq = 0;
  #lastTime = 0;
  #bytes = 0;
  #closed = false;
  #retention: RetentionLimits;
  readonly #clock: () => number;
  /** Kept once `maxMessagesPerTopic` is set or a per-topic operation was asked for. */
  #topics: TopicIndex | undefined;

  constructor(retention: RetentionLimits = {}, clock: () => number = Date.now) {
    this.#retention = retention;
    this.#clock = clock;
    if (retention.maxMessagesPerTopic !== undefined) this.#topics = new TopicIndex();
  }

  /** Opened again (a stream's config changed): the same messages under the new limits. */
  reopen(retention: RetentionLimits): void {
    this.#retention = retention;
    this.#closed = false;
    const limit = retention.maxMessagesPerTopic;
    if (limit === undefined) return;
    const topics = this.#index();
    for (const m of [...this.#msgs]) {
      const e = topics.get(m.topic);
      if (!m.gone && e !== undefined && topicCount(e) > limit && oldestSeq(e) === m.seq) this.#delete(m.seq);
    }
  }

  async append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }> {
    this.#check();
    const first = this.#lastSeq + 1;
    const limit = this.#retention.maxMessagesPerTopic;
    for (const m of msgs) {
      this.#lastTime = Math.max(this.#lastTime, m.time);
      const size = sizeOf(m);
      const seq = ++this.#lastSeq;
      this.#msgs.push({ ...m, seq, time: this.#lastTime, payload: m.payload.slice(), size, gone: false });
      this.#bytes += size;
      if (this.#topics === undefined) continue;
      const e = this.#topics.add(m.topic, seq);
      if (limit !== undefined) while (topicCount(e) > limit && this.#delete(oldestSeq(e)));
    }
    await this.enforceRetention();
    return { firstSeq: first, lastSeq: this.#lastSeq };
  }

  async read(fromSeq: number, options: ReadOptions = {}): Promise<StoredMessage[]> {
    this.#check();
    const max = options.maxMessages ?? 1000;
    let budget = options.maxBytes ?? Infinity;
    const out: StoredMessage[] = [];
    for (let i = this.#atOrAfter(Math.floor(fromSeq)); i < this.#msgs.length && out.length < max; i++) {
      const m = this.#msgs[i] as Held;
      if (m.gone) continue;
      if (out.length > 0 && m.size > budget) break;
      budget -= m.size;
      out.push(stored(m));
    }
    return out;
  }

  async seqAtTime(timeMs: number): Promise<number | undefined> {
    // Times never go backwards, holes included: binary search, then step over holes.
    const msgs = this.#msgs;
    let lo = 0;
    let hi = msgs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((msgs[mid] as Held).time < timeMs) lo = mid + 1;
      else hi = mid;
    }
    while (lo < msgs.length && (msgs[lo] as Held).gone) lo++;
    return msgs[lo]?.seq;
  }

  state(): StorageState {
    const msgs = this.#msgs;
    const first = msgs[0];
    const st: StorageState = {
      firstSeq: first?.seq ?? this.#lastSeq + 1,
      lastSeq: this.#lastSeq,
      messages: msgs.length - this.#holes,
      bytes: this.#bytes,
      segments: 1,
    };
    if (first !== undefined) {
      st.firstTime = first.time;
      st.lastTime = (msgs[msgs.length - 1] as Held).time;
    }
    return st;
  }

  async purge(options: { upToSeq?: number } = {}): Promise<number> {
    this.#check();
    const upTo = options.upToSeq ?? Infinity;
    let n = 0;
    for (const m of this.#msgs) {
      if (m.seq > upTo) break;
      if (!m.gone) n++;
    }
    return this.#dropOldest(n);
  }

  async deleteMessage(seq: number): Promise<boolean> {
    this.#check();
    return Number.isSafeInteger(seq) && this.#delete(seq);
  }

  async purgeTopic(topic: string, options: { keep?: number } = {}): Promise<number> {
    this.#check();
    checkTopic(topic);
    const keep = checkKeep(options);
    let n = 0;
    for (const seq of this.#index().olderThanNewest(topic, keep)) if (this.#delete(seq)) n++;
    return n;
  }

  async lastForTopic(topic: string): Promise<StoredMessage | undefined> {
    this.#check();
    checkTopic(topic);
    const seq = newestSeq(this.#index().get(topic));
    if (seq === undefined) return undefined;
    return stored(this.#msgs[this.#atOrAfter(seq)] as Held);
  }

  async topicSeqs(topic: string): Promise<number[]> {
    this.#check();
    checkTopic(topic);
    return this.#index().olderThanNewest(topic, 0);
  }

  async topicHeads(): Promise<Map<string, number>> {
    this.#check();
    return headsOf(this.#index());
  }

  async enforceRetention(now = this.#clock()): Promise<number> {
    const r = this.#retention;
    if (r.maxAgeMs === undefined && r.maxBytes === undefined && r.maxMessages === undefined) return 0;
    let live = this.#msgs.length - this.#holes;
    let bytes = this.#bytes;
    let n = 0;
    for (const m of this.#msgs) {
      if (m.gone) continue;
      const tooMany = r.maxMessages !== undefined && live > r.maxMessages;
      const tooBig = r.maxBytes !== undefined && bytes > r.maxBytes;
      const tooOld = r.maxAgeMs !== undefined && now - m.time > r.maxAgeMs;
      if (!tooMany && !tooBig && !tooOld) break;
      n++;
      live--;
      bytes -= m.size;
    }
    return this.#dropOldest(n);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** The topic index, built from the stored messages the first time it is needed. */
  #index(): TopicIndex {
    if (this.#topics === undefined) {
      this.#topics = new TopicIndex();
      for (const m of this.#msgs) if (!m.gone) this.#topics.add(m.topic, m.seq);
    }
    return this.#topics;
  }

  /** Index of the first entry with seq >= `seq`. */
  #atOrAfter(seq: number): number {
    const msgs = this.#msgs;
    let lo = 0;
    let hi = msgs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((msgs[mid] as Held).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Deletes one stored message from anywhere; false when it is not stored. */
  #delete(seq: number): boolean {
    const i = this.#atOrAfter(seq);
    const m = this.#msgs[i];
    if (m === undefined || m.seq !== seq || m.gone) return false;
    m.gone = true;
    this.#holes++;
    this.#bytes -= m.size;
    const e = this.#topics?.get(m.topic);
    if (e !== undefined) this.#topics?.remove(e, seq);
    this.#trim();
    return true;
  }

  /** Drops the `n` oldest stored messages (and the holes among them). */
  #dropOldest(n: number): number {
    if (n <= 0) return 0;
    const msgs = this.#msgs;
    let i = 0;
    for (let left = n; left > 0; i++) {
      const m = msgs[i] as Held;
      if (m.gone) {
        this.#holes--;
        continue;
      }
      left--;
      this.#bytes -= m.size;
      const e = this.#topics?.get(m.topic);
      if (e !== undefined) this.#topics?.remove(e, m.seq);
    }
    msgs.splice(0, i);
    this.#trim();
    return n;
  }

  /** Keeps the array's first and last entries stored messages, and its holes under half. */
  #trim(): void {
    const msgs = this.#msgs;
    let front = 0;
    while (front < msgs.length && (msgs[front] as Held).gone) front++;
    if (front > 0) {
      msgs.splice(0, front);
      this.#holes -= front;
    }
    while (msgs.length > 0 && (msgs[msgs.length - 1] as Held).gone) {
      msgs.pop();
      this.#holes--;
    }
    if (this.#holes >= COMPACT_HOLES_AT && this.#holes * 2 >= msgs.length) {
      this.#msgs = msgs.filter((m) => !m.gone);
      this.#holes = 0;
    }
  }

  #check(): void {
    if (this.#closed) throw createError('CB_ERR_STREAM_CLOSED', 'stream storage is closed');
  }
}
