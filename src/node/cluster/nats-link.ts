/**
 * A hub's link to a NATS cluster (the `ClusterLink` of src/core/broker/cluster.ts): one NATS
 * connection per hub. Local interest becomes NATS subscriptions, one per distinct pattern (plain)
 * or pattern and group (a NATS queue group of the same name), counted so that the thousandth
 * subscriber to a topic costs NATS nothing more; what local clients send is published once, with
 * the crossbus frame as the NATS payload (a burst to one topic: several frames in one NATS message,
 * nats-batch.ts). The connection does not echo: a hub never hears its own
 * messages back (it delivered them locally already).
 */
import { randomBytes } from 'node:crypto';
import {
  type ConnectionOptions,
  type MsgHdrs,
  type NatsConnection,
  type NatsError,
  type Subscription,
  connect,
  headers as natsHeaders,
} from 'nats';
import type { ClusterInbound, ClusterLink, ClusterRefusal } from '../../core/broker/cluster.js';
import { CLUSTER_INBOX_ROOT, isReservedSubject } from '../../core/broker/cluster.js';
import { createError } from '../../core/errors/index.js';
import type { Metric } from '../../core/metrics/metric.js';
import { TypedEmitter } from '../../core/util/emitter.js';
import type { Logger } from '../../core/util/logger.js';
import type { ResolvedClusterOptions } from './cluster-options.js';
import { FrameBatch, eachFrame } from './nats-batch.js';
import { clusterMetrics, connectionOptions, describe, isNoResponders } from './nats-connection.js';

/** The NATS header naming the groups the sending hub served itself (other hubs skip them). */
export const SERVED_HEADER = 'Cb-Served';

export type ClusterState = 'connected' | 'disconnected' | 'closed';

export interface ClusterEvents {
  /** The link's state changed (NATS lost, back, closed). */
  state: { state: ClusterState; server: string | undefined };
  /** NATS refused something (a permission, a subscription): said once per occurrence. */
  refused: { what: string; reason: string };
}

interface Interest {
  count: number;
  /** Undefined until the hub has a NATS connection (a local-only start). */
  sub: Subscription | undefined;
  readonly pattern: string;
  readonly group: string | undefined;
}

const LOST: ClusterRefusal = { code: 'CB_ERR_CONNECTION_LOST', message: 'the NATS cluster is not reachable now' };

export class NatsLink implements ClusterLink {
  /** Names this hub in reply topics: one subject token, random, unique in the cluster. */
  readonly hubToken = randomBytes(9).toString('hex');
  readonly events: TypedEmitter<ClusterEvents>;
  /** Undefined while a local-only hub waits for its first connection. */
  #nc: NatsConnection | undefined;
  readonly #logger: Logger;
  readonly #interest = new Map<string, Interest>();
  #inbound: ClusterInbound | undefined;
  #state: ClusterState = 'disconnected';
  #maxPayload = 1024 * 1024;
  readonly #counts = { out: 0, in: 0, dropped: 0, refused: 0, reconnects: 0 };
  #inboxSub: Subscription | undefined;
  /** The next attempt of a local-only start to join. */
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Publishes to one subject in a row, sent as one NATS message at the end of the turn. */
  readonly #batch = new FrameBatch((subject, payload, frames) => this.#publishRun(subject, payload, frames));

  private constructor(logger: Logger) {
    this.#logger = logger;
    this.events = new TypedEmitter<ClusterEvents>((error) => logger.error({ error: String(error) }, 'cluster event listener threw'));
  }

  /**
   * Connects to the cluster. NATS unreachable within `connectTimeoutMs`: CB_ERR_CONNECTION_FAILED,
   * or with `whenUnreachable: 'local-only'` a link that joins once NATS answers (until then
   * nothing crosses: local clients are served as by a hub on its own).
   */
  static async open(options: ResolvedClusterOptions, hubId: string, logger: Logger): Promise<NatsLink> {
    const localOnly = options.whenUnreachable === 'local-only';
    const opts = connectionOptions(options, hubId);
    const link = new NatsLink(logger);
    const failed = (cause: unknown) =>
      // The message names the servers only: credentials never appear in URLs or errors.
      createError('CB_ERR_CONNECTION_FAILED', `cannot reach the NATS cluster at ${options.servers.join(', ')}: ${describe(cause)}`, {
        cause,
        details: { servers: options.servers },
      });
    if (!localOnly) {
      try {
        link.#connected(await connect(opts));
      } catch (cause) {
        throw failed(cause);
      }
      return link;
    }
    try {
      link.#connected(await connect(opts));
    } catch (cause) {
      logger.warn({ servers: options.servers, error: describe(cause) }, 'NATS is not reachable: serving local clients only until it is');
      link.#joinLater(opts, options.reconnectWaitMs);
    }
    return link;
  }

