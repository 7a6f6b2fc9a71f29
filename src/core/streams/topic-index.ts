/**
 * Which stored messages each topic holds: the per-topic history limit (`maxMessagesPerTopic`),
 * `purgeTopic` and `lastForTopic` read it. Both storages (memory-storage.ts and the segment log)
 * keep one only when a stream asks for it, so streams without per-topic operations pay nothing
 * on the append path. Isomorphic.
 */
import { createError } from '../errors/index.js';
import { topicProblem } from '../topic.js';

/**
 * One topic's stored sequences, oldest first: `seqs[head..]`. Dropping the oldest only moves
 * `head`, so a history limit costs O(1) per append; the array is trimmed once half of it is dead.
 */
export interface TopicEntry {
  readonly topic: string;
  seqs: number[];
  head: number;
}

/** `head` may grow this far before the dead front of `seqs` is cut off. */
const TRIM_AT = 32;

export class TopicIndex {
  readonly #entries = new Map<string, TopicEntry>();

  /** Topics that hold at least one message. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every topic that holds a message. */
  entries(): IterableIterator<TopicEntry> {
    return this.#entries.values();
  }

  get(topic: string): TopicEntry | undefined {
    return this.#entries.get(topic);
  }

  /** Records `seq` (higher than any recorded before) as the newest of `topic`; returns its entry. */
  add(topic: string, seq: number): TopicEntry {
    let e = this.#entries.get(topic);
    if (e === undefined) {
      e = { topic, seqs: [], head: 0 };
      this.#entries.set(topic, e);
    }
    e.seqs.push(seq);
    return e;
  }

  /** Forgets `seq` of `e`; false when `e` does not hold it. An emptied topic is forgotten too. */
  remove(e: TopicEntry, seq: number): boolean {
    const { seqs } = e;
    if (seqs[e.head] === seq) e.head++;
    else {
      const i = indexOfSeq(seqs, e.head, seq);
      if (i < 0) return false;
      seqs.splice(i, 1);
    }
    if (e.head === seqs.length) {
      if (this.#entries.get(e.topic) === e) this.#entries.delete(e.topic);
      e.seqs = [];
      e.head = 0;
    } else if (e.head >= TRIM_AT && e.head * 2 >= seqs.length) {
      e.seqs = seqs.slice(e.head);
      e.head = 0;
    }
    return true;
  }

  /** The seqs of `topic`, oldest first, without the newest `keep` (a copy). */
  olderThanNewest(topic: string, keep: number): number[] {
    const e = this.#entries.get(topic);
    if (e === undefined) return [];
    return e.seqs.slice(e.head, Math.max(e.head, e.seqs.length - keep));
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** How many messages `e` holds. */
export function topicCount(e: TopicEntry): number {
  return e.seqs.length - e.head;
}

/** The newest seq of `e`, or undefined when it holds none. */
export function newestSeq(e: TopicEntry | undefined): number | undefined {
  return e === undefined || e.head === e.seqs.length ? undefined : e.seqs[e.seqs.length - 1];
}

/** The newest seq of every topic `index` holds (a copy). */
export function headsOf(index: TopicIndex): Map<string, number> {
  const heads = new Map<string, number>();
  for (const e of index.entries()) heads.set(e.topic, e.seqs[e.seqs.length - 1] as number);
  return heads;
}

/** The oldest seq of `e` (it holds at least one). */
export function oldestSeq(e: TopicEntry): number {
  return e.seqs[e.head] as number;
}

/** Where `seq` is in the ascending `seqs[from..]`, or -1. */
function indexOfSeq(seqs: number[], from: number, seq: number): number {
  let lo = from;
  let hi = seqs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = seqs[mid] as number;
    if (at === seq) return mid;
    if (at < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The topic of a per-topic operation: a string (CB_ERR_INVALID_OPTION otherwise). */
export function checkTopic(topic: unknown): void {
  if (typeof topic !== 'string') {
    throw createError('CB_ERR_INVALID_OPTION', `topic must be a string, got ${typeof topic}`, { details: { option: 'topic' } });
  }
}

/**
 * The topic of an operation on one topic as it arrives from an application (`last`,
 * `purge-topic`): one exact topic, no wildcard (CB_ERR_INVALID_OPTION otherwise).
 */
export function checkExactTopic(topic: unknown, maxLength?: number): void {
  const problem = typeof topic === 'string' ? topicProblem(topic, 'topic', maxLength) : 'must be a string';
  if (problem !== undefined) throw createError('CB_ERR_INVALID_OPTION', `topic ${problem}`, { details: { option: 'topic' } });
}

/** The seq of one stored message an operation names: an integer >= 1 (CB_ERR_INVALID_OPTION otherwise). */
export function checkSeq(seq: unknown): void {
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) {
    throw createError('CB_ERR_INVALID_OPTION', `seq must be an integer >= 1, got ${String(seq)}`, { details: { option: 'seq' } });
  }
}

/** `purgeTopic`'s `keep`: an integer >= 0, 0 when absent (CB_ERR_INVALID_OPTION otherwise). */
export function checkKeep(options: { keep?: number } | undefined): number {
  const keep = options?.keep ?? 0;
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw createError('CB_ERR_INVALID_OPTION', `keep must be an integer >= 0, got ${String(keep)}`, { details: { option: 'keep' } });
  }
  return keep;
}
