/**
 * The hubs of a client with several: their health, which one the Bus is on, and the moves
 * between them. It adds nothing to the Bus's per-message path: it is the Bus's connector (each
 * connection attempt asks it which hub to try), it listens to the Bus's connection events, and
 * a timer drives the heartbeats. Failover reuses the Bus's reconnect: the Connection keeps its
 * subscriptions, services and unacknowledged durable publishes across transports and restores
 * them on whichever hub the next transport reaches.
 *
 * - The preferred hub is drawn once, by configured weight (so a fleet of clients spreads over
 *   the hubs); the client stays on it while it is up.
 * - When the current hub fails (its transport closes, or `maxMissed` heartbeats go unanswered),
 *   the next attempt goes to another hub by weight and measured health (`pickEndpoint`).
 * - Once the preferred hub has been healthy again for `recoveryMs`, the client returns to it:
 *   a flush (everything sent so far reached the hub it leaves), then the transport is closed.
 */
import { CLOSE_NORMAL, type Transport, type TransportConnector } from '../../core/transport/transport.js';
import type { Metric } from '../../core/metrics/metric.js';
import { unrefTimer } from '../../core/util/timers.js';
import type { Bus } from '../bus.js';
import { pickEndpoint } from './balancer.js';
import { EndpointHealth, type EndpointState, type HealthCause } from './endpoint-health.js';
import type { MoveReason } from './events.js';
import { heartbeat } from './heartbeat.js';
import { hubMetrics } from './hub-metrics.js';
import type { ResolvedFailoverOptions, ResolvedServer } from './options.js';
import { StandbyWatch } from './standby-watch.js';

/** One hub as the client sees it now. */
export interface EndpointSnapshot {
  readonly name: string;
  readonly weight: number;
  readonly state: EndpointState;
  /** Latency average, ms (NaN before the first round trip). */
  readonly rttMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Heartbeats missed in a row. */
  readonly missed: number;
  /** The Bus is connected to it. */
  readonly current: boolean;
  /** The hub this client returns to. */
  readonly preferred: boolean;
}