  /** A local-only start: tries again every `waitMs` until NATS answers or the link is closed. */
  #joinLater(opts: ConnectionOptions, waitMs: number): void {
    const attempt = (): void => {
      this.#retry = undefined;
      connect(opts).then(
        (nc) => (this.#state === 'closed' ? void nc.close() : this.#connected(nc)),
        () => {
          if (this.#state !== 'closed') this.#retry = setTimeout(attempt, waitMs);
        },
      );
    };
    this.#retry = setTimeout(attempt, waitMs);
  }

  #connected(nc: NatsConnection): void {
    this.#nc = nc;
    this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
    for (const i of this.#interest.values()) i.sub ??= this.#subscribe(nc, i.pattern, i.group);
    if (this.#inbound !== undefined) this.#openInbox(nc, this.#inbound);
    this.#setState('connected');
    void this.#watchStatus(nc);
  }

  /** Where messages from other hubs go; opens this hub's cluster inbox. */
  bind(inbound: ClusterInbound): void {
    this.#inbound = inbound;
    if (this.#nc !== undefined) this.#openInbox(this.#nc, inbound);
  }

  #openInbox(nc: NatsConnection, inbound: ClusterInbound): void {
    this.#inboxSub ??= nc.subscribe(`${CLUSTER_INBOX_ROOT}${this.hubToken}.>`, {
      callback: (err, msg) => {
        if (err !== null) return this.#subscriptionFailed('the cluster inbox', err);
        this.#counts.in++;
        inbound.replied(msg.subject, isNoResponders(msg) ? undefined : msg.data);
      },
    });
  }

  /** The hub's NATS connection (durable streams in JetStream share it); undefined until joined. */
  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  get state(): ClusterState {
    return this.#state;
  }

  /** The server this hub is connected to now, if any. */
  get server(): string | undefined {
    return this.#state === 'connected' ? this.#nc?.getServer() : undefined;
  }

  /** Distinct NATS subscriptions this hub holds for its clients' interest. */
  get interestCount(): number {
    return this.#interest.size;
  }

  addInterest(pattern: string, group: string | undefined): void {
    const key = group === undefined ? pattern : `${pattern}\u0000${group}`;
    const held = this.#interest.get(key);
    if (held !== undefined) {
      held.count++;
      return;
    }
    const nc = this.#nc;
    this.#interest.set(key, { count: 1, pattern, group, sub: nc === undefined ? undefined : this.#subscribe(nc, pattern, group) });
  }

