import { ConfigError } from '../core/errors/index.js';
import { reframe } from '../core/transport/reframe.js';
import type { TransportConnector } from '../core/transport/transport.js';
import { webSocketConnector } from '../transports/websocket/websocket-client.js';
import { openBus, type Bus } from './bus.js';
import type { ConnectOptions } from './options.js';
import { secretAuthFromOptions } from './secret-auth.js';
import { createBusStreams } from './bus-streams.js';

/** Throws CB_ERR_INVALID_OPTION unless `url` is a ws:// or wss:// URL. */
export function assertHubUrl(url: string): void {
  if (!/^wss?:\/\//i.test(url)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `hub URL must start with ws:// or wss://, got ${JSON.stringify(url)}`);
  }
}

/**
 * Connects to a hub. `target` is a ws:// or wss:// URL, or a connector (in-memory,
 * postMessage, ports, extension), or omitted when `options.transport` supplies the connection.
 * With `secret`, the client and the hub authenticate each other and every frame is protected.
 */
export async function connect(target: string | TransportConnector, options: ConnectOptions = {}): Promise<Bus> {
  let connector: TransportConnector;
  if (typeof target === 'function') connector = target;
  else if (options.transport !== undefined) connector = options.transport;
  else {
    assertHubUrl(target);
    connector = webSocketConnector(target, options.WebSocket ? { WebSocket: options.WebSocket } : {});
  }
  return openBus(connector, options, { secretAuth: secretAuthFromOptions, streams: createBusStreams, reframe });
}