export class HubSet {
  /** What the Bus connects with: each attempt goes to the hub chosen at that moment. */
  readonly connector: TransportConnector;
  readonly #servers: readonly ResolvedServer[];
  readonly #health: readonly EndpointHealth[];
  readonly #watches: (StandbyWatch | undefined)[];
  readonly #opts: ResolvedFailoverOptions;
  readonly #openWatch: (connector: TransportConnector) => Promise<Bus>;
  readonly #preferred: number;
  readonly #moves: Record<MoveReason, number> = { initial: 0, failover: 0, return: 0 };
  #bus: Bus | undefined;
  #current = -1;
  /** The hub the Bus was last connected to (-1 before the first connection). */
  #last = -1;
  #attempting = -1;
  #attemptTransport: Transport | undefined;
  #currentTransport: Transport | undefined;
  /** Hubs that refused this client for good (credentials, version, origin) since they last took it. */
  readonly #refused = new Set<number>();
  /** A return to the preferred hub is under way: the transport it closes is not a failure. */
  #returning = false;
  #beating = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    servers: readonly ResolvedServer[],
    opts: ResolvedFailoverOptions,
    openWatch: (connector: TransportConnector) => Promise<Bus>,
  ) {
    this.#servers = servers;
    this.#opts = opts;
    this.#openWatch = openWatch;
    const now = opts.now();
    this.#health = servers.map((_s, i) => new EndpointHealth(opts, now, (from, to, cause) => this.#changed(i, from, to, cause)));
    this.#watches = servers.map(() => undefined);
    this.#preferred = pickEndpoint(
      servers.map((s) => ({ weight: s.weight, state: 'healthy', rttMs: Number.NaN, changedAt: 0 })),
      opts.random,
    );
    this.connector = (signal) => this.#connect(signal);
  }

  /** The name of the hub the Bus is connected to; undefined while it is between hubs. */
  get current(): string | undefined {
    return this.#current < 0 ? undefined : this.#servers[this.#current]?.name;
  }

  /** The hub this client prefers (drawn by weight) and returns to. */
  get preferred(): string {
    return (this.#servers[this.#preferred] as ResolvedServer).name;
  }

  /** Every hub's health, in the order given. */
  snapshot(): EndpointSnapshot[] {
    return this.#servers.map((s, i) => {
      const h = this.#health[i] as EndpointHealth;
      return {
        name: s.name,
        weight: s.weight,
        state: h.state,
        rttMs: h.latency.ewma,
        p50Ms: h.latency.percentile(0.5),
        p99Ms: h.latency.percentile(0.99),
        missed: h.missed,
        current: i === this.#current,
        preferred: i === this.#preferred,
      };
    });
  }

  /** Starts following `bus`: its connection events, the heartbeats. Called before its first attempt. */
  attach(bus: Bus): void {
    this.#bus = bus;
    bus.on('connected', () => this.#connected());
    bus.on('disconnected', () => this.#disconnected());
    bus.on('reconnecting', () => this.attemptFailed());
    bus.on('closed', () => this.#stop());
    this.#timer = setInterval(() => this.#tick(), this.#opts.heartbeatMs);
    unrefTimer(this.#timer);
  }

  /**
   * The hub being tried refused the client for good (its credentials, say, are not there yet):
   * true while another hub has not refused it, so the bus tries that one instead of closing.
   */
  retryRefusal(): boolean {
    if (this.#attempting >= 0) this.#refused.add(this.#attempting);
    return this.#refused.size < this.#servers.length;
  }

  /** The attempt under way did not connect (its transport failed or its handshake was refused). */
  attemptFailed(): void {
    const i = this.#attempting;
    if (i < 0) return;
    this.#attempting = -1;
    // A return that could not reach the preferred hub is a failover from here on.
    this.#returning = false;
    this.#attemptTransport?.close();
    this.#attemptTransport = undefined;
    (this.#health[i] as EndpointHealth).fail(this.#opts.now());
  }

  async #connect(signal?: AbortSignal): Promise<Transport> {
    const i = this.#choose();
    const server = this.#servers[i] as ResolvedServer;
    this.#attempting = i;
    const transport = await server.connector(signal).catch((err: unknown) => {
      this.attemptFailed();
      throw err;
    });
    this.#attemptTransport = transport;
    return transport;
  }

  /** The preferred hub unless it is down or still recovering; else a weighted draw by health. */
  #choose(): number {
    const p = this.#health[this.#preferred] as EndpointHealth;
    if (p.state === 'healthy' || p.state === 'degraded' || (p.state === 'probing' && !p.wasDown)) return this.#preferred;
    return pickEndpoint(
      this.#servers.map((s, i) => {
        const h = this.#health[i] as EndpointHealth;
        return { weight: s.weight, state: h.state, rttMs: h.latency.ewma, changedAt: h.changedAt };
      }),
      this.#opts.random,
    );
  }

  #connected(): void {
    const i = this.#attempting;
    if (i < 0) return;
    this.#attempting = -1;
    this.#refused.delete(i);
    this.#current = i;
    this.#currentTransport = this.#attemptTransport;
    this.#attemptTransport = undefined;
    this.#watches[i]?.stop();
    this.#watches[i] = undefined;
    const reason: MoveReason = this.#last < 0 ? 'initial' : this.#returning ? 'return' : 'failover';
    this.#returning = false;
    const from = this.#last;
    this.#last = i;
    if (from === i) return;
    this.#moves[reason]++;
    this.#bus?.events.emit('move', { from: this.#servers[from]?.name, to: (this.#servers[i] as ResolvedServer).name, reason });
  }

  #disconnected(): void {
    const i = this.#current;
    if (i < 0) return;
    this.#current = -1;
    this.#currentTransport = undefined;
    if (!this.#returning) (this.#health[i] as EndpointHealth).fail(this.#opts.now());
    this.#watch(i);
  }

  /** Starts watching hub `i` while the Bus is elsewhere (every hub, or only the preferred one). */
  #watch(i: number): void {
    if (this.#watches[i] !== undefined || this.#bus?.state === 'closed') return;
    if (!this.#opts.watchStandbys && i !== this.#preferred) return;
    const server = this.#servers[i] as ResolvedServer;
    this.#watches[i] = new StandbyWatch(
      () => this.#openWatch(server.connector),
      this.#health[i] as EndpointHealth,
      this.#opts.heartbeatMs,
      this.#opts.now,
    );
  }

  #tick(): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    if (this.#last >= 0) for (let i = 0; i < this.#servers.length; i++) if (i !== this.#current) this.#watch(i);
    for (const w of this.#watches) w?.tick();
    const i = this.#current;
    if (i < 0 || bus.state !== 'connected') return;
    if (!this.#beating) {
      this.#beating = true;
      void heartbeat(bus, this.#health[i] as EndpointHealth, this.#opts.heartbeatMs, this.#opts.now).finally(() => {
        this.#beating = false;
      });
    }
    if (i !== this.#preferred && !this.#returning && (this.#health[this.#preferred] as EndpointHealth).state === 'healthy')
      void this.#return(bus);
  }

  /** Back to the preferred hub: what was sent reaches the hub we leave, then its transport closes. */
  async #return(bus: Bus): Promise<void> {
    this.#returning = true;
    const t = this.#currentTransport;
    await bus.flush(this.#opts.heartbeatMs).catch(() => {});
    if (t === undefined || t !== this.#currentTransport) {
      this.#returning = false;
      return;
    }
    t.close(CLOSE_NORMAL, 'returning to the preferred hub');
  }

  #changed(i: number, from: EndpointState, to: EndpointState, cause: HealthCause): void {
    const h = this.#health[i] as EndpointHealth;
    // Answering again (a watch got through): whatever refused us may have been fixed.
    if (to !== 'down') this.#refused.delete(i);
    this.#bus?.events.emit('endpoint', { name: (this.#servers[i] as ResolvedServer).name, from, to, cause, rttMs: h.latency.ewma });
    // The hub we are on stopped answering heartbeats: close its transport, the reconnect moves on.
    if (to === 'down' && i === this.#current && cause === 'missed') this.#currentTransport?.close(4000, 'CB_ERR_CONNECTION_LOST');
  }

  #stop(): void {
    clearInterval(this.#timer);
    for (let i = 0; i < this.#watches.length; i++) {
      this.#watches[i]?.stop();
      this.#watches[i] = undefined;
    }
    this.#current = -1;
  }

  /** Per hub: state, latency (average, p50, p99), missed heartbeats; moves by reason. */
  metrics(): Metric[] {
    return hubMetrics({
      names: this.#servers.map((s) => s.name),
      health: this.#health,
      current: () => this.#current,
      moves: this.#moves,
    });
  }
}
