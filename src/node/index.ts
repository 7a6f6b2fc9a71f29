/**
 * Node entry: the same client, over the `ws` package (Node 20 has no global WebSocket), with
 * write callbacks for exact backpressure and Buffers to avoid a copy per message.
 */
import { BusPool as BusPoolBase, type BusPoolOptions } from '../client/bus-pool.js';
import { connect as connectWith } from '../client/connect.js';
import type { SyncConnectOptions, SyncingBus } from '../client/sync/syncing-bus.js';
import type { FailoverBus, MultiHubOptions } from '../client/failover/failover-bus.js';
import type { ServerSpec } from '../client/failover/options.js';
import type { TransportConnector } from '../core/transport/transport.js';
import { type AddressOptions, addressConnector, urlConnector } from './address-connector.js';
import { discoveryConnector } from './discovery-connector.js';
import { createNodeCryptoProvider } from './crypto/node-provider.js';

export { createNodeCryptoProvider };

/**
 * Node's crypto answers synchronously: records are sealed and opened without a promise each, and
 * sync hashes changes without one.
 */
function withNodeCrypto(options: SyncConnectOptions): SyncConnectOptions {
  let out = options;
  if (options.secret !== undefined && options.security?.crypto === undefined) {
    out = { ...out, security: { ...options.security, crypto: createNodeCryptoProvider() } };
  }
  if (options.sync?.crypto === undefined) out = { ...out, sync: { ...options.sync, crypto: createNodeCryptoProvider() } };
  return out;
}

export * from '../client/index.js';
// worker_threads: a client connects to a hub in another thread (`listenPorts` in 'crossbus/hub').
export { workerConnector } from '../transports/port/connect.js';
// TCP, Unix sockets and TLS: the connectors connect() picks by URL, for use on their own too.
export {
  socketConnector,
  type SocketConnectorOptions,
  type TlsClientOptions,
  type PemSource,
} from '../transports/net/socket-connector.node.js';
export { addressConnector, urlConnector, type AddressOptions } from './address-connector.js';
export { discoveryConnector } from './discovery-connector.js';
export { TRANSPORT_RANK, rankAddresses } from './transport-rank.js';
export { createPortTransport, type PortLike, type PortTransportInfo } from '../transports/port/port-transport.js';
// Shared memory between threads: the same, with the bytes in a SharedArrayBuffer (`listenShm` in 'crossbus/hub').
export { shmConnector, type ShmConnectorOptions } from '../transports/shm/connect.js';

/** Node's connect options: the client's, and how hub addresses are opened (TLS, which transport first). */
export type NodeConnectOptions = SyncConnectOptions & Omit<AddressOptions, 'WebSocket'>;

/**
 * Connects to a hub. `target` is one address (ws://, wss://, tcp://host:port, unix:///path,
 * tls://host:port), several addresses of one hub (the fastest that opens is used, on every
 * reconnection too: see `prefer`), `crossbus://host:port` (the hub's WebSocket port: the hub lists
 * its listeners and the fastest is used), or a connector. The transport in use is in
 * `bus.info.transport`. Several hubs (`[{ url, weight }, ...]`) give a FailoverBus that balances
 * and fails over between them, each opened as a single address is. Every Bus it gives has
 * `bus.sync`: replicated documents (see SyncApi).
 */
export function connect(target: readonly ServerSpec[], options?: MultiHubOptions & Omit<AddressOptions, 'WebSocket'>): Promise<FailoverBus>;
export function connect(target: string | readonly string[] | TransportConnector, options?: NodeConnectOptions): Promise<SyncingBus>;
export function connect(
  target: string | readonly string[] | readonly ServerSpec[] | TransportConnector,
  givenOptions: MultiHubOptions & Omit<AddressOptions, 'WebSocket'> = {},
): Promise<SyncingBus> {
  const { tls, prefer, probeTimeoutMs, ...clientOptions } = givenOptions;
  const options = withNodeCrypto(clientOptions);
  if (typeof target === 'function' || options.transport !== undefined) {
    return connectWith(typeof target === 'function' ? target : (options.transport as TransportConnector), options);
  }
  const { WebSocket: custom, ...rest } = options;
  const addressOptions: AddressOptions = {
    ...(tls !== undefined ? { tls } : {}),
    ...(prefer !== undefined ? { prefer } : {}),
    ...(probeTimeoutMs !== undefined ? { probeTimeoutMs } : {}),
    ...(custom !== undefined ? { WebSocket: custom } : {}),
  };
  // A list of hubs (objects) rather than a list of one hub's addresses (strings).
  if (Array.isArray(target) && typeof target[0] !== 'string') {
    return connectWith(target as readonly ServerSpec[], rest, (url) => urlConnector(url, addressOptions));
  }
  let connector: TransportConnector;
  try {
    if (typeof target !== 'string') connector = addressConnector(target as readonly string[], addressOptions);
    else if (/^crossbus:\/\//i.test(target)) connector = discoveryConnector(target, addressOptions);
    else if (prefer !== undefined) connector = addressConnector([target], addressOptions);
    else connector = urlConnector(target, addressOptions);
  } catch (err) {
    return Promise.reject(err);
  }
  return connectWith(connector, rest);
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

// Environment configuration: the client's loadSettings, reading this process's environment variables.
import type { Bus } from '../client/bus.js';
import { loadSettings as loadSettingsWith, type LiveSettings, type LoadSettingsOptions } from '../client/settings/live-settings.js';
export * from '../client/settings/index.js';
export { FileSettingsCache } from './settings-file-cache.js';
/**
 * An app's configuration from the hub's settings service, with this process's `CROSSBUS_SETTINGS__*`
 * environment variables on top (see LiveSettings). `envVars` overrides them.
 */
export function loadSettings<T = Record<string, unknown>>(bus: Bus, options: LoadSettingsOptions): Promise<LiveSettings<T>> {
  return loadSettingsWith<T>(bus, { envVars: process.env, ...options });
}
