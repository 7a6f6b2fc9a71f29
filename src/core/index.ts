/**
 * `crossbus/core`: what it takes to host a hub anywhere the core runs (a Node process, a page, a
 * worker, an extension's service worker) and to write a transport for it. Named exports only:
 * everything not listed here is internal and may change without notice.
 */

// errors (also `crossbus/errors`)
export * from './errors/index.js';

// defaults and limits
export * from './defaults.js';
export { WIRE_MAX_FRAME_BYTES, WIRE_MAX_GROUP_LENGTH, WIRE_MAX_HEADER_COUNT, WIRE_MAX_TOPIC_LENGTH, type FrameLimits } from './limits.js';

// topics and messages
export { assertValidTopic, groupProblem, isWildcardPattern, topicProblem, type TopicKind } from './topic.js';
export {
  HEADER_CORRELATION_ID,
  HEADER_TRACEPARENT,
  HEADER_TRACESTATE,
  PROTOCOL_VERSION,
  Kind,
  PayloadType,
  type Envelope,
  type Headers,
} from './protocol/envelope.js';

// transports
export {
  CLOSE_AUTH_FAILED,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_REVOKED,
  CLOSE_SLOW_CONSUMER,
  CLOSE_TOO_BIG,
  CLOSE_TRY_AGAIN_LATER,
  type Transport,
  type TransportCloseInfo,
  type TransportConnector,
  type TransportHandlers,
  type TransportListener,
} from './transport/transport.js';
export { reframe, type Reframe } from './transport/reframe.js';

// the broker
export { Broker } from './broker/broker.js';
export type { AcceptOptions, BrokerOptions, SlowConsumerPolicy } from './broker/options.js';
export type { BrokerEvents, BrokerStats, ConnectionStats } from './broker/events.js';
export type { Session } from './broker/session.js';
export { TypedEmitter, type Listener } from './util/emitter.js';
export { silentLogger, type Logger, type LogLevel } from './util/logger.js';

// metrics
export type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  HistogramSample,
  Labels,
  Metric,
  MetricsSource,
  Sample,
} from './metrics/metric.js';

// security
export type { Aead, Awaitable, CryptoProvider, EcPrivateKeyJwk, EphemeralKeyPair, Gmac, KeyExchangeGroup, Mac } from './security/crypto.js';
export { createWebCryptoProvider, type SubtleCryptoLike } from './security/webcrypto-provider.js';
export type { IntegrityAlgorithm, ProtectionMode } from './security/record.js';
export { HubSecurity, type HubSecurityOptions } from './security/hub-security.js';
export type { AccessAction, AccessVerdict, BrokerSecurity, RateVerdict, ViolationKind } from './security/broker-security.js';
export { nullAuditSink, type AuditActor, type AuditEvent, type AuditOutcome, type AuditSink } from './security/audit.js';
export { normalizeOrigin, originAllowed, originProblem } from './security/origins.js';
export { patternCovers, patternsOverlap } from './security/patterns.js';

// the hub config
export {
  GRANT_ACTIONS,
  HubConfigSchema,
  parseHubConfig,
  rolePatternProblem,
  serializeHubConfig,
  type AbuseConfig,
  type AppConfig,
  type AppDocument,
  type AppKey,
  type EncryptionMode,
  type Grant,
  type GrantAction,
  type GrantDocument,
  type HubConfig,
  type HubConfigDocument,
  type HubConfigInput,
  type KeyDocument,
  type RateLimit,
  type RoleConfig,
  type RoleDocument,
  type SecurityConfig,
  type TopicRate,
} from './config/schema.js';

// durable streams
export { StreamService, type StreamEvent, type StreamServiceHost, type StreamServiceOptions } from './streams/stream-service.js';
export { MAX_READ_MESSAGES } from './streams/stream-admin.js';
export type { BrokerStreams } from './streams/broker-streams.js';
export { MemoryCatalog } from './streams/memory-catalog.js';
export { MemoryStorage } from './streams/memory-storage.js';
export type { ConsumerState, StoragePart, StoredConsumer, StreamCatalog } from './streams/catalog.js';
export type {
  AppendInput,
  DurabilityPolicy,
  ReadOptions,
  RetentionLimits,
  StorageState,
  StoredMessage,
  StreamStorage,
} from './streams/storage.js';
export type { ConsumerConfig, DeliverPolicy, ResolvedConsumerConfig, ResolvedStreamConfig, StreamConfig } from './streams/config.js';
export type { ConsumerInfo, PublishAck, StreamInfo, WireRecord } from './streams/wire.js';

// resource pools
export * from './pool/index.js';
