/**
 * How a hub hears of the messages other hubs append to a shared JetStream log, as one ordered
 * account: every stored message told once, in sequence order. What it hears from:
 *
 * - the other hubs' notices (jetstream-notices.ts), on `$<prefix>.WATCH.<name>.<part>`;
 * - this hub's own PubAcks (`own`): the hub's NATS connection does not echo, so its own notices
 *   never come back, and its own appends are told by the append itself;
 * - on streams created before the notices, JetStream's republish of each stored message, headers
 *   only, under `$<prefix>.WATCH.<name>.<part>.<topic>` (nats-server 2.9 cannot take a stream's
 *   republish away): the same messages again, told once all the same;
 * - stream info (`seen`), taken periodically, after a reconnect, and after appends.
 *
 * Notices from several hubs interleave: seq 11 may be told before seq 10, whose hub sends its
 * notice at the end of its own turn. What arrives ahead of a gap is held, and the gap is read from
 * the stream only when no notice filled it for a grace (`graceMs`): a reorder costs no read, a hub
 * that died between its PubAck and its notice (or a notice lost while disconnected, or a publish
 * by something that is not a hub) costs one read of what is missing, a grace later.
 *
 * Why not the alternatives: a plain subscription on the log's own subjects sees a publish before
 * (and whether or not) JetStream stores it, without its sequence and with its whole body; an
 * ordered consumer per log and hub is an ephemeral consumer on one server: in the kill test, when
 * that server died, nats.js 2.29 kept asking it for the consumer's info, and new consumers timed
 * out, for 30 s and more (a hub deaf to the others); polling stream info adds its interval to every
 * delivery; a republish costs the servers a message per stored message (jetstream-notices.ts).
 */
import type { Msg, NatsConnection, Status, Subscription } from 'nats';
import { utf8Length } from '../../core/protocol/utf8.js';
import type { Logger } from '../../core/util/logger.js';
import { unrefTimer } from '../../core/util/timers.js';
import { H_NATS_MSG_SIZE, H_ORIGIN, entriesOf, headerBytes, recordSize, timeOf } from './jetstream-codec.js';
import type { LogNames } from './jetstream-names.js';
import { decodeNotice, type Told } from './jetstream-notices.js';
import type { Read } from './jetstream-reads.js';

/** Most messages read at once to fill a gap. */
const CATCH_UP_PAGE = 256;
/** Most messages held ahead of a gap: past it they are dropped and read from the stream with the gap. */
const MAX_HELD = 10_000;

export interface FollowerHost {
  /** A message stored in the log, told once, in sequence order (`origin`: the CB-Origin of its writer). */
  stored(told: Told): void;
  /** Stored messages from `fromSeq` to `upTo`, in order (a gap being filled). */
  read(fromSeq: number, upTo: number, maxMessages: number): Promise<Read[]>;
  /** The connection came back: notices may have been missed, a stream info will tell. */
  reconnected(): void;
}

/** Turns the notices, this hub's own appends and stream info into one ordered account of what was stored. */
export class LogFollower {
  /** The first sequence not told yet. */
  #next: number;
  /** The highest sequence known stored. */
  #behind = 0;
  /** Known stored past a gap: seq -> what to tell, or null for this hub's own append (told by the append). */
  readonly #held = new Map<number, Told | null>();
  #catching: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** `#next` when the grace timer was set: if it moved meanwhile, notices are still filling the gaps. */
  #waitedAt = 0;
  readonly #hints: AppendHints;
  #stopped = false;

