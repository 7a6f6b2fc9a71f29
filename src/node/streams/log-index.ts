/**
 * What a segment log holds, in memory: its segments in order, the first stored sequence, the
 * counts and bytes of the stored messages (deleted ones and those below the purge floor left
 * out), and, when kept, the per-topic index. Only bookkeeping: the files are segment-log.ts's.
 */
import { TopicIndex, type TopicEntry } from '../../core/streams/topic-index.js';
import type { Segment } from './segment.js';

/** A stored record: segment `s` of the log, index `i` in it. */
export interface Place {
  s: number;
  i: number;
}

/** Stands in the topic column for records that were not stored when the index was built. */
const NO_TOPIC: TopicEntry = Object.freeze({ topic: '', seqs: [], head: 0 }) as TopicEntry;

export class LogIndex {
  /** The first sequence still stored; lastSeq + 1 when nothing is. */
  firstSeq: number;
  /** The last sequence assigned. */
  lastSeq: number;
  /** The time of the last record written: appends never go below it. */
  lastTime = 0;
  messages = 0;
  bytes = 0;
  /** Kept once the per-topic limit is set or a per-topic operation was asked for. */
  topics: TopicIndex | undefined;

  constructor(
    readonly segments: Segment[],
    floor: number,
  ) {
    const last = segments[segments.length - 1] as Segment;
    this.lastSeq = last.lastSeq;
    for (const s of segments) if (s.count > 0) this.lastTime = s.times[s.count - 1] as number;
    const from = Math.min(Math.max(floor, (segments[0] as Segment).baseSeq), this.lastSeq + 1);
    for (const s of segments) {
      s.live = 0;
      s.liveBytes = 0;
      for (let i = s.atOrAfter(from); i < s.count; i++) {
        if (s.isDead(s.seqAt(i))) continue;
        s.live++;
        s.liveBytes += s.recordBytes(i);
      }
      this.messages += s.live;
      this.bytes += s.liveBytes;
    }
    this.firstSeq = from;
    this.firstSeq = this.#seqOf(this.nextLive(from));
  }

  get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  /** The position of the last segment whose base is <= seq (0 when seq is below every base). */
  segmentIndexFor(seq: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((segs[mid] as Segment).baseSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Where record `seq` is, stored or deleted but still in its file; undefined when it is in none. */
  locate(seq: number): Place | undefined {
    const s = this.segmentIndexFor(seq);
    const i = (this.segments[s] as Segment).indexOf(seq);
    return i < 0 ? undefined : { s, i };
  }

  /** Is `seq` stored (not deleted, not below the first sequence)? */
  isStored(seq: number): boolean {
    if (seq < this.firstSeq || seq > this.lastSeq) return false;
    const at = this.locate(seq);
    return at !== undefined && !(this.segments[at.s] as Segment).isDead(seq);
  }

  /** The first stored record with a sequence >= `seq`, or undefined. */
  nextLive(seq: number): Place | undefined {
    const from = Math.max(seq, this.firstSeq);
    const segs = this.segments;
    for (let s = this.segmentIndexFor(from); s < segs.length; s++) {
      const seg = segs[s] as Segment;
      if (seg.live === 0) continue;
      for (let i = seg.atOrAfter(from); i < seg.count; i++) if (!seg.isDead(seg.seqAt(i))) return { s, i };
    }
    return undefined;
  }

  /** The time of the newest stored record (the log holds at least one). */
  lastStoredTime(): number {
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s] as Segment;
      if (seg.live === 0) continue;
      for (let i = seg.count - 1; i >= 0; i--) if (!seg.isDead(seg.seqAt(i))) return seg.times[i] as number;
    }
    return this.lastTime;
  }

  timeAt(p: Place): number {
    return (this.segments[p.s] as Segment).times[p.i] as number;
  }

