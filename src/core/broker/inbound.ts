import { CrossbusError, ProtocolError, createError, type ErrorCode } from '../errors/index.js';
import { readFrames } from '../protocol/codec.js';
import { KIND_NAMES, Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import { SUPPORTED_VERSIONS, type HelloPayload, type WelcomePayload } from '../protocol/handshake.js';
import type { BrokerStreams } from '../streams/broker-streams.js';
import { groupProblem, topicProblem } from '../topic.js';
import { CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG } from '../transport/transport.js';
import type { TypedEmitter } from '../util/emitter.js';
import { decodeJson, encodeJson } from '../util/json.js';
import type { AccessGate } from './access-gate.js';
import type { HubCounters } from './counters.js';
import type { BrokerEvents } from './events.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { OutboundQueues } from './outbound-queues.js';
import { NO_STREAM_STORAGE, type Router } from './router.js';
import type { SessionTable } from './session-table.js';
import type { Session } from './session.js';

/**
 * What the hub does with what a peer sends: a transport chunk is decoded into frames (limits
 * enforced, typed errors), and each frame is dispatched by kind. The handshake goes to the
 * session table (insecure hub) or the access gate; PUBLISH, REQUEST and REPLY are validated,
 * admitted by the gate and handed to the router, as are SUBSCRIBE and UNSUBSCRIBE; STREAM and
 * ACK go to durable streams. A frame that breaks the protocol fails the session.
 */
export class InboundDispatch {
  readonly #options: ResolvedBrokerOptions;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #totals: HubCounters;
  readonly #sessions: SessionTable;
  readonly #queues: OutboundQueues;
  readonly #router: Router;
  /** Authentication and access control; undefined on an insecure hub. */
  readonly #gate: AccessGate | undefined;
  /** Durable streams; undefined on a hub without stream storage. */
  readonly #streams: BrokerStreams<Session> | undefined;

  constructor(
    options: ResolvedBrokerOptions,
    events: TypedEmitter<BrokerEvents>,
    totals: HubCounters,
    sessions: SessionTable,
    queues: OutboundQueues,
    router: Router,
    gate: AccessGate | undefined,
    streams: BrokerStreams<Session> | undefined,
  ) {
    this.#options = options;
    this.#events = events;
    this.#totals = totals;
    this.#sessions = sessions;
    this.#queues = queues;
    this.#router = router;
    this.#gate = gate;
    this.#streams = streams;
  }

  onChunk(s: Session, chunk: Uint8Array): void {
    if (s.state === 'closed') return;
    this.#sessions.heard(s);
    const totals = this.#totals;
    s.counters.bytesIn += chunk.length;
    totals.bytesIn += chunk.length;
    // What delivery latency and request round trips are measured from: one clock read per chunk.
    totals.receivedAt = performance.now();
    try {
      readFrames(chunk, this.#options.limits, (env, buf, start, end) => this.#onFrame(s, env, buf, start, end));
      totals.receivedAt = 0;
    } catch (err) {
      totals.receivedAt = 0;
      const error =
        err instanceof CrossbusError ? err : createError('CB_ERR_INTERNAL', 'internal error while handling a frame', { cause: err });
      if (!(err instanceof CrossbusError)) this.#options.logger.error({ error: String(err) }, 'broker failed on a frame');
      this.#events.emit('protocol-error', { connectionId: s.connectionId, name: s.name, code: error.code, message: error.message });
      this.#sessions.fail(s, error, error.code === 'CB_ERR_FRAME_TOO_LARGE' ? CLOSE_TOO_BIG : CLOSE_PROTOCOL_ERROR);
    }
  }

  /**
   * Answers frame `id` with an error; on a secure hub, malformed input also counts toward the
   * app's abuse control.
   */
  replyError(s: Session, id: number, code: ErrorCode, message: string, details?: Record<string, unknown>): void {
    this.#queues.replyError(s, id, code, message, details);
    this.#gate?.invalidInput(s, code);
  }

  #onFrame(s: Session, env: Envelope, buf: Uint8Array, start: number, end: number): void {
    if (s.state !== 'open') {
      if (s.auth.busy) throw new ProtocolError('CB_ERR_PROTOCOL', 'frame sent before the hub answered the last handshake step');
      if (s.state === 'handshake') this.#onHello(s, env);
      else if (s.state === 'auth') this.#gate?.onAuth(s, env);
      return;
    }
    switch (env.kind) {
      case Kind.PUBLISH:
      case Kind.REPLY:
      case Kind.REQUEST:
        this.#onPublish(s, env, buf, start, end);
        return;
      case Kind.SUBSCRIBE:
        this.#onSubscribe(s, env);
        return;
      case Kind.UNSUBSCRIBE:
        this.#onUnsubscribe(s, env);
        return;
      case Kind.STREAM:
        if (this.#streams === undefined) this.#noStreams(s, env.id);
        else this.#streams.onOperation(s, env);
        return;
      case Kind.ACK:
        if (this.#streams === undefined) this.#noStreams(s, env.id);
        else this.#streams.onAck(s, env);
        return;
      case Kind.PING:
        this.#queues.enqueueControl(s, envelope(Kind.PONG, { id: env.id }));
        return;
      case Kind.PONG:
        return; // lastHeardAt already refreshed
      case Kind.GOODBYE:
        this.#sessions.close(s, CLOSE_NORMAL, 'goodbye');
        return;
      case Kind.ERROR:
        this.#options.logger.warn({ connectionId: s.connectionId, payload: safeJson(env.payload) }, 'peer reported an error');
        return;
      default:
        throw new ProtocolError('CB_ERR_PROTOCOL', `a client may not send ${KIND_NAMES[env.kind] ?? env.kind} frames`, {
          details: { kind: env.kind },
        });
    }
  }

  #onHello(s: Session, env: Envelope): void {
    if (env.kind !== Kind.HELLO) {
      throw new ProtocolError('CB_ERR_HANDSHAKE_REQUIRED', 'the first frame must be HELLO', { details: { kind: env.kind } });
    }
    let hello: HelloPayload;
    try {
      hello = decodeJson(env.payload) as HelloPayload;
    } catch (cause) {
      throw new ProtocolError('CB_ERR_HANDSHAKE_FAILED', 'HELLO payload is not JSON', { cause });
    }
    if (typeof hello !== 'object' || hello === null || !Array.isArray(hello.versions) || typeof hello.name !== 'string') {
      throw new ProtocolError('CB_ERR_HANDSHAKE_FAILED', 'HELLO payload must have versions (array) and name (string)');
    }
    const version = SUPPORTED_VERSIONS.find((v) => hello.versions.includes(v));
    if (version === undefined) {
      throw new ProtocolError('CB_ERR_UNSUPPORTED_VERSION', `no common protocol version (hub speaks ${SUPPORTED_VERSIONS.join(', ')})`, {
        details: { offered: hello.versions.slice(0, 8), supported: SUPPORTED_VERSIONS },
      });
    }
    if (hello.name.length > 128) throw new ProtocolError('CB_ERR_HANDSHAKE_FAILED', 'name is longer than 128 characters');
    this.#sessions.named(s, hello.name);
    const o = this.#options;
    const welcome: WelcomePayload = {
      version,
      hubId: o.hubId,
      connectionId: s.connectionId,
      limits: { ...o.limits, maxSubscriptions: o.maxSubscriptions },
      heartbeatMs: o.heartbeatMs,
      transport: s.transport.kind,
    };
    const listeners = o.advertisedListeners?.();
    if (listeners !== undefined && listeners.length > 0) welcome.listeners = listeners;
    if (this.#gate === undefined) {
      // Insecure hub (--insecure): an auth offer is ignored, and a client holding a secret will
      // refuse this WELCOME because it carries no proof.
      this.#sessions.open(s);
      this.#queues.enqueueControl(s, envelope(Kind.WELCOME, { id: env.id, payloadType: PayloadType.JSON, payload: encodeJson(welcome) }));
      this.#events.emit('connection', { connectionId: s.connectionId, name: s.name, peer: s.transport.peer, transport: s.transport.kind });
      return;
    }
    this.#gate.onHello(s, hello, env, welcome);
  }

  #noStreams(s: Session, id: number): void {
    this.replyError(s, id, 'CB_ERR_STREAMS_UNAVAILABLE', NO_STREAM_STORAGE);
  }

  #onPublish(s: Session, env: Envelope, buf: Uint8Array, start: number, end: number): void {
    s.counters.messagesIn++;
    this.#totals.messagesIn++;
    const maxTopicLength = this.#options.limits.maxTopicLength;
    const problem = topicProblem(env.topic, 'topic', maxTopicLength);
    if (problem !== undefined) {
      this.replyError(s, env.id, 'CB_ERR_TOPIC_INVALID', `topic ${JSON.stringify(env.topic)} ${problem}`, { topic: env.topic });
      return;
    }
    if (env.kind === Kind.REQUEST && env.replyTo === '') {
      this.replyError(s, env.id, 'CB_ERR_PROTOCOL', 'a REQUEST needs a replyTo topic', { topic: env.topic });
      return;
    }
    if (env.replyTo !== '') {
      const replyProblem = topicProblem(env.replyTo, 'topic', maxTopicLength);
      if (replyProblem !== undefined) {
        this.replyError(s, env.id, 'CB_ERR_TOPIC_INVALID', `replyTo ${JSON.stringify(env.replyTo)} ${replyProblem}`, {
          replyTo: env.replyTo,
        });
        return;
      }
    }
    if (this.#gate !== undefined && !this.#gate.admitMessage(s, env, buf, start, end)) return;
    if (env.kind === Kind.REPLY) this.#router.replied(s, env.topic, env.headers);
    this.#router.publish(s, env, buf, start, end);
  }

  #onSubscribe(s: Session, env: Envelope): void {
    const o = this.#options;
    if (env.sid === 0) return this.replyError(s, env.id, 'CB_ERR_PROTOCOL', 'SUBSCRIBE needs a non-zero sid');
    const problem = topicProblem(env.topic, 'pattern', o.limits.maxTopicLength);
    if (problem !== undefined) {
      return this.replyError(
        s,
        env.id,
        problem.startsWith('is longer') ? 'CB_ERR_TOPIC_TOO_LONG' : 'CB_ERR_TOPIC_INVALID',
        `pattern ${JSON.stringify(env.topic)} ${problem}`,
        { pattern: env.topic, sid: env.sid },
      );
    }
    if (env.group !== '') {
      const gp = groupProblem(env.group);
      if (gp !== undefined)
        return this.replyError(s, env.id, 'CB_ERR_TOPIC_INVALID', `group ${JSON.stringify(env.group)} ${gp}`, {
          group: env.group,
          sid: env.sid,
        });
    }
    const subscriptions = s.routing.subscriptions;
    if (subscriptions.has(env.sid)) {
      return this.replyError(s, env.id, 'CB_ERR_PROTOCOL', `sid ${env.sid} is already in use on this connection`, { sid: env.sid });
    }
    if (subscriptions.size >= o.maxSubscriptions) {
      return this.replyError(s, env.id, 'CB_ERR_SUBSCRIPTION_LIMIT', `a connection may hold at most ${o.maxSubscriptions} subscriptions`, {
        limit: o.maxSubscriptions,
        sid: env.sid,
      });
    }
    if (this.#gate !== undefined && !this.#gate.admitSubscription(s, env)) return;
    const refused = this.#router.subscribe(s, env);
    if (refused !== undefined) this.replyError(s, env.id, 'CB_ERR_PROTOCOL', refused, { sid: env.sid });
  }

  #onUnsubscribe(s: Session, env: Envelope): void {
    const sub = s.routing.subscriptions.get(env.sid);
    if (sub === undefined && this.#streams?.hasMember(s, env.sid)) {
      this.#streams.leave(s, env.sid);
      if (env.id !== 0) this.#queues.enqueueControl(s, envelope(Kind.OK, { id: env.id, sid: env.sid }));
      return;
    }
    if (sub === undefined) {
      return this.replyError(s, env.id, 'CB_ERR_SUBSCRIPTION_UNKNOWN', `no subscription with sid ${env.sid}`, { sid: env.sid });
    }
    this.#router.unsubscribe(s, sub, env.id);
  }
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return decodeJson(bytes);
  } catch {
    return undefined;
  }
}
