import { ConfigError } from '../core/errors/index.js';
import { reframe } from '../core/transport/reframe.js';
import type { TransportConnector } from '../core/transport/transport.js';
import { webSocketConnector } from '../transports/websocket/websocket-client.js';
import type { BusPlugins } from './bus.js';
import { secretAuthFromOptions } from './secret-auth.js';
import { createBusStreams } from './bus-streams.js';
import { connectServers, type FailoverBus, type MultiHubOptions } from './failover/failover-bus.js';
import type { ServerSpec } from './failover/options.js';
import { SyncingBus, type SyncConnectOptions } from './sync/syncing-bus.js';

/** Throws CB_ERR_INVALID_OPTION unless `url` is a ws:// or wss:// URL. */
export function assertHubUrl(url: string): void {
  if (!/^wss?:\/\//i.test(url)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `hub URL must start with ws:// or wss://, got ${JSON.stringify(url)}`);
  }
}

const PLUGINS: BusPlugins = { secretAuth: secretAuthFromOptions, streams: createBusStreams, reframe };

/**
 * Connects to a hub. `target` is a ws:// or wss:// URL, or a connector (in-memory,
 * postMessage, ports, extension), or omitted when `options.transport` supplies the connection;
 * or a list of hubs (`[{ url, weight }, ...]`): the Bus then fails over between them (see
 * FailoverBus). With `secret`, the client and the hub authenticate each other and every frame is
 * protected. The Bus has `bus.sync` (see SyncingBus). `connectorFor` turns a URL into a connector
 * (the entry point's WebSocket).
 */
export function connect(
  target: readonly ServerSpec[],
  options?: MultiHubOptions,
  connectorFor?: (url: string) => TransportConnector,
): Promise<FailoverBus>;
export function connect(target: string | TransportConnector, options?: SyncConnectOptions): Promise<SyncingBus>;
export async function connect(
  target: string | TransportConnector | readonly ServerSpec[],
  options: MultiHubOptions = {},
  connectorFor?: (url: string) => TransportConnector,
): Promise<SyncingBus> {
  const forUrl =
    connectorFor ??
    ((url: string): TransportConnector => {
      assertHubUrl(url);
      return webSocketConnector(url, options.WebSocket ? { WebSocket: options.WebSocket } : {});
    });
  if (Array.isArray(target)) return connectServers(target, options, forUrl, PLUGINS);
  let connector: TransportConnector;
  if (typeof target === 'function') connector = target;
  else if (options.transport !== undefined) connector = options.transport;
  else connector = forUrl(target as string);
  const bus = new SyncingBus(connector, options, PLUGINS);
  return options.waitForHub === false ? bus.openInBackground() : bus.open();
}
