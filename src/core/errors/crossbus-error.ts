import { ERROR_CODES, isErrorCode, type ErrorClassName, type ErrorCode } from './codes.js';

export interface CrossbusErrorOptions {
  cause?: unknown;
  /** Structured, non-secret context (limits, sizes, topic). Sent on the wire. */
  details?: Record<string, unknown>;
}

/** The message of an error made without one: `CB_ERR_RATE_LIMITED` reads "rate limited". */
function codeInWords(code: string): string {
  return code.slice('CB_ERR_'.length).toLowerCase().replace(/_/g, ' ');
}

/** The base of every error crossbus throws or sends. `code` is stable; `message` is for people. */
export class CrossbusError extends Error {
  override name = 'CrossbusError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: CrossbusErrorOptions = {}) {
    super(message ?? codeInWords(code), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options.details;
  }

  /** The wire form (see docs/PROTOCOL.md, ERROR frames). Never contains a stack or a cause. */
  toJSON(): SerializedError {
    const out: SerializedError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

/** Malformed, truncated, oversize or unknown frames and envelopes. */
export class ProtocolError extends CrossbusError {
  override name = 'ProtocolError';
}
/** A topic, header or payload that breaks the rules or a limit. */
export class ValidationError extends CrossbusError {
  override name = 'ValidationError';
}
/** Connection-level failures: cannot connect, lost, closed, slow consumer. */
export class ConnectionError extends CrossbusError {
  override name = 'ConnectionError';
}
/** Request/reply failures: timeout, no responders, remote handler failure. */
export class RequestError extends CrossbusError {
  override name = 'RequestError';
}
/** Authentication, integrity, replay, access control, origin, rate limit, consent and audit failures. */
export class SecurityError extends CrossbusError {
  override name = 'SecurityError';
}
/** Bad options passed by a caller. */
export class ConfigError extends CrossbusError {
  override name = 'ConfigError';
}

/** Durable streams: storage failures (disk full, permissions, I/O, corrupt or closed logs) and stream or consumer refusals. */
export class StorageError extends CrossbusError {
  override name = 'StorageError';
}

export interface SerializedError {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

type ErrorClass = new (code: ErrorCode, message?: string, options?: CrossbusErrorOptions) => CrossbusError;

/** The constructor behind each class name of the registry. */
const CLASSES: Readonly<Record<ErrorClassName, ErrorClass>> = {
  ProtocolError,
  ValidationError,
  ConnectionError,
  RequestError,
  SecurityError,
  StorageError,
  ConfigError,
  CrossbusError,
};

/** Creates the error of the class the registry names for `code`. */
export function createError(code: ErrorCode, message?: string, options?: CrossbusErrorOptions): CrossbusError {
  return new CLASSES[ERROR_CODES[code].class](code, message, options);
}

/**
 * Rebuild an error received on the wire. Unknown codes (from a newer peer) become CB_ERR_INTERNAL
 * with the original code kept in `details.remoteCode`, so nothing is lost.
 */
export function deserializeError(value: unknown): CrossbusError {
  if (typeof value !== 'object' || value === null) {
    return createError('CB_ERR_PROTOCOL', 'error frame without an error object');
  }
  const v = value as Record<string, unknown>;
  const message = typeof v.message === 'string' ? v.message : undefined;
  const details = typeof v.details === 'object' && v.details !== null ? (v.details as Record<string, unknown>) : undefined;
  if (isErrorCode(v.code)) return createError(v.code, message, details ? { details } : {});
  return createError('CB_ERR_INTERNAL', message, { details: { ...details, remoteCode: String(v.code) } });
}

export function isCrossbusError(err: unknown, code?: ErrorCode): err is CrossbusError {
  return err instanceof CrossbusError && (code === undefined || err.code === code);
}
