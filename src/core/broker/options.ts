import { ConfigError } from '../errors/index.js';
import type { SystemResponders } from './system-requests.js';
import { WIRE_MAX_FRAME_BYTES, WIRE_MAX_HEADER_COUNT, WIRE_MAX_TOPIC_LENGTH, type FrameLimits } from '../limits.js';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { randomHex } from '../util/random.js';
import type { BrokerSecurity } from '../security/broker-security.js';
import type { BrokerStreams } from '../streams/broker-streams.js';
import type { Session } from './session.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_MAX_SUBSCRIPTIONS,
  DEFAULT_MAX_TOPIC_LENGTH,
  DEFAULT_MAX_TOTAL_QUEUED_BYTES,
  DEFAULT_SLOW_CONSUMER_POLICY,
  DEFAULT_TRANSPORT_HIGH_WATER_BYTES,
  DEFAULT_MAX_METRIC_TOPICS,
} from '../defaults.js';
import { topicProblem } from '../topic.js';

/**
 * What happens when a connection's outbound queue overflows:
 * - 'disconnect': tell it CB_ERR_SLOW_CONSUMER and close it (it reconnects and resubscribes);
 * - 'drop': drop the messages that do not fit and tell it CB_ERR_SLOW_CONSUMER with the count.
 */
export type SlowConsumerPolicy = 'disconnect' | 'drop';

export interface BrokerOptions {
  /** Largest frame body. @default DEFAULT_MAX_FRAME_BYTES (1 MiB) */
  maxFrameBytes?: number;
  /** Longest topic or pattern in UTF-8 bytes. @default DEFAULT_MAX_TOPIC_LENGTH (256) */
  maxTopicLength?: number;
  /** @default DEFAULT_MAX_HEADER_COUNT (64) */
  maxHeaderCount?: number;
  /** @default DEFAULT_MAX_HEADER_BYTES (16 KiB) */
  maxHeaderBytes?: number;
  /** Subscriptions one connection may hold. @default DEFAULT_MAX_SUBSCRIPTIONS */
  maxSubscriptions?: number;
  /** Connections (handshaking or open) the hub holds at once. @default DEFAULT_MAX_CONNECTIONS */
  maxConnections?: number;
  /**
   * Connections still in their handshake (accepted, not yet authenticated) held at once; more are
   * refused at once with CB_ERR_TOO_MANY_HANDSHAKES (retryable). @default DEFAULT_MAX_PENDING_HANDSHAKES (512)
   */
  maxPendingHandshakes?: number;
  /** Outbound queue bound per connection, bytes. @default DEFAULT_MAX_QUEUED_BYTES */
  maxQueuedBytes?: number;
  /** Outbound queue bound per connection, messages. @default DEFAULT_MAX_QUEUED_MESSAGES */
  maxQueuedMessages?: number;
  /**
   * Bound on the bytes queued for all connections together; at it, the connection with the largest
   * backlog is handled per slowConsumerPolicy. @default DEFAULT_MAX_TOTAL_QUEUED_BYTES
   */
  maxTotalQueuedBytes?: number;
  /** @default DEFAULT_SLOW_CONSUMER_POLICY */
  slowConsumerPolicy?: SlowConsumerPolicy;
  /**
   * Time a peer gets to finish the protocol handshake (HELLO through AUTH); a listener may set
   * its own (AcceptOptions). @default DEFAULT_HANDSHAKE_TIMEOUT_MS
   */
  handshakeTimeoutMs?: number;
  /** Ping idle peers after this long; drop them after twice this. 0 disables. @default DEFAULT_HEARTBEAT_MS */
  heartbeatMs?: number;
  /** @default DEFAULT_TRANSPORT_HIGH_WATER_BYTES */
  transportHighWaterBytes?: number;
  /** Match cache size of the subscription index. @default 4096 */
  matchCacheSize?: number;
  /** Identifies this hub in WELCOME and logs. @default random */
  hubId?: string;
  /** @default silent */
  logger?: Logger;
  /**
   * Authentication, record protection, access control, rate limits and consent. Without it the
   * broker is open to anyone: the hub passes it unless started with --insecure. @default none
   */
  security?: BrokerSecurity;
  /**
   * Durable streams: a StreamService (opened by the caller: `await service.open()`) or another
   * implementation such as `forwardDurablePublishes`. Without it, stream operations and durable
   * publishes are refused with CB_ERR_STREAMS_UNAVAILABLE. @default none
   */
  streams?: BrokerStreams<Session>;
  /**
   * Requests the hub answers itself, by reserved topic (`$SYS.…`, see system-requests.ts); a
   * request needs a `request` grant on the topic like any other. @default none
   */
  systemResponders?: SystemResponders;
  /**
   * Reserved topics among `systemResponders` any authenticated app may request without a grant:
   * their responders check the caller themselves (an app instance attaching to its deployment
   * proves itself with a token the supervisor handed it). @default none
   */
  openSystemRequests?: readonly string[];
  /**
   * The addresses the hub listens on, named in every WELCOME (inside the handshake transcript,
   * so a client can trust them) for clients that pick the fastest transport. Read at each
   * HELLO: listeners bound after the broker started are included. @default none
   */
  advertisedListeners?: () => readonly string[];
  /**
   * The `app` label metrics give an authenticated app: its name only for apps the operator
   * configured, so that no client-chosen string becomes a label value (each one would be a new
   * series). The default labels every app `other`, and a session without an app `anonymous`.
   * @default metricsAppOther
   */
  metricsAppLabel?: (app: string) => string;
  /**
   * Topic patterns (`orders.*`, `audit.>`) whose messages `crossbus_topic_messages_total` counts,
   * one series per pattern; a message matching none is not counted there. Each PUBLISH and
   * REQUEST then costs one cached index lookup. At most DEFAULT_MAX_METRIC_TOPICS. @default []
   */
  metricsTopics?: readonly string[];
}

