export { startHub, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './hub.js';
export type { Hub, HubOptions } from './hub.js';
export { Broker } from '../core/broker/broker.js';
export * from '../core/broker/options.js';
export type { BrokerEvents, BrokerStats, ConnectionStats } from '../core/broker/events.js';