  constructor(
    nc: NatsConnection,
    names: LogNames,
    /** The first sequence not told yet. */
    startSeq: number,
    private readonly host: FollowerHost,
    private readonly logger: Logger,
    /** How long a gap may wait for its notice before it is read from the stream. */
    private readonly graceMs: number,
  ) {
    this.#next = startSeq;
    this.#hints = new AppendHints(
      nc,
      names,
      (t) => this.#heard(t, t),
      () => host.reconnected(),
      logger,
    );
  }

  /** The log holds messages up to `seq` (a stream info says so): any not told within the grace are read. */
  seen(seq: number): void {
    if (seq < this.#next || this.#stopped) return;
    this.#behind = Math.max(this.#behind, seq);
    this.#settle();
  }

  /** This hub's own append, acknowledged by JetStream as new: its append tells it, the follower only counts it. */
  own(seq: number): void {
    this.#heard({ seq }, null);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#hints.stop();
  }

  #heard({ seq }: { seq: number }, told: Told | null): void {
    if (seq < this.#next || this.#stopped) return;
    if (seq === this.#next) {
      this.#next++;
      if (told !== null) this.host.stored(told);
      this.#drain();
    } else if (!this.#held.has(seq)) {
      this.#held.set(seq, told);
      if (seq > this.#behind) this.#behind = seq;
      if (this.#held.size > MAX_HELD) {
        this.#held.clear(); // read with the gap instead
        this.#catchUp();
        return;
      }
    }
    this.#settle();
  }

  /** Tells what was held, as far as it goes on without a gap. */
  #drain(): void {
    for (let t = this.#held.get(this.#next); t !== undefined; t = this.#held.get(this.#next)) {
      this.#held.delete(this.#next);
      this.#next++;
      if (t !== null) this.host.stored(t);
    }
  }

  /** A gap waits for its notice for a grace (one timer, not one per notice), then is read. */
  #settle(): void {
    if (this.#next > this.#behind || this.#catching !== undefined || this.#timer !== undefined || this.#stopped) return;
    this.#waitedAt = this.#next;
    this.#timer = unrefTimer(setTimeout(() => this.#graceOver(), this.graceMs));
  }

  #graceOver(): void {
    this.#timer = undefined;
    if (this.#next > this.#behind || this.#stopped) return;
    if (this.#next !== this.#waitedAt) return this.#settle(); // moved on: that gap was filled, give this one its grace
    this.#catchUp();
  }

  #catchUp(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#catching ??= this.#readGaps().finally(() => {
      this.#catching = undefined;
      this.#settle();
    });
  }

  /** Reads every stretch no notice told of, up to `#behind`, and tells it with what was held. */
  async #readGaps(): Promise<void> {
    while (!this.#stopped && this.#behind >= this.#next) {
      const from = this.#next;
      // The stretch ends before the first held message past it.
      let upTo = this.#behind;
      for (const seq of this.#held.keys()) if (seq > from && seq <= upTo) upTo = seq - 1;
      this.logger.debug({ from, upTo }, 'stream: reading appends no notice told of');
      let page: Read[];
      try {
        page = await this.host.read(from, upTo, CATCH_UP_PAGE);
      } catch (err) {
        // Tried again a grace later (#settle).
        this.logger.debug({ subject: 'catch-up', error: String(err) }, 'stream: reading missed appends failed');
        return;
      }
      if (this.#stopped) return;
      if (page.length === 0 && this.#next <= upTo) this.#next = upTo + 1; // deleted meanwhile
      for (const r of page) {
        if (r.msg.seq < this.#next) continue; // told by a notice meanwhile
        this.#held.delete(r.msg.seq);
        this.#next = r.msg.seq + 1;
        this.host.stored({ seq: r.msg.seq, topic: r.msg.topic, size: r.size, time: r.msg.time, origin: r.origin });
      }
      // A held message deleted from the stream before the read is passed over.
      for (const seq of this.#held.keys()) if (seq < this.#next) this.#held.delete(seq);
      this.#drain();
    }
  }
}

/** The subscriptions: the hubs' notices and, for older streams, JetStream's republish. */
class AppendHints {
  readonly #subs: Subscription[];
  /** The connection's events (nats.js's iterator has a `stop`, which ends the listening). */
  readonly #status: AsyncIterable<Status> & { stop?: () => void };
  #stopped = false;

  constructor(
    nc: NatsConnection,
    names: LogNames,
    onTold: (told: Told) => void,
    /** The connection came back: notices may have been missed meanwhile. */
    onReconnect: () => void,
    logger: Logger,
  ) {
    const failed = (subject: string, err: Error): void =>
      logger.warn({ subject, error: String(err) }, 'stream: the JetStream append notices stopped');
    const notices = nc.subscribe(names.noticeSubject, {
      callback: (err: Error | null, m: Msg) => {
        if (err !== null) return failed(names.noticeSubject, err);
        for (const t of decodeNotice(m.data)) onTold(t);
      },
    });
    const republished = nc.subscribe(names.watchFilter, {
      callback: (err: Error | null, m: Msg) => {
        if (err !== null) return failed(names.watchFilter, err);
        const t = fromRepublish(m, names.subjectPrefix);
        if (t !== undefined) onTold(t);
      },
    });
    this.#subs = [notices, republished];
    const status: AsyncIterable<Status> & { stop?: () => void } = nc.status();
    this.#status = status;
    void (async () => {
      for await (const s of status) if (!this.#stopped && s.type === 'reconnect') onReconnect();
    })();
  }

  stop(): void {
    this.#stopped = true;
    for (const s of this.#subs) s.unsubscribe();
    this.#status.stop?.();
  }
}

/** What a republished message (headers only, JetStream's Nats-* added) tells. */
function fromRepublish(m: Msg, subjectPrefix: string): Told | undefined {
  const h = m.headers;
  const seq = Number(h?.get('Nats-Sequence') ?? Number.NaN);
  const subject = h?.get('Nats-Subject') ?? '';
  if (!Number.isSafeInteger(seq) || seq < 1 || !subject.startsWith(subjectPrefix)) return undefined;
  const size = recordSize(utf8Length(subject), headerBytes(entriesOf(h)), Number(h?.get(H_NATS_MSG_SIZE) ?? 0));
  return { seq, topic: subject.slice(subjectPrefix.length), size, time: timeOf(h, Date.now), origin: h?.get(H_ORIGIN) || undefined };
}