/** The default `metricsAppLabel`: no app name becomes a label. */
export function metricsAppOther(app: string): string {
  return app === '' ? 'anonymous' : 'other';
}

export interface ResolvedBrokerOptions {
  limits: FrameLimits;
  maxSubscriptions: number;
  maxConnections: number;
  maxPendingHandshakes: number;
  maxQueuedBytes: number;
  maxQueuedMessages: number;
  maxTotalQueuedBytes: number;
  slowConsumerPolicy: SlowConsumerPolicy;
  handshakeTimeoutMs: number;
  heartbeatMs: number;
  transportHighWaterBytes: number;
  matchCacheSize: number | undefined;
  hubId: string;
  logger: Logger;
  security: BrokerSecurity | undefined;
  streams: BrokerStreams<Session> | undefined;
  systemResponders: SystemResponders | undefined;
  openSystemRequests: ReadonlySet<string>;
  advertisedListeners: (() => readonly string[]) | undefined;
  metricsAppLabel: (app: string) => string;
  metricsTopics: readonly string[];
}

/** The longest handshake timeout accepted: an hour. */
const MAX_HANDSHAKE_TIMEOUT_MS = 3_600_000;

/** What one listener sets for the connections it hands to `Broker.accept`. */
export interface AcceptOptions {
  /**
   * Time a peer of this listener gets to finish the protocol handshake (HELLO through AUTH), in
   * 1..3,600,000 ms. @default the broker's handshakeTimeoutMs
   */
  readonly handshakeTimeoutMs?: number | undefined;
}

/** The handshake timeout in force for one listener: its own, checked, or the broker's. */
export function handshakeTimeoutOf(options: AcceptOptions | undefined, brokerDefault: number): number {
  const value = options?.handshakeTimeoutMs;
  return value === undefined ? brokerDefault : intOption('handshakeTimeoutMs', value, brokerDefault, 1, MAX_HANDSHAKE_TIMEOUT_MS);
}