  /** Marks a stored record deleted; returns its segment. */
  kill(p: Place): Segment {
    const seg = this.segments[p.s] as Segment;
    const seq = seg.seqAt(p.i);
    const bytes = seg.recordBytes(p.i);
    seg.dead ??= new Set();
    seg.dead.add(seq);
    seg.deadBytes += bytes;
    this.#forget(seg, p.i, seq, bytes);
    if (seq === this.firstSeq) this.firstSeq = this.#seqOf(this.nextLive(seq));
    return seg;
  }

  /** Drops every stored record below `target` (the head of the log); returns how many. */
  dropBelow(target: number): number {
    if (target <= this.firstSeq) return 0;
    let n = 0;
    const segs = this.segments;
    for (let s = this.segmentIndexFor(this.firstSeq); s < segs.length; s++) {
      const seg = segs[s] as Segment;
      if (seg.baseSeq >= target) break;
      if (seg.lastSeq < target && seg.topics === undefined) {
        // Wholly below: no need to visit its records.
        n += seg.live;
        this.messages -= seg.live;
        this.bytes -= seg.liveBytes;
        seg.live = 0;
        seg.liveBytes = 0;
        continue;
      }
      for (let i = seg.atOrAfter(this.firstSeq); i < seg.count; i++) {
        const seq = seg.seqAt(i);
        if (seq >= target) break;
        if (seg.isDead(seq)) continue;
        this.#forget(seg, i, seq, seg.recordBytes(i));
        n++;
      }
    }
    this.firstSeq = target;
    this.firstSeq = this.#seqOf(this.nextLive(target));
    return n;
  }

  /**
   * Where retention by count and by bytes cuts the head: the first stored sequence to keep once
   * the oldest are dropped until at most `maxMessages` messages and `maxBytes` bytes remain.
   */
  headCut(maxMessages: number, maxBytes: number): number {
    let n = this.messages;
    let b = this.bytes;
    let cut = this.firstSeq;
    const segs = this.segments;
    for (let s = this.segmentIndexFor(cut); s < segs.length && (n > maxMessages || b > maxBytes); s++) {
      const seg = segs[s] as Segment;
      if (seg.live === 0) continue;
      for (let i = seg.atOrAfter(cut); i < seg.count; i++) {
        const seq = seg.seqAt(i);
        if (seg.isDead(seq)) continue;
        if (n <= maxMessages && b <= maxBytes) return seq;
        n--;
        b -= seg.recordBytes(i);
        cut = seq + 1;
      }
    }
    return cut;
  }

  /** The first stored sequence whose time is >= `t`, or undefined. */
  seqAtTime(t: number): number | undefined {
    for (const seg of this.segments) {
      if (seg.live === 0 || (seg.times[seg.count - 1] as number) < t) continue;
      const p = this.nextLive(seg.seqAt(seg.indexAtTime(t, 0)));
      return p === undefined ? undefined : (this.segments[p.s] as Segment).seqAt(p.i);
    }
    return undefined;
  }

  /** Records `count` records just written at the end of the active segment. */
  appended(count: number, bytes: number): void {
    const seg = this.active;
    seg.live += count;
    seg.liveBytes += bytes;
    this.messages += count;
    this.bytes += bytes;
  }

  /** Starts the topic index from the records' topics (each segment's, in order). */
  indexTopics(topics: readonly (readonly string[])[]): TopicIndex {
    const index = new TopicIndex();
    this.segments.forEach((seg, s) => {
      const names = topics[s] as readonly string[];
      seg.topics = names.map((t, i) => {
        const seq = seg.seqAt(i);
        return seq >= this.firstSeq && !seg.isDead(seq) ? index.add(t, seq) : NO_TOPIC;
      });
    });
    this.topics = index;
    return index;
  }

  #forget(seg: Segment, i: number, seq: number, bytes: number): void {
    seg.live--;
    seg.liveBytes -= bytes;
    this.messages--;
    this.bytes -= bytes;
    const e = seg.topics?.[i];
    if (e !== undefined && e !== NO_TOPIC) this.topics?.remove(e, seq);
  }

  #seqOf(p: Place | undefined): number {
    return p === undefined ? this.lastSeq + 1 : (this.segments[p.s] as Segment).seqAt(p.i);
  }
}
