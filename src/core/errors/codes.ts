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
  | 'ProtocolError'
  | 'ValidationError'
  | 'ConnectionError'
  | 'RequestError'
  | 'SecurityError'
  | 'StorageError'
  | 'ConfigError'
  | 'CrossbusError';

/**
 * The entries of one class: `code: retryable` in, `{ class, retryable }` out. Writing each class's
 * codes together keeps the registry readable and the page client small (the class name is not
 * repeated sixty times in what browsers download).
 */
function codesOf<C extends ErrorClassName, const T extends Record<string, boolean>>(
  cls: C,
  codes: T,
): { readonly [K in keyof T]: { readonly class: C; readonly retryable: T[K] } } {
  const out: Record<string, ErrorCodeInfo> = {};
  for (const code of Object.keys(codes)) out[code] = { class: cls, retryable: codes[code] as boolean };
  return out as { readonly [K in keyof T]: { readonly class: C; readonly retryable: T[K] } };
}

export const ERROR_CODES = {
  // --- framing, protocol and handshake -------------------------------------------------
  ...codesOf('ProtocolError', {
    CB_ERR_FRAME_TOO_LARGE: false, // frame exceeds the size limit
    CB_ERR_FRAME_TRUNCATED: false, // frame is shorter than its length prefix says
    CB_ERR_FRAME_MALFORMED: false, // frame is malformed
    CB_ERR_UNSUPPORTED_VERSION: false, // unsupported protocol version
    CB_ERR_UNKNOWN_KIND: false, // unknown frame kind
    CB_ERR_HANDSHAKE_REQUIRED: false, // the first frame must be a hello
    CB_ERR_HANDSHAKE_TIMEOUT: true, // handshake did not complete in time
    CB_ERR_HANDSHAKE_FAILED: false, // handshake was refused
    CB_ERR_PROTOCOL: false, // protocol violation
  }),
  // --- topics, headers, payloads, subscriptions ----------------------------------------
  ...codesOf('ValidationError', {
    CB_ERR_TOPIC_INVALID: false, // topic is invalid
    CB_ERR_TOPIC_TOO_LONG: false, // topic exceeds the length limit
    CB_ERR_HEADERS_TOO_MANY: false, // too many headers
    CB_ERR_HEADERS_TOO_LARGE: false, // headers exceed the size limit
    CB_ERR_HEADER_INVALID: false, // header name or value is invalid
    CB_ERR_PAYLOAD_INVALID: false, // payload is not a JSON value or bytes
    CB_ERR_SUBSCRIPTION_LIMIT: false, // too many subscriptions on this connection
    CB_ERR_SUBSCRIPTION_UNKNOWN: false, // no such subscription
  }),
  // --- connections and their queues ----------------------------------------------------
  ...codesOf('ConnectionError', {
    CB_ERR_SLOW_CONSUMER: true, // outbound queue overflowed: the consumer is too slow
    CB_ERR_BACKPRESSURE: true, // too much data is waiting to be sent
    CB_ERR_CONNECTION_CLOSED: false, // connection is closed
    CB_ERR_CONNECTION_FAILED: true, // could not connect
    CB_ERR_CONNECTION_LOST: true, // connection was lost
    CB_ERR_DRAINING: false, // connection is draining
    CB_ERR_HUB_SHUTTING_DOWN: true, // hub is shutting down
    CB_ERR_TOO_MANY_CONNECTIONS: true, // the hub holds its maximum number of connections
    CB_ERR_TRANSPORT: true, // transport failure
  }),
  // --- request/reply -------------------------------------------------------------------
  ...codesOf('RequestError', {
    CB_ERR_RESPONDER_GONE: true, // the responder went away before answering
    CB_ERR_NO_RESPONDERS: true, // nobody serves this topic
    CB_ERR_TIMEOUT: true, // operation timed out
    CB_ERR_HANDLER_FAILED: false, // the service handler failed
  }),
  // --- authentication, integrity, access, rate limits, consent, audit ------------------
  ...codesOf('SecurityError', {
    CB_ERR_AUTH_REQUIRED: false, // the hub requires authentication
    CB_ERR_AUTH_FAILED: false, // authentication failed
    CB_ERR_HUB_AUTH_FAILED: false, // the hub could not prove it knows the secret
    CB_ERR_KEY_EXPIRED: false, // the key has expired or is not yet valid
    CB_ERR_REVOKED: false, // access was revoked
    CB_ERR_INTEGRITY: false, // a frame failed its integrity check
    CB_ERR_REPLAY: false, // a frame was replayed, reordered or lost
    CB_ERR_CLOCK_SKEW: false, // a timestamp is outside the allowed clock skew
    CB_ERR_FORBIDDEN: false, // not allowed by the access policy
    CB_ERR_ORIGIN_REFUSED: false, // the origin is not allowed
    CB_ERR_TLS: false, // a TLS certificate was refused
    CB_ERR_RATE_LIMITED: true, // rate limit exceeded
    CB_ERR_ABUSIVE: false, // disconnected for repeated violations
    CB_ERR_CONSENT_DENIED: false, // a person denied consent
    CB_ERR_CONSENT_TIMEOUT: true, // consent was not given in time
    CB_ERR_AUDIT: false, // the audit log could not be written or verified
  }),
  // --- durable streams: storage, streams, consumers ------------------------------------
  ...codesOf('StorageError', {
    CB_ERR_STORAGE: true, // stream storage could not be written or read
    CB_ERR_STREAM_CORRUPT: false, // stream data failed its checksum or is out of sequence
    CB_ERR_STREAM_CLOSED: false, // stream storage is closed
    CB_ERR_STREAMS_UNAVAILABLE: false, // this hub does not store streams
    CB_ERR_NO_STREAM: false, // no stream captures this topic
    CB_ERR_STREAM_NOT_FOUND: false, // no such stream
    CB_ERR_STREAM_EXISTS: false, // a stream with this name or overlapping topics exists
    CB_ERR_STREAM_QUARANTINED: false, // the stream is quarantined because its data is damaged
    CB_ERR_CONSUMER_NOT_FOUND: false, // no such consumer
    CB_ERR_STREAM_LIMIT: false, // a limit on streams or consumers was reached
    CB_ERR_ACK_STALE: false, // the delivery this acknowledgement names is no longer current
  }),
  // --- configuration and usage ---------------------------------------------------------
  ...codesOf('ConfigError', {
    CB_ERR_CONFIG_INVALID: false, // configuration is invalid
    CB_ERR_INVALID_OPTION: false, // invalid option
    CB_ERR_CONFLICTING_OPTIONS: false, // options conflict with each other
    CB_ERR_ADDRESS_IN_USE: false, // address already in use
    CB_ERR_DATA_DIR_LOCKED: false, // another hub holds the data folder
  }),
  // --- everything else -----------------------------------------------------------------
  ...codesOf('CrossbusError', {
    CB_ERR_INTERNAL: false, // internal error
  }),
};

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
