import { ConfigError, ConnectionError, CrossbusError, RequestError, ValidationError, createError, deserializeError, isErrorCode } from '../core/errors/index.js';
import type { FrameLimits } from '../core/limits.js';
import { encodeFrame, encodeInto, readFrames } from '../core/protocol/codec.js';
import { KIND_NAMES, Kind, PayloadType, envelope, type Envelope, type Headers, type PayloadFields } from '../core/protocol/envelope.js';
import { FrameWriter } from '../core/protocol/frame-writer.js';
import { RECORD_HEADROOM } from '../core/protocol/layout.js';
import { SUPPORTED_VERSIONS, weightProblem, type HelloPayload, type WelcomePayload } from '../core/protocol/handshake.js';
import { assertValidTopic, groupProblem } from '../core/topic.js';
import { CLOSE_NORMAL, type Transport, type TransportCloseInfo, type TransportConnector } from '../core/transport/transport.js';
import { TypedEmitter } from '../core/util/emitter.js';
import { decodeJson, encodeJson, jsonText } from '../core/util/json.js';
import { randomHex } from '../core/util/random.js';
import { HEADER_BINDER, HEADER_GRANTS, HEADER_PROOF, ORIGIN_SCHEME, type GrantsSummary, type OriginWelcomeAuth, type WelcomeAuth } from '../core/security/handshake-messages.js';
import { GrantCheck } from '../core/security/grant-check.js';
import type { SecretAuth, SecretAuthAttempt } from './secret-auth.js';
import { CLOSE_AUTH_FAILED } from '../core/transport/transport.js';
import type { BusEvents, BusState } from './events.js';
import { backoffDelay } from './backoff.js';
import { Message } from './message.js';
import { resolveConnectOptions, type ConnectOptions, type ResolvedConnectOptions } from './options.js';
import { PendingTable } from './pending.js';
import { createScheduler } from '../core/util/scheduler.js';
import { DEFAULT_SUBSCRIPTION_MAX_PENDING, Subscription, type MessageHandler, type SubscribeOptions } from './subscription.js';
import type { ConsumerConfig } from '../core/streams/config.js';
import type { PublishAck } from '../core/streams/wire.js';
import type { StreamConsumer } from './consumer.js';
import type { StreamMessage } from './stream-message.js';
import type { StreamsApi } from './streams.js';
import type { BusStreams, BusStreamsFactory, StreamsHost } from './bus-streams.js';
import { microtask } from '../core/util/microtask.js';
import { isThenable } from '../core/util/thenable.js';

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
const RESOLVED = Promise.resolve();
const NO_BYTES = new Uint8Array(0);
/** A pause this long between batches ends a burst (see Bus.inBurst). */
const BURST_GAP_MS = 4;

function u32Next(n: number): number {
  return n >= 0xffff_fffe ? 1 : n + 1;
}

/**
 * A connection to a hub. Created by `connect()`. Frames produced in one turn of the event loop
 * are batched into one transport write; subscriptions and services survive reconnects.
 */
export class Bus {
  readonly events: TypedEmitter<BusEvents>;
  readonly #opts: ResolvedConnectOptions;
  #limits: FrameLimits;
  #stateValue: BusState = 'connecting';
  #transport: Transport | undefined;
  #writer: FrameWriter;
  #flushScheduled = false;
  /**
   * The bus is sending a burst. The first write after idle goes out at the end of the current
   * job, for latency; later writes of the burst wait for the scheduler, so loops batch. Inbound
   * data ends a burst (a round trip's next request must not wait), and so does a pause of
   * BURST_GAP_MS since the last batch left: a publisher that yields between bursts (every 100
   * messages, say) keeps batching instead of sending each burst's first message alone.
   */
  #inBurst = false;
  /** When the last batch left (Date.now(): a clock step only ends or extends one burst, and performance.now() costs five times as much in Chromium). */
  #lastFlushAt = 0;
  readonly #schedule = createScheduler();
  readonly #subs = new Map<number, Subscription<unknown>>();
  /** Operations the hub answers with OK/PONG/ERROR, by id. */
  readonly #ops = new PendingTable<Envelope>();
  /** Requests answered by a reply on our inbox (or ERROR NO_RESPONDERS), by id. */
  readonly #requests = new PendingTable<Message>();
  readonly #drainWaiters: Array<() => void> = [];
  /** Durable streams, when plugged in (see BusPlugins.streams). */
  readonly #streamsPlugin: BusStreams | undefined;
  readonly #inflightHandlers = new Set<Promise<unknown>>();
  #nextSid = 0;
  #nextId = 0;
  #inboxPrefix: string;
  #inboxSid = 0;
  /** SUBSCRIBEs whose answer is later than requestTimeoutMs (held for consent), by op id. */
  readonly #lateSubscribes = new Map<number, Subscription<unknown>>();
  /** Id of the AUTH frame while its OK is awaited. */
  #authId = 0;
  #welcome: WelcomePayload | undefined;
  #reconnectAttempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeardAt = 0;
  #connectResolve: ((w: Envelope) => void) | undefined;
  /**
   * The app's grants as the hub told them: operations outside them fail here, at once. Not a `#`
   * field: the attack tests clear it to play a client that skips this check.
   */
  private grants: GrantCheck | undefined;
  readonly #secretAuth: SecretAuth | undefined;
  #connectReject: ((e: CrossbusError) => void) | undefined;

