import { Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import { weightProblem, type SubscribeOptionsPayload } from '../protocol/handshake.js';
import { SubscriptionIndex } from '../routing/subscription-index.js';
import type { BrokerStreams } from '../streams/broker-streams.js';
import { HEADER_DURABLE } from '../streams/wire.js';
import type { TypedEmitter } from '../util/emitter.js';
import { decodeJson, encodeJson } from '../util/json.js';
import { encodeFrame } from '../protocol/codec.js';
import { SYSTEM_TOPIC_FIRST_CHAR, type SystemResponder, type SystemResponders } from './system-requests.js';
import { CrossbusError } from '../errors/index.js';
import type { CounterMetric } from '../metrics/metric.js';
import { TopicTemplates } from '../metrics/topic-templates.js';
import type { HubCounters } from './counters.js';
import type { BrokerEvents } from './events.js';
import { abandoned, answered, trackRequest, type InflightRequest } from './inflight.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { OutboundQueues } from './outbound-queues.js';
import type { RouteSubscription, Session } from './session.js';
import { INBOX_ROOT, grantReply, inboxOf } from './session-auth.js';
import { HUB_INBOX_PREFIX, HubRequests, type HubReply } from './hub-requests.js';
import { REPLY_ERROR_HEADER, ReplyStats } from './traffic.js';
import { patternMatches } from '../routing/pattern-match.js';
import { createError } from '../errors/index.js';
import type { Headers } from '../protocol/envelope.js';
import type { GroupMatch } from '../routing/subscription-index.js';
import type { ClusterInbound, ClusterLink } from './cluster.js';
import { ClusterRouting, Forwarded } from './cluster-routing.js';

/** A session's subscriptions and the requests in flight to it (`session.routing`): written by the Router only. */
export interface SessionRouting {
  /** Subscriptions by sid. */
  readonly subscriptions: ReadonlyMap<number, RouteSubscription>;
  /** Requests delivered to this connection and not answered yet, by replyTo (see inflight.ts). */
  readonly inflight: ReadonlyMap<string, InflightRequest>;
  /** A factor on each of its group members' weights, set by the hub (traffic.ts); 0: no new group messages. */
  readonly trafficWeight: number;
  /** Its requests and replies, once the hub watches it (traffic.ts); undefined: nothing counted. */
  readonly replyStats: ReplyStats | undefined;
}

/** The writable routing state: only this module names this type. */
class RoutingState implements SessionRouting {
  readonly subscriptions = new Map<number, RouteSubscription>();
  readonly inflight = new Map<string, InflightRequest>();
  trafficWeight = 1;
  replyStats: ReplyStats | undefined = undefined;
}

export function newSessionRouting(): SessionRouting {
  return new RoutingState();
}

export const NO_STREAM_STORAGE = 'this hub was started without stream storage';

/**
 * Routing: the subscription index and what goes through it. SUBSCRIBE and UNSUBSCRIBE add and
 * remove subscriptions; an admitted PUBLISH, REQUEST or REPLY is delivered to every matching
 * subscription (one member per group, weighted round robin), then captured by durable streams,
 * and its sender answered. With security, a reply inbox's messages go only to the connection that
 * owns it, and a request's recipients get a one-time permit to answer it. Requests in flight are
 * tracked per recipient so that its leaving fails them at once.
 */
export class Router {
  readonly #index: SubscriptionIndex<RouteSubscription>;
  /** Messages routed to each group so far: picks the next member. */
  readonly #groupCursor = new Map<string, number>();
  /** A secure hub keeps inboxes private and hands out reply permits. */
  readonly #secure: boolean;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #totals: HubCounters;
  readonly #queues: OutboundQueues;
  readonly #streams: BrokerStreams<Session> | undefined;
  /** Requests the hub answers itself ($SYS.…); undefined when there are none. */
  readonly #system: SystemResponders | undefined;
  readonly #limits: ResolvedBrokerOptions['limits'];
  /** Messages counted by configured topic pattern; undefined when none is configured (nothing to pay). */
  readonly #topics: TopicTemplates | undefined;
  /** The hub's own requests to one connection, waiting for their replies. */
  readonly #hubRequests = new HubRequests();
  /** The cluster this hub belongs to (cluster-routing.ts); undefined: a hub on its own. */
  #cluster: ClusterRouting | undefined;
  /** The groups one publish was served to locally (reused: routing is synchronous). */
  readonly #served: string[] = [];

  constructor(
    options: ResolvedBrokerOptions,
    events: TypedEmitter<BrokerEvents>,
    totals: HubCounters,
    queues: OutboundQueues,
    streams: BrokerStreams<Session> | undefined,
  ) {
    this.#index = new SubscriptionIndex<RouteSubscription>(
      options.matchCacheSize === undefined ? {} : { matchCacheSize: options.matchCacheSize },
    );
    this.#secure = options.security !== undefined;
    this.#events = events;
    this.#totals = totals;
    this.#queues = queues;
    this.#streams = streams;
    this.#system = options.systemResponders;
    this.#limits = options.limits;
    this.#topics = options.metricsTopics.length === 0 ? undefined : new TopicTemplates(options.metricsTopics);
  }

  /** `crossbus_topic_messages_total`, when topic patterns are configured. */
  topicMetric(): CounterMetric | undefined {
    return this.#topics?.metric();
  }

  /** Subscriptions across the hub. */
  get size(): number {
    return this.#index.size;
  }

  /**
   * Routes an admitted PUBLISH, REQUEST or REPLY, then streams capture a PUBLISH (and answer a
   * durable one once stored); the sender gets its OK (a publish with an id) or NO_RESPONDERS.
   */
  publish(s: Session, env: Envelope, buf: Uint8Array, start: number, end: number): void {
    const isRequest = env.kind === Kind.REQUEST;
    if (env.kind === Kind.REPLY && this.#hubRequests.size !== 0 && env.topic.startsWith(HUB_INBOX_PREFIX) && this.#hubRequests.settle(env))
      return;
    if (isRequest && this.#system !== undefined && env.topic.charCodeAt(0) === SYSTEM_TOPIC_FIRST_CHAR && this.#answerSystem(s, env))
      return;
    const cluster = this.#cluster;
    if (cluster !== undefined && env.kind === Kind.REPLY && cluster.takeReply(env, buf.subarray(start, end))) return;
    const served = cluster?.crosses(env) === true ? this.#served : undefined;
    const delivered = this.#route(
      env.topic,
      buf,
      start,
      end,
      isRequest ? env.replyTo : undefined,
      isRequest ? s : undefined,
      env.id,
      served,
    );
    const { kind, id, topic } = env;
    // A request that crossed hears of no responders from the cluster (NATS's status on its reply topic).
    let remote = false;
    if (served !== undefined) {
      const forwarded = (cluster as ClusterRouting).forward(s, env, buf.subarray(start, end), delivered, served);
      if (forwarded === Forwarded.TOLD) {
        if (kind === Kind.PUBLISH) this.#streams?.capture(s, env);
        return;
      }
      remote = forwarded === Forwarded.REMOTE;
    }
    if (this.#topics !== undefined && kind !== Kind.REPLY) this.#topics.count(topic);
    if (kind === Kind.PUBLISH) {
      const durable = env.headers?.[HEADER_DURABLE] !== undefined;
      if (this.#streams !== undefined) this.#streams.capture(s, env);
      else if (durable) this.#queues.replyError(s, id, 'CB_ERR_STREAMS_UNAVAILABLE', NO_STREAM_STORAGE);
      if (durable) return; // answered once stored
    }
    if (delivered === 0 && kind === Kind.REQUEST && !remote) {
      this.#totals.noResponders++;
      this.#events.emit('no-responders', { connectionId: s.connectionId, topic });
      this.#queues.replyError(s, id, 'CB_ERR_NO_RESPONDERS', `no responders for ${JSON.stringify(topic)}`, { topic });
    } else if (id !== 0 && kind === Kind.PUBLISH) {
      // A publish with an id asks for confirmation that the hub routed it.
      this.#queues.enqueueControl(s, envelope(Kind.OK, { id, seq: delivered }));
    }
  }

  /**
   * Delivers one frame to every matching subscription; returns how many got it. With security,
   * a request's recipients get a one-time permit to answer its replyTo, and a reply inbox's
   * messages go only to the connection that owns it (a '>' subscriber never sees others' replies).
   */
  #route(
    topic: string,
    buf: Uint8Array,
    start: number,
    end: number,
    replyTo: string | undefined,
    requester: Session | undefined,
    requestId: number,
    served?: string[],
  ): number {
    const toInbox = topic.startsWith(INBOX_ROOT);
    // Each request has its own reply topic: caching it would only evict topics that recur.
    const match = toInbox ? this.#index.matchOnce(topic) : this.#index.match(topic);
    if (match.total === 0) return 0;
    const secure = this.#secure;
    const owner = secure && toInbox ? inboxOf(topic) : undefined;
    const permit = secure && replyTo !== undefined && replyTo !== '' ? replyTo : undefined;
    const req: InflightRequest | undefined =
      requester !== undefined && replyTo !== undefined && replyTo !== ''
        ? { requester, id: requestId, receivedAt: this.#totals.receivedAt, responders: 0, answered: false }
        : undefined;
    const queues = this.#queues;
    let delivered = 0;
    const plain = match.plain;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i] as RouteSubscription;
      const r = sub.session;
      if (owner !== undefined && r.auth.inbox !== owner) continue;
      if (queues.deliver(r, buf, start, end, sub.sid)) {
        delivered++;
        if (permit !== undefined) grantReply(r, permit);
        if (req !== undefined) handRequest(r.routing as RoutingState, replyTo as string, req);
      }
    }
    const groups = match.groups;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (this.#toGroup(g, buf, start, end, owner, permit, req, replyTo)) {
        delivered++;
        served?.push(g.name);
      }
    }
    return delivered;
  }

  /**
   * One member of a group gets the message: the picked one first; if it cannot take it, the next
   * ones in turn (never one drained to weight 0). False when none could.
   */
  #toGroup(
    g: GroupMatch<RouteSubscription>,
    buf: Uint8Array,
    start: number,
    end: number,
    owner: string | undefined,
    permit: string | undefined,
    req: InflightRequest | undefined,
    replyTo: string | undefined,
  ): boolean {
    const cursor = this.#groupCursor.get(g.name) ?? 0;
    this.#groupCursor.set(g.name, cursor + 1);
    const members = g.members;
    const n = members.length;
    const first = n === 1 ? 0 : pickMember(members, cursor);
    for (let k = 0; k < n; k++) {
      const sub = members[(first + k) % n] as RouteSubscription;
      const r = sub.session;
      if (owner !== undefined && r.auth.inbox !== owner) continue;
      if (r.state === 'open' && r.routing.trafficWeight !== 0 && this.#queues.deliver(r, buf, start, end, sub.sid)) {
        if (permit !== undefined) grantReply(r, permit);
        if (req !== undefined) handRequest(r.routing as RoutingState, replyTo as string, req);
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ the cluster (cluster-routing.ts)

  /**
   * Joins a cluster: the interest of the subscriptions held now is announced, and from now on every
   * subscription's. Returns where the link hands what arrives.
   */
  attachCluster(
    link: ClusterLink,
    hubToken: string,
    sessionBySeq: (seq: number) => Session | undefined,
    sessions: Iterable<Session>,
  ): ClusterInbound {
    const cluster = new ClusterRouting(link, hubToken, {
      index: this.#index,
      queues: this.#queues,
      totals: this.#totals,
      limits: this.#limits,
      secure: this.#secure,
      toGroup: (g, frame, permit) => this.#toGroup(g, frame, 0, frame.length, undefined, permit, undefined, undefined),
      route: (topic, frame) => void this.#route(topic, frame, 0, frame.length, undefined, undefined, 0),
      sessionBySeq,
    });
    this.#cluster = cluster;
    for (const s of sessions) for (const sub of s.routing.subscriptions.values()) cluster.interest(sub, true);
    return cluster.inbound();
  }

  /**
   * A message the hub itself publishes (alerts on `$SYS.ALERTS.…`): routed to the subscriptions
   * that match, like any publish; returns how many got it. Not captured by streams.
   */
  publishFromHub(topic: string, value: unknown): number {
    const frame = encodeFrame(
      envelope(Kind.PUBLISH, { topic, payloadType: PayloadType.JSON, payload: encodeJson(value ?? null), timestamp: Date.now() }),
      this.#limits,
    );
    return this.#route(topic, frame, 0, frame.length, undefined, undefined, 0);
  }

  /** A request on a reserved topic the hub answers itself: true when answered (it is never routed). */
  #answerSystem(s: Session, env: Envelope): boolean {
    const system = this.#system as SystemResponders;
    if (!Object.hasOwn(system, env.topic)) return false;
    const { id, topic, replyTo } = env;
    const fail = (err: unknown): void => {
      if (err instanceof CrossbusError) this.#queues.replyError(s, id, err.code, err.message, err.details);
      else this.#queues.replyError(s, id, 'CB_ERR_INTERNAL', `${topic} failed: ${err instanceof Error ? err.message : String(err)}`);
    };
    const answer = (value: unknown): void => {
      const reply = envelope(Kind.REPLY, {
        topic: replyTo,
        payloadType: PayloadType.JSON,
        payload: encodeJson(value ?? null),
        timestamp: Date.now(),
      });
      const frame = encodeFrame(reply, this.#limits);
      this.#route(replyTo, frame, 0, frame.length, undefined, undefined, 0);
    };
    let value: unknown;
    try {
      const data = env.payloadType === PayloadType.JSON ? decodeJson(env.payload) : undefined;
      value = (system[topic] as SystemResponder)({ app: s.auth.app, connectionId: s.connectionId, data });
    } catch (err) {
      fail(err);
      return true;
    }
    if (value instanceof Promise) value.then(answer, fail);
    else answer(value);
    return true;
  }

  /** `s` sent a REPLY to `topic`: the request it answers, if any, is settled. */
  replied(s: Session, topic: string, headers: Headers | undefined): void {
    const routing = s.routing as RoutingState;
    const requestAt = answered(routing.inflight, topic);
    const t = this.#totals;
    if (requestAt !== 0 && t.receivedAt !== 0) {
      const seconds = (t.receivedAt - requestAt) / 1000;
      t.requestSeconds.observe(seconds);
      const stats = routing.replyStats;
      if (stats !== undefined) {
        stats.replies++;
        if (headers?.[REPLY_ERROR_HEADER] !== undefined) stats.errors++;
        stats.latency.observe(seconds);
      }
    }
  }

  /**
   * Sets a connection's traffic weight: each of its group members gets `weight` times its own
   * share (0: none of the group's new messages, its requests in flight still finish).
   */
  setTrafficWeight(s: Session, weight: number): void {
    (s.routing as RoutingState).trafficWeight = weight;
  }

  /** Starts counting a connection's requests and replies (if not yet) and returns its counters. */
  watchReplies(s: Session): ReplyStats {
    const routing = s.routing as RoutingState;
    routing.replyStats ??= new ReplyStats();
    return routing.replyStats;
  }

  /**
   * Sends a request from the hub to one connection, on one of its subscriptions that matches
   * `topic`, whatever its traffic weight; resolves with its reply, or an error after `timeoutMs`
   * (CB_ERR_TIMEOUT) or at once when it serves no such topic (CB_ERR_NO_RESPONDERS).
   */
  requestSession(s: Session, topic: string, data: unknown, timeoutMs: number): Promise<HubReply> {
    let sid = 0;
    for (const sub of s.routing.subscriptions.values())
      if (patternMatches(sub.pattern, topic)) {
        sid = sub.sid;
        break;
      }
    if (sid === 0 || s.state !== 'open')
      return Promise.resolve({
        ok: false,
        error: createError('CB_ERR_NO_RESPONDERS', `connection ${s.connectionId} serves no ${JSON.stringify(topic)}`, {
          details: { topic },
        }),
      });
    const { replyTo, reply } = this.#hubRequests.open();
    const frame = encodeFrame(
      envelope(Kind.REQUEST, { topic, replyTo, payloadType: PayloadType.JSON, payload: encodeJson(data ?? null), timestamp: Date.now() }),
      this.#limits,
    );
    if (!this.#queues.deliver(s, frame, 0, frame.length, sid)) {
      this.#hubRequests.cancel(replyTo, createError('CB_ERR_BACKPRESSURE', `connection ${s.connectionId} cannot take the request now`));
      return reply;
    }
    if (this.#secure) grantReply(s, replyTo);
    const timer = setTimeout(
      () =>
        this.#hubRequests.cancel(
          replyTo,
          createError('CB_ERR_TIMEOUT', `connection ${s.connectionId} did not answer ${JSON.stringify(topic)} within ${timeoutMs} ms`, {
            details: { topic, timeoutMs },
          }),
        ),
      timeoutMs,
    );
    return reply.then((r) => {
      clearTimeout(timer);
      return r;
    });
  }

  /**
   * Adds an admitted SUBSCRIBE: the sender gets OK, listeners a 'subscription' event. Returns why
   * its options (JSON: a group member's weight) were refused, for the caller to answer with
   * CB_ERR_PROTOCOL; undefined when it was added.
   */
  subscribe(s: Session, env: Envelope): string | undefined {
    let weight = 1;
    if (env.payloadType === PayloadType.JSON) {
      let opts: SubscribeOptionsPayload;
      try {
        opts = decodeJson(env.payload) as SubscribeOptionsPayload;
      } catch {
        return 'SUBSCRIBE options are not JSON';
      }
      if (opts !== null && typeof opts === 'object' && opts.weight !== undefined) {
        const problem = weightProblem(opts.weight, env.group !== '');
        if (problem !== undefined) return problem.message;
        weight = opts.weight;
      }
    }
    const sub: RouteSubscription = {
      pattern: env.topic,
      group: env.group === '' ? undefined : env.group,
      weight,
      session: s,
      sid: env.sid,
    };
    (s.routing as RoutingState).subscriptions.set(env.sid, sub);
    this.#index.add(sub);
    this.#cluster?.interest(sub, true);
    this.#queues.enqueueControl(s, envelope(Kind.OK, { id: env.id, sid: env.sid }));
    this.#events.emit('subscription', { connectionId: s.connectionId, name: s.name, sid: env.sid, pattern: env.topic, group: sub.group });
    return undefined;
  }

  /** Ends a subscription at the peer's request: OK (unless `id` is 0), and an 'unsubscription' event. */
  unsubscribe(s: Session, sub: RouteSubscription, id: number): void {
    this.remove(s, sub);
    if (id !== 0) this.#queues.enqueueControl(s, envelope(Kind.OK, { id, sid: sub.sid }));
    this.#events.emit('unsubscription', {
      connectionId: s.connectionId,
      name: s.name,
      sid: sub.sid,
      pattern: sub.pattern,
      group: sub.group,
    });
  }

  /** Removes one subscription; nothing is said to anyone. */
  remove(s: Session, sub: RouteSubscription): void {
    (s.routing as RoutingState).subscriptions.delete(sub.sid);
    this.#index.remove(sub);
    this.#cluster?.interest(sub, false);
  }

  /**
   * A session is going: nothing more is routed to it. Returns the requests in flight to it that
   * nobody else can answer any more (their requesters are to be told).
   */
  detach(s: Session): InflightRequest[] {
    const routing = s.routing as RoutingState;
    for (const sub of routing.subscriptions.values()) {
      this.#index.remove(sub);
      this.#cluster?.interest(sub, false);
    }
    routing.subscriptions.clear();
    if (routing.replyStats !== undefined) routing.replyStats.abandoned += routing.inflight.size;
    return abandoned(routing.inflight);
  }
}