function intOption(name: string, value: number | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${name} must be an integer in ${min}..${max}, got ${String(value)}`, {
      details: { option: name, value, min, max },
    });
  }
  return value;
}

function metricTopicsOption(topics: readonly string[] | undefined): readonly string[] {
  if (topics === undefined) return [];
  if (!Array.isArray(topics) || topics.length > DEFAULT_MAX_METRIC_TOPICS) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `metricsTopics must be an array of at most ${DEFAULT_MAX_METRIC_TOPICS} patterns`, {
      details: { option: 'metricsTopics', limit: DEFAULT_MAX_METRIC_TOPICS },
    });
  }
  for (const p of topics) {
    const problem = typeof p === 'string' ? topicProblem(p, 'pattern', WIRE_MAX_TOPIC_LENGTH) : 'is not a string';
    if (problem !== undefined) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `metricsTopics: pattern ${JSON.stringify(p)} ${problem}`, {
        details: { option: 'metricsTopics', pattern: p },
      });
    }
  }
  return Object.freeze([...new Set(topics)]);
}

/** Validates and freezes options; never mutates the caller's object. */
export function resolveBrokerOptions(options: BrokerOptions = {}): ResolvedBrokerOptions {
  const limits: FrameLimits = Object.freeze({
    maxFrameBytes: intOption('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 64, WIRE_MAX_FRAME_BYTES - 4),
    maxTopicLength: intOption('maxTopicLength', options.maxTopicLength, DEFAULT_MAX_TOPIC_LENGTH, 1, WIRE_MAX_TOPIC_LENGTH),
    maxHeaderCount: intOption('maxHeaderCount', options.maxHeaderCount, DEFAULT_MAX_HEADER_COUNT, 0, WIRE_MAX_HEADER_COUNT),
    maxHeaderBytes: intOption('maxHeaderBytes', options.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, 0, 0xffff_ffff),
  });
  const maxQueuedBytes = intOption('maxQueuedBytes', options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES, 1024, Number.MAX_SAFE_INTEGER);
  if (maxQueuedBytes < limits.maxFrameBytes + 4) {
    throw new ConfigError(
      'CB_ERR_CONFLICTING_OPTIONS',
      `maxQueuedBytes (${maxQueuedBytes}) must hold at least one frame of maxFrameBytes (${limits.maxFrameBytes})`,
      {
        details: { maxQueuedBytes, maxFrameBytes: limits.maxFrameBytes },
      },
    );
  }
  const maxTotalQueuedBytes = intOption(
    'maxTotalQueuedBytes',
    options.maxTotalQueuedBytes,
    DEFAULT_MAX_TOTAL_QUEUED_BYTES,
    1024,
    Number.MAX_SAFE_INTEGER,
  );
  if (maxTotalQueuedBytes < limits.maxFrameBytes + 4) {
    throw new ConfigError(
      'CB_ERR_CONFLICTING_OPTIONS',
      `maxTotalQueuedBytes (${maxTotalQueuedBytes}) must hold at least one frame of maxFrameBytes (${limits.maxFrameBytes})`,
      {
        details: { maxTotalQueuedBytes, maxFrameBytes: limits.maxFrameBytes },
      },
    );
  }
  const policy = options.slowConsumerPolicy ?? DEFAULT_SLOW_CONSUMER_POLICY;
  if (policy !== 'disconnect' && policy !== 'drop') {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `slowConsumerPolicy must be 'disconnect' or 'drop', got ${String(policy)}`);
  }
  return Object.freeze({
    limits,
    maxSubscriptions: intOption('maxSubscriptions', options.maxSubscriptions, DEFAULT_MAX_SUBSCRIPTIONS, 1, 10_000_000),
    maxConnections: intOption('maxConnections', options.maxConnections, DEFAULT_MAX_CONNECTIONS, 1, 10_000_000),
    maxPendingHandshakes: intOption('maxPendingHandshakes', options.maxPendingHandshakes, DEFAULT_MAX_PENDING_HANDSHAKES, 1, 10_000_000),
    maxQueuedBytes,
    maxQueuedMessages: intOption('maxQueuedMessages', options.maxQueuedMessages, DEFAULT_MAX_QUEUED_MESSAGES, 1, Number.MAX_SAFE_INTEGER),
    maxTotalQueuedBytes,
    slowConsumerPolicy: policy,
    handshakeTimeoutMs: intOption(
      'handshakeTimeoutMs',
      options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
      1,
      MAX_HANDSHAKE_TIMEOUT_MS,
    ),
    heartbeatMs: intOption('heartbeatMs', options.heartbeatMs, DEFAULT_HEARTBEAT_MS, 0, 3_600_000),
    transportHighWaterBytes: intOption(
      'transportHighWaterBytes',
      options.transportHighWaterBytes,
      DEFAULT_TRANSPORT_HIGH_WATER_BYTES,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    matchCacheSize:
      options.matchCacheSize === undefined ? undefined : intOption('matchCacheSize', options.matchCacheSize, 0, 0, 10_000_000),
    hubId: options.hubId ?? newHubId(),
    logger: options.logger ?? { ...silentLogger },
    security: options.security,
    streams: options.streams,
    systemResponders: options.systemResponders === undefined ? undefined : Object.freeze({ ...options.systemResponders }),
    openSystemRequests: new Set(options.openSystemRequests ?? []),
    advertisedListeners: options.advertisedListeners,
    metricsAppLabel: options.metricsAppLabel ?? metricsAppOther,
    metricsTopics: metricTopicsOption(options.metricsTopics),
  });
}

/** A hub id when none is given: random, one NATS subject token. */
export function newHubId(): string {
  return randomHex(9);
}
