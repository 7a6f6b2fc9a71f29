/**
 * StreamStorage over one JetStream stream, shared by every hub of a cluster: each hub appends its
 * own clients' publishes and tells the others of them (jetstream-notices.ts), and hears of the
 * others' (jetstream-watch.ts).
 *
 * Sequences are JetStream's: consecutive at append, never reused. An append resolves with its
 * PubAck, that is once a quorum of the stream's replicas holds it (see the README for what
 * nats-server does about fsync). Retention is JetStream's own (max_age, max_bytes, max_msgs,
 * max_msgs_per_subject); per-topic operations are its purge by subject with `keep`, its get of
 * the last message of a subject, and its message delete. `state()` is a cached view
 * (jetstream-state.ts), exact for this hub's own operations and refreshed from stream info.
 */
import type { JetStreamManager, NatsConnection, PubAck, PurgeOpts } from 'nats';
import { createError } from '../../core/errors/index.js';
import { utf8Length } from '../../core/protocol/utf8.js';
import type { ConsumerState, StoragePart } from '../../core/streams/catalog.js';
import { DLQ_SUFFIX, type ResolvedConsumerConfig } from '../../core/streams/config.js';
import type { ConsumerHost, ServedConsumer } from '../../core/streams/served-consumer.js';
import type { AppendInput, ReadOptions, RetentionLimits, StorageState, StoredMessage, StreamStorage } from '../../core/streams/storage.js';
import { checkKeep, checkTopic } from '../../core/streams/topic-index.js';
import { type Logger, silentLogger } from '../../core/util/logger.js';
import { randomHex } from '../../core/util/random.js';
import { unrefTimer } from '../../core/util/timers.js';
import {
  DEFAULT_JETSTREAM_NOTICE_GRACE_MS,
  DEFAULT_JETSTREAM_PREFIX,
  DEFAULT_JETSTREAM_REFRESH_MS,
  DEFAULT_JETSTREAM_REPLICAS,
  DEFAULT_JETSTREAM_TIMEOUT_MS,
} from '../defaults.js';
import { headerBytes, headerEntries, recordSize, toNatsHeaders } from './jetstream-codec.js';
import { type DiscardPolicy, ensureStream } from './jetstream-config.js';
import { JS_DELETE_NOT_FOUND, JS_SEQ_NOT_FOUND, JS_WRONG_LAST_SEQUENCE, jetStreamFailure, jsErrCode } from './jetstream-errors.js';
import { type LogNames, checkPrefix, logNames, storedSubject, subjectOf } from './jetstream-names.js';
import { NoticeSender, type Told } from './jetstream-notices.js';
import { JetStreamPublisher } from './jetstream-publish.js';
import { JetStreamConsumer } from './jetstream-consumer.js';

/** JetStream's header for an append that expects the stream's last sequence (atomic in a cluster on 2.9). */
const EXPECTED_LAST_SEQUENCE = 'Nats-Expected-Last-Sequence';
import { LogReads } from './jetstream-reads.js';
import { CachedState } from './jetstream-state.js';
import { LogFollower } from './jetstream-watch.js';

export interface JetStreamStorageOptions {
  /** The crossbus stream's name. */
  stream: string;
  /** @default 'log' */
  part?: StoragePart;
  /** @default {} (keep everything) */
  retention?: RetentionLimits;
  /** JetStream de-duplicates publishes carrying a msgId inside this window (across hubs); 0: it does not. @default 0 */
  duplicateWindowMs?: number;
  /** Replicas of the stream. @default 3, or the number of servers of a smaller cluster */
  replicas?: number;
  /** At `maxMessages`/`maxBytes`: 'old' drops the oldest (crossbus's meaning); 'new' refuses appends (CB_ERR_STORAGE, reason 'limit'). @default 'old' */
  discard?: DiscardPolicy;
  /** Names of streams and subjects: `<prefix>_LOG_<stream>`, `$<prefix>.STREAM.…`. @default DEFAULT_JETSTREAM_PREFIX */
  prefix?: string;
  /** How long a publish or request waits for JetStream. @default DEFAULT_JETSTREAM_TIMEOUT_MS */
  timeoutMs?: number;
  /** How often the cached state is refreshed from stream info. @default DEFAULT_JETSTREAM_REFRESH_MS */
  refreshIntervalMs?: number;
  /** How long a gap in other hubs' notices waits to be filled before it is read from the stream. @default DEFAULT_JETSTREAM_NOTICE_GRACE_MS */
  noticeGraceMs?: number;
  /** @default silentLogger */
  logger?: Logger;
}

