/**
 * Durable streams for the page client (`crossbus/streams`): pass `{ streams: createBusStreams }`
 * to `connect()` from 'crossbus/page' for durable publishes, `consume()` and `bus.streams`.
 * `connect()` from 'crossbus' has them already.
 */
export { createBusStreams, type BusStreams, type BusStreamsFactory } from '../client/bus-streams.js';
export type { StreamConsumer } from '../client/consumer.js';
export type { StreamMessage } from '../client/stream-message.js';
export type { StreamsApi, StreamRecord } from '../client/streams.js';
export type { PublishAck, StreamInfo, ConsumerInfo } from '../core/streams/wire.js';
export type { ConsumerConfig, DeliverPolicy, StreamConfig } from '../core/streams/config.js';
