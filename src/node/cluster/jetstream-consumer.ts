/**
 * A durable consumer of a shared JetStream log, kept by JetStream: one JetStream durable consumer
 * of the log's stream, under the crossbus name, which every hub serving it pulls from. Its
 * position, which message is out and when it goes out again are JetStream's, so a message is
 * handed to one member of one hub at a time, whichever hubs the members are on.
 *
 * What crossbus promises on top is kept here for the deliveries this hub hands out: a fresh token
 * per delivery and an ack deadline (`ackWaitMs` after the hub received it), after which an ack is
 * refused as stale; nak delays and backoff; and the dead letters: at the deadline or a nak of the
 * `maxDeliver`th delivery, or on term, the hub stores the dead letter and then terminates the
 * message in JetStream. A message that comes back past `maxDeliver` (its hub died before it could)
 * is dead-lettered on arrival. See jetstream-consumer-config.ts for how the clocks line up.
 *
 * Messages pulled while no member has room wait here, kept from JetStream's redelivery by
 * progress acks, and go to the first member that drains.
 */
import type { JetStreamManager, NatsConnection } from 'nats';
import { createError } from '../../core/errors/index.js';
import type { ConsumerState } from '../../core/streams/catalog.js';
import type { ResolvedConsumerConfig } from '../../core/streams/config.js';
import {
  backoffDelay,
  type ConsumerHost,
  deliveryEnvelope,
  type Member,
  nextFreeMember,
  type ServedConsumer,
  type SettleResult,
  takeMember,
} from '../../core/streams/served-consumer.js';
import type { AckPayload, ConsumerInfo } from '../../core/streams/wire.js';
import type { Logger } from '../../core/util/logger.js';
import { unrefTimer } from '../../core/util/timers.js';
import { deleteConsumer, ensureConsumer } from './jetstream-consumer-config.js';
import type { LogNames } from './jetstream-names.js';
import { ConsumerPull, type Pulled } from './jetstream-pull.js';

/** Most messages one pull request asks for. */
const PULL_BATCH = 256;
/** How long a pull request waits at the server for messages. */
const PULL_EXPIRES_MS = 5_000;
/** A dead letter that could not be stored comes back this long later, to be tried again. */
const DEAD_LETTER_RETRY_MS = 1_000;
/** After a failed JetStream call (creating or updating the consumer), the next try. */
const RETRY_MS = 1_000;

interface Held<S> {
  pulled: Pulled;
  deadline: number;
  token: number;
  member: Member<S> | undefined;
}

export interface JetStreamConsumerParts {
  nc: NatsConnection;
  jsm: JetStreamManager;
  names: LogNames;
  logger: Logger;
}

const encoder = new TextEncoder();

/** JetStream's negative ack: out again after `delayMs` (0: at once). */
function nak(delayMs: number): string {
  return delayMs > 0 ? `-NAK ${JSON.stringify({ delay: delayMs * 1_000_000 })}` : '-NAK';
}

