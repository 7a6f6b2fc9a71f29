import { ConfigError, ValidationError, createError, type CrossbusError } from '../core/errors/index.js';
import { Kind, envelope, type Headers } from '../core/protocol/envelope.js';
import { weightProblem, type WelcomePayload } from '../core/protocol/handshake.js';
import type { GrantCheck } from '../core/security/grant-check.js';
import { assertValidTopic, groupProblem } from '../core/topic.js';
import type { Reframe } from '../core/transport/reframe.js';
import type { TransportConnector } from '../core/transport/transport.js';
import { TypedEmitter } from '../core/util/emitter.js';
import type { ConsumerConfig } from '../core/streams/config.js';
import type { PublishAck } from '../core/streams/wire.js';
import type { BusStreams, BusStreamsFactory } from './bus-streams.js';
import { Connection } from './connection.js';
import { unrefTimer } from '../core/util/timers.js';
import type { StreamConsumer } from './consumer.js';
import type { BusEvents, BusState } from './events.js';
import type { Message } from './message.js';
import { resolveConnectOptions, type ConnectOptions, type ResolvedConnectOptions } from './options.js';
import type { Outbox } from './outbox.js';
import { payloadOf } from './payload.js';
import { RequestReply, type RequestOptions, type ServeOptions, type ServiceHandler } from './request-reply.js';
import type { SecretAuth } from './secret-auth.js';
import { Session } from './session.js';
import type { StreamMessage } from './stream-message.js';
import type { StreamsApi } from './streams.js';
import { Subscription, type MessageHandler, type SubscribeOptions } from './subscription.js';

export { HEADER_ERROR, type RequestOptions, type ServeOptions, type ServiceHandler } from './request-reply.js';
import { DEFAULT_SUBSCRIPTION_MAX_PENDING } from './defaults.js';

export interface PublishOptions {
  /** Passed through the hub unchanged (traceparent, correlation-id, ...). @default none */
  headers?: Headers;
  /** Ask the hub to confirm it routed the message; resolves only then. @default false */
  ack?: boolean;
  /**
   * Store it in the stream that captures the topic and resolve with `{ stream, seq, duplicate }`
   * once it is stored as durably as the stream promises. Rejects with CB_ERR_NO_STREAM when no
   * stream captures the topic, CB_ERR_STORAGE when it could not be written. @default false
   */
  durable?: boolean;
  /** With `durable`: a second publish with this id inside the stream's duplicate window is not stored again. @default none */
  msgId?: string;
}

/** A durable publish's acknowledgement. */
export type { PublishAck };

/**
 * A connection to a hub. Created by `connect()`. Frames produced in one turn of the event loop
 * are batched into one transport write; subscriptions and services survive reconnects.
 *
 * The Bus is the public API over its parts: the Connection (handshake, heartbeat, reconnects,
 * state, closing) with its Outbox (batching and backpressure), RequestReply (requests, the reply
 * inbox, services), and the Session (subscriptions, operations awaiting the hub's answer, the
 * dispatch of the hub's frames, errors with no caller), which is also what the parts and the
 * streams plugin call on the bus.
 */
export class Bus {
  readonly events: TypedEmitter<BusEvents>;
  readonly #opts: ResolvedConnectOptions;
  readonly #conn: Connection;
  /** What waits to be sent (the connection's). Not a `#` member: the attack tests write frames the API would refuse. */
  private readonly outbox: Outbox;
  readonly #rr: RequestReply;
  readonly #session: Session;
  /** Durable streams, when plugged in (see BusPlugins.streams). */
  readonly #streamsPlugin: BusStreams | undefined;

