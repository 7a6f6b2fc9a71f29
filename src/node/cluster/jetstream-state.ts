/**
 * The synchronous view a JetStream log gives of itself (`StreamStorage.state()`): snapshots of
 * stream info, plus the messages known stored since (from this hub's PubAcks and from the watch of
 * every hub's appends). A message is counted once whichever tells first: a snapshot holds every
 * sequence up to its `lastSeq`, and the ones counted after it are remembered until a snapshot
 * covers them. Deletes and drops by limits show at the next snapshot, which `refresh()` takes.
 */
import type { StorageState } from '../../core/streams/storage.js';

export interface Snapshot {
  firstSeq: number;
  lastSeq: number;
  messages: number;
  bytes: number;
  /** Crossbus times of the first and last stored messages (undefined when empty). */
  firstTime: number | undefined;
  lastTime: number | undefined;
}

interface Counted {
  size: number;
  time: number;
}

export class CachedState {
  #base: Snapshot = { firstSeq: 1, lastSeq: 0, messages: 0, bytes: 0, firstTime: undefined, lastTime: undefined };
  /** Counted after the base snapshot: seq -> size and time. */
  readonly #recent = new Map<number, Counted>();
  #view: StorageState = { firstSeq: 1, lastSeq: 0, messages: 0, bytes: 0, segments: 1 };
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(
    private readonly take: () => Promise<Snapshot>,
    /** Told of each snapshot applied (the log catches up with what it shows). */
    private readonly applied: (snap: Snapshot) => void,
  ) {}

  /**
   * Applies a snapshot taken after this call. Calls made while one is being taken share the
   * next one, so a burst of appends costs two stream infos, not one each.
   */
  refresh(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const run = async (): Promise<void> => {
      await this.#running?.catch(() => {});
      this.#queued = undefined;
      const current = this.take().then((snap) => {
        this.apply(snap);
        this.applied(snap);
      });
      this.#running = current;
      await current;
    };
    this.#queued = run();
    return this.#queued;
  }

  view(): StorageState {
    return { ...this.#view };
  }

  get lastSeq(): number {
    return this.#view.lastSeq;
  }

  get firstSeq(): number {
    return this.#view.firstSeq;
  }

  get lastTime(): number | undefined {
    return this.#view.lastTime;
  }

  /** How many counted messages wait for a snapshot (a refresh is due when many do). */
  get unsettled(): number {
    return this.#recent.size;
  }

  /** A message known stored; false when it was counted already. */
  count(seq: number, size: number, time: number): boolean {
    if (seq <= this.#base.lastSeq || this.#recent.has(seq)) return false;
    this.#recent.set(seq, { size, time });
    const v = this.#view;
    if (v.messages === 0 || seq < v.firstSeq) {
      v.firstSeq = seq;
      v.firstTime = time;
    }
    v.messages++;
    v.bytes += size;
    v.lastSeq = Math.max(v.lastSeq, seq);
    v.lastTime = Math.max(v.lastTime ?? time, time);
    return true;
  }

  /** A fresh stream info: it replaces what it covers. */
  apply(snap: Snapshot): void {
    if (snap.lastSeq < this.#base.lastSeq) return; // an older answer overtaken by a newer one
    this.#base = snap;
    for (const seq of this.#recent.keys()) if (seq <= snap.lastSeq) this.#recent.delete(seq);
    this.#compute();
  }

  #compute(): void {
    const b = this.#base;
    let messages = b.messages;
    let bytes = b.bytes;
    let lastSeq = b.lastSeq;
    let firstSeq = b.messages > 0 ? b.firstSeq : Number.POSITIVE_INFINITY;
    let firstTime = b.messages > 0 ? b.firstTime : undefined;
    let lastTime = b.messages > 0 ? b.lastTime : undefined;
    for (const [seq, c] of this.#recent) {
      messages++;
      bytes += c.size;
      if (seq > lastSeq) lastSeq = seq;
      if (seq < firstSeq) {
        firstSeq = seq;
        firstTime = c.time;
      }
      if (lastTime === undefined || c.time > lastTime) lastTime = c.time;
    }
    lastSeq = Math.max(lastSeq, this.#view.lastSeq);
    const view: StorageState = { firstSeq: messages > 0 ? firstSeq : lastSeq + 1, lastSeq, messages, bytes, segments: 1 };
    if (messages > 0 && firstTime !== undefined) view.firstTime = firstTime;
    if (messages > 0 && lastTime !== undefined) view.lastTime = lastTime;
    this.#view = view;
  }
}
