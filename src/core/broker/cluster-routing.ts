/**
 * The Router's share of a cluster (cluster.ts): what a local client sends is forwarded after it is
 * routed here, what another hub sends is delivered here, and replies to requests that crossed go
 * back to their requesters. The Router owns the subscription index and delivery; this module
 * decides what crosses and how it comes back.
 */
import { CrossbusError } from '../errors/index.js';
import type { FrameLimits } from '../limits.js';
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import { Kind, type Envelope } from '../protocol/envelope.js';
import type { GroupMatch, SubscriptionIndex } from '../routing/subscription-index.js';
import { HEADER_DURABLE } from '../streams/wire.js';
import {
  CLUSTER_INBOX_ROOT,
  type ClusterInbound,
  type ClusterLink,
  type ClusterRefusal,
  type ClusterVia,
  clusterReplyTopic,
  isLocalOnly,
  parseClusterReplyTopic,
} from './cluster.js';
import type { HubCounters } from './counters.js';
import type { OutboundQueues } from './outbound-queues.js';
import { grantReply } from './session-auth.js';
import type { RouteSubscription, Session } from './session.js';

/** What the Router lends the cluster: its index and queues, and its own ways to deliver. */
export interface LocalRouting {
  readonly index: SubscriptionIndex<RouteSubscription>;
  readonly queues: OutboundQueues;
  readonly totals: HubCounters;
  readonly limits: FrameLimits;
  /** A secure hub hands out reply permits and keeps inboxes private. */
  readonly secure: boolean;
  /** One member of `g` gets the frame (weighted round robin); false when none could. */
  toGroup(g: GroupMatch<RouteSubscription>, frame: Uint8Array, permit: string | undefined): boolean;
  /** Routes a frame to the local subscriptions of `topic` (a reply to the requester's inbox). */
  route(topic: string, frame: Uint8Array): void;
  sessionBySeq(seq: number): Session | undefined;
}

/** What became of a local client's message at the cluster. */
export const Forwarded = {
  /** Sent (or nothing to send); a plain publish or one NATS took. */
  SENT: 0,
  /** A request sent: the cluster answers it, or says nobody did. */
  REMOTE: 1,
  /** Refused, and the sender was told: nothing more to do for it. */
  TOLD: 2,
} as const;
export type Forwarded = (typeof Forwarded)[keyof typeof Forwarded];

export class ClusterRouting {
  readonly #link: ClusterLink;
  readonly #token: string;
  readonly #local: LocalRouting;

  constructor(link: ClusterLink, hubToken: string, local: LocalRouting) {
    this.#link = link;
    this.#token = hubToken;
    this.#local = local;
  }

  /** Where the link hands what arrives from other hubs. */
  inbound(): ClusterInbound {
    return {
      deliver: (frame, via, served) => this.#deliver(frame, via, served),
      replied: (topic, frame) => this.#replied(topic, frame),
    };
  }

  /** A local subscription began or ended: the hub's interest follows (reserved topics stay here). */
  interest(sub: RouteSubscription, added: boolean): void {
    if (isLocalOnly(sub.pattern)) return;
    if (added) this.#link.addInterest(sub.pattern, sub.group);
    else this.#link.removeInterest(sub.pattern, sub.group);
  }

  /** True when the message may cross (then the Router collects the groups it serves locally). */
  crosses(env: Envelope): boolean {
    return env.kind !== Kind.REPLY && !isLocalOnly(env.topic);
  }

  /** A local responder's REPLY to a request from another hub: sent back, never routed here. */
  takeReply(env: Envelope, frame: Uint8Array): boolean {
    if (!env.topic.startsWith(CLUSTER_INBOX_ROOT)) return false;
    this.#link.reply(env.topic, frame);
    return true;
  }

