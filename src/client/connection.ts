/**
 * A Bus's link to its hub: connection attempts within the connect timeout, the handshake (HELLO
 * and WELCOME; with the SecretAuth plugin, the plugin's steps too), the grants and private inbox
 * the hub assigns, the heartbeat, reconnects with backoff and jitter, and the state machine with
 * its events. It outlives its transports: each reconnect gives it a new one.
 */
import { ConfigError, ConnectionError, CrossbusError, createError, isErrorCode } from '../core/errors/index.js';
import type { FrameLimits } from '../core/limits.js';
import { encodeFrame } from '../core/protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../core/protocol/envelope.js';
import { FrameWriter } from '../core/protocol/frame-writer.js';
import { SUPPORTED_VERSIONS, type HelloPayload, type WelcomePayload } from '../core/protocol/handshake.js';
import { GrantCheck } from '../core/security/grant-check.js';
import { ORIGIN_SCHEME, type GrantsSummary, type OriginWelcomeAuth, type WelcomeAuth } from '../core/security/handshake-messages.js';
import { CLOSE_NORMAL, type Transport, type TransportCloseInfo, type TransportConnector } from '../core/transport/transport.js';
import type { TypedEmitter } from '../core/util/emitter.js';
import { decodeJson, encodeJson } from '../core/util/json.js';
import { backoffDelay } from './backoff.js';
import type { BusEvents, BusState } from './events.js';
import type { ResolvedConnectOptions } from './options.js';
import { Outbox } from './outbox.js';
import { unrefTimer } from '../core/util/timers.js';
import type { SecretAuth } from './secret-auth.js';
import type { Reframe } from '../core/transport/reframe.js';

/** What a connection may be given beyond its options (see BusPlugins). */
export interface ConnectionPlugins {
  readonly secretAuth: SecretAuth | undefined;
  readonly reframe?: Reframe | undefined;
  /** Whether a refusal that would close the bus is retried instead (see BusPlugins.retryRefusal). */
  readonly retryRefusal?: ((error: CrossbusError) => boolean) | undefined;
}

/** What a connection needs of the Bus it belongs to. */
export interface ConnectionOwner {
  opId(): number;
  reportError(error: CrossbusError, context: Record<string, unknown>): void;
  /** A chunk from the current transport. */
  received(transport: Transport, chunk: Uint8Array): void;
  /** The hub assigned this connection a private reply inbox; `prefix` ends with a dot. */
  useInbox(prefix: string): void;
  /** The hub welcomed a connection: every subscription is written into `w`, sent before anything else. */
  resubscribe(w: FrameWriter): void;
  /** 'connected' was announced: what the lost connection took with it goes again. */
  reconnected(): void;
  /** The transport closed: what waited for its answers fails with `error`. */
  lost(error: CrossbusError): void;
  /** The connection closed for good: everything waiting fails with `error`, every subscription ends. */
  closed(error: CrossbusError): void;
}

/**
 * Its public fields are written by the Connection alone and read by its Outbox and the Bus
 * (getters would only repeat them); the grants are also cleared by the attack tests.
 */
export class Connection {
  /** The state machine's state; setState() moves it and emits 'state'. */
  state: BusState = 'connecting';
  /** The current transport (during a handshake too); undefined while there is none. */
  transport: Transport | undefined;
  /** What the hub said in WELCOME (connection id, limits) for the current connection. */
  info: WelcomePayload | undefined;
  /** Frame limits: the client's own until the hub's WELCOME tells the hub's. */
  limits: FrameLimits;
  /**
   * The app's grants as the hub told them (none on a connection without security): operations
   * outside them fail at once, before anything is sent.
   */
  grants: GrantCheck | undefined;
  /** What waits to be sent; it outlives transports too. */
  readonly outbox: Outbox;
  readonly #connector: TransportConnector;
  readonly #opts: ResolvedConnectOptions;
  readonly #plugins: ConnectionPlugins;
  readonly #events: TypedEmitter<BusEvents>;
  readonly #owner: ConnectionOwner;
  /** Id of the secret handshake's frame (AUTH) while its OK is awaited (see HandshakeAnswer). */
  #authId = 0;
  #connectResolve: ((w: Envelope) => void) | undefined;
  #connectReject: ((e: CrossbusError) => void) | undefined;
  #reconnectAttempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeardAt = 0;

  constructor(
    connector: TransportConnector,
    opts: ResolvedConnectOptions,
    plugins: ConnectionPlugins,
    events: TypedEmitter<BusEvents>,
    owner: ConnectionOwner,
  ) {
    this.#connector = connector;
    this.#opts = opts;
    this.#plugins = plugins;
    this.#events = events;
    this.#owner = owner;
    this.limits = opts.limits;
    this.outbox = new Outbox(this, opts);
  }

