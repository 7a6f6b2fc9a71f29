/** The isomorphic core: protocol, routing, broker. No Node or DOM imports below this folder. */
export * from './errors/index.js';
export * from './limits.js';
export * from './topic.js';
export * from './protocol/envelope.js';
export * from './protocol/codec.js';
export * from './protocol/frame-writer.js';
export * from './protocol/stream-reader.js';
export * from './protocol/handshake.js';
export * from './protocol/layout.js';
export * from './routing/subscription-index.js';
export * from './transport/transport.js';
export { Broker } from './broker/broker.js';
export * from './broker/options.js';
export type { BrokerEvents, BrokerStats, ConnectionStats } from './broker/events.js';
export * from './util/emitter.js';
export * from './util/logger.js';
