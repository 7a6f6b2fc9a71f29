/**
 * Request/reply on a Bus: requests wait in a table for the reply that comes to the bus's private
 * inbox (one subscription, `<inbox>.>`, made on the first request), and services answer requests
 * with their handler's return value, or with a typed error when the handler fails.
 */
import { CrossbusError, RequestError, createError } from '../core/errors/index.js';
import { Kind, PayloadType, envelope, type Envelope, type Headers, type PayloadFields } from '../core/protocol/envelope.js';
import { encodeJson } from '../core/util/json.js';
import { randomHex } from '../core/util/random.js';
import { RESOLVED } from '../core/util/microtask.js';
import { isThenable } from '../core/util/thenable.js';
import { Message } from './message.js';
import { errorFromPayload, payloadOf } from './payload.js';
import { PendingTable } from './pending.js';
import type { MessageHandler, Subscription, SubscribeOptions } from './subscription.js';

export interface RequestOptions {
  /** @default the bus's requestTimeoutMs (5000) */
  timeoutMs?: number;
  /** @default none */
  headers?: Headers;
}

export interface ServeOptions {
  /** Instances in the same group share the load: each request goes to one. @default the topic */
  group?: string;
  /** This instance's relative share of the group's requests (1..1000). @default 1 */
  weight?: number;
}

export type ServiceHandler<T = unknown> = (msg: Message<T>) => unknown | Promise<unknown>;

/** Header set on a reply whose handler failed; the payload is the serialized error. */
export const HEADER_ERROR = 'cb-error';

const INBOX_PREFIX = '_INBOX.';

/** What request/reply needs of its Bus's session. */
export interface RequestReplyHost {
  opId(): number;
  /** Appends a frame to the outgoing batch (throws a typed error when it cannot). */
  write(env: Envelope): void;
  reportError(error: CrossbusError, context: Record<string, unknown>): void;
}

/** Subscribes with every check (the Bus): the reply inbox and services are subscriptions like any other. */
export interface Subscriber {
  subscribe<T>(topic: string, handler?: MessageHandler<T>, options?: SubscribeOptions): Subscription<T>;
}

export class RequestReply {
  /** Replies come to `<inboxPrefix><request id>`: a random inbox until the hub assigns one. */
  inboxPrefix = `${INBOX_PREFIX}${randomHex(12)}.`;
  /** The inbox subscription's sid; 0 until the first request (and after the hub assigned a new inbox). */
  inboxSid = 0;
  /** Service handlers still running: drain() lets them finish. */
  readonly running = new Set<Promise<unknown>>();
  /** Requests answered by a reply on our inbox (or ERROR NO_RESPONDERS), by id. */
  readonly #requests = new PendingTable<Message>();
  readonly #host: RequestReplyHost;
  readonly #subscriber: Subscriber;

  constructor(host: RequestReplyHost, subscriber: Subscriber) {
    this.#host = host;
    this.#subscriber = subscriber;
  }

