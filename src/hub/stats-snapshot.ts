/**
 * The stats snapshot a hub answers on `$SYS.REQ.STATS` (`crossbus stats`): its counters since
 * start, its connections (the busiest ones listed), queues, and its streams with their consumers.
 * Two snapshots some time apart give rates; one gives averages since start (with `uptimeMs`).
 */
import type { Broker } from '../core/broker/broker.js';
import type { BrokerStats, ConnectionStats } from '../core/broker/events.js';
import type { StreamService } from '../core/streams/stream-service.js';
import type { Session } from '../core/broker/session.js';

/** Connections a snapshot lists one by one (the busiest first); the totals count them all. @default 100 */
export const STATS_MAX_CONNECTIONS_LISTED = 100;

export interface StreamStats {
  name: string;
  messages: number;
  bytes: number;
  consumers: number;
  /** Delivered and not yet acknowledged, across its consumers. */
  pending: number;
  /** Waiting for redelivery, across its consumers. */
  waiting: number;
  quarantined: boolean;
}

/** The broker's totals (BrokerStats without its full connection list), plus time, uptime and streams. */
export interface HubStatsSnapshot extends Omit<BrokerStats, 'connections'> {
  /** When the snapshot was taken (ms since the epoch). */
  time: number;
  startedAt: number;
  uptimeMs: number;
  /** How many connections the hub holds. */
  connections: number;
  /** The busiest connections (by messages in and out), at most STATS_MAX_CONNECTIONS_LISTED. */
  connectionList: ConnectionStats[];
  streams: StreamStats[];
}

export function statsSnapshot(broker: Broker, streams: StreamService<Session> | undefined, startedAt: number): HubStatsSnapshot {
  const { connections, ...totals } = broker.stats();
  const time = Date.now();
  const busiest = [...connections]
    .sort((a, b) => b.messagesIn + b.messagesOut - (a.messagesIn + a.messagesOut))
    .slice(0, STATS_MAX_CONNECTIONS_LISTED);
  const streamStats: StreamStats[] = [];
  for (const name of streams?.names() ?? []) {
    const info = streams?.info(name);
    if (info === undefined) continue;
    streamStats.push({
      name,
      messages: info.state.messages,
      bytes: info.state.bytes,
      consumers: info.consumers.length,
      pending: info.consumers.reduce((n, c) => n + c.pending, 0),
      waiting: info.consumers.reduce((n, c) => n + c.waiting, 0),
      quarantined: info.quarantined !== undefined,
    });
  }
  return {
    ...totals,
    time,
    startedAt,
    uptimeMs: time - startedAt,
    connections: connections.length,
    connectionList: busiest,
    streams: streamStats,
  };
}