/** Counted messages waiting for a snapshot past which a refresh is started. */
const REFRESH_AFTER = 256;

/** Replicas a stream gets by default on the cluster `nc` is connected to. */
export function defaultReplicas(nc: NatsConnection): number {
  const servers = nc.info?.connect_urls?.length ?? 1;
  return Math.max(1, Math.min(DEFAULT_JETSTREAM_REPLICAS, servers));
}

export class JetStreamStorage implements StreamStorage {
  readonly #nc: NatsConnection;
  /** The crossbus stream this log is (`<name>.DLQ` for a dead-letter log). */
  readonly #streamName: string;
  readonly #publisher: JetStreamPublisher;
  readonly #jsm: JetStreamManager;
  readonly #names: LogNames;
  readonly #reads: LogReads;
  readonly #state: CachedState;
  readonly #origin = randomHex(8);
  readonly #notices: NoticeSender;
  readonly #dedupe: boolean;
  readonly #limited: boolean;
  readonly #logger: Logger;
  readonly #listeners = new Set<(topic: string, seq: number) => void>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #follower: LogFollower | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** How long an append (a compare-and-set with its reads again) may take in all. */
  readonly #timeoutMs: number;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, names: LogNames, o: JetStreamStorageOptions) {
    this.#nc = nc;
    this.#streamName = o.part === 'dlq' ? `${o.stream}${DLQ_SUFFIX}` : o.stream;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_JETSTREAM_TIMEOUT_MS;
    this.#publisher = new JetStreamPublisher(nc, this.#timeoutMs);
    this.#jsm = jsm;
    this.#names = names;
    this.#reads = new LogReads(jsm, names);
    this.#state = new CachedState(
      () => this.#reads.snapshot(),
      (snap) => this.#follower?.seen(snap.lastSeq),
    );
    this.#dedupe = (o.duplicateWindowMs ?? 0) > 0;
    const r = o.retention ?? {};
    this.#limited = r.maxBytes !== undefined || r.maxMessages !== undefined || r.maxMessagesPerTopic !== undefined;
    this.#logger = o.logger ?? silentLogger;
    this.#notices = new NoticeSender(nc, names.noticeSubject, this.#origin, this.#logger);
  }

  /**
   * Opens (creating or updating) the JetStream stream of one crossbus log over the caller's
   * connection. Rejects with CB_ERR_STORAGE when JetStream refuses it or cannot be reached.
   */
  static async open(nc: NatsConnection, options: JetStreamStorageOptions, jsm?: JetStreamManager): Promise<JetStreamStorage> {
    const o = options;
    const names = logNames(checkPrefix(o.prefix ?? DEFAULT_JETSTREAM_PREFIX), o.stream, o.part ?? 'log');
    const timeout = o.timeoutMs ?? DEFAULT_JETSTREAM_TIMEOUT_MS;
    let manager = jsm;
    try {
      manager ??= await nc.jetstreamManager({ timeout });
    } catch (err) {
      throw jetStreamFailure('open', names.stream, err);
    }
    await ensureStream(manager, {
      names,
      retention: o.retention ?? {},
      duplicateWindowMs: o.duplicateWindowMs ?? 0,
      replicas: o.replicas ?? defaultReplicas(nc),
      discard: o.discard ?? 'old',
    });
    const s = new JetStreamStorage(nc, manager, names, o);
    try {
      await s.#state.refresh();
    } catch (err) {
      s.#publisher.close();
      throw err;
    }
    s.#follower = new LogFollower(
      nc,
      names,
      s.#state.lastSeq + 1,
      {
        stored: (told) => s.#stored(told),
        read: (from, upTo, maxMessages) => s.#reads.read(from, upTo, { maxMessages }),
        reconnected: () => void s.#state.refresh().catch(() => {}),
      },
      s.#logger,
      o.noticeGraceMs ?? DEFAULT_JETSTREAM_NOTICE_GRACE_MS,
    );
    s.#timer = setInterval(() => void s.#state.refresh().catch(() => {}), o.refreshIntervalMs ?? DEFAULT_JETSTREAM_REFRESH_MS);
    unrefTimer(s.#timer);
    return s;
  }

  /** The JetStream stream this log is. */
  get jetStreamName(): string {
    return this.#names.stream;
  }

  append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }> {
    return this.#track(this.#append(msgs));
  }

  /** An append in progress: close() waits for it. */
  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    const done = (): void => void this.#inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Publishes one message (expecting the stream's last sequence to be `expectStreamLast`, when
   * given) and, once JetStream acknowledged it as new, counts it in the cached state and tells the
   * other hubs. A duplicate's seq is the original's, which its own writer tells.
   */
  #publishOne(m: AppendInput, subject: string, time: number, expectStreamLast?: number): Promise<PubAck> {
    const entries = headerEntries(m, time, this.#origin, this.#dedupe);
    const size = recordSize(utf8Length(subject), headerBytes(entries), m.payload.length);
    const hdrs = toNatsHeaders(entries);
    if (expectStreamLast !== undefined) hdrs.set(EXPECTED_LAST_SEQUENCE, String(expectStreamLast));
    return this.#publisher.publish(subject, m.payload, hdrs).then((ack) => {
      if (!ack.duplicate) {
        this.#state.count(ack.seq, size, time);
        this.#follower?.own(ack.seq);
        this.#notices.add(ack.seq, m.topic, size, time);
      }
      return ack;
    });
  }

  /**
   * Limits may have dropped older messages: state() shows it once the append resolves. The notices
   * were sent just before (`flush`), so they leave before the append is acknowledged to its client.
   * Undefined when there is nothing to wait for (most appends: no promise made for them).
   */
  #afterAppend(): Promise<void> | undefined {
    if (this.#limited) return this.#state.refresh().catch(() => {});
    if (this.#state.unsettled > REFRESH_AFTER) void this.#state.refresh().catch(() => {});
    return undefined;
  }

  async #append(msgs: AppendInput[]): Promise<{ firstSeq: number; lastSeq: number }> {
    this.#check();
    if (msgs.length === 0) return { firstSeq: this.#state.lastSeq + 1, lastSeq: this.#state.lastSeq };
    // Every topic is checked before anything is sent: a refused topic stores nothing.
    const subjects = msgs.map((m) => subjectOf(this.#names, m.topic));
    let time = this.#state.lastTime ?? 0;
    let firstSeq: number;
    let lastSeq: number;
    if (msgs.length === 1) {
      // One message (a client's durable publish): none of a batch's bookkeeping.
      const m = msgs[0] as AppendInput;
      try {
        firstSeq = lastSeq = (await this.#publishOne(m, subjects[0] as string, Math.max(time, m.time))).seq;
      } catch (err) {
        throw jetStreamFailure('append', this.#names.stream, err);
      } finally {
        this.#notices.flush();
      }
    } else {
      const sends = msgs.map((m, i) => {
        time = Math.max(time, m.time);
        return this.#publishOne(m, subjects[i] as string, time);
      });
      const settled = await Promise.allSettled(sends);
      this.#notices.flush();
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw jetStreamFailure('append', this.#names.stream, (failed as PromiseRejectedResult).reason);
      firstSeq = (settled[0] as PromiseFulfilledResult<PubAck>).value.seq;
      lastSeq = (settled[settled.length - 1] as PromiseFulfilledResult<PubAck>).value.seq;
    }
    const after = this.#afterAppend();
    if (after !== undefined) await after;
    return { firstSeq, lastSeq };
  }

  /**
   * A conditional append, atomic against every hub that writes to the stream. nats-server 2.9
   * does not hold a subject's expected last sequence against publishes still being replicated (two
   * racing updates of one key both pass; seen with its own KV), but does hold the stream's: so the
   * stream's last sequence is read, then the topic's newest message, and the append expects the
   * stream to be unchanged since. Another topic's write in between is tried again, not refused.
   */
  appendIfLast(msg: AppendInput, expectedTopicSeq: number): Promise<{ seq: number }> {
    return this.#track(this.#appendIfLast(msg, expectedTopicSeq));
  }

  async #appendIfLast(msg: AppendInput, expected: number): Promise<{ seq: number }> {
    this.#check();
    const subject = subjectOf(this.#names, msg.topic);
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      let streamLast: number;
      let topicLast: number;
      try {
        streamLast = (await this.#jsm.streams.info(this.#names.stream)).state.last_seq;
        topicLast = (await this.#reads.lastOf(subject, this.#state.firstSeq, streamLast))?.msg.seq ?? 0;
      } catch (err) {
        throw jetStreamFailure('append', this.#names.stream, err);
      }
      if (topicLast !== expected) {
        throw createError('CB_ERR_SEQ_MISMATCH', `the last message of ${msg.topic} is seq ${topicLast}, not ${expected}`, {
          details: { topic: msg.topic, expected, actual: topicLast },
        });
      }
      let ack: PubAck;
      try {
        // JetStream stores it only if the stream's last sequence is still the one read above.
        ack = await this.#publishOne(msg, subject, Math.max(this.#state.lastTime ?? 0, msg.time), streamLast);
        this.#notices.flush();
      } catch (err) {
        // Another write reached the stream first: read again (the topic may still be as expected).
        if (jsErrCode(err) === JS_WRONG_LAST_SEQUENCE && Date.now() < deadline && !this.#closed) continue;
        throw jetStreamFailure('append', this.#names.stream, err);
      }
      await this.#afterAppend();
      return { seq: ack.seq };
    }
  }

  async read(fromSeq: number, options?: ReadOptions): Promise<StoredMessage[]> {
    this.#check();
    const st = this.#state;
    return (await this.#reads.read(Math.max(fromSeq, st.firstSeq), st.lastSeq, options)).map((r) => r.msg);
  }

  async seqAtTime(timeMs: number): Promise<number | undefined> {
    this.#check();
    return this.#reads.seqAtTime(timeMs, this.#state.firstSeq, this.#state.lastSeq);
  }

  state(): StorageState {
    return this.#state.view();
  }

  async purge(options: { upToSeq?: number } = {}): Promise<number> {
    this.#check();
    await this.#state.refresh();
    const upTo = options.upToSeq;
    const st = this.#state;
    if (upTo !== undefined && upTo < st.firstSeq) return 0;
    // JetStream's purge up to a sequence past the end would move the sequence on: purge all instead.
    const opts: PurgeOpts | undefined = upTo === undefined || upTo >= st.lastSeq ? undefined : { seq: upTo + 1 };
    return this.#mutate('purge', async () => (await this.#jsm.streams.purge(this.#names.stream, opts)).purged);
  }

  async deleteMessage(seq: number): Promise<boolean> {
    this.#check();
    if (!Number.isSafeInteger(seq) || seq < 1) return false;
    // nats-server 2.9 does not answer a clustered delete past the last sequence: never ask one.
    if (seq > this.#state.lastSeq) await this.#state.refresh();
    if (seq > this.#state.lastSeq) return false;
    return this.#mutate('delete', async () => {
      try {
        return await this.#jsm.streams.deleteMessage(this.#names.stream, seq, false);
      } catch (err) {
        const code = jsErrCode(err);
        if (code === JS_DELETE_NOT_FOUND || code === JS_SEQ_NOT_FOUND) return false;
        throw err;
      }
    });
  }

  async purgeTopic(topic: string, options: { keep?: number } = {}): Promise<number> {
    this.#check();
    checkTopic(topic);
    const keep = checkKeep(options);
    const subject = storedSubject(this.#names, topic);
    if (subject === undefined) return 0;
    const opts = keep > 0 ? { filter: subject, keep } : { filter: subject };
    return this.#mutate('purge', async () => (await this.#jsm.streams.purge(this.#names.stream, opts)).purged);
  }

  async lastForTopic(topic: string): Promise<StoredMessage | undefined> {
    this.#check();
    checkTopic(topic);
    const subject = storedSubject(this.#names, topic);
    return subject === undefined ? undefined : (await this.#reads.lastOf(subject, this.#state.firstSeq, this.#state.lastSeq))?.msg;
  }

  async topicHeads(): Promise<Map<string, number>> {
    this.#check();
    return this.#reads.heads(this.#state.firstSeq, this.#state.lastSeq);
  }

  async topicSeqs(topic: string): Promise<number[]> {
    this.#check();
    checkTopic(topic);
    const subject = storedSubject(this.#names, topic);
    return subject === undefined ? [] : this.#reads.seqsOf(subject, this.#state.firstSeq, this.#state.lastSeq);
  }

  /** JetStream applies the limits itself; this refreshes the view and says how many went meanwhile. */
  async enforceRetention(_now?: number): Promise<number> {
    this.#check();
    const before = this.#state.view();
    await this.#state.refresh();
    const after = this.#state.view();
    return Math.max(0, before.messages + (after.lastSeq - before.lastSeq) - after.messages);
  }

  /**
   * Messages appended by other hubs: `listener` is called for each, in sequence order, once
   * state() counts it. Returns the function that stops the calls.
   */
  watch(listener: (topic: string, seq: number) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** A durable consumer kept by JetStream (a JetStream consumer of this log's stream), shared by every hub. */
  durableConsumer<S>(name: string, config: ResolvedConsumerConfig, saved: ConsumerState, host: ConsumerHost<S>): ServedConsumer<S> {
    const parts = { nc: this.#nc, jsm: this.#jsm, names: this.#names, logger: this.#logger };
    return new JetStreamConsumer<S>(this.#streamName, name, config, saved, host, parts);
  }

  /** Waits for the appends in flight, stops the watch and the refreshes. Nothing is deleted. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
    this.#notices.flush();
    this.#publisher.close();
    this.#follower?.stop();
    this.#listeners.clear();
  }

  /** A message stored by any hub, told once in order: counted, and told to the listeners unless it is ours. */
  #stored({ seq, topic, size, time, origin }: Told): void {
    if (this.#state.count(seq, size, time) && this.#state.unsettled > REFRESH_AFTER) void this.#state.refresh().catch(() => {});
    if (origin === this.#origin || this.#closed) return; // ours: its append tells the stream
    for (const l of this.#listeners) l(topic, seq);
  }

  /** A delete or purge, then a refresh so that state() shows it when the operation resolves. */
  async #mutate<T>(op: string, run: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (err) {
      throw jetStreamFailure(op, this.#names.stream, err);
    }
    await this.#state
      .refresh()
      .catch((err) => this.#logger.debug({ stream: this.#names.stream, error: String(err) }, 'stream: refresh failed'));
    return result;
  }

  #check(): void {
    if (this.#closed) throw createError('CB_ERR_STREAM_CLOSED', 'stream storage is closed');
  }
}
