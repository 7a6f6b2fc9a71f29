/**
 * One stream as the hub holds it: its log, its duplicate window, its consumers, and (for a user
 * stream) its dead-letter stream. A stream whose stored data turned out damaged is quarantined:
 * it keeps its name and configuration so operators can see it, and refuses everything else.
 */
import { CrossbusError, createError } from '../errors/index.js';
import type { ResolvedStreamConfig } from './config.js';
import { DLQ_SUFFIX } from './config.js';
import type { ConsumerState, StoredConsumer } from './catalog.js';
import type { ServedConsumer } from './served-consumer.js';
import { AppendGate, type Submitted } from './append-gate.js';
import { DuplicateWindow } from './duplicates.js';
import type { AppendInput, StoredMessage, StreamStorage } from './storage.js';
import type { StreamInfo } from './wire.js';

export interface AppendResult {
  seq: number;
  duplicate: boolean;
}

export class Stream<S = unknown> {
  readonly consumers = new Map<string, ServedConsumer<S>>();
  readonly dedupe: DuplicateWindow;
  readonly #gate = new AppendGate();
  #storage: StreamStorage | undefined;
  #unwatch: (() => void) | undefined;
  quarantined: CrossbusError | undefined;
  /** The dead-letter stream of a user stream. */
  deadLetters: Stream<S> | undefined;
  /** Reads in flight, by their arguments: consumers asking for the same page at once share one. */
  readonly #reads = new Map<string, Promise<StoredMessage[]>>();
  /** Told of every message stored, by this hub or another (the hub's own buckets watch theirs). */
  readonly #storedListeners = new Set<(topic: string, seq: number) => void>();

  constructor(
    readonly config: ResolvedStreamConfig,
    /** Set on a dead-letter stream: the stream whose dead letters it holds. */
    readonly deadLetterOf: string | undefined,
    /** Most message ids the duplicate window remembers. @default unbounded */
    maxDuplicateIds = Infinity,
  ) {
    this.dedupe = new DuplicateWindow(config.duplicateWindowMs, maxDuplicateIds);
  }

  get name(): string {
    return this.config.name;
  }

  get storage(): StreamStorage | undefined {
    return this.#storage;
  }

  /** Setting the storage follows what others append to it (a log shared with other hubs). */
  set storage(storage: StreamStorage | undefined) {
    this.#unwatch?.();
    this.#storage = storage;
    this.#unwatch = storage?.watch?.((topic, seq) => this.#told(topic, seq));
  }

  /** A message was stored (by an append of ours, or by another writer of the log): consumers and listeners hear of it. */
  #told(topic: string, seq: number): void {
    for (const c of this.consumers.values()) c.pump();
    for (const l of this.#storedListeners) l(topic, seq);
  }

  /** Calls `listener` for every message stored from now on (appended here or elsewhere); returns the function that stops it. */
  onStored(listener: (topic: string, seq: number) => void): () => void {
    this.#storedListeners.add(listener);
    return () => void this.#storedListeners.delete(listener);
  }

  /** The storage, or the reason there is none to use. */
  usable(): StreamStorage {
    if (this.quarantined !== undefined) {
      throw createError('CB_ERR_STREAM_QUARANTINED', `stream ${this.name} is quarantined: ${this.quarantined.message}`, {
        details: { stream: this.name, cause: this.quarantined.toJSON() },
      });
    }
    if (this.storage === undefined)
      throw createError('CB_ERR_STREAM_NOT_FOUND', `stream ${this.name} is not open`, { details: { stream: this.name } });
    return this.storage;
  }

