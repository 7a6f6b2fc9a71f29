import { mkdir, access, constants } from 'node:fs/promises';
import { Broker } from '../core/broker/broker.js';
import type { BrokerOptions } from '../core/broker/options.js';
import type { BrokerStats } from '../core/broker/events.js';
import { ConfigError } from '../core/errors/index.js';
import { listenWebSocket } from '../transports/websocket/websocket-server.node.js';

/** @default '127.0.0.1' (loopback only: exposing a hub is an explicit choice) */
export const DEFAULT_HOST = '127.0.0.1';
/** @default 7070 */
export const DEFAULT_PORT = 7070;
/** @default 5_000 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

export interface HubOptions extends BrokerOptions {
  /** Interface to bind. @default DEFAULT_HOST */
  host?: string;
  /** TCP port; 0 picks a free one. @default DEFAULT_PORT */
  port?: number;
  /** Directory for the hub's state (config, streams). Created if missing. @default none */
  dataDir?: string;
  /** How long close() waits for queues to drain. @default DEFAULT_SHUTDOWN_TIMEOUT_MS */
  shutdownTimeoutMs?: number;
}

export interface Hub {
  /** ws://host:port */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly broker: Broker;
  stats(): BrokerStats;
  /** Graceful: tells clients, drains queues, then closes the listener. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a hub: the composition root that wires the isomorphic Broker to a WebSocket listener.
 */
export async function startHub(options: HubOptions = {}): Promise<Hub> {
  const { host = DEFAULT_HOST, port = DEFAULT_PORT, dataDir, shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS, ...brokerOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `port must be an integer in 0..65535, got ${String(port)}`);
  }
  if (dataDir !== undefined) {
    try {
      await mkdir(dataDir, { recursive: true });
      await access(dataDir, constants.W_OK);
    } catch (cause) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `data directory ${dataDir} cannot be created or written`, { cause, details: { dataDir } });
    }
  }
  const broker = new Broker(brokerOptions);
  const limits = broker.options.limits;
  const listener = await listenWebSocket({
    host,
    port,
    // Room for one maximal frame plus a batch of small ones in the same WebSocket message.
    maxMessageBytes: 2 * (limits.maxFrameBytes + 4),
    onConnection: (transport) => broker.accept(transport),
  });
  let closing: Promise<void> | undefined;
  return {
    url: listener.url,
    host,
    port: listener.port,
    broker,
    stats: () => broker.stats(),
    close: () => {
      closing ??= (async () => {
        await broker.close(shutdownTimeoutMs);
        await listener.close();
      })();
      return closing;
    },
  };
}
