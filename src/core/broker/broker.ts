import { CrossbusError, ProtocolError, createError, type ErrorCode } from '../errors/index.js';
import { encodeFrame, encodeInto, readFrames } from '../protocol/codec.js';
import { KIND_NAMES, Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import { SUPPORTED_VERSIONS, weightProblem, type HelloPayload, type SubscribeOptionsPayload, type WelcomePayload } from '../protocol/handshake.js';
import { OFF_KIND, OFF_SID } from '../protocol/layout.js';
import { SecureTransport } from '../security/secure-transport.js';
import { AccessGate, INBOX_ROOT, grantReply, inboxOf, type GateHost } from './access-gate.js';
import { SubscriptionIndex } from '../routing/subscription-index.js';
import { groupProblem, topicProblem } from '../topic.js';
import {
  CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY_VIOLATION, CLOSE_PROTOCOL_ERROR, CLOSE_SLOW_CONSUMER, CLOSE_TOO_BIG, CLOSE_TRY_AGAIN_LATER,
  type Transport, type TransportCloseInfo,
} from '../transport/transport.js';
import type { StreamServiceHost } from '../streams/stream-service.js';
import type { BrokerStreams } from '../streams/broker-streams.js';
import { HEADER_DURABLE } from '../streams/wire.js';
import { TypedEmitter } from '../util/emitter.js';
import { decodeJson, encodeJson } from '../util/json.js';
import type { BrokerEvents, BrokerStats } from './events.js';
import { resolveBrokerOptions, type BrokerOptions, type ResolvedBrokerOptions } from './options.js';
import { Session, type RouteSubscription } from './session.js';
import { abandoned, answered, trackRequest, type InflightRequest } from './inflight.js';
import { microtask } from '../util/microtask.js';

/**
 * The routing core of a hub. Isomorphic: it knows transports only through the Transport
 * interface, so a Node process, a browser page or an extension's service worker can host it.
 *
 * Flow of a message: transport chunk -> readFrames -> onFrame -> index.match(topic) ->
 * enqueue a copy of the exact frame bytes (kind and sid patched) in each recipient's queue ->
 * at the end of the microtask, each touched session hands its queue to its transport in one send.
 */
export class Broker {
  readonly options: ResolvedBrokerOptions;
  readonly events: TypedEmitter<BrokerEvents>;
  private readonly index: SubscriptionIndex<RouteSubscription>;
  private readonly sessions = new Map<number, Session>();
  private readonly groupCursor = new Map<string, number>();
  private readonly dirty: Session[] = [];
  private flushQueued = false;
  private sessionSeq = 0;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private closing = false;
  /** Bytes queued across all sessions (bounded by maxTotalQueuedBytes). */
  private queuedTotal = 0;
  /** Authentication and access control; undefined on an insecure hub. */
  private readonly gate: AccessGate | undefined;
  /** Durable streams; undefined on a hub without stream storage. */
  private readonly streams: BrokerStreams<Session> | undefined;
  private readonly totals = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, errors: 0, dropped: 0, slowConsumers: 0, noResponders: 0 };

  constructor(options: BrokerOptions = {}) {
    this.options = resolveBrokerOptions(options);
    this.events = new TypedEmitter<BrokerEvents>((error) => this.options.logger.error('broker event listener threw', { error: String(error) }));
    this.gate = this.options.security === undefined ? undefined : new AccessGate(this.gateHost(), this.options.security);
    this.streams = this.options.streams;
    this.streams?.attach(this.streamHost());
    this.index = new SubscriptionIndex<RouteSubscription>(
      this.options.matchCacheSize === undefined ? {} : { matchCacheSize: this.options.matchCacheSize },
    );
    if (this.options.heartbeatMs > 0) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), Math.max(1, Math.floor(this.options.heartbeatMs / 2)));
      unrefTimer(this.heartbeatTimer);
    }
  }

  /** Takes ownership of a connected transport and speaks the protocol on it. */
  accept(raw: Transport): void {
    const seq = ++this.sessionSeq;
    let session: Session | undefined;
    const gate = this.gate;
    const secure = gate === undefined ? undefined : new SecureTransport(raw, this.options.limits, (error) => {
      if (session !== undefined) gate.securityFailure(session, error);
    });
    const transport: Transport = secure ?? raw;
    session = new Session(seq, `${this.options.hubId}-${seq}`, transport, this.options.limits, Date.now());
    session.secure = secure;
    if (this.closing) {
      transport.close(CLOSE_GOING_AWAY, 'CB_ERR_HUB_SHUTTING_DOWN');
      return;
    }
    if (this.sessions.size >= this.options.maxConnections) {
      // Refused before any state is kept: say why, then close ("try again later").
      const error = createError('CB_ERR_TOO_MANY_CONNECTIONS', `the hub holds its maximum of ${this.options.maxConnections} connections`, {
        details: { limit: this.options.maxConnections },
      });
      this.totals.errors++;
      try {
        transport.send(encodeFrame(envelope(Kind.ERROR, { payloadType: PayloadType.JSON, payload: encodeJson(error.toJSON()) }), this.options.limits));
      } catch {
        /* already gone */
      }
      transport.close(CLOSE_TRY_AGAIN_LATER, error.code);
      return;
    }
    this.sessions.set(seq, session);
    transport.setHandlers({
      message: (chunk) => this.onChunk(session, chunk),
      close: (info) => this.onTransportClose(session, info),
      drain: () => this.pump(session),
    });
    session.handshakeTimer = setTimeout(() => {
      // Covers the whole handshake: a client that never sends HELLO, or never finishes with AUTH.
      if (session.state === 'handshake' || session.state === 'auth') {
        const what = session.state === 'handshake' ? 'no hello' : 'no AUTH after WELCOME';
        this.fail(session, createError('CB_ERR_HANDSHAKE_TIMEOUT', `${what} within ${this.options.handshakeTimeoutMs} ms`), CLOSE_POLICY_VIOLATION);
      }
    }, this.options.handshakeTimeoutMs);
    unrefTimer(session.handshakeTimer);
  }

  // ------------------------------------------------------------------ inbound

  private onChunk(s: Session, chunk: Uint8Array): void {
    if (s.state === 'closed') return;
    s.lastHeardAt = Date.now();
    s.bytesIn += chunk.length;
    this.totals.bytesIn += chunk.length;
    try {
      if (s.streamReader !== undefined) s.streamReader.push(chunk, (env, buf, start, end) => this.onFrame(s, env, buf, start, end));
      else readFrames(chunk, this.options.limits, (env, buf, start, end) => this.onFrame(s, env, buf, start, end));
    } catch (err) {
      const error = err instanceof CrossbusError ? err : createError('CB_ERR_INTERNAL', 'internal error while handling a frame', { cause: err });
      if (!(err instanceof CrossbusError)) this.options.logger.error('broker failed on a frame', { error: String(err) });
      this.events.emit('protocol-error', { connectionId: s.connectionId, name: s.name, code: error.code, message: error.message });
      this.fail(s, error, error.code === 'CB_ERR_FRAME_TOO_LARGE' ? CLOSE_TOO_BIG : CLOSE_PROTOCOL_ERROR);
    }
  }

  private onFrame(s: Session, env: Envelope, buf: Uint8Array, start: number, end: number): void {
    if (s.state !== 'open') {
      if (s.busy) throw new ProtocolError('CB_ERR_PROTOCOL', 'frame sent before the hub answered the last handshake step');
      if (s.state === 'handshake') this.onHello(s, env);
      else if (s.state === 'auth') this.gate?.onAuth(s, env);
      return;
    }
    switch (env.kind) {
      case Kind.PUBLISH:
      case Kind.REPLY:
      case Kind.REQUEST:
        this.onPublish(s, env, buf, start, end);
        return;
      case Kind.SUBSCRIBE:
        this.onSubscribe(s, env);
        return;
      case Kind.UNSUBSCRIBE:
        this.onUnsubscribe(s, env);
        return;
      case Kind.STREAM:
        if (this.streams === undefined) this.noStreams(s, env.id);
        else this.streams.onOperation(s, env);
        return;
      case Kind.ACK:
        if (this.streams === undefined) this.noStreams(s, env.id);
        else this.streams.onAck(s, env);
        return;
      case Kind.PING:
        this.enqueueControl(s, envelope(Kind.PONG, { id: env.id }));
        return;
      case Kind.PONG:
        return; // lastHeardAt already refreshed
      case Kind.GOODBYE:
        this.closeSession(s, CLOSE_NORMAL, 'goodbye');
        return;
      case Kind.ERROR:
        this.options.logger.warn('peer reported an error', { connectionId: s.connectionId, payload: safeJson(env.payload) });
        return;
      default:
        throw new ProtocolError('CB_ERR_PROTOCOL', `a client may not send ${KIND_NAMES[env.kind] ?? env.kind} frames`, { details: { kind: env.kind } });
    }
  }

  private onHello(s: Session, env: Envelope): void {
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
    s.name = hello.name;
    const o = this.options;
    const welcome: WelcomePayload = {
      version,
      hubId: o.hubId,
      connectionId: s.connectionId,
      limits: { ...o.limits, maxSubscriptions: o.maxSubscriptions },
      heartbeatMs: o.heartbeatMs,
    };
    if (this.gate === undefined) {
      // Insecure hub (--insecure): an auth offer is ignored, and a client holding a secret will
      // refuse this WELCOME because it carries no proof.
      s.state = 'open';
      if (s.handshakeTimer !== undefined) clearTimeout(s.handshakeTimer);
      this.enqueueControl(s, envelope(Kind.WELCOME, { id: env.id, payloadType: PayloadType.JSON, payload: encodeJson(welcome) }));
      this.events.emit('connection', { connectionId: s.connectionId, name: s.name, peer: s.transport.peer, transport: s.transport.kind });
      return;
    }
    this.gate!.onHello(s, hello, env, welcome);
  }

  /**
   * Applies a changed security configuration to open connections at once: sessions whose app or
   * key is gone or expired are closed; subscriptions no longer allowed are ended with
   * CB_ERR_FORBIDDEN (an ERROR frame carrying their sid).
   */
  reapplySecurity(): { closed: number; endedSubscriptions: number } {
    return this.gate?.reapply() ?? { closed: 0, endedSubscriptions: 0 };
  }

  private noStreams(s: Session, id: number): void {
    this.replyError(s, id, 'CB_ERR_STREAMS_UNAVAILABLE', 'this hub was started without stream storage');
  }

  /** What the stream service may do with connections, as closures. */
  private streamHost(): StreamServiceHost<Session> {
    const gate = this.gate;
    return {
      canSend: (s) => s.state === 'open' && s.out.length + s.transport.bufferedAmount() < this.options.transportHighWaterBytes,
      send: (s, env) => {
        if (s.state !== 'open') return;
        if (env.kind === Kind.MESSAGE) {
          s.messagesOut++;
          this.totals.messagesOut++;
        }
        this.enqueueControl(s, env);
      },
      replyError: (s, id, error) => {
        if (s.state === 'open') this.replyError(s, id, error.code, error.message, error.details);
      },
      admit: (s, id, action, target, patterns) => gate === undefined || gate.admitStream(s, id, action, target, patterns),
      allowed: (s, patterns) => gate === undefined || gate.allowsStream(s, patterns),
      confirmAck: (s, id) => {
        s.ackConfirm = id;
        this.markDirty(s);
      },
      emit: (event) => this.events.emit('stream', event),
    };
  }

  /** The broker internals the gate may use, as closures: they stay private to everyone else. */
  private gateHost(): GateHost {
    return {
      events: this.events,
      sessions: () => this.sessions.values(),
      enqueueControl: (s, env) => this.enqueueControl(s, env),
      replyError: (s, id, code, message, details) => this.replyError(s, id, code, message, details),
      fail: (s, error, closeCode) => this.fail(s, error, closeCode),
      takeOut: (s) => this.takeOut(s),
      markDirty: (s) => this.markDirty(s),
      route: (topic, buf, start, end, replyTo, requester) => this.route(topic, buf, start, end, replyTo, requester),
      afterRoute: (s, env, delivered) => this.afterRoute(s, env, delivered),
      addSubscription: (s, env) => this.addSubscription(s, env),
      dropSubscription: (s, sub) => {
        s.subscriptions.delete(sub.sid);
        this.index.remove(sub);
      },
    };
  }

  private onPublish(s: Session, env: Envelope, buf: Uint8Array, start: number, end: number): void {
    s.messagesIn++;
    this.totals.messagesIn++;
    const problem = topicProblem(env.topic, 'topic', this.options.limits.maxTopicLength);
    if (problem !== undefined) {
      this.replyError(s, env.id, 'CB_ERR_TOPIC_INVALID', `topic ${JSON.stringify(env.topic)} ${problem}`, { topic: env.topic });
      return;
    }
    if (env.kind === Kind.REQUEST && env.replyTo === '') {
      this.replyError(s, env.id, 'CB_ERR_PROTOCOL', 'a REQUEST needs a replyTo topic', { topic: env.topic });
      return;
    }
    if (env.replyTo !== '') {
      const replyProblem = topicProblem(env.replyTo, 'topic', this.options.limits.maxTopicLength);
      if (replyProblem !== undefined) {
        this.replyError(s, env.id, 'CB_ERR_TOPIC_INVALID', `replyTo ${JSON.stringify(env.replyTo)} ${replyProblem}`, { replyTo: env.replyTo });
        return;
      }
    }
    if (this.gate !== undefined && !this.gate.admitMessage(s, env, buf, start, end)) return;
    if (env.kind === Kind.REPLY) answered(s, env.topic);
    const isRequest = env.kind === Kind.REQUEST;
    const delivered = this.route(env.topic, buf, start, end, isRequest ? env.replyTo : undefined, isRequest ? { session: s, id: env.id } : undefined);
    this.afterRoute(s, env, delivered);
  }

  /** After routing: streams capture a PUBLISH (and answer a durable one); the sender gets its OK or NO_RESPONDERS. */
  private afterRoute(s: Session, env: Envelope, delivered: number): void {
    const { kind, id, topic } = env;
    if (kind === Kind.PUBLISH) {
      const durable = env.headers?.[HEADER_DURABLE] !== undefined;
      if (this.streams !== undefined) this.streams.capture(s, env);
      else if (durable) this.noStreams(s, id);
      if (durable) return; // answered once stored
    }
    if (delivered === 0 && kind === Kind.REQUEST) {
      this.totals.noResponders++;
      this.events.emit('no-responders', { connectionId: s.connectionId, topic });
      this.replyError(s, id, 'CB_ERR_NO_RESPONDERS', `no responders for ${JSON.stringify(topic)}`, { topic });
    } else if (id !== 0 && kind === Kind.PUBLISH) {
      // A publish with an id asks for confirmation that the hub routed it.
      this.enqueueControl(s, envelope(Kind.OK, { id, seq: delivered }));
    }
  }

  /**
   * Delivers one frame to every matching subscription; returns how many got it. With security,
   * a request's recipients get a one-time permit to answer its replyTo, and a reply inbox's
   * messages go only to the connection that owns it (a '>' subscriber never sees others' replies).
   */
  private route(topic: string, buf: Uint8Array, start: number, end: number, replyTo?: string, requester?: { session: Session; id: number }): number {
    const toInbox = topic.startsWith(INBOX_ROOT);
    // Each request has its own reply topic: caching it would only evict topics that recur.
    const match = toInbox ? this.index.matchOnce(topic) : this.index.match(topic);
    if (match.total === 0) return 0;
    const secure = this.options.security !== undefined;
    const owner = secure && toInbox ? inboxOf(topic) : undefined;
    const permit = secure && replyTo !== undefined && replyTo !== '' ? replyTo : undefined;
    const req: InflightRequest | undefined = requester !== undefined && replyTo !== undefined && replyTo !== ''
      ? { requester: requester.session, id: requester.id, responders: 0, answered: false } : undefined;
    let delivered = 0;
    const plain = match.plain;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i] as RouteSubscription;
      if (owner !== undefined && sub.session.inbox !== owner) continue;
      if (this.deliver(sub.session, buf, start, end, sub.sid)) {
        delivered++;
        if (permit !== undefined) grantReply(sub.session, permit);
        if (req !== undefined) trackRequest(sub.session, replyTo as string, req);
      }
    }
    const groups = match.groups;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      const cursor = this.groupCursor.get(g.name) ?? 0;
      this.groupCursor.set(g.name, cursor + 1);
      const members = g.members;
      const n = members.length;
      const first = n === 1 ? 0 : pickMember(members, cursor);
      // The picked member first; if it cannot take the message, the next ones in turn.
      for (let k = 0; k < n; k++) {
        const sub = members[(first + k) % n] as RouteSubscription;
        if (owner !== undefined && sub.session.inbox !== owner) continue;
        if (sub.session.state === 'open' && this.deliver(sub.session, buf, start, end, sub.sid)) {
          delivered++;
          if (permit !== undefined) grantReply(sub.session, permit);
          if (req !== undefined) trackRequest(sub.session, replyTo as string, req);
          break;
        }
      }
    }
    return delivered;
  }

  private onSubscribe(s: Session, env: Envelope): void {
    const o = this.options;
    if (env.sid === 0) return this.replyError(s, env.id, 'CB_ERR_PROTOCOL', 'SUBSCRIBE needs a non-zero sid');
    const problem = topicProblem(env.topic, 'pattern', o.limits.maxTopicLength);
    if (problem !== undefined) {
      return this.replyError(s, env.id, problem.startsWith('is longer') ? 'CB_ERR_TOPIC_TOO_LONG' : 'CB_ERR_TOPIC_INVALID',
        `pattern ${JSON.stringify(env.topic)} ${problem}`, { pattern: env.topic, sid: env.sid });
    }
    if (env.group !== '') {
      const gp = groupProblem(env.group);
      if (gp !== undefined) return this.replyError(s, env.id, 'CB_ERR_TOPIC_INVALID', `group ${JSON.stringify(env.group)} ${gp}`, { group: env.group, sid: env.sid });
    }
    if (s.subscriptions.has(env.sid)) {
      return this.replyError(s, env.id, 'CB_ERR_PROTOCOL', `sid ${env.sid} is already in use on this connection`, { sid: env.sid });
    }
    if (s.subscriptions.size >= o.maxSubscriptions) {
      return this.replyError(s, env.id, 'CB_ERR_SUBSCRIPTION_LIMIT', `a connection may hold at most ${o.maxSubscriptions} subscriptions`, {
        limit: o.maxSubscriptions, sid: env.sid,
      });
    }
    if (this.gate !== undefined && !this.gate.admitSubscription(s, env)) return;
    this.addSubscription(s, env);
  }

  private addSubscription(s: Session, env: Envelope): void {
    let weight = 1;
    if (env.payloadType === PayloadType.JSON) {
      let opts: SubscribeOptionsPayload;
      try {
        opts = decodeJson(env.payload) as SubscribeOptionsPayload;
      } catch {
        return this.replyError(s, env.id, 'CB_ERR_PROTOCOL', 'SUBSCRIBE options are not JSON', { sid: env.sid });
      }
      if (opts !== null && typeof opts === 'object' && opts.weight !== undefined) {
        const problem = weightProblem(opts.weight, env.group !== '');
        if (problem !== undefined) return this.replyError(s, env.id, 'CB_ERR_PROTOCOL', problem.message, { sid: env.sid });
        weight = opts.weight;
      }
    }
    const sub: RouteSubscription = { pattern: env.topic, group: env.group === '' ? undefined : env.group, weight, session: s, sid: env.sid };
    s.subscriptions.set(env.sid, sub);
    this.index.add(sub);
    this.enqueueControl(s, envelope(Kind.OK, { id: env.id, sid: env.sid }));
    this.events.emit('subscription', { connectionId: s.connectionId, name: s.name, sid: env.sid, pattern: env.topic, group: sub.group });
  }

  private onUnsubscribe(s: Session, env: Envelope): void {
    const sub = s.subscriptions.get(env.sid);
    if (sub === undefined && this.streams?.hasMember(s, env.sid)) {
      this.streams.leave(s, env.sid);
      if (env.id !== 0) this.enqueueControl(s, envelope(Kind.OK, { id: env.id, sid: env.sid }));
      return;
    }
    if (sub === undefined) {
      return this.replyError(s, env.id, 'CB_ERR_SUBSCRIPTION_UNKNOWN', `no subscription with sid ${env.sid}`, { sid: env.sid });
    }
    s.subscriptions.delete(env.sid);
    this.index.remove(sub);
    if (env.id !== 0) this.enqueueControl(s, envelope(Kind.OK, { id: env.id, sid: env.sid }));
    this.events.emit('unsubscription', { connectionId: s.connectionId, name: s.name, sid: env.sid, pattern: sub.pattern, group: sub.group });
  }

  // ------------------------------------------------------------------ outbound

  /** Copies a routed frame into a session's queue. Returns false when the session did not take it. */
  private deliver(s: Session, buf: Uint8Array, start: number, end: number, sid: number): boolean {
    if (s.state !== 'open') return false;
    const len = end - start;
    const o = this.options;
    if (this.queuedTotal + len > o.maxTotalQueuedBytes) {
      // The hub as a whole is at its memory bound: the biggest backlog pays, not this recipient.
      this.shedLargest();
      if (s.state !== 'open') return false;
      if (this.queuedTotal + len > o.maxTotalQueuedBytes) {
        this.overflow(s, 'hub-memory');
        return false;
      }
    }
    if (s.queuedMessages >= o.maxQueuedMessages || s.out.length + len > o.maxQueuedBytes) {
      this.overflow(s, 'queue');
      return false;
    }
    const w = s.out;
    w.ensure(len);
    const at = w.length;
    w.bytes.set(buf.subarray(start, end), at);
    w.bytes[at + OFF_KIND] = Kind.MESSAGE;
    w.view.setUint32(at + OFF_SID, sid);
    w.length = at + len;
    this.queuedTotal += len;
    s.queuedMessages++;
    s.messagesOut++;
    this.totals.messagesOut++;
    this.markDirty(s);
    return true;
  }

  private enqueueControl(s: Session, env: Envelope): void {
    if (s.state === 'closed') return;
    const before = s.out.length;
    encodeInto(s.out, env, this.options.limits);
    this.queuedTotal += s.out.length - before;
    s.queuedMessages++;
    this.markDirty(s);
  }

  private replyError(s: Session, id: number, code: ErrorCode, message: string, details?: Record<string, unknown>): void {
    this.totals.errors++;
    const err = createError(code, message, details ? { details } : {});
    this.enqueueControl(s, envelope(Kind.ERROR, { id, payloadType: PayloadType.JSON, payload: encodeJson(err.toJSON()) }));
    this.gate?.invalidInput(s, code);
  }

  /** Takes a session's queued bytes (to send or to discard), keeping the hub-wide total exact. */
  private takeOut(s: Session): Uint8Array {
    const bytes = s.out.take();
    this.queuedTotal -= bytes.length;
    return bytes;
  }

  /** Throws away a session's unsent queue; returns how many frames it held. */
  private discardQueue(s: Session): number {
    const n = s.queuedMessages;
    this.takeOut(s);
    s.queuedMessages = 0;
    return n;
  }

  /**
   * At the hub-wide bound, the session with the largest backlog is handled as a slow consumer:
   * 'disconnect' closes it; 'drop' discards its backlog (counted and reported to it).
   */
  private shedLargest(): void {
    let victim: Session | undefined;
    for (const x of this.sessions.values()) {
      if (x.state === 'open' && (victim === undefined || x.out.length > victim.out.length)) victim = x;
    }
    if (victim === undefined || victim.out.length === 0) return;
    if (this.options.slowConsumerPolicy === 'disconnect') {
      this.overflow(victim, 'hub-memory');
      return;
    }
    const n = this.discardQueue(victim);
    victim.dropped += n;
    this.totals.dropped += n;
    this.startDropping(victim, 'hub-memory');
  }

  private overflowDetails(s: Session, reason: 'queue' | 'hub-memory') {
    const o = this.options;
    return {
      policy: o.slowConsumerPolicy, reason, maxQueuedBytes: o.maxQueuedBytes, maxQueuedMessages: o.maxQueuedMessages,
      maxTotalQueuedBytes: o.maxTotalQueuedBytes, queuedBytes: s.out.length, queuedMessages: s.queuedMessages,
    };
  }

  private overflow(s: Session, reason: 'queue' | 'hub-memory'): void {
    const o = this.options;
    const details = this.overflowDetails(s, reason);
    this.totals.dropped++;
    if (o.slowConsumerPolicy === 'drop') {
      s.dropped++;
      this.startDropping(s, reason);
      return;
    }
    this.totals.slowConsumers++;
    this.events.emit('slow-consumer', { connectionId: s.connectionId, name: s.name, ...details });
    // Disconnect: throw away what it has not read, tell it why, and close.
    this.discardQueue(s);
    this.replyError(s, 0, 'CB_ERR_SLOW_CONSUMER', 'outbound queue overflowed: disconnecting', details);
    this.closeSession(s, CLOSE_SLOW_CONSUMER, 'CB_ERR_SLOW_CONSUMER');
  }

  /** 'drop' policy: the first loss of an episode is reported at once; the total when it drains. */
  private startDropping(s: Session, reason: 'queue' | 'hub-memory'): void {
    if (s.overflowing) return;
    s.overflowing = true;
    const details = this.overflowDetails(s, reason);
    this.totals.slowConsumers++;
    this.events.emit('slow-consumer', { connectionId: s.connectionId, name: s.name, ...details });
    // The notice goes past the bound on purpose: it is small and the peer must learn of the loss.
    this.replyError(s, 0, 'CB_ERR_SLOW_CONSUMER',
      reason === 'queue' ? 'outbound queue is full: messages are being dropped' : 'the hub is at its memory bound: messages queued for you were dropped', details);
  }

  private markDirty(s: Session): void {
    if (s.flushScheduled) return;
    s.flushScheduled = true;
    this.dirty.push(s);
    if (!this.flushQueued) {
      this.flushQueued = true;
      microtask(this.flushDirty);
    }
  }

  private readonly flushDirty = (): void => {
    this.flushQueued = false;
    const list = this.dirty.splice(0);
    for (const s of list) {
      s.flushScheduled = false;
      this.pump(s);
    }
  };

  /** Hands queued frames to the transport while it has room. */
  private pump(s: Session): void {
    if (s.state === 'closed') return;
    if (s.ackConfirm !== 0) {
      // One cumulative confirmation per batch: every ACK up to this id is settled (or was answered by an ERROR).
      encodeInto(s.out, envelope(Kind.ACK, { id: s.ackConfirm }), this.options.limits);
      s.ackConfirm = 0;
    }
    if (s.out.length === 0) {
      this.streams?.drained(s);
      return;
    }
    if (s.transport.bufferedAmount() >= this.options.transportHighWaterBytes) return; // wait for drain
    const n = s.out.length;
    try {
      s.transport.send(this.takeOut(s), s.out.headroom);
    } catch (err) {
      this.options.logger.debug('send failed', { connectionId: s.connectionId, error: String(err) });
      return;
    }
    s.bytesOut += n;
    this.totals.bytesOut += n;
    s.queuedMessages = 0;
    this.streams?.drained(s);
    if (s.overflowing) {
      s.overflowing = false;
      const dropped = s.dropped;
      s.dropped = 0;
      this.replyError(s, 0, 'CB_ERR_SLOW_CONSUMER', `queue drained; ${dropped} messages were dropped`, { dropped, policy: 'drop' });
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** Sends an error to the peer, then closes it. */
  private fail(s: Session, error: CrossbusError, closeCode: number): void {
    if (s.state === 'closed' || s.state === 'closing') return;
    this.totals.errors++;
    this.enqueueControl(s, envelope(Kind.ERROR, { payloadType: PayloadType.JSON, payload: encodeJson(error.toJSON()) }));
    this.closeSession(s, closeCode, error.code);
  }

  private closeSession(s: Session, code: number, reason: string): void {
    if (s.state === 'closed' || s.state === 'closing') return;
    s.state = 'closing';
    this.detach(s);
    // Flush what is queued (errors, goodbye) straight away, then close.
    if (s.out.length > 0) {
      try {
        s.transport.send(this.takeOut(s), s.out.headroom);
      } catch {
        /* already closed */
      }
    }
    s.transport.close(code, reason);
  }

  /** Removes a session's subscriptions so nothing more is routed to it. */
  private detach(s: Session): void {
    for (const sub of s.subscriptions.values()) this.index.remove(sub);
    s.subscriptions.clear();
    for (const req of abandoned(s)) {
      this.replyError(req.requester, req.id, 'CB_ERR_RESPONDER_GONE', `the responder (${s.name || s.connectionId}) went away before answering`, { connectionId: s.connectionId });
    }
    this.streams?.sessionClosed(s);
    if (s.handshakeTimer !== undefined) clearTimeout(s.handshakeTimer);
    if (s.keyTimer !== undefined) clearTimeout(s.keyTimer);
  }

  private onTransportClose(s: Session, info: TransportCloseInfo): void {
    if (s.state === 'closed') return;
    const wasOpen = s.state === 'open' || s.state === 'closing';
    this.detach(s);
    s.state = 'closed';
    this.takeOut(s);
    this.sessions.delete(s.seq);
    if (wasOpen) this.events.emit('disconnection', { connectionId: s.connectionId, name: s.name, code: info.code, reason: info.reason });
  }

  private heartbeat(): void {
    const now = Date.now();
    const hb = this.options.heartbeatMs;
    for (const s of this.sessions.values()) {
      if (s.state !== 'open') continue;
      const silent = now - s.lastHeardAt;
      if (silent > 2 * hb) {
        this.fail(s, createError('CB_ERR_CONNECTION_LOST', `no traffic for ${silent} ms`), CLOSE_GOING_AWAY);
      } else if (silent > hb) {
        this.enqueueControl(s, envelope(Kind.PING));
      }
    }
  }

  /**
   * Graceful shutdown: tells every peer with GOODBYE (CB_ERR_HUB_SHUTTING_DOWN, so clients
   * reconnect elsewhere), waits up to `timeoutMs` for queues to drain, then closes everything.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    const goodbye = createError('CB_ERR_HUB_SHUTTING_DOWN', 'the hub is shutting down').toJSON();
    for (const s of this.sessions.values()) {
      if (s.state === 'open') this.enqueueControl(s, envelope(Kind.GOODBYE, { payloadType: PayloadType.JSON, payload: encodeJson(goodbye) }));
      this.pump(s);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.sessions.values()].some((s) => s.out.length > 0 || s.transport.bufferedAmount() > 0)) {
      await new Promise((r) => setTimeout(r, 10));
      for (const s of this.sessions.values()) this.pump(s);
    }
    for (const s of [...this.sessions.values()]) this.closeSession(s, CLOSE_GOING_AWAY, 'CB_ERR_HUB_SHUTTING_DOWN');
  }

  stats(): BrokerStats {
    const connections = [...this.sessions.values()].map((s) => ({
      connectionId: s.connectionId, name: s.name, state: s.state, peer: s.transport.peer, transport: s.transport.kind,
      subscriptions: s.subscriptions.size, queuedBytes: s.out.length, queuedMessages: s.queuedMessages,
      transportBufferedBytes: s.transport.bufferedAmount(),
      messagesIn: s.messagesIn, messagesOut: s.messagesOut, bytesIn: s.bytesIn, bytesOut: s.bytesOut,
    }));
    return { hubId: this.options.hubId, connections, subscriptions: this.index.size, queuedBytes: this.queuedTotal, ...this.totals };
  }
}

/**
 * Index of the group member that gets message number `cursor`: round robin when all weights are
 * equal, otherwise weighted round robin, so that over any run of sum(weights) messages each member
 * gets exactly its weight. Weights are how deployments will split traffic between versions.
 */
function pickMember(members: readonly RouteSubscription[], cursor: number): number {
  const n = members.length;
  let total = 0;
  let uniform = true;
  const w0 = (members[0] as RouteSubscription).weight;
  for (let i = 0; i < n; i++) {
    const w = (members[i] as RouteSubscription).weight;
    total += w;
    if (w !== w0) uniform = false;
  }
  if (uniform) return cursor % n;
  let target = cursor % total;
  for (let i = 0; i < n; i++) {
    target -= (members[i] as RouteSubscription).weight;
    if (target < 0) return i;
  }
  return n - 1;
}

function unrefTimer(t: unknown): void {
  (t as { unref?: () => void }).unref?.();
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return decodeJson(bytes);
  } catch {
    return undefined;
  }
}

