/**
 * A document's log without a hub: a sequencer that numbers published changes, and a reader per
 * replica that delivers the entries it has not seen yet, in order (what a durable stream
 * consumer does for the client plugin).
 */
import type { Change, LogEntry, SyncReplica } from '../../src/core/sync/index.js';
import type { ReceiveResult } from '../../src/core/sync/replica.js';

export class SyncLog {
  readonly entries: LogEntry[] = [];
  readonly #read = new Map<SyncReplica, number>();
  readonly #hubClock: (() => number) | undefined;

  /** `hubClock`: the hub's time, given to each entry as `stored` (none: entries carry no time). */
  constructor(hubClock?: () => number) {
    this.#hubClock = hubClock;
  }

  /** Appends a change (as the hub's stream would): its seq is the next log position. */
  append(change: Change): LogEntry {
    const seq = this.entries.length + 1;
    const entry = this.#hubClock === undefined ? { ...change, seq } : { ...change, seq, stored: this.#hubClock() };
    this.entries.push(entry);
    return entry;
  }

  /** Appends what `replica` has pending and not yet appended (its outgoing queue, in order). */
  async publish(replica: SyncReplica): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for (const c of await replica.outgoing()) {
      if (this.entries.some((e) => e.replica === c.replica && e.rseq === c.rseq)) continue;
      out.push(this.append(c));
    }
    return out;
  }

  /** Delivers to `replica` every entry it has not read, in order; up to `upTo` entries when given. */
  async deliver(replica: SyncReplica, upTo = Number.POSITIVE_INFINITY): Promise<ReceiveResult[]> {
    const results: ReceiveResult[] = [];
    let at = this.#read.get(replica) ?? 0;
    while (at < this.entries.length && results.length < upTo) {
      results.push(await replica.receive(this.entries[at] as LogEntry));
      at++;
    }
    this.#read.set(replica, at);
    return results;
  }

  /** Marks `replica` as having read up to `seq` (it started from a snapshot taken there). */
  startAt(replica: SyncReplica, seq: number): void {
    this.#read.set(replica, seq);
  }
}
