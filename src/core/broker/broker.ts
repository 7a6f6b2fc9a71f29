import { type CrossbusError, createError } from '../errors/index.js';
import { encodeFrame } from '../protocol/codec.js';
import { Kind, PayloadType, envelope } from '../protocol/envelope.js';
import { SecureTransport } from '../security/secure-transport.js';
import { reframe } from '../transport/reframe.js';
import { CLOSE_GOING_AWAY, CLOSE_TRY_AGAIN_LATER, type Transport } from '../transport/transport.js';
import { TypedEmitter } from '../util/emitter.js';
import { encodeJson } from '../util/json.js';
import type { Metric, MetricsSource } from '../metrics/metric.js';
import { AccessGate } from './access-gate.js';
import { brokerMetrics } from './broker-metrics.js';
import { HubCounters } from './counters.js';
import type { BrokerEvents, BrokerStats } from './events.js';
import { InboundDispatch } from './inbound.js';
import { type AcceptOptions, type BrokerOptions, type ResolvedBrokerOptions, handshakeTimeoutOf, resolveBrokerOptions } from './options.js';
import { OutboundQueues } from './outbound-queues.js';
import { Router } from './router.js';
import { SessionTable } from './session-table.js';
import { Session } from './session.js';
import { BrokerStreamHost } from './stream-host.js';
import type { HubReply } from './hub-requests.js';
import type { ClusterInbound, ClusterLink } from './cluster.js';
import { type ReplyStatsSnapshot, snapshotReplyStats, trafficWeightProblem } from './traffic.js';

/**
 * The routing core of a hub. Isomorphic: it knows transports only through the Transport
 * interface, so a Node process, a browser page or an extension's service worker can host it.
 *
 * Flow of a message: transport chunk -> InboundDispatch (readFrames, dispatch by kind) ->
 * AccessGate (admission, on a secure hub) -> Router (index.match(topic), one copy of the exact
 * frame bytes per recipient) -> OutboundQueues (kind and sid patched; at the end of the
 * microtask each touched session hands its queue to its transport in one send). The
 * SessionTable holds the sessions and their lifecycle; counters.ts lists what is counted.
 */
export class Broker implements MetricsSource {
  readonly options: ResolvedBrokerOptions;
  readonly events: TypedEmitter<BrokerEvents>;
  readonly #totals = new HubCounters();
  readonly #sessions: SessionTable;
  readonly #queues: OutboundQueues;
  readonly #router: Router;
  readonly #inbound: InboundDispatch;
  /** Authentication and access control; undefined on an insecure hub. */
  readonly #gate: AccessGate | undefined;
  readonly #metrics: readonly Metric[];

