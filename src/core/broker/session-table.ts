import { createError, type CrossbusError } from '../errors/index.js';
import { Kind, PayloadType, envelope } from '../protocol/envelope.js';
import type { BrokerStreams } from '../streams/broker-streams.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION, type TransportCloseInfo } from '../transport/transport.js';
import type { TypedEmitter } from '../util/emitter.js';
import { encodeJson } from '../util/json.js';
import type { HubCounters } from './counters.js';
import type { BrokerEvents } from './events.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { OutboundQueues } from './outbound-queues.js';
import type { Router } from './router.js';
import type { Session, SessionState } from './session.js';
import { unrefTimer } from '../util/timers.js';
import { DEFAULT_HEARTBEAT_PINGS_PER_TICK, DEFAULT_HEARTBEAT_TICK_MS } from '../defaults.js';
import { HeartbeatWheel } from './heartbeat-wheel.js';

/** A session's lifecycle fields, writable: only this module names this type. */
interface Lifecycle {
  state: SessionState;
  name: string;
  lastHeardAt: number;
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The hub's sessions and their lifecycle: registration, the handshake deadline, the steps from
 * 'handshake' through 'auth' to 'open', failing and closing (which detaches a session from
 * routing and streams first), the transport's close, the heartbeat, and the hub's shutdown.
 * It alone writes a session's lifecycle fields (state, name, lastHeardAt, handshakeTimer).
 */
export class SessionTable {
  readonly #sessions = new Map<number, Session>();
  #seq = 0;
  #closing = false;
  /** Sessions in 'handshake' or 'auth': bounded by maxPendingHandshakes. */
  #pending = 0;
  readonly #heartbeat: HeartbeatWheel<Session> | undefined;
  readonly #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #totals: HubCounters;
  readonly #queues: OutboundQueues;
  readonly #router: Router;
  readonly #streams: BrokerStreams<Session> | undefined;

  constructor(
    options: ResolvedBrokerOptions,
    events: TypedEmitter<BrokerEvents>,
    totals: HubCounters,
    queues: OutboundQueues,
    router: Router,
    streams: BrokerStreams<Session> | undefined,
  ) {
    this.#events = events;
    this.#totals = totals;
    this.#queues = queues;
    this.#router = router;
    this.#streams = streams;
    if (options.heartbeatMs > 0) {
      const wheel = (this.#heartbeat = new HeartbeatWheel<Session>(
        options.heartbeatMs,
        DEFAULT_HEARTBEAT_TICK_MS,
        DEFAULT_HEARTBEAT_PINGS_PER_TICK,
        {
          ping: (s) => queues.enqueueControl(s, envelope(Kind.PING)),
          lost: (s, silent) => this.fail(s, createError('CB_ERR_CONNECTION_LOST', `no traffic for ${silent} ms`), CLOSE_GOING_AWAY),
        },
      ));
      this.#heartbeatTimer = setInterval(() => wheel.tick(), wheel.tickMs);
      unrefTimer(this.#heartbeatTimer);
    }
  }

  /** Sessions accepted and not yet authenticated. */
  get pendingHandshakes(): number {
    return this.#pending;
  }

  /** Sessions held now, in every state but 'closed'. */
  get size(): number {
    return this.#sessions.size;
  }

  /** The session with this number, if it is held. */
  get(seq: number): Session | undefined {
    return this.#sessions.get(seq);
  }