  /**
   * Forwards what a local client sent, after it was routed here (`delivered` local recipients,
   * `served` the groups among them, emptied here). A refusal is said to a sender that asked to hear
   * it: a request nobody here took, a publish with confirmation too large for NATS.
   */
  forward(s: Session, env: Envelope, frame: Uint8Array, delivered: number, served: string[]): Forwarded {
    const groups = served.length === 0 ? undefined : served.slice();
    served.length = 0;
    const isRequest = env.kind === Kind.REQUEST && env.replyTo !== '';
    const refused = isRequest ? this.#request(s, env, delivered > 0, groups) : this.#link.publish(env.topic, frame, groups);
    if (refused === undefined) return isRequest ? Forwarded.REMOTE : Forwarded.SENT;
    // A publish while NATS is away was delivered here, as NATS itself would: at most once, counted
    // by the link. A durable publish is answered once stored, whatever the cluster did.
    const tell =
      env.id !== 0 && (env.kind === Kind.REQUEST ? delivered === 0 : refused.code === 'CB_ERR_FRAME_TOO_LARGE' && !isDurable(env));
    if (!tell) return isRequest && delivered > 0 ? Forwarded.REMOTE : Forwarded.SENT;
    this.#local.queues.replyError(s, env.id, refused.code, `not forwarded to the cluster: ${refused.message}`, { topic: env.topic });
    return Forwarded.TOLD;
  }

  /** A local client's request, forwarded with a reply topic under this hub's cluster inbox. */
  #request(s: Session, env: Envelope, localResponders: boolean, served: readonly string[] | undefined): ClusterRefusal | undefined {
    const replyTo = clusterReplyTopic(this.#token, s.seq, env, localResponders);
    let frame: Uint8Array;
    try {
      frame = encodeFrame({ ...env, replyTo }, this.#local.limits);
    } catch (err) {
      return { code: 'CB_ERR_FRAME_TOO_LARGE', message: err instanceof CrossbusError ? err.message : String(err) };
    }
    return this.#link.request(env.topic, frame, replyTo, served);
  }

  /**
   * A message from another hub: to the local subscriptions of exactly the pattern it came through
   * (each copy NATS sends goes to its own pattern's subscribers), or to one member of its group
   * unless the sending hub served that group already. Returns how many got it.
   */
  #deliver(frame: Uint8Array, via: ClusterVia, served: readonly string[] | undefined): number {
    const local = this.#local;
    let env: Envelope;
    try {
      env = decodeFrame(frame, local.limits);
    } catch {
      local.totals.countError('CB_ERR_FRAME_MALFORMED');
      return 0;
    }
    const { kind, topic } = env;
    if ((kind !== Kind.PUBLISH && kind !== Kind.REQUEST) || isLocalOnly(topic)) return 0;
    const match = local.index.match(topic);
    if (match.total === 0) return 0;
    const permit = local.secure && kind === Kind.REQUEST && env.replyTo !== '' ? env.replyTo : undefined;
    if (via.group !== undefined) {
      if (served?.includes(via.group) === true) return 0;
      for (const g of match.groups) if (g.name === via.group) return local.toGroup(g, frame, permit) ? 1 : 0;
      return 0;
    }
    let delivered = 0;
    const plain = match.plain;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i] as RouteSubscription;
      if (sub.pattern !== via.pattern) continue;
      if (local.queues.deliver(sub.session, frame, 0, frame.length, sub.sid)) {
        delivered++;
        if (permit !== undefined) grantReply(sub.session, permit);
      }
    }
    return delivered;
  }

  /** A reply, or NATS's no-responders status (`frame` undefined), to this hub's cluster inbox. */
  #replied(topic: string, frame: Uint8Array | undefined): void {
    const local = this.#local;
    const target = parseClusterReplyTopic(topic, this.#token);
    if (target === undefined) return;
    if (frame === undefined) {
      if (target.localResponders) return;
      const s = local.sessionBySeq(target.sessionSeq);
      if (s === undefined || s.state !== 'open') return;
      local.totals.noResponders++;
      local.queues.replyError(s, target.requestId, 'CB_ERR_NO_RESPONDERS', 'no responders in the cluster');
      return;
    }
    let env: Envelope;
    try {
      env = decodeFrame(frame, local.limits);
    } catch {
      local.totals.countError('CB_ERR_FRAME_MALFORMED');
      return;
    }
    if (env.kind !== Kind.REPLY) return;
    // To the requester's own inbox: on a secure hub only its owner gets it, as any reply.
    local.route(target.replyTo, encodeFrame({ ...env, topic: target.replyTo }, local.limits));
  }
}

function isDurable(env: Envelope): boolean {
  return env.headers?.[HEADER_DURABLE] !== undefined;
}
