/**
 * Pulling from one JetStream consumer: one pull request (`CONSUMER.MSG.NEXT`) at a time, answered
 * on a private inbox, and what comes back turned into deliveries. The inbox lives while the hub
 * has members to hand messages to: `stop()` unsubscribes it, and JetStream drops a waiting pull
 * request whose inbox nobody listens to, so a hub without members stops taking messages.
 *
 * Why not nats.js's `consumer.fetch()`: it asks for the consumer's info first, and in the kill
 * test nats.js 2.29 kept asking a dead server for it; a raw request has no such step, and the
 * delivery count and stream sequence are read from the ack subject, as nats.js does. Each request
 * asks for idle heartbeats: a request the server dropped unanswered (a consumer whose leader is
 * not elected yet drops it silently, and so does a node that dies) shows as silence, and is made
 * again.
 */
import { type Msg, type NatsConnection, type Subscription, createInbox, nanos } from 'nats';
import type { Logger } from '../../core/util/logger.js';
import type { StoredMessage } from '../../core/streams/storage.js';
import { unrefTimer } from '../../core/util/timers.js';
import { decodeStored } from './jetstream-codec.js';

export interface Pulled {
  msg: StoredMessage;
  /** JetStream's delivery count: 1 on the first delivery. */
  deliveries: number;
  /** Where this delivery's ack goes (`$JS.ACK.…`). */
  reply: string;
}

export interface PullHost {
  pulled(p: Pulled): void;
  /** The request in flight ended (its batch came, it expired, or it was refused): pull again when there is room. */
  ended(): void;
  /** JetStream deleted the consumer. */
  gone(): void;
}

/** The server says it still holds the request this often while it has nothing to send. */
const HEARTBEAT_MS = 1_000;
/** A request not heard of for this long is lost (its consumer had no leader yet, a node died): pull again. */
const LOST_AFTER_MS = 2 * HEARTBEAT_MS + 500;

const encoder = new TextEncoder();

export class ConsumerPull {
  readonly #nc: NatsConnection;
  readonly #api: string;
  #sub: Subscription | undefined;
  /** `<inbox>.`: request k is answered on this followed by k. */
  #inbox = '';
  #request = 0;
  /** Messages the current request may still bring; 0 when none is in flight. */
  #left = 0;
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  constructor(
    nc: NatsConnection,
    jetStream: string,
    durable: string,
    private readonly subjectPrefix: string,
    private readonly host: PullHost,
    private readonly logger: Logger,
  ) {
    this.#nc = nc;
    this.#api = `$JS.API.CONSUMER.MSG.NEXT.${jetStream}.${durable}`;
  }

  /** A request is in flight. */
  get active(): boolean {
    return this.#left > 0;
  }

  /** Asks for up to `batch` messages, waiting up to `expiresMs` for them. */
  request(batch: number, expiresMs: number): void {
    if (this.#sub === undefined) {
      this.#inbox = `${createInbox()}.`;
      this.#sub = this.#nc.subscribe(`${this.#inbox}*`, { callback: (err, m) => this.#received(err, m) });
    }
    this.#request++;
    this.#left = batch;
    const body = { batch, expires: nanos(expiresMs), idle_heartbeat: nanos(HEARTBEAT_MS) };
    this.#nc.publish(this.#api, encoder.encode(JSON.stringify(body)), { reply: `${this.#inbox}${this.#request}` });
    this.#heard();
  }

  /** Stops listening: JetStream drops the requests in flight. */
  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#left = 0;
    this.#clearWatchdog();
  }

  #heard(): void {
    this.#clearWatchdog();
    this.#watchdog = setTimeout(() => this.#end(), LOST_AFTER_MS);
    unrefTimer(this.#watchdog);
  }

  #clearWatchdog(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  #end(): void {
    this.#clearWatchdog();
    if (this.#left === 0) return;
    this.#left = 0;
    this.host.ended();
  }

  #received(err: Error | null, m: Msg): void {
    if (err !== null) {
      this.logger.warn({ subject: this.#api, error: String(err) }, 'stream consumer: pulling from JetStream failed');
      this.#end();
      return;
    }
    // Answers to an earlier request (given up as lost) are still deliveries, but only the current one is counted.
    const current = m.subject === `${this.#inbox}${this.#request}` && this.#left > 0;
    const at = ackPosition(m.reply);
    if (at === undefined) {
      // A status: 100 heartbeat, 404 no messages, 408 request expired, 409 consumer deleted or a limit.
      const code = m.headers?.code ?? 0;
      if (code === 409 && /consumer deleted/i.test(m.headers?.description ?? '')) {
        this.stop();
        this.host.gone();
      } else if (current && code === 100) this.#heard();
      else if (current) this.#end();
      return;
    }
    const msg = decodeStored(
      { seq: at.seq, subject: m.subject, header: m.headers, data: m.data, time: new Date(at.timeMs) },
      this.subjectPrefix,
    );
    this.host.pulled({ msg, deliveries: at.deliveries, reply: m.reply as string });
    if (!current) return;
    if (--this.#left <= 0) this.#end();
    else this.#heard();
  }
}

/**
 * Delivery count, stream sequence and time from an ack subject:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>`, or with a domain and an
 * account hash after `ACK` and a token at the end (12 tokens).
 */
export function ackPosition(reply: string | undefined): { deliveries: number; seq: number; timeMs: number } | undefined {
  if (reply === undefined || !reply.startsWith('$JS.ACK.')) return undefined;
  const t = reply.split('.');
  const o = t.length === 9 ? 4 : t.length >= 12 ? 6 : -1;
  if (o < 0) return undefined;
  const deliveries = Number(t[o]);
  const seq = Number(t[o + 1]);
  const timeMs = Math.floor(Number(t[o + 3]) / 1e6);
  if (!Number.isSafeInteger(deliveries) || !Number.isSafeInteger(seq) || deliveries < 1 || seq < 1) return undefined;
  return { deliveries, seq, timeMs: Number.isFinite(timeMs) ? timeMs : Date.now() };
}
