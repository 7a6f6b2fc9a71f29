/**
 * Reading a JetStream log the way StreamStorage reads: by sequence, by time, by topic. Every read
 * is a message get answered by the stream's leader (`STREAM.MSG.GET`, which nats-server 2.9 serves
 * by `seq`, `last_by_subj` and `next_by_subj`): it sees every acknowledged append, where a direct
 * get from a replica could lag behind one.
 *
 * nats-server 2.9's per-subject bookkeeping goes stale when a message is deleted from the middle
 * of a subject: `last_by_subj` answers "no message" after the subject's newest one was deleted,
 * and `next_by_subj` on that subject can skip one after its first and newest were. So reads of
 * the whole log go by sequence (`next_by_subj: ">"` walks the log itself: the stream holds only
 * this log's subjects), and per-subject answers are checked against the subject's message count
 * and, when they disagree, found by sequence instead.
 */
import type { JetStreamManager, MsgRequest, StoredMsg, StreamState } from 'nats';
import type { ReadOptions, StoredMessage } from '../../core/streams/storage.js';
import { utf8Length } from '../../core/protocol/utf8.js';
import { DEFAULT_READ_MAX_MESSAGES } from '../defaults.js';
import { H_ORIGIN, decodeStored, entriesOf, headerBytes, recordSize } from './jetstream-codec.js';
import { JS_NO_MESSAGE, jetStreamFailure, jsErrCode } from './jetstream-errors.js';
import type { LogNames } from './jetstream-names.js';
import type { Snapshot } from './jetstream-state.js';

/** Gets in flight at once for one read (a window of sequences). */
const WINDOW = 64;

export interface Read {
  msg: StoredMessage;
  subject: string;
  /** The CB-Origin of the storage that appended it. */
  origin: string | undefined;
  /** What JetStream counts for it (and what `maxBytes` and state bytes count). */
  size: number;
}