export class JetStreamConsumer<S = unknown> implements ServedConsumer<S> {
  readonly ephemeral = false;
  readonly members: Member<S>[] = [];
  readonly #p: JetStreamConsumerParts;
  readonly #host: ConsumerHost<S>;
  readonly #pull: ConsumerPull;
  readonly #saved: ConsumerState;
  #config: ResolvedConsumerConfig;
  /** Handed to a member, not settled; Map order is deadline order. */
  readonly #out = new Map<number, Held<S>>();
  /** Pulled, waiting for a member with room, in order. */
  #queue: Held<S>[] = [];
  /** On their way to the dead letters. */
  readonly #dying = new Set<number>();
  /** JetStream has the consumer with the settings in force. */
  #synced = false;
  #syncing = false;
  #ackFloor = 0;
  /** Delivered and not acked on every hub, as JetStream last said (`refresh`). */
  #pendingEverywhere = 0;
  #token = (Math.random() * 0xffff_ffff) >>> 0;
  #cursor = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(
    readonly stream: string,
    readonly name: string,
    config: ResolvedConsumerConfig,
    saved: ConsumerState,
    host: ConsumerHost<S>,
    parts: JetStreamConsumerParts,
  ) {
    this.#config = config;
    this.#saved = saved;
    this.#host = host;
    this.#p = parts;
    this.#pull = new ConsumerPull(
      parts.nc,
      parts.names.stream,
      name,
      parts.names.subjectPrefix,
      {
        pulled: (p) => this.#pulled(p),
        ended: () => this.pump(),
        gone: () => this.#gone(),
      },
      parts.logger,
    );
  }

  get config(): ResolvedConsumerConfig {
    return this.#config;
  }

  /** New settings (a member joined with its own): JetStream's consumer is updated before the next pull. */
  set config(c: ResolvedConsumerConfig) {
    this.#config = c;
    this.#synced = false;
  }

  get outstanding(): number {
    return this.#out.size + this.#queue.length + this.#dying.size;
  }

  state(): ConsumerState {
    return { nextSeq: this.#ackFloor + 1, plan: [], outstanding: [] };
  }

  info(): ConsumerInfo {
    return {
      durable: this.name,
      ackFloor: this.#ackFloor,
      pending: Math.max(this.#out.size, this.#pendingEverywhere),
      waiting: this.#queue.length + this.#dying.size,
      members: this.members.length,
    };
  }

  /** Creates the JetStream consumer at the deliver policy (or takes the one that exists). */
  async open(): Promise<void> {
    await this.#sync(false);
  }

  /** JetStream's ack floor and count of unacked deliveries, for `info()`. */
  async refresh(): Promise<void> {
    const info = await this.#p.jsm.consumers.info(this.#p.names.stream, this.name);
    this.#ackFloor = info.ack_floor.stream_seq;
    this.#pendingEverywhere = info.num_ack_pending;
  }

  /** Deletes the JetStream consumer (gone already is fine). */
  async destroy(): Promise<void> {
    this.close();
    await deleteConsumer(this.#p.jsm, this.#p.names.stream, this.name);
  }

  addMember(member: Member<S>): void {
    this.members.push(member);
    this.pump();
  }

  removeMember(session: S, sid: number): boolean {
    const gone = takeMember(this.members, session, sid);
    if (gone === undefined) return false;
    for (const [seq, h] of this.#out) {
      if (h.member !== gone) continue;
      this.#out.delete(seq);
      this.#giveUp(h, 0);
    }
    if (this.members.length === 0) this.#idle();
    this.pump();
    return true;
  }

  settle(seq: number, ack: AckPayload): SettleResult {
    const h = this.#out.get(seq);
    const now = this.#host.now();
    if (h === undefined || h.token !== ack.token || h.deadline < now) return 'stale';
    this.#out.delete(seq);
    switch (ack.op) {
      case 'ack':
        this.#reply(h, '+ACK');
        break;
      case 'progress':
        this.#reply(h, '+WPI');
        h.deadline = now + this.#config.ackWaitMs;
        this.#out.set(seq, h); // to the back: Map order stays deadline order
        this.#arm();
        return 'ok';
      case 'nak':
        this.#giveUp(h, ack.delayMs ?? backoffDelay(this.#config.backoffMs, h.pulled.deliveries));
        break;
      case 'term':
        this.#kill(h, ack.reason === undefined || ack.reason === '' ? 'term' : `term: ${ack.reason}`, h.pulled.deliveries);
        break;
    }
    this.#arm();
    this.pump();
    return 'ok';
  }

  pump(): void {
    if (this.#closed || this.members.length === 0) return;
    if (!this.#synced) {
      if (!this.#syncing)
        void this.#sync(true).then(
          () => this.pump(),
          () => this.#retryLater(),
        );
      return;
    }
    while (this.#queue.length > 0) {
      const m = this.#freeMember();
      if (m === undefined) return;
      const h = this.#queue.shift() as Held<S>;
      // It waited here: JetStream's clock starts again with the member's.
      this.#reply(h, '+WPI');
      h.deadline = this.#host.now() + this.#config.ackWaitMs;
      this.#deliver(h, m);
    }
    if (this.#pull.active || this.#freeMember() === undefined) return;
    const room = this.#config.maxAckPending - this.outstanding;
    if (room > 0) this.#pull.request(Math.min(PULL_BATCH, room), PULL_EXPIRES_MS);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    // What this hub held goes to the others at once rather than after its ack wait.
    for (const h of this.#out.values()) this.#reply(h, nak(0));
    this.#out.clear();
    this.#idle();
  }

  /** Creates (or, `existing`, finds and updates) the JetStream consumer. */
  async #sync(existing: boolean): Promise<void> {
    this.#syncing = true;
    try {
      const info = await ensureConsumer(this.#p.jsm, this.#p.names.stream, this.name, this.#config, existing ? this.#saved : undefined);
      this.#ackFloor = info.ack_floor.stream_seq;
      this.#synced = true;
    } finally {
      this.#syncing = false;
    }
  }

  #retryLater(): void {
    if (this.#closed) return;
    this.#p.logger.warn({ stream: this.stream, consumer: this.name }, 'stream consumer: JetStream consumer unavailable; retrying');
    unrefTimer(setTimeout(() => this.pump(), RETRY_MS));
  }

  #pulled(p: Pulled): void {
    if (this.#closed) return;
    const seq = p.msg.seq;
    // JetStream sent it out again: a delivery of it this hub still holds is stale.
    this.#out.delete(seq);
    this.#queue = this.#queue.filter((q) => q.pulled.msg.seq !== seq);
    const h: Held<S> = { pulled: p, deadline: this.#host.now() + this.#config.ackWaitMs, token: 0, member: undefined };
    if (p.deliveries > this.#config.maxDeliver) {
      this.#kill(h, 'max-deliver', p.deliveries - 1);
      return;
    }
    if (this.members.length === 0) {
      this.#reply(h, nak(0));
      return;
    }
    const m = this.#queue.length === 0 ? this.#freeMember() : undefined;
    if (m === undefined) this.#queue.push(h);
    else this.#deliver(h, m);
    this.#arm();
  }

  #deliver(h: Held<S>, member: Member<S>): void {
    this.#cursor = (this.members.indexOf(member) + 1) % Math.max(1, this.members.length);
    this.#token = (this.#token + 1) >>> 0;
    h.token = this.#token;
    h.member = member;
    this.#host.send(member, deliveryEnvelope(h.pulled.msg, h.pulled.deliveries, h.token, member.sid));
    this.#out.set(h.pulled.msg.seq, h);
    this.#arm();
  }

  /** The delivery failed (nak, a member gone): out again after `delayMs`, or to the dead letters after the last one. */
  #giveUp(h: Held<S>, delayMs: number): void {
    const d = h.pulled.deliveries;
    if (d >= this.#config.maxDeliver) this.#kill(h, 'max-deliver', d);
    else this.#reply(h, nak(delayMs));
  }

  /** Stores the dead letter, then terminates the message in JetStream; unsettled until then. */
  #kill(h: Held<S>, reason: string, attempts: number): void {
    const seq = h.pulled.msg.seq;
    this.#dying.add(seq);
    this.#host
      .deadLetter(h.pulled.msg, reason, attempts)
      .then(
        () => this.#reply(h, '+TERM'),
        () => this.#reply(h, nak(DEAD_LETTER_RETRY_MS)),
      )
      .finally(() => {
        this.#dying.delete(seq);
        this.pump();
      });
  }

  #reply(h: Held<S>, what: string): void {
    try {
      this.#p.nc.publish(h.pulled.reply, encoder.encode(what));
    } catch (err) {
      // Closed connection: JetStream sends the message out again after its ack wait.
      this.#p.logger.debug({ stream: this.stream, consumer: this.name, error: String(err) }, 'stream consumer: ack not sent');
    }
  }

  /** No members here any more: stop taking messages, and hand back those waiting. */
  #idle(): void {
    this.#pull.stop();
    for (const h of this.#queue) this.#reply(h, nak(0));
    this.#queue = [];
  }

  #gone(): void {
    this.close();
    this.#host.ended(
      this,
      createError('CB_ERR_CONSUMER_NOT_FOUND', `consumer ${this.name} was deleted`, {
        details: { stream: this.stream, durable: this.name },
      }),
    );
  }

  #freeMember(): Member<S> | undefined {
    return nextFreeMember(this.members, this.#cursor, (m) => this.#host.canSend(m));
  }

  /** Ack deadlines: a delivery past its deadline is stale (and the last one dies); a waiting message is kept. */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#host.now();
    for (const [seq, h] of this.#out) {
      if (h.deadline > now) break;
      this.#out.delete(seq);
      // JetStream sends it out again after the backoff; the last delivery goes to the dead letters.
      if (h.pulled.deliveries >= this.#config.maxDeliver) this.#kill(h, 'max-deliver', h.pulled.deliveries);
    }
    for (const h of this.#queue) {
      if (h.deadline > now) continue;
      this.#reply(h, '+WPI');
      h.deadline = now + this.#config.ackWaitMs;
    }
    this.#arm();
    this.pump();
  };

  #arm(): void {
    if (this.#closed) return;
    let at = Number.POSITIVE_INFINITY;
    for (const h of this.#out.values()) {
      at = h.deadline;
      break;
    }
    for (const h of this.#queue) if (h.deadline < at) at = h.deadline;
    if (at === Number.POSITIVE_INFINITY || at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, at - this.#host.now()));
  }
}