  /** @internal use connect() */
  constructor(connector: TransportConnector, options: ConnectOptions, plugins: BusPlugins = {}) {
    const opts = resolveConnectOptions(options);
    this.#opts = opts;
    if (plugins.secretAuth === undefined && options.secret !== undefined) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', "this client has no secret handshake: use connect() from 'crossbus'", {
        details: { option: 'secret' },
      });
    }
    const secretAuth = plugins.secretAuth?.(options);
    this.events = new TypedEmitter<BusEvents>((error) => opts.logger.error({ error: String(error) }, 'bus event listener threw'));
    const session = new Session(this.events, opts);
    this.#session = session;
    this.#conn = new Connection(connector, opts, { ...plugins, secretAuth }, this.events, session);
    this.outbox = this.#conn.outbox;
    this.#rr = new RequestReply(session, this);
    this.#streamsPlugin = plugins.streams?.(session);
    session.attach(this.#conn, this.#rr, this.#streamsPlugin);
  }

  /** The streams plugin, or a typed error saying how to get it. */
  #needStreams(): BusStreams {
    if (this.#streamsPlugin !== undefined) return this.#streamsPlugin;
    throw new ConfigError('CB_ERR_INVALID_OPTION', "durable streams need the streams plugin: createBusStreams from 'crossbus/streams'", {
      details: { option: 'streams' },
    });
  }

  /** Stream management: create, info, list, purge, read, delete. Needs the streams plugin (always there with connect() from 'crossbus'). */
  get streams(): StreamsApi {
    return this.#needStreams().api;
  }

  get state(): BusState {
    return this.#conn.state;
  }

  /** What the hub said in WELCOME (connection id, limits) for the current connection. */
  get info(): Readonly<WelcomePayload> | undefined {
    return this.#conn.info;
  }

  /** Bytes accepted by publish() and not yet written out. */
  get pendingBytes(): number {
    return this.outbox.pendingBytes;
  }

  on<K extends keyof BusEvents>(name: K, listener: (event: BusEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  /** @internal first connection; rejects when it fails (no retries for the first one). */
  async open(): Promise<this> {
    await this.#conn.attempt();
    return this;
  }

  /**
   * The app's grants as the hub told them (the connection's). Not a `#` member: the attack tests
   * clear them to play a client that skips the local check.
   */
  private get grants(): GrantCheck | undefined {
    return this.#conn.grants;
  }

  private set grants(grants: GrantCheck | undefined) {
    this.#conn.grants = grants;
  }

  /**
   * Throws unless the bus is open, `topic` is valid (a pattern for subscribe) and the hub told us
   * this app may do `action` on it (CB_ERR_FORBIDDEN).
   */
  #checkTopic(action: 'publish' | 'subscribe' | 'request', topic: string): void {
    this.#conn.checkOpen();
    assertValidTopic(topic, action === 'subscribe' ? 'pattern' : 'topic', this.#conn.limits.maxTopicLength);
    const g = this.grants;
    if (g === undefined || topic.startsWith(this.#rr.inboxPrefix)) return;
    const refusal = g.refusal(action, topic);
    if (refusal !== '') {
      throw createError('CB_ERR_FORBIDDEN', `${action} ${JSON.stringify(topic)} is not allowed for app ${this.#opts.name}: ${refusal}`, {
        details: { action, topic },
      });
    }
  }

  /**
   * Publishes `data` (a JSON value, or a Uint8Array sent as raw bytes) to `topic`. Rejects at once
   * on an invalid topic or payload. Resolves when the message is queued for sending, or, when
   * more than `maxPendingBytes` are unsent, once the backlog has drained below it.
   */
  publish(topic: string, data: unknown, options: PublishOptions & { durable: true }): Promise<PublishAck>;
  publish(topic: string, data?: unknown, options?: PublishOptions): Promise<void>;
  // biome-ignore lint/suspicious/noConfusingVoidType: the implementation's type joins its overloads' (Promise<void>, Promise<PublishAck>)
  publish(topic: string, data?: unknown, options?: PublishOptions): Promise<void | PublishAck> {
    try {
      this.#checkTopic('publish', topic);
      this.outbox.checkRoom();
      const payload = payloadOf(data);
      if (options?.durable === true) return this.#needStreams().publish(topic, options.msgId, options.headers, payload);
      const env = envelope(Kind.PUBLISH, {
        topic,
        headers: options?.headers,
        payloadType: payload.payloadType,
        payload: payload.payload,
        payloadText: payload.payloadText,
        timestamp: Date.now(),
      });
      if (options?.ack) return this.#session.ask(env, this.#opts.requestTimeoutMs).then(() => undefined);
      this.outbox.write(env);
      return this.outbox.backpressure();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Consumes a stream: every message from the start position on, at least once, each settled with
   * `ack()`, `nak()` or `term()`. Iterate it (`for await (const m of consumer)`) or pass a handler.
   * A `durable` consumer keeps its position on the hub across client and hub restarts; several
   * clients naming the same durable consumer share its messages. Needs the streams plugin.
   */
  consume<T = unknown>(stream: string, options: ConsumerConfig = {}, handler?: (msg: StreamMessage<T>) => unknown): StreamConsumer<T> {
    return this.#needStreams().consume(stream, options, handler);
  }

  /** Subscribes to a topic or pattern (`*` one token, `>` the rest). */
  subscribe<T = unknown>(topic: string, handler?: MessageHandler<T>, options?: SubscribeOptions): Subscription<T>;
  subscribe<T = unknown>(topic: string, options?: SubscribeOptions): Subscription<T>;
  subscribe<T = unknown>(topic: string, a?: MessageHandler<T> | SubscribeOptions, b?: SubscribeOptions): Subscription<T> {
    const handler = typeof a === 'function' ? a : undefined;
    const options = (typeof a === 'function' ? b : a) ?? {};
    const sid = this.#session.newSid();
    const sub = new Subscription<T>(
      this.#session,
      sid,
      topic,
      options.group,
      options.weight ?? 1,
      handler,
      options.maxPending ?? DEFAULT_SUBSCRIPTION_MAX_PENDING,
    );
    try {
      this.#checkTopic('subscribe', topic);
      if (options.group !== undefined) {
        const problem = groupProblem(options.group);
        if (problem !== undefined) throw new ValidationError('CB_ERR_TOPIC_INVALID', `group ${JSON.stringify(options.group)} ${problem}`);
      }
      const weight = weightProblem(options.weight, options.group !== undefined);
      if (weight !== undefined)
        throw new ConfigError(weight.conflict ? 'CB_ERR_CONFLICTING_OPTIONS' : 'CB_ERR_INVALID_OPTION', weight.message);
    } catch (err) {
      sub.fail(err as CrossbusError);
      return sub;
    }
    this.#session.start(sub as Subscription<unknown>);
    return sub;
  }

  /**
   * Sends a request and resolves with the reply's data. Rejects with CB_ERR_NO_RESPONDERS at once
   * when nobody serves the topic, CB_ERR_TIMEOUT after `timeoutMs`, or the responder's error.
   */
  async request<T = unknown>(topic: string, data?: unknown, options?: RequestOptions): Promise<T> {
    const msg = await this.requestMessage<T>(topic, data, options);
    return msg.data;
  }

  /** Like request(), but resolves with the whole reply message (headers included). */
  requestMessage<T = unknown>(topic: string, data?: unknown, options: RequestOptions = {}): Promise<Message<T>> {
    try {
      this.#checkTopic('request', topic);
      const timeoutMs = options.timeoutMs ?? this.#opts.requestTimeoutMs;
      if (!(timeoutMs > 0)) throw new ConfigError('CB_ERR_INVALID_OPTION', 'timeoutMs must be positive');
      return this.#rr.request(topic, payloadOf(data), timeoutMs, options.headers) as Promise<Message<T>>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Serves requests on `topic`: the handler's return value (JSON or bytes) is the reply; a thrown
   * error reaches the requester as a typed error (its code if it is a crossbus error, else
   * CB_ERR_HANDLER_FAILED; never its stack).
   */
  serve<T = unknown>(topic: string, handler: ServiceHandler<T>, options: ServeOptions = {}): Subscription<T> {
    return this.#rr.serve(topic, handler, options);
  }

  /** Resolves once the hub has processed everything sent before this call (a PING round trip). */
  async flush(timeoutMs = this.#opts.requestTimeoutMs): Promise<void> {
    this.#conn.checkOpen();
    await this.#session.ask(envelope(Kind.PING), timeoutMs);
  }

  /**
   * Graceful stop: unsubscribes everything, lets running service handlers finish, makes sure the
   * hub received all that was published, then closes.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    const conn = this.#conn;
    if (conn.state === 'closed' || conn.state === 'draining') return;
    const wasConnected = conn.state === 'connected';
    this.#session.unsubscribeAll();
    conn.setState('draining');
    const deadline = Date.now() + timeoutMs;
    const running = this.#rr.running;
    while (running.size > 0 && Date.now() < deadline) {
      // Unref'd: once the handlers finish, the rest of the deadline must not keep a process alive.
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((r) => unrefTimer(setTimeout(r, Math.max(1, deadline - Date.now())))),
      ]);
    }
    if (wasConnected && conn.transport !== undefined) {
      const done = this.#session.ask(envelope(Kind.PING), Math.max(1, deadline - Date.now()));
      this.outbox.flush();
      await done.catch(() => {});
    }
    await this.close();
  }

  /** Closes now. Pending requests and subscriptions end with CB_ERR_CONNECTION_CLOSED. */
  close(reason?: CrossbusError): Promise<void> {
    return this.#conn.close(reason);
  }
}

/** What a Bus may be given beyond its options: code that only some builds carry. */
export interface BusPlugins {
  /**
   * Secret authentication (the handshake and record protection): checks the `secret` and
   * `security` options and returns undefined when there is no secret. @default none: origin identity only
   */
  secretAuth?: (options: ConnectOptions) => SecretAuth | undefined;
  /** Durable streams: `publish(…, { durable: true })`, `consume()`, `bus.streams`. @default none (connect() from 'crossbus' plugs it in) */
  streams?: BusStreamsFactory;
  /**
   * Byte-stream transports (`framing: 'stream'`: TCP, Unix sockets, shared memory): the adapter
   * that reassembles their frames (`reframe` from the core). @default none: crossbus/page's
   * transports keep message boundaries (connect() from 'crossbus' plugs it in)
   */
  reframe?: Reframe;
  /**
   * Asked when a reconnect is refused for good (credentials, version, origin): true retries
   * instead of closing the bus. With several hubs, another hub may take the client.
   * @default none: such a refusal closes the bus
   */
  retryRefusal?: (error: CrossbusError) => boolean;
}

/** Connects through `connector` (no URL handling, no secret authentication unless plugged in). */
export async function openBus(connector: TransportConnector, options: ConnectOptions = {}, plugins: BusPlugins = {}): Promise<Bus> {
  // async: a refused option rejects the promise instead of throwing at the caller.
  return new Bus(connector, options, plugins).open();
}