  /**
   * Stores a message unless its msgId was stored inside the duplicate window; resolves with its
   * sequence once it is as durable as the stream's policy promises. With `expectLastSeq`, only
   * when the newest stored message of its topic has that sequence (0: the topic holds none), and
   * atomically so (see append-gate.ts); CB_ERR_SEQ_MISMATCH otherwise. A retry of a conditional
   * append that was stored (same msgId, inside the window) is answered as a duplicate, not refused.
   */
  append(msg: AppendInput, now: () => number, expectLastSeq?: number): Promise<AppendResult> {
    if (expectLastSeq === undefined && this.#gate.open) return this.#append(msg, now);
    return this.#gate.enqueue(() =>
      expectLastSeq === undefined ? { result: this.#append(msg, now) } : this.#appendIf(msg, now, expectLastSeq),
    );
  }

  /**
   * Whether `m` is older than the stream's `maxAgeMs` at `now`: gone for readers and for
   * comparisons even before retention drops it (an expired KV value is gone at its expiry).
   */
  expired(m: { readonly time: number }, now: number): boolean {
    const maxAge = this.config.maxAgeMs;
    return maxAge !== undefined && now - m.time > maxAge;
  }

  async #appendIf(msg: AppendInput, now: () => number, expected: number): Promise<Submitted> {
    const id = msg.msgId;
    // A log shared with other writers checks and stores in one step, against all of them.
    if (this.storage?.appendIfLast !== undefined) return { result: this.#append(msg, now, expected) };
    if (id === undefined || this.dedupe.lookup(id, now()) === undefined) {
      await this.#gate.drained();
      const last = await this.usable().lastForTopic(msg.topic);
      const actual = last === undefined || this.expired(last, now()) ? 0 : last.seq;
      if (actual !== expected) {
        throw createError('CB_ERR_SEQ_MISMATCH', `the last message of ${msg.topic} is seq ${actual}, not ${expected}`, {
          details: { stream: this.name, topic: msg.topic, expected, actual },
        });
      }
    }
    return { result: this.#append(msg, now) };
  }

  #append(msg: AppendInput, now: () => number, expectLastSeq?: number): Promise<AppendResult> {
    let storage: StreamStorage;
    try {
      storage = this.usable();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = msg.msgId;
    if (id !== undefined) {
      const hit = this.dedupe.lookup(id, now());
      if (hit !== undefined) {
        return 'seq' in hit ? Promise.resolve({ seq: hit.seq, duplicate: true }) : hit.pending.then((seq) => ({ seq, duplicate: true }));
      }
    }
    const gate = this.#gate;
    gate.started();
    const appended =
      expectLastSeq !== undefined && storage.appendIfLast !== undefined
        ? storage.appendIfLast(msg, expectLastSeq).then((r) => r.seq)
        : storage.append([msg]).then((r) => r.firstSeq);
    const stored = appended.then(
      (seq) => {
        gate.settled();
        return seq;
      },
      (err: unknown) => {
        gate.settled();
        throw err;
      },
    );
    if (id !== undefined) this.dedupe.track(id, stored, now);
    return stored.then((seq) => {
      this.#told(msg.topic, seq);
      return { seq, duplicate: false };
    });
  }

  /**
   * A page of stored messages for a consumer. Many consumers tailing one stream (a KV bucket's
   * watchers) ask for the same new message at the same moment: they share one storage read. A
   * shared result is what each would have read at that moment; the messages are never modified.
   */
  readShared(fromSeq: number, maxMessages: number): Promise<StoredMessage[]> {
    const key = `${fromSeq}:${maxMessages}`;
    let read = this.#reads.get(key);
    if (read === undefined) {
      read = this.usable().read(fromSeq, { maxMessages });
      this.#reads.set(key, read);
      const done = (): void => {
        this.#reads.delete(key);
      };
      read.then(done, done);
    }
    return read;
  }

  /** Rebuilds the duplicate window from the messages stored inside it. */
  async rebuildDuplicateWindow(now: number): Promise<void> {
    const storage = this.usable();
    if (this.config.duplicateWindowMs === 0) return;
    let seq = await storage.seqAtTime(now - this.config.duplicateWindowMs);
    while (seq !== undefined) {
      const page: StoredMessage[] = await storage.read(seq, { maxMessages: 1000 });
      if (page.length === 0) break;
      for (const m of page) if (m.msgId !== undefined) this.dedupe.remember(m.msgId, m.seq, m.time);
      seq = (page[page.length - 1] as StoredMessage).seq + 1;
    }
  }

  /** Where a new consumer starts, from its deliver policy. */
  async startState(deliver: ServedConsumer['config']['deliver']): Promise<ConsumerState> {
    const storage = this.usable();
    const st = storage.state();
    if (deliver === 'new') return { nextSeq: st.lastSeq + 1, plan: [], outstanding: [] };
    if (deliver === 'all') return { nextSeq: st.firstSeq, plan: [], outstanding: [] };
    if (deliver === 'last-per-topic') {
      // The last message of every topic stored so far, in stream order, then everything after
      // the newest of them (no message stored when the heads were taken comes after it).
      const plan = [...(await storage.topicHeads()).values()].sort((a, b) => a - b);
      const newest = plan[plan.length - 1];
      return { nextSeq: newest === undefined ? st.lastSeq + 1 : newest + 1, plan, outstanding: [] };
    }
    if ('seq' in deliver) return { nextSeq: Math.max(deliver.seq, st.firstSeq), plan: [], outstanding: [] };
    const seq = await storage.seqAtTime(deliver.time);
    return { nextSeq: seq ?? st.lastSeq + 1, plan: [], outstanding: [] };
  }

  storedConsumer(c: ServedConsumer<S>): StoredConsumer {
    return { config: { ...c.config, durable: c.name }, state: c.state() };
  }

  info(): StreamInfo {
    const c = this.config;
    const st = this.storage?.state();
    const info: StreamInfo = {
      name: c.name,
      topics: [...c.topics],
      duplicateWindowMs: c.duplicateWindowMs,
      durability: c.durability,
      state: st === undefined ? { firstSeq: 0, lastSeq: 0, messages: 0, bytes: 0 } : stateOf(st),
      consumers: [...this.consumers.values()].filter((x) => !x.ephemeral || x.members.length > 0).map((x) => x.info()),
      duplicates: { remembered: this.dedupe.size, forgottenEarly: this.dedupe.forgottenEarly },
    };
    if (c.maxAgeMs !== undefined) info.maxAgeMs = c.maxAgeMs;
    if (c.maxBytes !== undefined) info.maxBytes = c.maxBytes;
    if (c.maxMessages !== undefined) info.maxMessages = c.maxMessages;
    if (c.maxMessagesPerTopic !== undefined) info.maxMessagesPerTopic = c.maxMessagesPerTopic;
    if (this.deadLetterOf !== undefined) info.deadLetterOf = this.deadLetterOf;
    if (this.quarantined !== undefined) info.quarantined = { code: this.quarantined.code, message: this.quarantined.message };
    return info;
  }

  /** Closes the consumers' timers and the storage. */
  async close(): Promise<void> {
    for (const c of this.consumers.values()) c.close();
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.storage?.close();
    await this.deadLetters?.close();
  }
}

function stateOf(st: ReturnType<StreamStorage['state']>): StreamInfo['state'] {
  const { segments: _segments, ...rest } = st;
  return rest;
}

/** The dead-letter stream's configuration, derived from its source stream's. */
export function deadLetterConfig(source: ResolvedStreamConfig): ResolvedStreamConfig {
  return { name: `${source.name}${DLQ_SUFFIX}`, topics: [], duplicateWindowMs: 0, durability: 'fsync' };
}

export function asCrossbusError(err: unknown): CrossbusError {
  return err instanceof CrossbusError ? err : createError('CB_ERR_INTERNAL', String(err), { cause: err });
}