  /** @internal use connect() */
  constructor(private readonly connector: TransportConnector, options: ConnectOptions, plugins: BusPlugins = {}) {
    this.#opts = resolveConnectOptions(options);
    if (plugins.secretAuth !== undefined) this.#secretAuth = plugins.secretAuth(options);
    else if (options.secret !== undefined) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', "this client authenticates by its origin only: for a secret, use connect() from 'crossbus'", { details: { option: 'secret' } });
    }
    this.#limits = this.#opts.limits;
    this.#writer = new FrameWriter(16 * 1024, RECORD_HEADROOM);
    this.#inboxPrefix = `${INBOX_PREFIX}${randomHex(12)}.`;
    this.events = new TypedEmitter<BusEvents>((error) => this.#opts.logger.error('bus event listener threw', { error: String(error) }));
    this.#streamsPlugin = plugins.streams?.(this.#streamsHost());
  }

  /** What the streams plugin may use of this bus. */
  #streamsHost(): StreamsHost {
    const requestTimeoutMs = this.#opts.requestTimeoutMs;
    return {
      opId: () => this.#opId(),
      write: (env) => this.write(env),
      trackOp: (id, timeoutMs) => this.#trackOp(id, timeoutMs),
      checkOpen: () => this.#checkOpen(),
      canSettle: () => this.#stateValue === 'connected' || this.#stateValue === 'draining',
      requestTimeoutMs,
      newSid: () => this.#newSid(),
      start: (sub) => this.#start(sub),
      unsubscribeSid: (sid) => this.unsubscribeSid(sid),
      reportError: (error, context) => this.reportError(error, context),
    };
  }

  /** The streams plugin, or a typed error saying how to get it. */
  #needStreams(): BusStreams {
    if (this.#streamsPlugin !== undefined) return this.#streamsPlugin;
    throw new ConfigError('CB_ERR_INVALID_OPTION', "durable streams need the streams plugin: pass { streams: createBusStreams } (from 'crossbus/streams') to connect()", {
      details: { option: 'streams' },
    });
  }

  /** Stream management: create, info, list, purge, read, delete. Needs the streams plugin (always there with connect() from 'crossbus'). */
  get streams(): StreamsApi {
    return this.#needStreams().api;
  }

  get state(): BusState {
    return this.#stateValue;
  }

  /** What the hub said in WELCOME (connection id, limits) for the current connection. */
  get info(): Readonly<WelcomePayload> | undefined {
    return this.#welcome;
  }

  /** Bytes accepted by publish() and not yet written out. */
  get pendingBytes(): number {
    return this.#writer.length + (this.#transport?.bufferedAmount() ?? 0);
  }

  on<K extends keyof BusEvents>(name: K, listener: (event: BusEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  // ------------------------------------------------------------------ connection

  /** @internal first connection; rejects when it fails (no retries for the first one). */
  async open(): Promise<this> {
    await this.#attempt();
    return this;
  }

  #setState(next: BusState): void {
    const prev = this.#stateValue;
    if (prev === next) return;
    this.#stateValue = next;
    this.events.emit('state', { from: prev, to: next });
  }

  async #attempt(): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#opts.timeoutMs);
    let transport: Transport;
    try {
      transport = await this.connector(controller.signal);
    } catch (err) {
      clearTimeout(timer);
      throw err instanceof CrossbusError ? err : new ConnectionError('CB_ERR_CONNECTION_FAILED', 'could not connect', { cause: err });
    }
    if (this.#stateValue === 'closed') {
      clearTimeout(timer);
      transport.close();
      throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus was closed while connecting');
    }
    let handshake: SecretAuthAttempt | undefined;
    let t: Transport = transport;
    try {
      if (this.#secretAuth !== undefined) {
        handshake = await this.#secretAuth.begin(transport, this.#limits, (error) => {
          this.reportError(error, {});
          t.close(CLOSE_AUTH_FAILED, error.code);
        });
        t = handshake.transport;
      }
    } catch (err) {
      clearTimeout(timer);
      transport.close();
      throw err;
    }
    let answered = this.#expectAnswer();
    const onAbort = (): void => this.#connectReject?.(new ConnectionError('CB_ERR_HANDSHAKE_TIMEOUT', `handshake did not finish within ${this.#opts.timeoutMs} ms`));
    controller.signal.addEventListener('abort', onAbort, { once: true });
    this.#transport = t;
    t.setHandlers({
      message: (chunk) => this.#onChunk(t, chunk),
      close: (info) => this.#onTransportClose(t, info),
      drain: () => this.#onDrain(),
    });
    const hello: HelloPayload = { versions: [...SUPPORTED_VERSIONS], name: this.#opts.name, client: 'crossbus-js/0.1' };
    if (handshake !== undefined) hello.auth = handshake.helloAuth();
    try {
      const helloBytes = encodeJson(hello);
      const headers = handshake === undefined ? undefined : { [HEADER_BINDER]: await handshake.binder(helloBytes) };
      t.send(encodeFrame(envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload: helloBytes, headers }), this.#limits));
      const welcomeEnv = await answered;
      let welcome: WelcomePayload;
      try {
        welcome = decodeJson(welcomeEnv.payload) as WelcomePayload;
      } catch (cause) {
        throw new ConnectionError('CB_ERR_HANDSHAKE_FAILED', 'WELCOME payload is not JSON', { cause });
      }
      if (handshake !== undefined) {
        const session = await handshake.finish(helloBytes, welcomeEnv.payload.slice(), welcome.auth, welcomeEnv.headers?.[HEADER_PROOF]);
        answered = this.#expectAnswer();
        const authId = this.#opId();
        this.#authId = authId;
        t.send(encodeFrame(envelope(Kind.AUTH, { id: authId, headers: { [HEADER_PROOF]: session.proof } }), this.#limits));
        session.activate();
        await answered; // the hub's OK, the first protected record: both directions work
        this.#applyGrants(session.welcome);
      } else if ((welcome.auth as Partial<OriginWelcomeAuth> | undefined)?.scheme === ORIGIN_SCHEME) {
        // A browser hub identified us by our origin: adopt the grants and the private inbox it assigned.
        this.#applyGrants(welcome.auth as unknown as OriginWelcomeAuth);
      } else {
        this.grants = undefined;
      }
      this.#onWelcome(t, welcome);
      handshake?.setLimits(this.#limits);
    } catch (err) {
      t.close(CLOSE_NORMAL, 'handshake failed');
      if (this.#transport === t) this.#transport = undefined;
      throw err;
    } finally {
      this.#authId = 0;
      clearTimeout(timer);
      controller.signal.removeEventListener('abort', onAbort);
      this.#connectResolve = this.#connectReject = undefined;
    }
  }

  /** The next handshake answer (WELCOME, or OK to AUTH), or the error that ends the attempt. */
  #expectAnswer(): Promise<Envelope> {
    const p = new Promise<Envelope>((resolve, reject) => {
      this.#connectResolve = resolve;
      this.#connectReject = reject;
    });
    // Awaited later, unless an earlier step fails: then nobody else may see it rejected.
    p.catch(() => {});
    return p;
  }

  #applyGrants(auth: Pick<WelcomeAuth, 'grants' | 'inbox'>): void {
    this.grants = new GrantCheck(auth.grants);
    const prefix = `${auth.inbox}.`;
    if (prefix !== this.#inboxPrefix) {
      // The hub reserves a new inbox per connection; the old inbox subscription is not restored.
      this.#inboxPrefix = prefix;
      if (this.#inboxSid !== 0) {
        this.#subs.delete(this.#inboxSid);
        this.#inboxSid = 0;
      }
    }
  }

  /** The hub's config changed: adopt the app's new grants (ignored on a connection without security). */
  #onGrantsUpdate(env: Envelope): void {
    if (this.grants === undefined) return;
    try {
      const { grants } = decodeJson(env.payload) as { grants: GrantsSummary };
      this.grants = new GrantCheck(grants);
    } catch (cause) {
      this.reportError(createError('CB_ERR_PROTOCOL', 'the hub sent unreadable grants', { cause }), {});
    }
  }

  /** Throws CB_ERR_FORBIDDEN when the hub told us this app may not do it. */
  #checkGrant(action: 'publish' | 'subscribe' | 'request', topic: string): void {
    const g = this.grants;
    if (g === undefined || topic.startsWith(this.#inboxPrefix)) return;
    const refusal = g.refusal(action, topic);
    if (refusal !== '') {
      throw createError('CB_ERR_FORBIDDEN', `${action} ${JSON.stringify(topic)} is not allowed for app ${this.#opts.name}: ${refusal}`, {
        details: { action, topic },
      });
    }
  }

  #onWelcome(transport: Transport, welcome: WelcomePayload): void {
    this.#welcome = welcome;
    this.#limits = Object.freeze({
      maxFrameBytes: welcome.limits.maxFrameBytes,
      maxTopicLength: welcome.limits.maxTopicLength,
      maxHeaderCount: welcome.limits.maxHeaderCount,
      maxHeaderBytes: welcome.limits.maxHeaderBytes,
    });
    const reconnected = this.#reconnectAttempt > 0 || this.#stateValue === 'reconnecting';
    this.#reconnectAttempt = 0;
    // Restore subscriptions first, then whatever was published while we were away.
    const w = new FrameWriter(1024);
    for (const sub of this.#subs.values()) this.#writeSubscribe(sub, w);
    if (w.length > 0) transport.send(w.take());
    this.#lastHeardAt = Date.now();
    this.#startHeartbeat(welcome.heartbeatMs);
    this.#setState('connected');
    this.events.emit('connected', { connectionId: welcome.connectionId, hubId: welcome.hubId, reconnected });
    this.#streamsPlugin?.reconnected();
    this.#flushBatch();
  }

  #startHeartbeat(ms: number): void {
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    if (ms <= 0) return;
    this.#heartbeatTimer = setInterval(() => {
      const silent = Date.now() - this.#lastHeardAt;
      if (silent > 2 * ms) {
        this.#opts.logger.warn('hub is silent: dropping the connection', { silentMs: silent });
        this.#transport?.close(4000, 'CB_ERR_CONNECTION_LOST');
      } else if (silent > ms) {
        this.#sendControl(envelope(Kind.PING, { id: 0 }));
      }
    }, Math.max(1, Math.floor(ms / 2)));
    (this.#heartbeatTimer as { unref?: () => void }).unref?.();
  }

  #onTransportClose(transport: Transport, info: TransportCloseInfo): void {
    if (this.#transport !== transport) return;
    this.#transport = undefined;
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    // Whatever was handed to the dead transport is gone; what is still in the writer is kept.
    const error = new ConnectionError('CB_ERR_CONNECTION_LOST', `connection lost (code ${info.code}${info.reason ? `, ${info.reason}` : ''})`, {
      details: { code: info.code, reason: info.reason },
    });
    if (this.#connectReject !== undefined) {
      // Closed during the handshake: attempt() rejects, and its caller owns the retry. A transport
      // that names an error code as its close reason (a refused origin) fails with that code.
      this.#connectReject(isErrorCode(info.reason) ? createError(info.reason, `the hub refused the connection: ${info.reason}`, { details: { code: info.code } }) : error);
      return;
    }
    this.#ops.rejectAll(error);
    this.#streamsPlugin?.connectionLost(error);
    // Those are sent again with the other subscriptions after the reconnect.
    this.#lateSubscribes.clear();
    if (this.#stateValue === 'closed' || this.#stateValue === 'connecting') return;
    this.events.emit('disconnected', { error });
    this.#releaseDrainWaiters();
    if (this.#opts.reconnect === undefined || this.#stateValue === 'draining') {
      void this.close(error);
      return;
    }
    this.#setState('reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const r = this.#opts.reconnect;
    if (r === undefined || this.#stateValue !== 'reconnecting') return;
    if (this.#reconnectAttempt >= r.maxAttempts) {
      void this.close(new ConnectionError('CB_ERR_CONNECTION_FAILED', `gave up after ${this.#reconnectAttempt} reconnect attempts`));
      return;
    }
    const delayMs = backoffDelay(this.#reconnectAttempt, r);
    this.#reconnectAttempt++;
    this.events.emit('reconnecting', { attempt: this.#reconnectAttempt, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#attempt().catch((err: unknown) => {
        this.#opts.logger.debug('reconnect attempt failed', { attempt: this.#reconnectAttempt, error: String(err) });
        // Refused for good (credentials revoked or expired, a hub that cannot prove the secret):
        // retrying cannot help, so the bus closes with the reason instead of knocking forever.
        if (err instanceof CrossbusError && !err.retryable && err.code !== 'CB_ERR_CONNECTION_CLOSED') {
          void this.close(err);
          return;
        }
        this.#scheduleReconnect();
      });
    }, delayMs);
  }

  // ------------------------------------------------------------------ inbound

  #onChunk(transport: Transport, chunk: Uint8Array): void {
    if (this.#transport !== transport) return;
    this.#lastHeardAt = Date.now();
    this.#inBurst = false;
    try {
      readFrames(chunk, this.#limits, (env) => this.#onFrame(env));
    } catch (err) {
      const error = err instanceof CrossbusError ? err : createError('CB_ERR_INTERNAL', 'client failed on a frame', { cause: err });
      this.reportError(error, {});
      transport.close(4002, error.code);
    }
  }

  #onFrame(env: Envelope): void {
    switch (env.kind) {
      case Kind.MESSAGE: {
        if (env.sid === this.#inboxSid && this.#inboxSid !== 0) return this.#onReply(env);
        const sub = this.#subs.get(env.sid);
        if (sub !== undefined) sub.push(sub.messageFor(env, this.#responder));
        return;
      }
      case Kind.ACK:
        this.#streamsPlugin?.onAck(env);
        return;
      case Kind.OK:
        if (env.id !== 0 && env.id === this.#authId) {
          this.#connectResolve?.(env);
          return;
        }
        if (env.id === 0 && env.headers?.[HEADER_GRANTS] !== undefined) return this.#onGrantsUpdate(env);
        if (!this.#ops.resolve(env.id, env) && this.#streamsPlugin?.onOk(env) !== true) this.#settleLateSubscribe(env.id, undefined);
        return;
      case Kind.ERROR: {
        const error = safeDeserialize(env.payload);
        if (env.id !== 0 && (this.#ops.reject(env.id, error) || this.#requests.reject(env.id, error) || this.#settleLateSubscribe(env.id, error) || this.#streamsPlugin?.onError(env.id, error) === true)) return;
        if (env.id === 0 && typeof error.details?.sid === 'number') {
          // The hub ended a subscription (a config reload or a revoked consent took the grant away).
          const sub = this.#subs.get(error.details.sid);
          if (sub !== undefined && sub.sid !== this.#inboxSid) {
            this.#subs.delete(sub.sid);
            sub.fail(error);
            return;
          }
        }
        if (this.#connectReject !== undefined) {
          // Refused during the handshake (connection limit, version, ...): that is why connect fails.
          this.#connectReject(error);
          return;
        }
        this.reportError(error, {});
        return;
      }
      case Kind.WELCOME:
        this.#connectResolve?.(env);
        return;
      case Kind.PING:
        this.#sendControl(envelope(Kind.PONG, { id: env.id }));
        return;
      case Kind.PONG:
        if (env.id !== 0) this.#ops.resolve(env.id, env);
        return;
      case Kind.GOODBYE: {
        const error = env.payload.length > 0 ? safeDeserialize(env.payload) : createError('CB_ERR_HUB_SHUTTING_DOWN', 'the hub is shutting down');
        this.#opts.logger.info('hub said goodbye', { code: error.code });
        // The hub closes next; the close handler reconnects.
        return;
      }
      default:
        this.reportError(createError('CB_ERR_PROTOCOL', `unexpected ${KIND_NAMES[env.kind] ?? env.kind} frame from the hub`), {});
    }
  }

  /** Answers a SUBSCRIBE that outlived its op timeout. Returns false when `id` is not one. */
  #settleLateSubscribe(id: number, error: CrossbusError | undefined): boolean {
    const sub = this.#lateSubscribes.get(id);
    if (sub === undefined) return false;
    this.#lateSubscribes.delete(id);
    if (error === undefined) sub.confirm();
    else {
      if (this.#subs.get(sub.sid) === sub) this.#subs.delete(sub.sid);
      sub.fail(error);
    }
    return true;
  }

  /** @internal */
  reportError(error: CrossbusError, context: Record<string, unknown>): void {
    this.#opts.logger.warn(error.message, { code: error.code, ...context });
    this.events.emit('error', { error });
  }

  // ------------------------------------------------------------------ outbound

  #opId(): number {
    this.#nextId = u32Next(this.#nextId);
    return this.#nextId;
  }

  /** Appends a frame to the batch. Throws a typed error (and writes nothing) on a bad frame. */
  private write(env: Envelope): void {
    if (this.#stateValue === 'closed') throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus is closed');
    encodeInto(this.#writer, env, this.#limits);
    if (this.#writer.length >= this.#opts.batchBytes) this.#flushBatch();
    else this.#requestFlush();
  }

  /** Writes are sent in batches: one transport write per job for a burst's first write, per turn of the event loop for the rest (see #inBurst). */
  #requestFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    if (this.#inBurst && Date.now() - this.#lastFlushAt < BURST_GAP_MS) this.#schedule(this.#flushTask);
    else {
      this.#inBurst = true;
      microtask(this.#flushTask);
    }
  }

  /** Sends the batch, on a microtask (the first write of a burst) or from the scheduler (the rest). */
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.#flushBatch();
  };

  /** Control frames (PONG, PING) bypass the batch order only in that they never wait. */
  #sendControl(env: Envelope): void {
    try {
      this.write(env);
    } catch {
      /* closed */
    }
  }

  #flushBatch(): void {
    const t = this.#transport;
    if (t === undefined || this.#stateValue === 'connecting' || this.#stateValue === 'reconnecting' || this.#writer.length === 0) return;
    if (this.#welcome === undefined) return;
    this.#lastFlushAt = Date.now();
    try {
      t.send(this.#writer.take(), this.#writer.headroom);
    } catch (err) {
      this.#opts.logger.debug('send failed', { error: String(err) });
    }
    if (t.bufferedAmount() < this.#opts.maxPendingBytes) this.#releaseDrainWaiters();
  }

  #onDrain(): void {
    // A write scheduled its own flush; sending now would split the batch being built.
    if (!this.#flushScheduled) this.#flushBatch();
    if (this.pendingBytes < this.#opts.maxPendingBytes) this.#releaseDrainWaiters();
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Resolves once unsent bytes are below the high-water mark (or the bus closes). */
  #backpressure(): Promise<void> {
    if (this.pendingBytes < this.#opts.maxPendingBytes) return RESOLVED;
    // While disconnected the bound is reconnectBufferBytes, checked before writing (publish).
    if (this.#stateValue !== 'connected') return RESOLVED;
    return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The payload fields of an envelope for `data`: JSON travels as text, written straight into the frame. */
  #payloadOf(data: unknown): PayloadFields {
    if (data instanceof Uint8Array) return { payloadType: PayloadType.BYTES, payload: data, payloadText: undefined };
    if (data === undefined) return { payloadType: PayloadType.NONE, payload: NO_BYTES, payloadText: undefined };
    return { payloadType: PayloadType.JSON, payload: NO_BYTES, payloadText: jsonText(data) };
  }

  #checkOpen(): void {
    if (this.#stateValue === 'closed') throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus is closed');
    if (this.#stateValue === 'draining') throw new ConnectionError('CB_ERR_DRAINING', 'bus is draining');
  }

  // ------------------------------------------------------------------ public API

  /**
   * Publishes `data` (a JSON value, or a Uint8Array sent as raw bytes) to `topic`. Rejects at once
   * on an invalid topic or payload. Resolves when the message is queued for sending, or, when
   * more than `maxPendingBytes` are unsent, once the backlog has drained below it.
   */
  publish(topic: string, data: unknown, options: PublishOptions & { durable: true }): Promise<PublishAck>;
  publish(topic: string, data?: unknown, options?: PublishOptions): Promise<void>;
  publish(topic: string, data?: unknown, options?: PublishOptions): Promise<void | PublishAck> {
    try {
      this.#checkOpen();
      assertValidTopic(topic, 'topic', this.#limits.maxTopicLength);
      this.#checkGrant('publish', topic);
      if (this.#stateValue !== 'connected' && this.#writer.length >= this.#opts.reconnectBufferBytes) {
        // Refused, not queued: a rejected publish is never sent later.
        throw new ConnectionError('CB_ERR_BACKPRESSURE', `${this.#writer.length} bytes already wait for the connection to come back`, {
          details: { pendingBytes: this.#writer.length, limit: this.#opts.reconnectBufferBytes },
        });
      }
      const payload = this.#payloadOf(data);
      if (options?.durable === true) return this.#needStreams().publish(topic, options.msgId, options.headers, payload);
      const id = options?.ack ? this.#opId() : 0;
      const env = envelope(Kind.PUBLISH, { id, topic, headers: options?.headers, payloadType: payload.payloadType, payload: payload.payload, payloadText: payload.payloadText, timestamp: Date.now() });
      if (id !== 0) {
        const confirmed = this.#trackOp(id, this.#opts.requestTimeoutMs);
        this.write(env);
        return confirmed.then(() => undefined);
      }
      this.write(env);
      return this.#backpressure();
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

  #trackOp(id: number, timeoutMs: number): Promise<Envelope> {
    return this.#ops.add(id, timeoutMs, () => new RequestError('CB_ERR_TIMEOUT', `the hub did not answer within ${timeoutMs} ms`, { details: { timeoutMs } }));
  }

  /** Subscribes to a topic or pattern (`*` one token, `>` the rest). */
  subscribe<T = unknown>(topic: string, handler?: MessageHandler<T>, options?: SubscribeOptions): Subscription<T>;
  subscribe<T = unknown>(topic: string, options?: SubscribeOptions): Subscription<T>;
  subscribe<T = unknown>(topic: string, a?: MessageHandler<T> | SubscribeOptions, b?: SubscribeOptions): Subscription<T> {
    const handler = typeof a === 'function' ? a : undefined;
    const options = (typeof a === 'function' ? b : a) ?? {};
    const sid = this.#newSid();
    const sub = new Subscription<T>(this, sid, topic, options.group, options.weight ?? 1, handler, options.maxPending ?? DEFAULT_SUBSCRIPTION_MAX_PENDING);
    try {
      this.#checkOpen();
      assertValidTopic(topic, 'pattern', this.#limits.maxTopicLength);
      this.#checkGrant('subscribe', topic);
      if (options.group !== undefined) {
        const problem = groupProblem(options.group);
        if (problem !== undefined) throw new ValidationError('CB_ERR_TOPIC_INVALID', `group ${JSON.stringify(options.group)} ${problem}`);
      }
      const weight = weightProblem(options.weight, options.group !== undefined);
      if (weight !== undefined) throw new ConfigError(weight.conflict ? 'CB_ERR_CONFLICTING_OPTIONS' : 'CB_ERR_INVALID_OPTION', weight.message);
    } catch (err) {
      sub.fail(err as CrossbusError);
      return sub;
    }
    this.#start(sub as Subscription<unknown>);
    return sub;
  }

  #newSid(): number {
    this.#nextSid = u32Next(this.#nextSid);
    return this.#nextSid;
  }

  /** Registers a subscription and subscribes it: now when connected, else with the others once connected. */
  #start(sub: Subscription<unknown>): void {
    this.#subs.set(sub.sid, sub);
    this.#sendSubscribe(sub);
  }

  /** Sends SUBSCRIBE now when connected; otherwise onWelcome sends it with the others. */
  #sendSubscribe(sub: Subscription<unknown>): void {
    if (this.#stateValue !== 'connected') return;
    this.#writeSubscribe(sub, this.#writer);
    this.#requestFlush();
  }

  #writeSubscribe(sub: Subscription<unknown>, w: FrameWriter): void {
    const id = this.#opId();
    const mayAwaitConsent = sub.mayAwaitConsent;
    this.#trackOp(id, this.#opts.requestTimeoutMs).then(
      () => sub.confirm(),
      (error: CrossbusError) => {
        // Lost: it is sent again after the reconnect.
        if (error.code === 'CB_ERR_CONNECTION_LOST') return;
        // Unanswered so far (the hub may hold it for a person's consent): settle it when the answer comes.
        if (error.code === 'CB_ERR_TIMEOUT' && mayAwaitConsent) {
          this.#lateSubscribes.set(id, sub);
          return;
        }
        if (this.#subs.get(sub.sid) === sub) this.#subs.delete(sub.sid);
        sub.fail(error);
      },
    );
    encodeInto(w, sub.subscribeFrame(id), this.#limits);
  }

  /** @internal */
  unsubscribeSid(sid: number): void {
    const sub = this.#subs.get(sid);
    if (sub === undefined) return;
    this.#subs.delete(sid);
    if (this.#stateValue === 'connected' || this.#stateValue === 'draining') {
      try {
        this.write(envelope(Kind.UNSUBSCRIBE, { sid }));
      } catch {
        /* closed */
      }
    }
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
      this.#checkOpen();
      assertValidTopic(topic, 'topic', this.#limits.maxTopicLength);
      this.#checkGrant('request', topic);
      const timeoutMs = options.timeoutMs ?? this.#opts.requestTimeoutMs;
      if (!(timeoutMs > 0)) throw new ConfigError('CB_ERR_INVALID_OPTION', 'timeoutMs must be positive');
      const payload = this.#payloadOf(data);
      this.#ensureInbox();
      const id = this.#opId();
      const promise = this.#requests.add(id, timeoutMs, () =>
        new RequestError('CB_ERR_TIMEOUT', `no reply to ${topic} within ${timeoutMs} ms`, { details: { topic, timeoutMs } }));
      try {
        this.write(envelope(Kind.REQUEST, {
          id, topic, replyTo: `${this.#inboxPrefix}${id}`, headers: options.headers,
          payloadType: payload.payloadType, payload: payload.payload, payloadText: payload.payloadText, timestamp: Date.now(),
        }));
      } catch (err) {
        this.#requests.reject(id, err as CrossbusError);
      }
      return promise as Promise<Message<T>>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #ensureInbox(): void {
    if (this.#inboxSid !== 0) return;
    const sub = this.subscribe(`${this.#inboxPrefix}>`);
    this.#inboxSid = sub.sid;
  }

  #onReply(env: Envelope): void {
    const id = Number(env.topic.slice(this.#inboxPrefix.length));
    if (!this.#requests.has(id)) return; // late reply after a timeout
    const msg = new Message(env);
    const errorCode = env.headers?.[HEADER_ERROR];
    if (errorCode !== undefined) {
      const remote = safeDeserialize(env.payload);
      this.#requests.reject(id, remote.code === 'CB_ERR_INTERNAL' ? createError('CB_ERR_HANDLER_FAILED', remote.message, { details: remote.details ?? {} }) : remote);
      return;
    }
    this.#requests.resolve(id, msg);
  }

  readonly #responder = (msg: Message, data: unknown, headers?: Headers): Promise<void> => {
    try {
      this.#replyNow(msg, data, headers);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  };

  /** Writes a reply to `msg`; throws a typed error (writing nothing) when it cannot. */
  #replyNow(msg: Message, data: unknown, headers?: Headers): void {
    const p = this.#payloadOf(data);
    this.write(envelope(Kind.REPLY, { topic: msg.replyTo, headers, payloadType: p.payloadType, payload: p.payload, payloadText: p.payloadText, timestamp: Date.now() }));
  }

  /** A service handler threw (or its answer could not be sent): the requester gets a typed error. */
  #replyFailure(msg: Message, topic: string, err: unknown): void {
    const error = err instanceof CrossbusError ? err : createError('CB_ERR_HANDLER_FAILED', err instanceof Error ? err.message : String(err));
    try {
      this.write(envelope(Kind.REPLY, {
        topic: msg.replyTo, headers: { [HEADER_ERROR]: error.code }, payloadType: PayloadType.JSON, payload: encodeJson(error.toJSON()),
      }));
    } catch {
      /* closed */
    }
    this.reportError(createError('CB_ERR_HANDLER_FAILED', `service handler for ${topic} failed`, { cause: err }), { topic });
  }

  /**
   * Serves requests on `topic`: the handler's return value (JSON or bytes) is the reply; a thrown
   * error reaches the requester as a typed error (its code if it is a crossbus error, else
   * CB_ERR_HANDLER_FAILED; never its stack).
   */
  serve<T = unknown>(topic: string, handler: ServiceHandler<T>, options: ServeOptions = {}): Subscription<T> {
    return this.subscribe<T>(topic, (msg) => {
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
      const run = Promise.resolve(result).then((value) => this.#replyNow(msg, value)).then(undefined, (err: unknown) => this.#replyFailure(msg, topic, err));
      this.#inflightHandlers.add(run);
      void run.finally(() => this.#inflightHandlers.delete(run));
    }, { group: options.group ?? topic, ...(options.weight !== undefined ? { weight: options.weight } : {}) });
  }

  /** Resolves once the hub has processed everything sent before this call (a PING round trip). */
  async flush(timeoutMs = this.#opts.requestTimeoutMs): Promise<void> {
    this.#checkOpen();
    const id = this.#opId();
    const done = this.#trackOp(id, timeoutMs);
    this.write(envelope(Kind.PING, { id }));
    await done;
  }

  /**
   * Graceful stop: unsubscribes everything, lets running service handlers finish, makes sure the
   * hub received all that was published, then closes.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    if (this.#stateValue === 'closed' || this.#stateValue === 'draining') return;
    const wasConnected = this.#stateValue === 'connected';
    for (const sid of [...this.#subs.keys()]) {
      if (sid !== this.#inboxSid) this.#subs.get(sid)?.unsubscribe();
    }
    this.#setState('draining');
    const deadline = Date.now() + timeoutMs;
    while (this.#inflightHandlers.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inflightHandlers]), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
    }
    if (wasConnected && this.#transport !== undefined) {
      const id = this.#opId();
      const done = this.#trackOp(id, Math.max(1, deadline - Date.now()));
      this.write(envelope(Kind.PING, { id }));
      this.#flushBatch();
      await done.catch(() => {});
    }
    await this.close();
  }

  /** Closes now. Pending requests and subscriptions end with CB_ERR_CONNECTION_CLOSED. */
  async close(reason?: CrossbusError): Promise<void> {
    if (this.#stateValue === 'closed') return;
    if (this.#transport !== undefined && this.#writer.length > 0 && this.#welcome !== undefined && this.#stateValue !== 'connecting') this.#flushBatch();
    this.#setState('closed');
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    const error = reason ?? new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus was closed');
    this.#requests.rejectAll(error);
    this.#ops.rejectAll(error);
    this.#streamsPlugin?.closed(error);
    for (const sub of this.#subs.values()) sub.end();
    this.#subs.clear();
    this.#releaseDrainWaiters();
    const t = this.#transport;
    this.#transport = undefined;
    if (t !== undefined) {
      try {
        t.send(encodeFrame(envelope(Kind.GOODBYE), this.#limits));
      } catch {
        /* already gone */
      }
      t.close(CLOSE_NORMAL, 'client closed');
    }
    this.events.emit('closed', { error: reason });
  }
}

/** Throws CB_ERR_INVALID_OPTION unless `url` is a ws:// or wss:// URL. */
export function assertHubUrl(url: string): void {
  if (!/^wss?:\/\//i.test(url)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `hub URL must start with ws:// or wss://, got ${JSON.stringify(url)}`);
  }
}

function safeDeserialize(payload: Uint8Array): CrossbusError {
  try {
    return deserializeError(decodeJson(payload));
  } catch {
    return createError('CB_ERR_PROTOCOL', 'error frame with an unreadable payload');
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
}

/** Connects through `connector` (no URL handling, no secret authentication unless plugged in). */
export function openBus(connector: TransportConnector, options: ConnectOptions = {}, plugins: BusPlugins = {}): Promise<Bus> {
  try {
    return new Bus(connector, options, plugins).open();
  } catch (err) {
    return Promise.reject(err);
  }
}
