/**
 * How a hub hears of the messages other hubs append to a shared JetStream log: the stream
 * republishes every message it stores, headers only, to `$<prefix>.WATCH.<name>.<part>.<topic>`
 * (JetStream's `republish`, in nats-server since 2.9), with its sequence in `Nats-Sequence`; each
 * hub subscribes there.
 *
 * Why this rather than the alternatives: a plain subscription on the log's own subjects sees a
 * publish before (and whether or not) JetStream stores it, without its sequence and with its
 * whole body; an ordered consumer per log and hub is an ephemeral consumer on one server: in the
 * kill test, when that server died, nats.js 2.29 kept asking it for the consumer's info, and new
 * consumers timed out, for 30 s and more (a hub deaf to the others); polling stream info adds its
 * interval to every delivery. A
 * republish is sent by the stream's leader once the message is stored, in sequence order, a few
 * dozen bytes, over a core subscription that nats.js restores on reconnect.
 *
 * It is at most once: a notice missed while disconnected, or lost in a leader change, shows as a
 * jump in sequence (or in a later stream info), and the follower then reads what it missed from
 * the leader. Either way the host hears of every stored message once, in sequence order.
 */
import type { Msg, MsgHdrs, NatsConnection, Status, Subscription } from 'nats';
import { utf8Length } from '../../core/protocol/utf8.js';
import type { Logger } from '../../core/util/logger.js';
import { H_NATS_MSG_SIZE, H_ORIGIN, entriesOf, headerBytes, recordSize, timeOf } from './jetstream-codec.js';
import type { Read } from './jetstream-reads.js';

export interface Hint {
  seq: number;
  subject: string;
  /** The message's own headers, with JetStream's Nats-* ones. */
  headers: MsgHdrs | undefined;
}

/** Most messages read at once to fill a gap. */
const CATCH_UP_PAGE = 256;

export interface FollowerHost {
  /** A message stored in the log, told once, in sequence order (`origin`: the CB-Origin of its writer). */
  stored(seq: number, subject: string, size: number, time: number, origin: string | undefined): void;
  /** Stored messages from `fromSeq` to `upTo`, in order (a gap being filled). */
  read(fromSeq: number, upTo: number, maxMessages: number): Promise<Read[]>;
  /** The connection came back: notices may have been missed, a stream info will tell. */
  reconnected(): void;
}

/** Turns the notices, and the sequences stream info shows, into one ordered account of what was stored. */
export class LogFollower {
  #next: number;
  /** The highest sequence known stored and not told yet. */
  #behind = 0;
  #catching: Promise<void> | undefined;
  readonly #hints: AppendHints;
  #stopped = false;

  constructor(
    nc: NatsConnection,
    filter: string,
    /** The first sequence not told yet. */
    startSeq: number,
    private readonly host: FollowerHost,
    private readonly logger: Logger,
  ) {
    this.#next = startSeq;
    this.#hints = new AppendHints(
      nc,
      filter,
      (h) => this.#heard(h),
      () => host.reconnected(),
      logger,
    );
  }

  /** The log holds messages up to `seq` (a stream info says so): any not told yet are read. */
  seen(seq: number): void {
    if (seq < this.#next || this.#stopped) return;
    this.#behind = Math.max(this.#behind, seq);
    this.#catching ??= this.#catchUp().finally(() => {
      this.#catching = undefined;
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#hints.stop();
  }

  #heard(h: Hint): void {
    if (h.seq < this.#next) return;
    if (h.seq > this.#next || this.#catching !== undefined) return this.seen(h.seq);
    this.#next = h.seq + 1;
    const size = recordSize(utf8Length(h.subject), headerBytes(entriesOf(h.headers)), Number(h.headers?.get(H_NATS_MSG_SIZE) ?? 0));
    this.host.stored(h.seq, h.subject, size, timeOf(h.headers, Date.now), h.headers?.get(H_ORIGIN) || undefined);
  }

  async #catchUp(): Promise<void> {
    while (!this.#stopped && this.#behind >= this.#next) {
      let page: Read[];
      try {
        page = await this.host.read(this.#next, this.#behind, CATCH_UP_PAGE);
      } catch (err) {
        // The next stream info (or notice) tries again.
        this.logger.debug({ subject: 'catch-up', error: String(err) }, 'stream: reading missed appends failed');
        return;
      }
      if (this.#stopped) return;
      if (page.length === 0) this.#next = this.#behind + 1; // deleted meanwhile
      for (const r of page) {
        if (r.msg.seq < this.#next) continue;
        this.#next = r.msg.seq + 1;
        this.host.stored(r.msg.seq, r.subject, r.size, r.msg.time, r.origin);
      }
    }
  }
}

class AppendHints {
  readonly #sub: Subscription;
  /** The connection's events (nats.js's iterator has a `stop`, which ends the listening). */
  readonly #status: AsyncIterable<Status> & { stop?: () => void };
  #stopped = false;

  constructor(
    nc: NatsConnection,
    filter: string,
    onHint: (hint: Hint) => void,
    /** The connection came back: notices may have been missed meanwhile. */
    onReconnect: () => void,
    logger: Logger,
  ) {
    this.#sub = nc.subscribe(filter, {
      callback: (err: Error | null, m: Msg) => {
        if (err !== null) {
          logger.warn({ subject: filter, error: String(err) }, 'stream: the JetStream append notices stopped');
          return;
        }
        const seq = Number(m.headers?.get('Nats-Sequence') ?? Number.NaN);
        const subject = m.headers?.get('Nats-Subject') ?? '';
        if (Number.isSafeInteger(seq) && seq > 0 && subject !== '') onHint({ seq, subject, headers: m.headers });
      },
    });
    const status: AsyncIterable<Status> & { stop?: () => void } = nc.status();
    this.#status = status;
    void (async () => {
      for await (const s of status) if (!this.#stopped && s.type === 'reconnect') onReconnect();
    })();
  }

  stop(): void {
    this.#stopped = true;
    this.#sub.unsubscribe();
    this.#status.stop?.();
  }
}
