/**
 * The seam between a hub's Router and the cluster it belongs to (several hubs as one bus over a
 * NATS cluster: src/node/cluster/). Isomorphic: the Router knows the cluster only through
 * `ClusterLink`, and the link reaches the Router only through `ClusterInbound`.
 *
 * What crosses: topics map one to one onto NATS subjects. A hub tells the cluster of the interest
 * its own subscriptions have (one NATS subscription per distinct pattern, or pattern and group, so a
 * message crosses once per hub with interest), and forwards what its own clients publish. Reserved
 * topics stay on their hub: every `$…` topic (`$SYS.…`: each hub answers and announces its own) and client inboxes
 * (`_INBOX.<id>.…`: a reply from another hub comes back through the requesting hub's cluster
 * inbox, `CLUSTER_INBOX_ROOT`, and is handed to the requester from there).
 */
import type { Envelope } from '../protocol/envelope.js';
import { INBOX_ROOT } from './session-auth.js';

/** Replies to requests that crossed the cluster go to topics under this prefix. */
export const CLUSTER_INBOX_ROOT = '_INBOX.$cluster.';

/** Why the cluster did not take a message: too large for it, or not reachable now. */
export interface ClusterRefusal {
  readonly code: 'CB_ERR_FRAME_TOO_LARGE' | 'CB_ERR_CONNECTION_LOST';
  readonly message: string;
}

/** What a hub forwards to the cluster and how it learns of its own interest. */
export interface ClusterLink {
  /** A local subscription to `pattern` (in `group`, or none) began: the first one opens the hub's interest. */
  addInterest(pattern: string, group: string | undefined): void;
  /** A local subscription ended: the last one of its pattern and group closes the hub's interest. */
  removeInterest(pattern: string, group: string | undefined): void;
  /**
   * A PUBLISH (or a REQUEST without a reply topic) a local client sent, as its frame bytes.
   * `served`: the groups a local member got it from (other hubs skip them). Returns why the
   * cluster did not take it, else undefined.
   */
  publish(topic: string, frame: Uint8Array, served: readonly string[] | undefined): ClusterRefusal | undefined;
  /**
   * A REQUEST a local client sent: forwarded with the reply topic `replyTo` (under the cluster
   * inbox). `frame` already names that reply topic. Returns why the cluster did not take it.
   */
  request(topic: string, frame: Uint8Array, replyTo: string, served: readonly string[] | undefined): ClusterRefusal | undefined;
  /** A REPLY a local responder sent to a request that came from another hub. */
  reply(topic: string, frame: Uint8Array): void;
}

/** Where the link hands what arrives from the cluster. */
export interface ClusterInbound {
  /**
   * A message from another hub, arriving through this hub's interest in `pattern` (plain: only
   * the local subscriptions to exactly that pattern get it) or in `group` (one member of it,
   * unless the sender's hub served that group already). Returns how many got it.
   */
  deliver(frame: Uint8Array, via: ClusterVia, served: readonly string[] | undefined): number;
  /** A reply (or NATS's no-responders status: `frame` undefined) to this hub's cluster inbox topic. */
  replied(topic: string, frame: Uint8Array | undefined): void;
}

export interface ClusterVia {
  readonly pattern: string;
  readonly group: string | undefined;
}

const DOLLAR = 0x24;

/**
 * Topics and patterns that never cross the cluster: every `$…` topic (`$SYS.` is each hub's own,
 * and NATS reserves the rest: `$JS.API.…` manages JetStream, `$KV.…` and `$CB.…` hold the hubs'
 * stored streams; a client's grant on `>` must never reach them through the hub's NATS user) and
 * client inboxes (`_INBOX.<id>.…`, private to their hub). A pattern such as `>` does cross; the
 * link drops what NATS sends it on reserved subjects (isReservedSubject).
 */
export function isLocalOnly(topicOrPattern: string): boolean {
  return (
    topicOrPattern.charCodeAt(0) === DOLLAR || (topicOrPattern.startsWith(INBOX_ROOT) && !topicOrPattern.startsWith(CLUSTER_INBOX_ROOT))
  );
}

/** A NATS subject no crossbus message is published on: a `>` interest hears these, and drops them. */
export function isReservedSubject(subject: string): boolean {
  return subject.charCodeAt(0) === DOLLAR || subject.startsWith(INBOX_ROOT);
}

/**
 * A request's reply topic in the cluster: `_INBOX.$cluster.<hub>.<session seq>.<request id>.<local
 * responders: 0 or 1>.<the requester's own reply topic>`. Everything the requesting hub needs to
 * answer is in the topic, so it keeps no table of requests in flight (nothing to bound or expire).
 * Only the connection that received the request may reply to it (a reply permit), as on one hub.
 */
export function clusterReplyTopic(hubToken: string, sessionSeq: number, env: Envelope, localResponders: boolean): string {
  return `${CLUSTER_INBOX_ROOT}${hubToken}.${sessionSeq}.${env.id}.${localResponders ? 1 : 0}.${env.replyTo}`;
}

export interface ClusterReplyTarget {
  readonly sessionSeq: number;
  readonly requestId: number;
  readonly localResponders: boolean;
  /** The requester's own reply topic. */
  readonly replyTo: string;
}

/** Parses a topic made by `clusterReplyTopic` for hub `hubToken`; undefined when it is not one. */
export function parseClusterReplyTopic(topic: string, hubToken: string): ClusterReplyTarget | undefined {
  const prefix = `${CLUSTER_INBOX_ROOT}${hubToken}.`;
  if (!topic.startsWith(prefix)) return undefined;
  const parts = topic.slice(prefix.length).split('.');
  if (parts.length < 4) return undefined;
  const sessionSeq = Number(parts[0]);
  const requestId = Number(parts[1]);
  const flag = parts[2];
  const replyTo = parts.slice(3).join('.');
  if (
    !Number.isSafeInteger(sessionSeq) ||
    !Number.isSafeInteger(requestId) ||
    (flag !== '0' && flag !== '1') ||
    !replyTo.startsWith(INBOX_ROOT)
  )
    return undefined;
  return { sessionSeq, requestId, localResponders: flag === '1', replyTo };
}
