/**
 * The NATS side of a hub's cluster link that holds no state: the connection options (no echo,
 * reconnecting for as long as the hub runs, the hub's own credentials), NATS's no-responders
 * status, errors described without secrets, and the link's metrics.
 */
import { type Authenticator, type ConnectionOptions, type Msg, credsAuthenticator, nkeyAuthenticator } from 'nats';
import { type Metric, single } from '../../core/metrics/metric.js';
import type { ResolvedClusterOptions } from './cluster-options.js';

/** How the hub connects: its name in NATS monitoring, no echo of its own messages, reconnecting forever. */
export function connectionOptions(options: ResolvedClusterOptions, hubId: string): ConnectionOptions {
  return {
    servers: [...options.servers],
    name: options.name ?? `crossbus-hub-${hubId}`,
    noEcho: true,
    timeout: options.connectTimeoutMs,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectWaitMs,
    ...authOf(options),
    ...(options.tls !== undefined || options.servers.some((s) => s.startsWith('tls:')) ? { tls: options.tls ?? {} } : {}),
  };
}

/** What the link counts. */
export interface LinkCounts {
  out: number;
  in: number;
  dropped: number;
  refused: number;
  reconnects: number;
}

export function clusterMetrics(c: LinkCounts, connected: () => boolean, interest: () => number): readonly Metric[] {
  return [
    single('gauge', 'crossbus_cluster_connected', '1 while the hub is connected to its NATS cluster', () => (connected() ? 1 : 0)),
    single('gauge', 'crossbus_cluster_interest', 'NATS subscriptions this hub holds for its clients', interest),
    single('counter', 'crossbus_cluster_messages_out_total', 'Messages this hub forwarded to the cluster', () => c.out),
    single('counter', 'crossbus_cluster_messages_in_total', 'Messages this hub received from the cluster', () => c.in),
    single('counter', 'crossbus_cluster_dropped_total', 'Messages not forwarded because NATS was not reachable', () => c.dropped),
    single('counter', 'crossbus_cluster_refused_total', 'Messages and subscriptions NATS refused or could not take', () => c.refused),
    single('counter', 'crossbus_cluster_reconnects_total', 'Times the hub reconnected to the cluster', () => c.reconnects),
  ];
}

function authOf(options: ResolvedClusterOptions): Partial<ConnectionOptions> {
  const c = options.credentials;
  switch (c.kind) {
    case 'user':
      return { user: c.user, pass: c.pass };
    case 'token':
      return { token: c.token };
    case 'creds':
      return { authenticator: credsAuthenticator(c.creds) as Authenticator };
    case 'nkey':
      return { authenticator: nkeyAuthenticator(c.seed) as Authenticator };
    default:
      return {};
  }
}

/** NATS's no-responders status (503) on a reply topic. */
export function isNoResponders(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}

export function describe(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err)
    return `${String((err as { code: unknown }).code)}${err instanceof Error ? ` (${err.message})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
