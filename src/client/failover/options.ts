/**
 * What a client with several hubs is given: the hubs (each a URL or a connector, with a weight)
 * and how their health is judged. Checked once, with typed errors, before anything connects.
 */
import { ConfigError } from '../../core/errors/index.js';
import type { TransportConnector } from '../../core/transport/transport.js';
import {
  DEFAULT_FAILOVER_DEGRADED_RTT_MS,
  DEFAULT_FAILOVER_EWMA_ALPHA,
  DEFAULT_FAILOVER_HEARTBEAT_MS,
  DEFAULT_FAILOVER_MAX_MISSED,
  DEFAULT_FAILOVER_MAX_SERVERS,
  DEFAULT_FAILOVER_RECOVERY_MS,
  DEFAULT_FAILOVER_WINDOW_SIZE,
} from '../defaults.js';
import type { HealthPolicy } from './endpoint-health.js';

/** One hub: a URL the entry point knows how to reach (ws://, wss://), or a connector. */
export interface ServerSpec {
  /** The hub's address. Either this or `connector`. @default none */
  url?: string;
  /** How to reach the hub, for transports without a URL. Either this or `url`. @default none */
  connector?: TransportConnector;
  /** The name events and metrics show. @default the URL without credentials or query, else `server-<index>` */
  name?: string;
  /** Share of clients that prefer this hub; 0 makes it a backup, used only when no weighted hub answers. @default 1 */
  weight?: number;
}

export interface FailoverOptions {
  /** A heartbeat (a PING round trip) to each watched hub this often, in ms. @default 2_000 */
  heartbeatMs?: number;
  /** Heartbeats missed in a row that make a hub down (and move the client off it). @default 2 */
  maxMissed?: number;
  /** A hub that was down answers this long without a miss before it is healthy and the client returns to it, in ms. @default 10_000 */
  recoveryMs?: number;
  /** A latency average above this makes a hub degraded, in ms. @default 500 */
  degradedRttMs?: number;
  /** Weight of a new round trip in the latency average, in (0, 1]. @default 0.2 */
  ewmaAlpha?: number;
  /** Round trips kept per hub for the percentiles. @default 128 */
  windowSize?: number;
  /**
   * Watch every other hub through a connection of its own (a standby connection per hub), so a
   * failover goes straight to a hub known to answer. With false, only the preferred hub is
   * watched while the client is away from it (to know when to return): one connection fewer per
   * hub, for fleets of many clients. @default true
   */
  watchStandbys?: boolean;
  /** The most hubs a client may be given. @default 32 */
  maxServers?: number;
  /** Random numbers in [0, 1) for the weighted choices. @default Math.random */
  random?: () => number;
  /** The clock, in ms. @default Date.now */
  now?: () => number;
}

export interface ResolvedServer {
  readonly name: string;
  readonly weight: number;
  readonly connector: TransportConnector;
}

export interface ResolvedFailoverOptions extends HealthPolicy {
  readonly heartbeatMs: number;
  readonly watchStandbys: boolean;
  readonly random: () => number;
  readonly now: () => number;
}

function invalid(message: string, option: string): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', message, { details: { option } });
}

function number(o: FailoverOptions, key: keyof FailoverOptions, fallback: number, check: (v: number) => boolean, what: string): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !check(v)) throw invalid(`failover.${key} must be ${what}, got ${String(v)}`, `failover.${key}`);
  return v;
}

const positive = (v: number): boolean => Number.isFinite(v) && v > 0;
const positiveInteger = (v: number): boolean => Number.isInteger(v) && v > 0;

export function resolveFailoverOptions(o: FailoverOptions = {}): ResolvedFailoverOptions & { readonly maxServers: number } {
  if (o.watchStandbys !== undefined && typeof o.watchStandbys !== 'boolean')
    throw invalid('failover.watchStandbys must be a boolean', 'failover.watchStandbys');
  return Object.freeze({
    heartbeatMs: number(o, 'heartbeatMs', DEFAULT_FAILOVER_HEARTBEAT_MS, positive, 'a positive number of ms'),
    maxMissed: number(o, 'maxMissed', DEFAULT_FAILOVER_MAX_MISSED, positiveInteger, 'a positive integer'),
    recoveryMs: number(o, 'recoveryMs', DEFAULT_FAILOVER_RECOVERY_MS, (v) => Number.isFinite(v) && v >= 0, 'a number of ms ≥ 0'),
    degradedRttMs: number(o, 'degradedRttMs', DEFAULT_FAILOVER_DEGRADED_RTT_MS, positive, 'a positive number of ms'),
    ewmaAlpha: number(o, 'ewmaAlpha', DEFAULT_FAILOVER_EWMA_ALPHA, (v) => v > 0 && v <= 1, 'within (0, 1]'),
    windowSize: number(o, 'windowSize', DEFAULT_FAILOVER_WINDOW_SIZE, positiveInteger, 'a positive integer'),
    maxServers: number(o, 'maxServers', DEFAULT_FAILOVER_MAX_SERVERS, positiveInteger, 'a positive integer'),
    watchStandbys: o.watchStandbys ?? true,
    random: o.random ?? Math.random,
    now: o.now ?? Date.now,
  });
}

/** A name to show for a URL: never its credentials or query (they may carry secrets). */
export function displayName(url: string): string {
  return String(url)
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1')
    .replace(/[?#].*$/s, '')
    .replace(/\/$/, '');
}

/**
 * Checks the list and turns each URL into a connector with `connectorFor` (the entry point's: it
 * knows which transports it carries). Throws CB_ERR_INVALID_OPTION on an empty or too long list,
 * a server with neither or both of `url` and `connector`, a bad weight, or a name used twice;
 * CB_ERR_CONFLICTING_OPTIONS when every weight is 0.
 */
export function resolveServers(
  servers: readonly ServerSpec[],
  maxServers: number,
  connectorFor: (url: string) => TransportConnector,
): ResolvedServer[] {
  if (!Array.isArray(servers) || servers.length === 0) throw invalid('servers must be a non-empty list of { url, weight }', 'servers');
  if (servers.length > maxServers)
    throw invalid(`servers lists ${servers.length} hubs, more than failover.maxServers (${maxServers})`, 'servers');
  const names = new Set<string>();
  const out = servers.map((s, i): ResolvedServer => {
    if (s === null || typeof s !== 'object') throw invalid(`servers[${i}] must be an object`, `servers[${i}]`);
    if ((s.url === undefined) === (s.connector === undefined))
      throw invalid(`servers[${i}] needs exactly one of url and connector`, `servers[${i}]`);
    const weight = s.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
      throw invalid(`servers[${i}].weight must be a finite number ≥ 0, got ${String(weight)}`, `servers[${i}].weight`);
    const name = s.name ?? (s.url !== undefined ? displayName(s.url) : `server-${i}`);
    if (names.has(name))
      throw invalid(`servers[${i}]: the name ${JSON.stringify(name)} is used twice (give each a name)`, `servers[${i}].name`);
    names.add(name);
    const connector = s.connector ?? connectorFor(s.url as string);
    return Object.freeze({ name, weight, connector });
  });
  if (out.every((s) => s.weight === 0))
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'every server has weight 0: at least one must be preferred', {
      details: { option: 'servers' },
    });
  return out;
}
