/**
 * Node entry: the same client, over the `ws` package (Node 20 has no global WebSocket), with
 * write callbacks for exact backpressure and Buffers to avoid a copy per message.
 */
import WebSocket from 'ws';
import type { Bus } from '../client/bus.js';
import { BusPool as BusPoolBase, type BusPoolOptions } from '../client/bus-pool.js';
import { assertHubUrl, connect as connectWith } from '../client/connect.js';
import type { ConnectOptions, WebSocketConstructor } from '../client/options.js';
import type { TransportConnector } from '../core/transport/transport.js';
import { webSocketConnector } from '../transports/websocket/websocket-client.js';
import { createNodeCryptoProvider } from './crypto/node-provider.js';

export { createNodeCryptoProvider };

/** Node's crypto answers synchronously: records are sealed and opened without a promise each. */
function withNodeCrypto(options: ConnectOptions): ConnectOptions {
  if (options.secret === undefined || options.security?.crypto !== undefined) return options;
  return { ...options, security: { ...options.security, crypto: createNodeCryptoProvider() } };
}

export * from '../client/index.js';
// worker_threads: a client connects to a hub in another thread (`listenPorts` in 'crossbus/hub').
export { workerConnector } from '../transports/port/connect.js';
export { createPortTransport, type PortLike, type PortTransportInfo } from '../transports/port/port-transport.js';

/** Connects to a hub at a ws:// or wss:// URL (or through `options.transport`). */
export function connect(target: string | TransportConnector, givenOptions: ConnectOptions = {}): Promise<Bus> {
  const options = withNodeCrypto(givenOptions);
  if (typeof target === 'string' && options.transport === undefined) {
    try {
      assertHubUrl(target);
    } catch (err) {
      return Promise.reject(err);
    }
    const custom = options.WebSocket;
    const connector = webSocketConnector(target, {
      WebSocket: custom ?? (WebSocket as unknown as WebSocketConstructor),
      sendCallbacks: custom === undefined,
      binaryType: custom === undefined ? 'nodebuffer' : 'arraybuffer',
    });
    const { WebSocket: _ignored, ...rest } = options;
    return connectWith(connector, rest);
  }
  return connectWith(target, options);
}

/** Buses spread over several hubs (see src/client/bus-pool.ts), each opened with this entry's `connect`. */
export class BusPool extends BusPoolBase {
  constructor(options: BusPoolOptions) {
    super(options, connect);
  }
}
export type { BusEndpoint, BusPoolOptions, BusPoolStrategy } from '../client/bus-pool.js';
export {
  Pool,
  type AcquireOptions,
  type PoolEvents,
  type PoolFactory,
  type PoolOptions,
  type PoolResourceState,
  type PoolStats,
} from '../core/pool/index.js';