  values(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** True once the hub is shutting down: new connections are turned away. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The number of the next accepted connection. */
  nextSeq(): number {
    return ++this.#seq;
  }

  add(s: Session): void {
    this.#sessions.set(s.seq, s);
    this.#pending++;
  }

  /**
   * Covers the whole handshake: a client that never sends HELLO, or never finishes with AUTH,
   * is failed after `timeoutMs` (its listener's, or the broker's).
   */
  startHandshakeClock(s: Session, timeoutMs: number): void {
    const timer = setTimeout(() => {
      if (s.state === 'handshake' || s.state === 'auth') {
        const what = s.state === 'handshake' ? 'no hello' : 'no AUTH after WELCOME';
        this.fail(
          s,
          createError('CB_ERR_HANDSHAKE_TIMEOUT', `${what} within ${timeoutMs} ms`, { details: { timeoutMs } }),
          CLOSE_POLICY_VIOLATION,
        );
      }
    }, timeoutMs);
    (s as Lifecycle).handshakeTimer = timer;
    unrefTimer(timer);
  }

  /** Something arrived from the peer (the heartbeat measures silence from here). */
  heard(s: Session): void {
    (s as Lifecycle).lastHeardAt = Date.now();
  }

  /** The name the peer gave in HELLO. */
  named(s: Session, name: string): void {
    (s as Lifecycle).name = name;
  }

  /** WELCOME went out on a secure hub: the client's AUTH proof comes next. */
  awaitAuth(s: Session): void {
    (s as Lifecycle).state = 'auth';
  }

  /** The handshake is done: frames flow. */
  open(s: Session): void {
    const l = s as Lifecycle;
    l.state = 'open';
    this.#pending--;
    this.#heartbeat?.add(s);
    if (l.handshakeTimer !== undefined) clearTimeout(l.handshakeTimer);
    this.#totals.handshakes++;
    this.#totals.handshakeSeconds.observe((Date.now() - s.acceptedAt) / 1000);
  }

  /** Sends an error to the peer, then closes it. */
  fail(s: Session, error: CrossbusError, closeCode: number): void {
    if (s.state === 'closed' || s.state === 'closing') return;
    if (s.state === 'handshake' || s.state === 'auth') this.#totals.handshakeFailures++;
    this.#queues.sendError(s, 0, error);
    this.close(s, closeCode, error.code);
  }

  /** Stops routing to the session, flushes what is queued for it (errors, goodbye) straight away, then closes its transport. */
  close(s: Session, code: number, reason: string): void {
    if (s.state === 'closed' || s.state === 'closing') return;
    if (s.state !== 'open') this.#pending--;
    (s as Lifecycle).state = 'closing';
    this.#detach(s);
    this.#queues.flushBeforeClose(s);
    s.transport.close(code, reason);
  }

  /** Removes a session's subscriptions so nothing more is routed to it; fails requests only it could answer. */
  #detach(s: Session): void {
    for (const req of this.#router.detach(s)) {
      this.#queues.replyError(
        req.requester,
        req.id,
        'CB_ERR_RESPONDER_GONE',
        `the responder (${s.name || s.connectionId}) went away before answering`,
        { connectionId: s.connectionId },
      );
    }
    this.#streams?.sessionClosed(s);
    this.#heartbeat?.delete(s);
    if (s.handshakeTimer !== undefined) clearTimeout(s.handshakeTimer);
    // The access gate's key-expiry timer: it would only find the session gone.
    if (s.auth.keyTimer !== undefined) clearTimeout(s.auth.keyTimer);
  }

  /** The transport closed (from either end): the session is forgotten. */
  transportClosed(s: Session, info: TransportCloseInfo): void {
    if (s.state === 'closed') return;
    const wasOpen = s.state === 'open' || s.state === 'closing';
    // A peer that leaves before its handshake ends is a failed handshake too (fail() counted its own).
    if (s.state === 'handshake' || s.state === 'auth') {
      this.#totals.handshakeFailures++;
      this.#pending--;
    }
    this.#detach(s);
    (s as Lifecycle).state = 'closed';
    this.#queues.discard(s);
    this.#sessions.delete(s.seq);
    if (wasOpen) this.#events.emit('disconnection', { connectionId: s.connectionId, name: s.name, code: info.code, reason: info.reason });
  }

  /**
   * Graceful shutdown: tells every peer with GOODBYE (CB_ERR_HUB_SHUTTING_DOWN, so clients
   * reconnect elsewhere), waits up to `timeoutMs` for queues to drain, then closes everything.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    const queues = this.#queues;
    const goodbye = createError('CB_ERR_HUB_SHUTTING_DOWN', 'the hub is shutting down').toJSON();
    for (const s of this.#sessions.values()) {
      if (s.state === 'open')
        queues.enqueueControl(s, envelope(Kind.GOODBYE, { payloadType: PayloadType.JSON, payload: encodeJson(goodbye) }));
      queues.pump(s);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.#sessions.values()].some((s) => s.queue.out.length > 0 || s.transport.bufferedAmount() > 0)) {
      await new Promise((r) => setTimeout(r, 10));
      for (const s of this.#sessions.values()) queues.pump(s);
    }
    for (const s of [...this.#sessions.values()]) this.close(s, CLOSE_GOING_AWAY, 'CB_ERR_HUB_SHUTTING_DOWN');
  }
}
