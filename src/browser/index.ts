/**
 * Browser, worker and extension entry: the client over the runtime's own WebSocket.
 * No Node built-ins are reachable from here.
 */
import { connect as connectWith } from '../client/connect.js';
import type { SyncConnectOptions, SyncingBus } from '../client/sync/syncing-bus.js';
import type { FailoverBus, MultiHubOptions } from '../client/failover/failover-bus.js';
import type { ServerSpec } from '../client/failover/options.js';
import type { TransportConnector } from '../core/transport/transport.js';

export * from '../client/index.js';

/**
 * Connects to a hub at a ws:// or wss:// URL (or through `options.transport`), or to the first
 * that answers of several (`[{ url, weight }, ...]`, see FailoverBus). The Bus has `bus.sync`.
 */
export function connect(target: readonly ServerSpec[], options?: MultiHubOptions): Promise<FailoverBus>;
export function connect(target: string | TransportConnector, options?: SyncConnectOptions): Promise<SyncingBus>;
export function connect(target: string | TransportConnector | readonly ServerSpec[], options: MultiHubOptions = {}): Promise<SyncingBus> {
  return Array.isArray(target) ? connectWith(target, options) : connectWith(target as string | TransportConnector, options);
}

// Browser transports: windows, iframes and popups (postMessage handshake, then a private
// MessageChannel), and ports (MessagePort, workers, SharedWorker).
export * from '../transports/port/index.js';
export * from '../transports/shm/index.js';
export * from '../transports/postmessage/index.js';
export { originAllowed, originProblem } from '../core/security/origins.js';
export * from '../transports/extension/index.js';

// Pools: buses spread over several hubs, and any other resource.
export { BusPool, type BusEndpoint, type BusPoolOptions, type BusPoolStrategy } from '../client/bus-pool.js';
export {
  Pool,
  type AcquireOptions,
  type PoolEvents,
  type PoolFactory,
  type PoolOptions,
  type PoolResourceState,
  type PoolStats,
} from '../core/pool/index.js';
