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
 * The entries of one class: `CODE: retryable` in, `CB_ERR_CODE: { class, retryable }` out (the
 * prefix is added here rather than written seventy times: bytes the page client saves). Writing each class's
 * codes together keeps the registry readable and the page client small (the class name is not
 * repeated sixty times in what browsers download).
 */
function codesOf<C extends ErrorClassName, const T extends Record<string, boolean>>(
  cls: C,
  codes: T,
): { readonly [K in keyof T as `CB_ERR_${K & string}`]: { readonly class: C; readonly retryable: T[K] } } {
  const out: Record<string, ErrorCodeInfo> = {};
  for (const code of Object.keys(codes)) out[`CB_ERR_${code}`] = { class: cls, retryable: codes[code] as boolean };
  return out as { readonly [K in keyof T as `CB_ERR_${K & string}`]: { readonly class: C; readonly retryable: T[K] } };
}

export const ERROR_CODES = {
  // --- framing, protocol and handshake -------------------------------------------------
  ...codesOf('ProtocolError', {
    FRAME_TOO_LARGE: false, // frame exceeds the size limit
    FRAME_TRUNCATED: false, // frame is shorter than its length prefix says
    FRAME_MALFORMED: false, // frame is malformed
    UNSUPPORTED_VERSION: false, // unsupported protocol version
    UNKNOWN_KIND: false, // unknown frame kind
    HANDSHAKE_REQUIRED: false, // the first frame must be a hello
    HANDSHAKE_TIMEOUT: true, // handshake did not complete in time
    HANDSHAKE_FAILED: false, // handshake was refused
    PROTOCOL: false, // protocol violation
  }),
  // --- topics, headers, payloads, subscriptions ----------------------------------------
  ...codesOf('ValidationError', {
    TOPIC_INVALID: false, // topic is invalid
    TOPIC_TOO_LONG: false, // topic exceeds the length limit
    HEADERS_TOO_MANY: false, // too many headers
    HEADERS_TOO_LARGE: false, // headers exceed the size limit
    HEADER_INVALID: false, // header name or value is invalid
    PAYLOAD_INVALID: false, // payload is not a JSON value or bytes
    SUBSCRIPTION_LIMIT: false, // too many subscriptions on this connection
    SUBSCRIPTION_UNKNOWN: false, // no such subscription
  }),
  // --- connections and their queues ----------------------------------------------------
  ...codesOf('ConnectionError', {
    SLOW_CONSUMER: true, // outbound queue overflowed: the consumer is too slow
    BACKPRESSURE: true, // too much data is waiting to be sent
    CONNECTION_CLOSED: false, // connection is closed
    CONNECTION_FAILED: true, // could not connect
    CONNECTION_LOST: true, // connection was lost
    DRAINING: false, // connection is draining
    HUB_SHUTTING_DOWN: true, // hub is shutting down
    TOO_MANY_CONNECTIONS: true, // the hub holds its maximum number of connections
    TOO_MANY_HANDSHAKES: true, // the hub is busy with its maximum of handshakes in progress
    TRANSPORT: true, // transport failure
    POOL_TIMEOUT: true, // no pooled resource came free in time
    POOL_CLOSED: false, // the pool is closed
  }),
  // --- request/reply -------------------------------------------------------------------
  ...codesOf('RequestError', {
    RESPONDER_GONE: true, // the responder went away before answering
    NO_RESPONDERS: true, // nobody serves this topic
    TIMEOUT: true, // operation timed out
    HANDLER_FAILED: false, // the service handler failed
  }),
  // --- authentication, integrity, access, rate limits, consent, audit ------------------
  ...codesOf('SecurityError', {
    AUTH_REQUIRED: false, // the hub requires authentication
    AUTH_FAILED: false, // authentication failed
    HUB_AUTH_FAILED: false, // the hub could not prove it knows the secret
    KEY_EXPIRED: false, // the key has expired or is not yet valid
    REVOKED: false, // access was revoked
    INTEGRITY: false, // a frame failed its integrity check
    REPLAY: false, // a frame was replayed, reordered or lost
    CLOCK_SKEW: false, // a timestamp is outside the allowed clock skew
    FORBIDDEN: false, // not allowed by the access policy
    ORIGIN_REFUSED: false, // the origin is not allowed
    TLS: false, // a TLS certificate was refused
    RATE_LIMITED: true, // rate limit exceeded
    ABUSIVE: false, // disconnected for repeated violations
    CONSENT_DENIED: false, // a person denied consent
    CONSENT_TIMEOUT: true, // consent was not given in time
    AUDIT: false, // the audit log could not be written or verified
  }),
  // --- durable streams: storage, streams, consumers ------------------------------------
  ...codesOf('StorageError', {
    STORAGE: true, // stream storage could not be written or read
    STREAM_CORRUPT: false, // stream data failed its checksum or is out of sequence
    STREAM_CLOSED: false, // stream storage is closed
    STREAMS_UNAVAILABLE: false, // this hub does not store streams
    NO_STREAM: false, // no stream captures this topic
    STREAM_NOT_FOUND: false, // no such stream
    STREAM_EXISTS: false, // a stream with this name or overlapping topics exists
    STREAM_QUARANTINED: false, // the stream is quarantined because its data is damaged
    CONSUMER_NOT_FOUND: false, // no such consumer
    STREAM_LIMIT: false, // a limit on streams or consumers was reached
    ACK_STALE: false, // the delivery this acknowledgement names is no longer current
    SEQ_MISMATCH: false, // a conditional append: the topic's last seq is not the one expected
  }),
  // --- sync: replicated documents ---------------------------------------------------------
  ...codesOf('ValidationError', {
    SYNC_DELTA: false, // a change does not apply: rejected whole
    SYNC_STALE: false, // a change is based on a log position older than the kept history
    SYNC_TOO_LARGE: false, // a file, change, batch or offline queue exceeds its limit
    SYNC_NO_CONFLICT: false, // no parked conflict with this id
  }),
  ...codesOf('StorageError', {
    SYNC_HASH_MISMATCH: false, // the local copy differs from the author's after apply: reload from a snapshot
  }),
  // --- configuration and usage ---------------------------------------------------------
  ...codesOf('ConfigError', {
    CONFIG_INVALID: false, // configuration is invalid
    INVALID_OPTION: false, // invalid option
    CONFLICTING_OPTIONS: false, // options conflict with each other
    ADDRESS_IN_USE: false, // address already in use
    DATA_DIR_LOCKED: false, // another hub holds the data folder
  }),
  // --- everything else -----------------------------------------------------------------
  ...codesOf('CrossbusError', {
    INTERNAL: false, // internal error
  }),
};

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