export class LogReads {
  /**
   * Stream info, with the crossbus times of the first and last stored messages: first_seq is
   * always a stored message, the last stored one is at last_seq unless that was deleted.
   */
  async snapshot(): Promise<Snapshot> {
    let s: StreamState;
    try {
      s = (await this.jsm.streams.info(this.names.stream)).state;
    } catch (err) {
      throw jetStreamFailure('info', this.names.stream, err);
    }
    const [first, last] =
      s.messages === 0
        ? [undefined, undefined]
        : await Promise.all([this.get({ seq: s.first_seq }), this.lastAtOrBefore(s.last_seq, s.first_seq)]);
    return {
      firstSeq: s.first_seq,
      lastSeq: s.last_seq,
      messages: s.messages,
      bytes: s.bytes,
      firstTime: first?.msg.time,
      lastTime: last?.msg.time,
    };
  }

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly names: LogNames,
  ) {}

  /** One message, or undefined when there is none to answer the query. */
  async get(query: MsgRequest | { seq: number; next_by_subj: string }): Promise<Read | undefined> {
    let sm: StoredMsg;
    try {
      sm = await this.jsm.streams.getMessage(this.names.stream, query as MsgRequest);
    } catch (err) {
      if (jsErrCode(err) === JS_NO_MESSAGE) return undefined;
      throw jetStreamFailure('read', this.names.stream, err);
    }
    const msg = decodeStored(sm, this.names.subjectPrefix);
    const size = recordSize(utf8Length(sm.subject), headerBytes(entriesOf(sm.header)), sm.data.length);
    return { msg, subject: sm.subject, origin: sm.header?.get(H_ORIGIN) || undefined, size };
  }

  /** The first stored message at or after `seq` (of `subject` when given). */
  next(seq: number, subject = '>'): Promise<Read | undefined> {
    return this.get({ seq: Math.max(1, seq), next_by_subj: subject });
  }

  /** The newest stored message at or before `seq` (of `subject` when given), by sequence alone. */
  async lastAtOrBefore(seq: number, floor: number, subject?: string): Promise<Read | undefined> {
    // Mostly it is `seq` itself: one get; then windows further back.
    for (let hi = seq, width = 1; hi >= floor; hi -= width, width = WINDOW) {
      const lo = Math.max(floor, hi - width + 1);
      const got = await Promise.all(Array.from({ length: hi - lo + 1 }, (_, i) => this.get({ seq: lo + i })));
      for (let i = got.length - 1; i >= 0; i--) {
        const r = got[i];
        if (r !== undefined && (subject === undefined || r.subject === subject)) return r;
      }
    }
    return undefined;
  }

  /** How many messages each subject matching `filter` holds (JetStream keeps these counts right). */
  async counts(filter: string): Promise<Record<string, number>> {
    try {
      return (await this.jsm.streams.info(this.names.stream, { subjects_filter: filter })).state.subjects ?? {};
    } catch (err) {
      throw jetStreamFailure('info', this.names.stream, err);
    }
  }

  /** The newest stored message of one subject, between `firstSeq` and `lastSeq`. */
  async lastOf(subject: string, firstSeq: number, lastSeq: number): Promise<Read | undefined> {
    const r = await this.get({ last_by_subj: subject });
    if (r !== undefined) return r;
    if (((await this.counts(subject))[subject] ?? 0) === 0) return undefined;
    return this.lastAtOrBefore(lastSeq, firstSeq, subject); // the server lost track of it: see above
  }

  /**
   * Stored messages from `fromSeq` up to `lastSeq`, in order. A window of gets `next_by_subj`
   * from each sequence of the window: every stored message inside it comes back, and a deleted
   * stretch answers with the next stored message past it, so gaps cost nothing extra.
   */
  async read(fromSeq: number, lastSeq: number, options: ReadOptions = {}): Promise<Read[]> {
    const max = options.maxMessages ?? DEFAULT_READ_MAX_MESSAGES;
    let budget = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const out: Read[] = [];
    let seq = Math.max(1, Math.floor(fromSeq));
    while (out.length < max && seq <= lastSeq) {
      const n = Math.min(WINDOW, max - out.length, lastSeq - seq + 1);
      const got = await Promise.all(Array.from({ length: n }, (_, i) => this.next(seq + i)));
      const page = new Map<number, Read>();
      for (const r of got) if (r !== undefined) page.set(r.msg.seq, r);
      if (page.size === 0) break;
      for (const r of [...page.values()].sort((a, b) => a.msg.seq - b.msg.seq)) {
        if (out.length === max || (out.length > 0 && r.size > budget)) return out;
        budget -= r.size;
        out.push(r);
        seq = r.msg.seq + 1;
      }
    }
    return out;
  }

  /**
   * The first stored sequence whose crossbus time is >= `timeMs`: a binary search over sequences
   * (times do not go backwards along the log; across hubs with skewed clocks, nearly so).
   */
  async seqAtTime(timeMs: number, firstSeq: number, lastSeq: number): Promise<number | undefined> {
    let lo = Math.max(1, firstSeq);
    let hi = lastSeq + 1;
    let found: number | undefined;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = await this.next(mid);
      if (r !== undefined && r.msg.time >= timeMs) {
        found = r.msg.seq;
        hi = mid;
      } else if (r === undefined) hi = mid;
      else lo = Math.max(mid + 1, r.msg.seq + 1);
    }
    return found;
  }

  /** The stored sequences of one subject, oldest first. */
  async seqsOf(subject: string, firstSeq: number, lastSeq: number): Promise<number[]> {
    const out: number[] = [];
    for (let r = await this.next(firstSeq, subject); r !== undefined; r = await this.next(r.msg.seq + 1, subject)) out.push(r.msg.seq);
    if (out.length === ((await this.counts(subject))[subject] ?? 0)) return out;
    // The server skipped some (see above): walk the log by sequence.
    const all: number[] = [];
    for (let seq = firstSeq; seq <= lastSeq; seq += WINDOW) {
      const got = await Promise.all(Array.from({ length: Math.min(WINDOW, lastSeq - seq + 1) }, (_, i) => this.get({ seq: seq + i })));
      for (const r of got) if (r !== undefined && r.subject === subject) all.push(r.msg.seq);
    }
    return all;
  }

  /** The newest stored sequence of every subject of the log, by topic. */
  async heads(firstSeq: number, lastSeq: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const all = Object.keys(await this.counts(this.names.filter));
    for (let i = 0; i < all.length; i += WINDOW) {
      const got = await Promise.all(all.slice(i, i + WINDOW).map((s) => this.lastOf(s, firstSeq, lastSeq)));
      for (const r of got) if (r !== undefined) out.set(r.msg.topic, r.msg.seq);
    }
    return out;
  }
}
