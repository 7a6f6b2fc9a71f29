/**
 * The one registry of crossbus error codes. Codes are stable: once released, a code keeps its
 * meaning forever. `docs/ERRORS.md` documents every code; a test keeps the two in step.
 *
 * `retryable: true` means the same operation may succeed if tried again later without change
 * (the condition is transient); `false` means the caller must change something first.
 */
export interface ErrorCodeInfo {
  readonly message: string;
  readonly retryable: boolean;
}

export const ERROR_CODES = {
  // --- framing and protocol ---------------------------------------------------------------
  CB_ERR_FRAME_TOO_LARGE: { message: 'frame exceeds the size limit', retryable: false },
  CB_ERR_FRAME_TRUNCATED: { message: 'frame is shorter than its length prefix says', retryable: false },
  CB_ERR_FRAME_MALFORMED: { message: 'frame is malformed', retryable: false },
  CB_ERR_UNSUPPORTED_VERSION: { message: 'unsupported protocol version', retryable: false },
  CB_ERR_UNKNOWN_KIND: { message: 'unknown frame kind', retryable: false },
  CB_ERR_HANDSHAKE_REQUIRED: { message: 'the first frame must be a hello', retryable: false },
  CB_ERR_HANDSHAKE_TIMEOUT: { message: 'handshake did not complete in time', retryable: true },
  CB_ERR_HANDSHAKE_FAILED: { message: 'handshake was refused', retryable: false },
  CB_ERR_PROTOCOL: { message: 'protocol violation', retryable: false },
  // --- limits ---------------------------------------------------------------------------
  CB_ERR_TOPIC_INVALID: { message: 'topic is invalid', retryable: false },
  CB_ERR_TOPIC_TOO_LONG: { message: 'topic exceeds the length limit', retryable: false },
  CB_ERR_HEADERS_TOO_MANY: { message: 'too many headers', retryable: false },
  CB_ERR_HEADERS_TOO_LARGE: { message: 'headers exceed the size limit', retryable: false },
  CB_ERR_HEADER_INVALID: { message: 'header name or value is invalid', retryable: false },
  CB_ERR_PAYLOAD_INVALID: { message: 'payload is not a JSON value or bytes', retryable: false },
  CB_ERR_SUBSCRIPTION_LIMIT: { message: 'too many subscriptions on this connection', retryable: false },
  CB_ERR_SUBSCRIPTION_UNKNOWN: { message: 'no such subscription', retryable: false },
  CB_ERR_SLOW_CONSUMER: { message: 'outbound queue overflowed: the consumer is too slow', retryable: true },
  CB_ERR_BACKPRESSURE: { message: 'too much data is waiting to be sent', retryable: true },
  // --- request/reply --------------------------------------------------------------------
  CB_ERR_RESPONDER_GONE: { message: 'the responder went away before answering', retryable: true },
  CB_ERR_NO_RESPONDERS: { message: 'nobody serves this topic', retryable: true },
  CB_ERR_TIMEOUT: { message: 'operation timed out', retryable: true },
  CB_ERR_HANDLER_FAILED: { message: 'the service handler failed', retryable: false },
  // --- connection -----------------------------------------------------------------------
  CB_ERR_CONNECTION_CLOSED: { message: 'connection is closed', retryable: false },
  CB_ERR_CONNECTION_FAILED: { message: 'could not connect', retryable: true },
  CB_ERR_CONNECTION_LOST: { message: 'connection was lost', retryable: true },
  CB_ERR_DRAINING: { message: 'connection is draining', retryable: false },
  CB_ERR_HUB_SHUTTING_DOWN: { message: 'hub is shutting down', retryable: true },
  CB_ERR_TOO_MANY_CONNECTIONS: { message: 'the hub holds its maximum number of connections', retryable: true },
  CB_ERR_TRANSPORT: { message: 'transport failure', retryable: true },
  // --- security ---------------------------------------------------------------------------
  CB_ERR_AUTH_REQUIRED: { message: 'the hub requires authentication', retryable: false },
  CB_ERR_AUTH_FAILED: { message: 'authentication failed', retryable: false },
  CB_ERR_HUB_AUTH_FAILED: { message: 'the hub could not prove it knows the secret', retryable: false },
  CB_ERR_KEY_EXPIRED: { message: 'the key has expired or is not yet valid', retryable: false },
  CB_ERR_REVOKED: { message: 'access was revoked', retryable: false },
  CB_ERR_INTEGRITY: { message: 'a frame failed its integrity check', retryable: false },
  CB_ERR_REPLAY: { message: 'a frame was replayed, reordered or lost', retryable: false },
  CB_ERR_CLOCK_SKEW: { message: 'a timestamp is outside the allowed clock skew', retryable: false },
  CB_ERR_FORBIDDEN: { message: 'not allowed by the access policy', retryable: false },
  CB_ERR_ORIGIN_REFUSED: { message: 'the origin is not allowed', retryable: false },
  CB_ERR_RATE_LIMITED: { message: 'rate limit exceeded', retryable: true },
  CB_ERR_ABUSIVE: { message: 'disconnected for repeated violations', retryable: false },
  CB_ERR_CONSENT_DENIED: { message: 'a person denied consent', retryable: false },
  CB_ERR_CONSENT_TIMEOUT: { message: 'consent was not given in time', retryable: true },
  CB_ERR_AUDIT: { message: 'the audit log could not be written or verified', retryable: false },
  // --- durable stream storage -------------------------------------------------------------
  CB_ERR_STORAGE: { message: 'stream storage could not be written or read', retryable: true },
  CB_ERR_STREAM_CORRUPT: { message: 'stream data failed its checksum or is out of sequence', retryable: false },
  CB_ERR_STREAM_CLOSED: { message: 'stream storage is closed', retryable: false },
  // --- durable streams and consumers ------------------------------------------------------
  CB_ERR_STREAMS_UNAVAILABLE: { message: 'this hub does not store streams', retryable: false },
  CB_ERR_NO_STREAM: { message: 'no stream captures this topic', retryable: false },
  CB_ERR_STREAM_NOT_FOUND: { message: 'no such stream', retryable: false },
  CB_ERR_STREAM_EXISTS: { message: 'a stream with this name or overlapping topics exists', retryable: false },
  CB_ERR_STREAM_QUARANTINED: { message: 'the stream is quarantined because its data is damaged', retryable: false },
  CB_ERR_CONSUMER_NOT_FOUND: { message: 'no such consumer', retryable: false },
  CB_ERR_STREAM_LIMIT: { message: 'a limit on streams or consumers was reached', retryable: false },
  CB_ERR_ACK_STALE: { message: 'the delivery this acknowledgement names is no longer current', retryable: false },
  // --- configuration and usage ----------------------------------------------------------
  CB_ERR_CONFIG_INVALID: { message: 'configuration is invalid', retryable: false },
  CB_ERR_INVALID_OPTION: { message: 'invalid option', retryable: false },
  CB_ERR_CONFLICTING_OPTIONS: { message: 'options conflict with each other', retryable: false },
  CB_ERR_ADDRESS_IN_USE: { message: 'address already in use', retryable: false },
  CB_ERR_INTERNAL: { message: 'internal error', retryable: false },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
