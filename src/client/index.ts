/** The public client API, shared by the Node and browser entry points. */
export { Bus, HEADER_ERROR, openBus, type BusPlugins } from './bus.js';
export { connect as connectWith, assertHubUrl } from './connect.js';
export * from './failover/index.js';
export * from './kv/index.js';
export { createSecretAuth, secretAuthFromOptions, type SecretAuth, type SecretAuthAttempt } from './secret-auth.js';
export type { PublishOptions, RequestOptions, ServeOptions, ServiceHandler } from './bus.js';
export type { BusEvents, BusState } from './events.js';
export { Message } from './message.js';
export { Subscription } from './subscription.js';
export type { MessageHandler, SubscribeOptions } from './subscription.js';
export type { ConnectOptions, ReconnectOptions, SecurityOptions, WebSocketConstructor } from './options.js';
export * from '../core/errors/index.js';
export type { FrameLimits } from '../core/limits.js';
export {
  DEFAULT_FRAME_LIMITS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_TOPIC_LENGTH,
} from '../core/defaults.js';
export { HEADER_CORRELATION_ID, HEADER_TRACEPARENT, HEADER_TRACESTATE, PROTOCOL_VERSION } from '../core/protocol/envelope.js';
export type { Headers } from '../core/protocol/envelope.js';
export { assertValidTopic, topicProblem } from '../core/topic.js';
export type { Transport, TransportConnector, TransportHandlers, TransportCloseInfo } from '../core/transport/transport.js';
export { createMemoryPair, memoryConnector } from '../transports/memory/memory-transport.js';
export { webSocketConnector } from '../transports/websocket/websocket-client.js';
export type { Logger, LogLevel } from '../core/util/logger.js';
export type { CryptoProvider, KeyExchangeGroup } from '../core/security/crypto.js';
export type { IntegrityAlgorithm, ProtectionMode } from '../core/security/record.js';
export { createWebCryptoProvider } from '../core/security/webcrypto-provider.js';
export { StreamConsumer } from './consumer.js';
export { createBusStreams, type BusStreams, type BusStreamsFactory, type StreamsHost } from './bus-streams.js';
export { StreamMessage } from './stream-message.js';
export { StreamsApi, type StreamRecord } from './streams.js';
export type { PublishAck, StreamInfo, ConsumerInfo } from '../core/streams/wire.js';
export type { ConsumerConfig, DeliverPolicy, StreamConfig } from '../core/streams/config.js';
export { forwardDurablePublishes, type DurableForwarderOptions } from './durable-forwarder.js';
// Replicated documents: `bus.sync` on the Bus connect() gives (the rest is in 'crossbus/sync').
export { SyncingBus, type SyncConnectOptions } from './sync/syncing-bus.js';
export { TracedBus, type TracedConnectOptions } from './tracing/traced-bus.js';
export { BusTracing, TRACER_NAME } from './tracing/bus-tracing.js';
export type { TracingOptions } from './tracing/tracing-options.js';
export { correlationIdOf, traceIdOf } from '../core/util/correlation.js';
export type { SyncApi, SyncOptions } from './sync/sync-api.js';
export { bridge, HEADER_BRIDGED, type Bridge, type BridgeOptions } from './bridge.js';
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_DELIVER,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_DELIVER,
  DEFAULT_STREAM_DURABILITY,
} from '../core/defaults.js';
export {
  DEFAULT_BATCH_BYTES,
  DEFAULT_FAILOVER_DEGRADED_RTT_MS,
  DEFAULT_FAILOVER_EWMA_ALPHA,
  DEFAULT_FAILOVER_HEARTBEAT_MS,
  DEFAULT_FAILOVER_MAX_MISSED,
  DEFAULT_FAILOVER_MAX_SERVERS,
  DEFAULT_FAILOVER_RECOVERY_MS,
  DEFAULT_FAILOVER_WINDOW_SIZE,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_BRIDGE_HOPS,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_RECONNECT,
  DEFAULT_RECONNECT_BUFFER_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SUBSCRIPTION_MAX_PENDING,
} from './defaults.js';