/**
 * Index of the group member that gets message number `cursor`: round robin when all weights are
 * equal, otherwise weighted round robin, so that over any run of sum(weights) messages each member
 * gets exactly its weight. Weights are how deployments will split traffic between versions.
 */
export function pickMember(members: readonly RouteSubscription[], cursor: number): number {
  const n = members.length;
  let total = 0;
  let uniform = true;
  const w0 = memberWeight(members[0] as RouteSubscription);
  for (let i = 0; i < n; i++) {
    const w = memberWeight(members[i] as RouteSubscription);
    total += w;
    if (w !== w0) uniform = false;
  }
  // All drained: the caller's turn skips every member.
  if (uniform || total === 0) return cursor % n;
  let target = cursor % total;
  for (let i = 0; i < n; i++) {
    target -= memberWeight(members[i] as RouteSubscription);
    if (target < 0) return i;
  }
  return n - 1;
}

/** A member's own weight times its connection's traffic weight. */
function memberWeight(sub: RouteSubscription): number {
  return sub.weight * sub.session.routing.trafficWeight;
}

/** Records a request handed to a connection: in flight, and counted when watched. */
function handRequest(routing: RoutingState, replyTo: string, req: InflightRequest): void {
  trackRequest(routing.inflight, replyTo, req);
  if (routing.replyStats !== undefined) routing.replyStats.requests++;
}