  constructor(options: BrokerOptions = {}) {
    const o = (this.options = resolveBrokerOptions(options));
    const events = (this.events = new TypedEmitter<BrokerEvents>((error) =>
      o.logger.error({ error: String(error) }, 'broker event listener threw'),
    ));
    const totals = this.#totals;
    const streams = o.streams;
    const queues = (this.#queues = new OutboundQueues(o, events, totals, streams));
    const router = (this.#router = new Router(o, events, totals, queues, streams));
    const sessions = (this.#sessions = new SessionTable(o, events, totals, queues, router, streams));
    queues.attach(sessions);
    const gate = (this.#gate =
      o.security === undefined
        ? undefined
        : new AccessGate(o.security, events, sessions, queues, router, totals, o.metricsAppLabel, o.openSystemRequests));
    const inbound = (this.#inbound = new InboundDispatch(o, events, totals, sessions, queues, router, gate, streams));
    streams?.attach(new BrokerStreamHost(events, queues, inbound, gate));
    events.on('security', (e) => {
      const key = `${e.action} ${e.outcome}`;
      totals.securityEvents.set(key, (totals.securityEvents.get(key) ?? 0) + 1);
    });
    this.#metrics = brokerMetrics({ totals, sessions, queues, router, appLabel: o.metricsAppLabel });
  }

  /** Every counter, gauge and histogram the broker keeps, for an exporter to read (see metric.ts). */
  metrics(): readonly Metric[] {
    return this.#metrics;
  }

  /**
   * Publishes a JSON message in the hub's own name (alerts on `$SYS.ALERTS.…`) to every matching
   * subscription; returns how many got it. Subscribing needs a grant like any other topic.
   */
  publishFromHub(topic: string, value: unknown): number {
    return this.#router.publishFromHub(topic, value);
  }

  /**
   * Sets an open connection's traffic weight (traffic.ts): each of its service-group members gets
   * `weight` times its own share; 0 drains it of new group messages. False when no such connection.
   */
  setTrafficWeight(connectionId: string, weight: number): boolean {
    const problem = trafficWeightProblem(weight);
    if (problem !== undefined) throw createError('CB_ERR_INVALID_OPTION', problem, { details: { weight } });
    const s = this.#session(connectionId);
    if (s === undefined) return false;
    this.#router.setTrafficWeight(s, weight);
    return true;
  }

  /** Counts an open connection's requests and replies from now on; their totals so far, or undefined when no such connection. */
  replyStats(connectionId: string): ReplyStatsSnapshot | undefined {
    const s = this.#session(connectionId);
    return s === undefined ? undefined : snapshotReplyStats(this.#router.watchReplies(s));
  }

  /**
   * A request from the hub to one connection (a health probe, a smoke request), whatever its
   * traffic weight: its reply, or CB_ERR_TIMEOUT / CB_ERR_NO_RESPONDERS as a failed HubReply.
   */
  requestConnection(connectionId: string, topic: string, data: unknown, timeoutMs: number): Promise<HubReply> {
    const s = this.#session(connectionId);
    if (s === undefined)
      return Promise.resolve({ ok: false, error: createError('CB_ERR_CONNECTION_CLOSED', `no open connection ${connectionId}`) });
    return this.#router.requestSession(s, topic, data, timeoutMs);
  }

  /**
   * Joins a cluster of hubs (cluster.ts): the link hears of every subscription's interest (those
   * held now included) and of every message a local client sends that may cross; it hands what
   * arrives from other hubs to the returned inbound. `hubToken` names this hub in reply topics
   * (one NATS subject token, unique in the cluster).
   */
  attachCluster(link: ClusterLink, hubToken: string): ClusterInbound {
    const sessions = this.#sessions;
    return this.#router.attachCluster(link, hubToken, (seq) => sessions.get(seq), sessions.values());
  }

  #session(connectionId: string): Session | undefined {
    for (const s of this.#sessions.values()) if (s.connectionId === connectionId && s.state === 'open') return s;
    return undefined;
  }

  /**
   * Takes ownership of a connected transport and speaks the protocol on it. A byte-stream
   * transport is reframed first, so everything above it sees whole frames. `options` are its
   * listener's (one object per listener, checked here: an invalid one throws CB_ERR_INVALID_OPTION
   * before the transport is touched).
   */
  accept(raw: Transport, options?: AcceptOptions): void {
    const o = this.options;
    const handshakeTimeoutMs = handshakeTimeoutOf(options, o.handshakeTimeoutMs);
    const sessions = this.#sessions;
    const seq = sessions.nextSeq();
    let session: Session | undefined;
    const gate = this.#gate;
    const framed = reframe(raw, () => o.limits.maxFrameBytes);
    const secure =
      gate === undefined
        ? undefined
        : new SecureTransport(framed, o.limits, (error) => {
            if (session !== undefined) gate.securityFailure(session, error);
          });
    const transport: Transport = secure ?? framed;
    session = new Session(seq, `${o.hubId}-${seq}`, transport, Date.now(), secure);
    if (sessions.closing) {
      transport.close(CLOSE_GOING_AWAY, 'CB_ERR_HUB_SHUTTING_DOWN');
      return;
    }
    if (sessions.size >= o.maxConnections) {
      this.#refuse(
        transport,
        createError('CB_ERR_TOO_MANY_CONNECTIONS', `the hub holds its maximum of ${o.maxConnections} connections`, {
          details: { limit: o.maxConnections },
        }),
      );
      return;
    }
    if (sessions.pendingHandshakes >= o.maxPendingHandshakes) {
      this.#refuse(
        transport,
        createError(
          'CB_ERR_TOO_MANY_HANDSHAKES',
          `the hub has its maximum of ${o.maxPendingHandshakes} handshakes in progress: try again shortly`,
          { details: { limit: o.maxPendingHandshakes } },
        ),
      );
      return;
    }
    sessions.add(session);
    const inbound = this.#inbound;
    const queues = this.#queues;
    transport.setHandlers({
      message: (chunk) => inbound.onChunk(session, chunk),
      close: (info) => sessions.transportClosed(session, info),
      drain: () => queues.pump(session),
    });
    sessions.startHandshakeClock(session, handshakeTimeoutMs);
  }

  /** Refused before any state is kept: say why, then close ("try again later"). */
  #refuse(transport: Transport, error: CrossbusError): void {
    this.#totals.countError(error.code);
    try {
      transport.send(
        encodeFrame(envelope(Kind.ERROR, { payloadType: PayloadType.JSON, payload: encodeJson(error.toJSON()) }), this.options.limits),
      );
    } catch {
      /* already gone */
    }
    transport.close(CLOSE_TRY_AGAIN_LATER, error.code);
  }

  /**
   * Applies a changed security configuration to open connections at once: sessions whose app or
   * key is gone or expired are closed; subscriptions no longer allowed are ended with
   * CB_ERR_FORBIDDEN (an ERROR frame carrying their sid).
   */
  reapplySecurity(): { closed: number; endedSubscriptions: number } {
    return this.#gate?.reapply() ?? { closed: 0, endedSubscriptions: 0 };
  }

  /**
   * Graceful shutdown: tells every peer with GOODBYE (CB_ERR_HUB_SHUTTING_DOWN, so clients
   * reconnect elsewhere), waits up to `timeoutMs` for queues to drain, then closes everything.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    await this.#sessions.shutdown(timeoutMs);
  }

  stats(): BrokerStats {
    const connections = [...this.#sessions.values()].map((s) => ({
      connectionId: s.connectionId,
      name: s.name,
      state: s.state,
      peer: s.transport.peer,
      transport: s.transport.kind,
      subscriptions: s.routing.subscriptions.size,
      queuedBytes: s.queue.out.length,
      queuedMessages: s.queue.queuedMessages,
      transportBufferedBytes: s.transport.bufferedAmount(),
      messagesIn: s.counters.messagesIn,
      messagesOut: s.counters.messagesOut,
      bytesIn: s.counters.bytesIn,
      bytesOut: s.counters.bytesOut,
    }));
    const t = this.#totals;
    return {
      hubId: this.options.hubId,
      connections,
      subscriptions: this.#router.size,
      queuedBytes: this.#queues.queuedBytes,
      messagesIn: t.messagesIn,
      messagesOut: t.messagesOut,
      bytesIn: t.bytesIn,
      bytesOut: t.bytesOut,
      errors: t.errors,
      dropped: t.dropped,
      slowConsumers: t.slowConsumers,
      noResponders: t.noResponders,
    };
  }
}
