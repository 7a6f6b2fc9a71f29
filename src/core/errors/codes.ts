/**
 * The one registry of crossbus error codes. Codes are stable: once released, a code keeps its
 * meaning forever. `docs/ERRORS.md` documents every code; a test keeps the two in step.
 *
 * What each code means is said beside it and, at length, in ERRORS.md. The registry carries no
 * message text: every error is created with its own message, and a page client should not
 * download sixty descriptions it never shows (an error made without one gets the code in words).
 *
 * `class` names the error class `createError` makes for the code, so that `err instanceof
 * SecurityError` catches every security refusal. `retryable: true` means the same operation may
 * succeed if tried again later without change (the condition is transient); `false` means the
 * caller must change something first.
 */
export interface ErrorCodeInfo {
  /** The class `createError` makes for the code (see crossbus-error.ts): how callers catch it by kind. */
  readonly class: ErrorClassName;
  readonly retryable: boolean;
}

/** The error classes, by name: each code's registry entry names the one it belongs to. */
export type ErrorClassName =
  | 'ProtocolError' | 'ValidationError' | 'ConnectionError' | 'RequestError' | 'SecurityError' | 'StorageError' | 'ConfigError' | 'CrossbusError';

export const ERROR_CODES = {
  // --- framing and protocol ---------------------------------------------------------------
  CB_ERR_FRAME_TOO_LARGE: { class: 'ProtocolError', retryable: false }, // frame exceeds the size limit
  CB_ERR_FRAME_TRUNCATED: { class: 'ProtocolError', retryable: false }, // frame is shorter than its length prefix says
  CB_ERR_FRAME_MALFORMED: { class: 'ProtocolError', retryable: false }, // frame is malformed
  CB_ERR_UNSUPPORTED_VERSION: { class: 'ProtocolError', retryable: false }, // unsupported protocol version
  CB_ERR_UNKNOWN_KIND: { class: 'ProtocolError', retryable: false }, // unknown frame kind
  CB_ERR_HANDSHAKE_REQUIRED: { class: 'ProtocolError', retryable: false }, // the first frame must be a hello
  CB_ERR_HANDSHAKE_TIMEOUT: { class: 'ProtocolError', retryable: true }, // handshake did not complete in time
  CB_ERR_HANDSHAKE_FAILED: { class: 'ProtocolError', retryable: false }, // handshake was refused
  CB_ERR_PROTOCOL: { class: 'ProtocolError', retryable: false }, // protocol violation
  // --- limits ---------------------------------------------------------------------------
  CB_ERR_TOPIC_INVALID: { class: 'ValidationError', retryable: false }, // topic is invalid
  CB_ERR_TOPIC_TOO_LONG: { class: 'ValidationError', retryable: false }, // topic exceeds the length limit
  CB_ERR_HEADERS_TOO_MANY: { class: 'ValidationError', retryable: false }, // too many headers
  CB_ERR_HEADERS_TOO_LARGE: { class: 'ValidationError', retryable: false }, // headers exceed the size limit
  CB_ERR_HEADER_INVALID: { class: 'ValidationError', retryable: false }, // header name or value is invalid
  CB_ERR_PAYLOAD_INVALID: { class: 'ValidationError', retryable: false }, // payload is not a JSON value or bytes
  CB_ERR_SUBSCRIPTION_LIMIT: { class: 'ValidationError', retryable: false }, // too many subscriptions on this connection
  CB_ERR_SUBSCRIPTION_UNKNOWN: { class: 'ValidationError', retryable: false }, // no such subscription
  CB_ERR_SLOW_CONSUMER: { class: 'ConnectionError', retryable: true }, // outbound queue overflowed: the consumer is too slow
  CB_ERR_BACKPRESSURE: { class: 'ConnectionError', retryable: true }, // too much data is waiting to be sent
  // --- request/reply --------------------------------------------------------------------
  CB_ERR_RESPONDER_GONE: { class: 'RequestError', retryable: true }, // the responder went away before answering
  CB_ERR_NO_RESPONDERS: { class: 'RequestError', retryable: true }, // nobody serves this topic
  CB_ERR_TIMEOUT: { class: 'RequestError', retryable: true }, // operation timed out
  CB_ERR_HANDLER_FAILED: { class: 'RequestError', retryable: false }, // the service handler failed
  // --- connection -----------------------------------------------------------------------
  CB_ERR_CONNECTION_CLOSED: { class: 'ConnectionError', retryable: false }, // connection is closed
  CB_ERR_CONNECTION_FAILED: { class: 'ConnectionError', retryable: true }, // could not connect
  CB_ERR_CONNECTION_LOST: { class: 'ConnectionError', retryable: true }, // connection was lost
  CB_ERR_DRAINING: { class: 'ConnectionError', retryable: false }, // connection is draining
  CB_ERR_HUB_SHUTTING_DOWN: { class: 'ConnectionError', retryable: true }, // hub is shutting down
  CB_ERR_TOO_MANY_CONNECTIONS: { class: 'ConnectionError', retryable: true }, // the hub holds its maximum number of connections
  CB_ERR_TRANSPORT: { class: 'ConnectionError', retryable: true }, // transport failure
  // --- security ---------------------------------------------------------------------------
  CB_ERR_AUTH_REQUIRED: { class: 'SecurityError', retryable: false }, // the hub requires authentication
  CB_ERR_AUTH_FAILED: { class: 'SecurityError', retryable: false }, // authentication failed
  CB_ERR_HUB_AUTH_FAILED: { class: 'SecurityError', retryable: false }, // the hub could not prove it knows the secret
  CB_ERR_KEY_EXPIRED: { class: 'SecurityError', retryable: false }, // the key has expired or is not yet valid
  CB_ERR_REVOKED: { class: 'SecurityError', retryable: false }, // access was revoked
  CB_ERR_INTEGRITY: { class: 'SecurityError', retryable: false }, // a frame failed its integrity check
  CB_ERR_REPLAY: { class: 'SecurityError', retryable: false }, // a frame was replayed, reordered or lost
  CB_ERR_CLOCK_SKEW: { class: 'SecurityError', retryable: false }, // a timestamp is outside the allowed clock skew
  CB_ERR_FORBIDDEN: { class: 'SecurityError', retryable: false }, // not allowed by the access policy
  CB_ERR_ORIGIN_REFUSED: { class: 'SecurityError', retryable: false }, // the origin is not allowed
  CB_ERR_RATE_LIMITED: { class: 'SecurityError', retryable: true }, // rate limit exceeded
  CB_ERR_ABUSIVE: { class: 'SecurityError', retryable: false }, // disconnected for repeated violations
  CB_ERR_CONSENT_DENIED: { class: 'SecurityError', retryable: false }, // a person denied consent
  CB_ERR_CONSENT_TIMEOUT: { class: 'SecurityError', retryable: true }, // consent was not given in time
  CB_ERR_AUDIT: { class: 'SecurityError', retryable: false }, // the audit log could not be written or verified
  // --- durable stream storage -------------------------------------------------------------
  CB_ERR_STORAGE: { class: 'StorageError', retryable: true }, // stream storage could not be written or read
  CB_ERR_STREAM_CORRUPT: { class: 'StorageError', retryable: false }, // stream data failed its checksum or is out of sequence
  CB_ERR_STREAM_CLOSED: { class: 'StorageError', retryable: false }, // stream storage is closed
  // --- durable streams and consumers ------------------------------------------------------
  CB_ERR_STREAMS_UNAVAILABLE: { class: 'StorageError', retryable: false }, // this hub does not store streams
  CB_ERR_NO_STREAM: { class: 'StorageError', retryable: false }, // no stream captures this topic
  CB_ERR_STREAM_NOT_FOUND: { class: 'StorageError', retryable: false }, // no such stream
  CB_ERR_STREAM_EXISTS: { class: 'StorageError', retryable: false }, // a stream with this name or overlapping topics exists
  CB_ERR_STREAM_QUARANTINED: { class: 'StorageError', retryable: false }, // the stream is quarantined because its data is damaged
  CB_ERR_CONSUMER_NOT_FOUND: { class: 'StorageError', retryable: false }, // no such consumer
  CB_ERR_STREAM_LIMIT: { class: 'StorageError', retryable: false }, // a limit on streams or consumers was reached
  CB_ERR_ACK_STALE: { class: 'StorageError', retryable: false }, // the delivery this acknowledgement names is no longer current
  // --- configuration and usage ----------------------------------------------------------
  CB_ERR_CONFIG_INVALID: { class: 'ConfigError', retryable: false }, // configuration is invalid
  CB_ERR_INVALID_OPTION: { class: 'ConfigError', retryable: false }, // invalid option
  CB_ERR_CONFLICTING_OPTIONS: { class: 'ConfigError', retryable: false }, // options conflict with each other
  CB_ERR_ADDRESS_IN_USE: { class: 'ConfigError', retryable: false }, // address already in use
  CB_ERR_INTERNAL: { class: 'CrossbusError', retryable: false }, // internal error
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