  /** Sends a request (its topic, timeout and payload already checked); resolves with the reply. */
  request(topic: string, payload: PayloadFields, timeoutMs: number, headers: Headers | undefined): Promise<Message> {
    if (this.inboxSid === 0) this.inboxSid = this.#subscriber.subscribe(`${this.inboxPrefix}>`).sid;
    const id = this.#host.opId();
    const promise = this.#requests.add(
      id,
      timeoutMs,
      () => new RequestError('CB_ERR_TIMEOUT', `no reply to ${topic} within ${timeoutMs} ms`, { details: { topic, timeoutMs } }),
    );
    try {
      this.#host.write(
        envelope(Kind.REQUEST, {
          id,
          topic,
          replyTo: `${this.inboxPrefix}${id}`,
          headers,
          payloadType: payload.payloadType,
          payload: payload.payload,
          payloadText: payload.payloadText,
          timestamp: Date.now(),
        }),
      );
    } catch (err) {
      this.#requests.reject(id, err as CrossbusError);
    }
    return promise;
  }

  /** A MESSAGE on the inbox: settles its request, unless it timed out already. */
  onReply(env: Envelope): void {
    const id = Number(env.topic.slice(this.inboxPrefix.length));
    // A late reply (its request timed out) settles nothing.
    if (env.headers?.[HEADER_ERROR] === undefined) {
      this.#requests.resolve(id, new Message(env));
      return;
    }
    const remote = errorFromPayload(env.payload);
    this.#requests.reject(
      id,
      remote.code === 'CB_ERR_INTERNAL' ? createError('CB_ERR_HANDLER_FAILED', remote.message, { details: remote.details ?? {} }) : remote,
    );
  }

  /** An ERROR answering request `id` (CB_ERR_NO_RESPONDERS); false when no request has that id. */
  reject(id: number, error: CrossbusError): boolean {
    return this.#requests.reject(id, error);
  }

  /**
   * The hub assigned this connection's inbox (`prefix` ends with a dot). Returns the sid of the old
   * inbox subscription, which the hub no longer knows and is not restored, or 0.
   */
  useInbox(prefix: string): number {
    const old = prefix === this.inboxPrefix ? 0 : this.inboxSid;
    if (prefix !== this.inboxPrefix) {
      // The hub reserves a new inbox per connection.
      this.inboxPrefix = prefix;
      this.inboxSid = 0;
    }
    return old;
  }

  /** The bus closed: every request waiting for a reply fails with `error`. */
  closed(error: CrossbusError): void {
    this.#requests.rejectAll(error);
  }

  /** What `msg.respond()` calls on a request message. */
  readonly responder = (msg: Message, data: unknown, headers?: Headers): Promise<void> => {
    try {
      this.#replyNow(msg, data, headers);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  };

  /** Writes a reply to `msg`; throws a typed error (writing nothing) when it cannot. */
  #replyNow(msg: Message, data: unknown, headers?: Headers): void {
    const p = payloadOf(data);
    this.#host.write(
      envelope(Kind.REPLY, {
        topic: msg.replyTo,
        headers,
        payloadType: p.payloadType,
        payload: p.payload,
        payloadText: p.payloadText,
        timestamp: Date.now(),
      }),
    );
  }

  /** A service handler threw (or its answer could not be sent): the requester gets a typed error. */
  #replyFailure(msg: Message, topic: string, err: unknown): void {
    const error =
      err instanceof CrossbusError ? err : createError('CB_ERR_HANDLER_FAILED', err instanceof Error ? err.message : String(err));
    try {
      this.#host.write(
        envelope(Kind.REPLY, {
          topic: msg.replyTo,
          headers: { [HEADER_ERROR]: error.code },
          payloadType: PayloadType.JSON,
          payload: encodeJson(error.toJSON()),
        }),
      );
    } catch {
      /* closed */
    }
    this.#host.reportError(createError('CB_ERR_HANDLER_FAILED', `service handler for ${topic} failed`, { cause: err }), { topic });
  }

  /** Serves requests on `topic` with `handler` (see Bus.serve). */
  serve<T>(topic: string, handler: ServiceHandler<T>, options: ServeOptions): Subscription<T> {
    return this.#subscriber.subscribe<T>(
      topic,
      (msg) => {
        if (msg.replyTo === '') return;
        let result: unknown;
        try {
          result = handler(msg);
        } catch (err) {
          return this.#replyFailure(msg, topic, err);
        }
        if (!isThenable(result)) {
          // A synchronous handler answers within the same job: no promise, no extra task.
          try {
            this.#replyNow(msg, result);
          } catch (err) {
            this.#replyFailure(msg, topic, err);
          }
          return;
        }
        const run = Promise.resolve(result)
          .then((value) => this.#replyNow(msg, value))
          .then(undefined, (err: unknown) => this.#replyFailure(msg, topic, err));
        this.running.add(run);
        void run.finally(() => this.running.delete(run));
      },
      { group: options.group ?? topic, weight: options.weight },
    );
  }
}