  #subscribe(nc: NatsConnection, pattern: string, group: string | undefined): Subscription {
    const via = { pattern, group };
    return nc.subscribe(pattern, {
      ...(group !== undefined ? { queue: group } : {}),
      callback: (err, msg) => {
        if (err !== null) return this.#subscriptionFailed(pattern, err);
        // A wildcard interest also hears JetStream's API, the stored streams' notices and NATS
        // inboxes on this connection: none of them is a crossbus message.
        if (isReservedSubject(msg.subject)) return;
        const inbound = this.#inbound;
        const header = msg.headers?.get(SERVED_HEADER);
        const served = header === undefined || header === '' ? undefined : header.split(',').map(decodeURIComponent);
        this.#counts.in += eachFrame(msg.data, (frame) => inbound?.deliver(frame, via, served));
      },
    });
  }

  removeInterest(pattern: string, group: string | undefined): void {
    const key = group === undefined ? pattern : `${pattern}\u0000${group}`;
    const held = this.#interest.get(key);
    if (held === undefined) return;
    if (--held.count > 0) return;
    this.#interest.delete(key);
    held.sub?.unsubscribe();
  }

  publish(topic: string, frame: Uint8Array, served: readonly string[] | undefined): ClusterRefusal | undefined {
    if (served !== undefined) return this.#send(topic, frame, undefined, served);
    const refused = this.#refusal(frame);
    if (refused !== undefined) return refused;
    this.#batch.add(topic, frame, this.#maxPayload);
    return undefined;
  }

  request(topic: string, frame: Uint8Array, replyTo: string, served: readonly string[] | undefined): ClusterRefusal | undefined {
    return this.#send(topic, frame, replyTo, served);
  }

  reply(topic: string, frame: Uint8Array): void {
    this.#send(topic, frame, undefined, undefined);
  }

  /** Why a frame cannot go now (NATS away, or the frame too large for it), counted; else undefined. */
  #refusal(frame: Uint8Array): ClusterRefusal | undefined {
    if (this.#state !== 'connected' || this.#nc === undefined) {
      this.#counts.dropped++;
      return LOST;
    }
    if (frame.length > this.#maxPayload) {
      this.#counts.refused++;
      return {
        code: 'CB_ERR_FRAME_TOO_LARGE',
        message: `${frame.length} bytes is more than the cluster's max_payload of ${this.#maxPayload}`,
      };
    }
    return undefined;
  }

  /** A run of publishes (FrameBatch): its frames were accepted, so they count as sent or dropped. */
  #publishRun(subject: string, payload: Uint8Array, frames: number): void {
    const nc = this.#nc;
    // NATS went away within this turn: the run is lost, as a publish is while NATS is away.
    if (this.#state !== 'connected' || nc === undefined) {
      this.#counts.dropped += frames;
      return;
    }
    try {
      nc.publish(subject, payload);
    } catch (err) {
      this.#counts.dropped += frames;
      this.#logger.warn({ subject, error: describe(err) }, 'NATS did not take a message');
      return;
    }
    this.#counts.out += frames;
  }

  #send(subject: string, frame: Uint8Array, reply: string | undefined, served: readonly string[] | undefined): ClusterRefusal | undefined {
    // Whatever is waiting goes first: NATS sees the hub's messages in the order they were sent.
    this.#batch.flush();
    const refused = this.#refusal(frame);
    if (refused !== undefined) return refused;
    const nc = this.#nc as NatsConnection;
    let hdrs: MsgHdrs | undefined;
    if (served !== undefined) {
      hdrs = natsHeaders();
      hdrs.set(SERVED_HEADER, served.map(encodeURIComponent).join(','));
    }
    try {
      nc.publish(
        subject,
        frame,
        reply === undefined && hdrs === undefined
          ? undefined
          : { ...(reply !== undefined ? { reply } : {}), ...(hdrs !== undefined ? { headers: hdrs } : {}) },
      );
    } catch (err) {
      this.#counts.dropped++;
      this.#logger.warn({ subject, error: describe(err) }, 'NATS did not take a message');
      return LOST;
    }
    this.#counts.out++;
    return undefined;
  }

  #subscriptionFailed(what: string, err: NatsError): void {
    this.#counts.refused++;
    this.#logger.error(
      { subscription: what, error: err.message },
      'NATS refused a subscription: messages from other hubs for it do not arrive',
    );
    this.events.emit('refused', { what, reason: err.message });
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.#setState('disconnected');
          break;
        case 'reconnect':
          this.#counts.reconnects++;
          this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
          this.#setState('connected');
          break;
        case 'error': {
          const reason = String(s.data);
          this.#counts.refused++;
          this.#logger.error({ error: reason }, 'NATS reported an error');
          this.events.emit('refused', { what: 'connection', reason });
          break;
        }
        default:
          break;
      }
    }
  }

  #setState(state: ClusterState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    const server = state === 'connected' ? this.#nc?.getServer() : undefined;
    if (state === 'connected') this.#logger.info({ server }, 'joined the NATS cluster');
    else this.#logger.warn({}, 'lost the NATS cluster: reconnecting; nothing crosses meanwhile');
    this.events.emit('state', { state, server });
  }

  metrics(): readonly Metric[] {
    return clusterMetrics(
      this.#counts,
      () => this.#state === 'connected',
      () => this.#interest.size,
    );
  }

  /** Leaves the cluster: what is buffered is sent, then the connection closes. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#batch.flush();
    this.#state = 'closed';
    clearTimeout(this.#retry);
    const nc = this.#nc;
    if (nc === undefined || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch {
      await nc.close().catch(() => {});
    }
  }
}
