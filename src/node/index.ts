/**
 * Node entry: the same client, over the `ws` package (Node 20 has no global WebSocket), with
 * write callbacks for exact backpressure and Buffers to avoid a copy per message.
 */
import WebSocket from 'ws';
import type { Bus } from '../client/bus.js';
import { BusPool as BusPoolBase, type BusPoolOptions } from '../client/bus-pool.js';
import { assertHubUrl, connect as connectWith } from '../client/connect.js';
import type { ConnectOptions, WebSocketConstructor } from '../client/options.js';
import type { FailoverBus, MultiHubOptions } from '../client/failover/failover-bus.js';
import type { ServerSpec } from '../client/failover/options.js';
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
// Shared memory between threads: the same, with the bytes in a SharedArrayBuffer (`listenShm` in 'crossbus/hub').
export { shmConnector, type ShmConnectorOptions } from '../transports/shm/connect.js';

/** A connector for a ws:// or wss:// URL over `ws` (or the given WebSocket constructor). */
function nodeWebSocketConnector(url: string, custom: WebSocketConstructor | undefined): TransportConnector {
  assertHubUrl(url);
  return webSocketConnector(url, {
    WebSocket: custom ?? (WebSocket as unknown as WebSocketConstructor),
    sendCallbacks: custom === undefined,
    binaryType: custom === undefined ? 'nodebuffer' : 'arraybuffer',
  });
}

/**
 * Connects to a hub at a ws:// or wss:// URL (or through `options.transport`), or to the first
 * that answers of several (`[{ url, weight }, ...]`, see FailoverBus).
 */
export function connect(target: readonly ServerSpec[], options?: MultiHubOptions): Promise<FailoverBus>;
export function connect(target: string | TransportConnector, options?: ConnectOptions): Promise<Bus>;
export function connect(target: string | TransportConnector | readonly ServerSpec[], givenOptions: MultiHubOptions = {}): Promise<Bus> {
  const options = withNodeCrypto(givenOptions);
  const { WebSocket: custom, ...rest } = options;
  if (Array.isArray(target)) return connectWith(target, rest, (url) => nodeWebSocketConnector(url, custom));
  if (typeof target === 'string' && options.transport === undefined) {
    let connector: TransportConnector;
    try {
      connector = nodeWebSocketConnector(target, custom);
    } catch (err) {
      return Promise.reject(err);
    }
    return connectWith(connector, rest);
  }
  return connectWith(target as string | TransportConnector, options);
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