  setState(next: BusState): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    this.#events.emit('state', { from: prev, to: next });
  }

  /** Throws when the bus is closed or draining. */
  checkOpen(): void {
    if (this.state === 'closed') throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus is closed');
    if (this.state === 'draining') throw new ConnectionError('CB_ERR_DRAINING', 'bus is draining');
  }

  /** One connection attempt, handshake included; rejects when it fails (the caller owns retries). */
  async attempt(): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#opts.timeoutMs);
    try {
      await this.#handshake(await this.#open(controller.signal), controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A transport from the connector, reframed if it is a byte stream. */
  async #open(signal: AbortSignal): Promise<Transport> {
    let transport: Transport;
    try {
      transport = await this.#connector(signal);
    } catch (err) {
      throw err instanceof CrossbusError ? err : new ConnectionError('CB_ERR_CONNECTION_FAILED', 'could not connect', { cause: err });
    }
    try {
      if (this.state === 'closed') throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus was closed while connecting');
      if (transport.framing !== 'message') {
        // A byte stream is reassembled into whole frames first: a record or frame may arrive in pieces.
        const { reframe } = this.#plugins;
        if (reframe === undefined)
          throw new ConfigError(
            'CB_ERR_INVALID_OPTION',
            "a byte-stream transport needs the reframe plugin (connect() from 'crossbus' has it)",
          );
        transport = reframe(transport, () => this.limits.maxFrameBytes);
      }
    } catch (err) {
      transport.close();
      throw err;
    }
    return transport;
  }

  /** HELLO, WELCOME and, with the SecretAuth plugin, its part; the connection is up when it resolves. */
  async #handshake(transport: Transport, signal: AbortSignal): Promise<void> {
    const { secretAuth } = this.#plugins;
    const handshake = secretAuth === undefined ? undefined : await secretAuth.begin(transport, this.limits, this.#owner);
    const t = handshake === undefined ? transport : handshake.transport;
    const answered = this.#expectAnswer();
    const onAbort = (): void =>
      this.#connectReject?.(new ConnectionError('CB_ERR_HANDSHAKE_TIMEOUT', `handshake did not finish within ${this.#opts.timeoutMs} ms`));
    signal.addEventListener('abort', onAbort, { once: true });
    this.transport = t;
    t.setHandlers({
      message: (chunk) => {
        if (this.transport !== t) return;
        this.#lastHeardAt = Date.now();
        this.#owner.received(t, chunk);
      },
      close: (info) => this.#onTransportClose(t, info),
      drain: () => this.outbox.onDrain(),
    });
    const hello: HelloPayload = { versions: [...SUPPORTED_VERSIONS], name: this.#opts.name };
    try {
      const { payload, headers } =
        handshake === undefined ? { payload: encodeJson(hello), headers: undefined } : await handshake.hello(hello);
      try {
        t.send(encodeFrame(envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload, headers }), this.limits));
      } catch (err) {
        // A hub that refused us at once (full, busy) said why before closing: that reason wins.
        await answered;
        throw err;
      }
      const welcomeEnv = await answered;
      let welcome: WelcomePayload;
      try {
        welcome = decodeJson(welcomeEnv.payload) as WelcomePayload;
      } catch (cause) {
        throw new ConnectionError('CB_ERR_HANDSHAKE_FAILED', 'WELCOME payload is not JSON', { cause });
      }
      // The grants and the private reply inbox the hub assigned: sent with the secret handshake's
      // proof, or in WELCOME by a browser hub that identified us by our origin; none without security.
      let auth: Pick<WelcomeAuth, 'grants' | 'inbox'> | undefined;
      if (handshake !== undefined) {
        auth = await handshake.authenticate(welcomeEnv, welcome.auth, (id) => {
          this.#authId = id;
          return this.#expectAnswer();
        });
      } else if ((welcome.auth as Partial<OriginWelcomeAuth> | undefined)?.scheme === ORIGIN_SCHEME) {
        auth = welcome.auth as unknown as OriginWelcomeAuth;
      }
      this.grants = undefined;
      if (auth !== undefined) {
        this.grants = new GrantCheck(auth.grants);
        this.#owner.useInbox(`${auth.inbox}.`);
      }
      this.#onWelcome(t, welcome);
      handshake?.setLimits(this.limits);
    } catch (err) {
      t.close(CLOSE_NORMAL, 'handshake failed');
      if (this.transport === t) this.transport = undefined;
      throw err;
    } finally {
      this.#authId = 0;
      signal.removeEventListener('abort', onAbort);
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

  /** Inbound WELCOME, or an OK: true when it answered the handshake (WELCOME, or the OK to AUTH). */
  answered(env: Envelope): boolean {
    if (env.kind === Kind.OK && (env.id === 0 || env.id !== this.#authId)) return false;
    this.#connectResolve?.(env);
    return true;
  }

  /** Inbound ERROR nobody else took: true when it refused the handshake (connection limit, version, ...). */
  refused(error: CrossbusError): boolean {
    if (this.#connectReject === undefined) return false;
    this.#connectReject(error);
    return true;
  }

  /** The hub's config changed: adopt the app's new grants (ignored on a connection without security). */
  updateGrants(env: Envelope): void {
    if (this.grants === undefined) return;
    try {
      const { grants } = decodeJson(env.payload) as { grants: GrantsSummary };
      this.grants = new GrantCheck(grants);
    } catch (cause) {
      this.#owner.reportError(createError('CB_ERR_PROTOCOL', 'the hub sent unreadable grants', { cause }), {});
    }
  }

  #onWelcome(transport: Transport, welcome: WelcomePayload): void {
    this.info = welcome;
    // The frame limits are the hub's; the subscription bound is the hub's to enforce.
    const { maxSubscriptions: _, ...frameLimits } = welcome.limits;
    this.limits = Object.freeze(frameLimits);
    const reconnected = this.#reconnectAttempt > 0 || this.state === 'reconnecting';
    this.#reconnectAttempt = 0;
    // Restore subscriptions first, then whatever was published while we were away.
    const w = new FrameWriter(1024);
    this.#owner.resubscribe(w);
    if (w.length > 0) transport.send(w.take());
    this.#lastHeardAt = Date.now();
    this.#startHeartbeat(welcome.heartbeatMs);
    this.setState('connected');
    this.#events.emit('connected', { connectionId: welcome.connectionId, hubId: welcome.hubId, reconnected });
    this.#owner.reconnected();
    this.outbox.flush();
  }

  #startHeartbeat(ms: number): void {
    clearInterval(this.#heartbeatTimer);
    if (ms <= 0) return;
    this.#heartbeatTimer = setInterval(
      () => {
        const silent = Date.now() - this.#lastHeardAt;
        if (silent > 2 * ms) {
          this.#opts.logger.warn({ silentMs: silent }, 'hub is silent: dropping the connection');
          this.transport?.close(4000, 'CB_ERR_CONNECTION_LOST');
        } else if (silent > ms) {
          this.outbox.sendControl(envelope(Kind.PING, { id: 0 }));
        }
      },
      Math.max(1, Math.floor(ms / 2)),
    );
    unrefTimer(this.#heartbeatTimer);
  }

  #onTransportClose(transport: Transport, info: TransportCloseInfo): void {
    if (this.transport !== transport) return;
    this.transport = undefined;
    clearInterval(this.#heartbeatTimer);
    // Whatever was handed to the dead transport is gone; what is still in the outbox is kept.
    const error = new ConnectionError(
      'CB_ERR_CONNECTION_LOST',
      `connection lost (code ${info.code}${info.reason ? `, ${info.reason}` : ''})`,
      {
        details: { code: info.code, reason: info.reason },
      },
    );
    if (this.#connectReject !== undefined) {
      // Closed during the handshake: attempt() rejects, and its caller owns the retry. A transport
      // that names an error code as its close reason (a refused origin) fails with that code.
      this.#connectReject(
        isErrorCode(info.reason)
          ? createError(info.reason, `the hub refused the connection: ${info.reason}`, { details: { code: info.code } })
          : error,
      );
      return;
    }
    this.#owner.lost(error);
    if (this.state === 'closed' || this.state === 'connecting') return;
    this.#events.emit('disconnected', { error });
    this.outbox.releaseWaiters();
    if (this.#opts.reconnect === undefined || this.state === 'draining') {
      void this.close(error);
      return;
    }
    this.setState('reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const r = this.#opts.reconnect;
    if (r === undefined || this.state !== 'reconnecting') return;
    if (this.#reconnectAttempt >= r.maxAttempts) {
      void this.close(new ConnectionError('CB_ERR_CONNECTION_FAILED', `gave up after ${this.#reconnectAttempt} reconnect attempts`));
      return;
    }
    const delayMs = backoffDelay(this.#reconnectAttempt, r);
    this.#reconnectAttempt++;
    this.#events.emit('reconnecting', { attempt: this.#reconnectAttempt, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.attempt().catch((err: unknown) => {
        this.#opts.logger.debug({ attempt: this.#reconnectAttempt, error: String(err) }, 'reconnect attempt failed');
        // Refused for good (credentials revoked or expired, a hub that cannot prove the secret):
        // retrying cannot help, so the bus closes with the reason instead of knocking forever.
        if (
          err instanceof CrossbusError &&
          !err.retryable &&
          err.code !== 'CB_ERR_CONNECTION_CLOSED' &&
          !this.#plugins.retryRefusal?.(err)
        ) {
          void this.close(err);
          return;
        }
        this.#scheduleReconnect();
      });
    }, delayMs);
  }

  /**
   * Closes for good (the bus was closed, or the connection ended with no reconnect to come): what
   * is batched goes out, the state becomes closed and the timers stop, the owner fails what waits
   * with `reason` (CB_ERR_CONNECTION_CLOSED when none is given), and the hub gets a GOODBYE.
   */
  async close(reason?: CrossbusError): Promise<void> {
    if (this.state === 'closed') return;
    this.outbox.flush();
    this.setState('closed');
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#heartbeatTimer);
    this.#owner.closed(reason ?? new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'bus was closed'));
    this.outbox.releaseWaiters();
    const t = this.transport;
    this.transport = undefined;
    if (t !== undefined) {
      try {
        t.send(encodeFrame(envelope(Kind.GOODBYE), this.limits));
      } catch {
        /* already gone */
      }
      t.close(CLOSE_NORMAL, 'client closed');
    }
    this.#events.emit('closed', { error: reason });
  }
}
