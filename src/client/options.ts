import { ConfigError } from '../core/errors/index.js';
import type { FrameLimits } from '../core/limits.js';
import { silentLogger, type Logger } from '../core/util/logger.js';
import type { TransportConnector } from '../core/transport/transport.js';
import type { WebSocketLike } from '../transports/websocket/websocket-client.js';
import type { CryptoProvider, KeyExchangeGroup } from '../core/security/crypto.js';
import type { IntegrityAlgorithm, ProtectionMode } from '../core/security/record.js';
import { DEFAULT_FRAME_LIMITS } from '../core/defaults.js';
import {
  DEFAULT_BATCH_BYTES,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_RECONNECT,
  DEFAULT_RECONNECT_BUFFER_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './defaults.js';

export interface ReconnectOptions {
  /** @default 100 */
  initialDelayMs?: number;
  /** @default 5_000 */
  maxDelayMs?: number;
  /** @default 2 */
  factor?: number;
  /** Fraction of each delay that is randomized, 0..1. @default 0.5 */
  jitter?: number;
  /** @default Infinity */
  maxAttempts?: number;
}

export interface WebSocketConstructor {
  new (url: string): WebSocketLike;
}

export interface SecurityOptions {
  /** 'encrypt' (AES-256-GCM) or 'integrity' (authenticated only, payloads readable on the wire). @default DEFAULT_PROTECTION_MODE ('encrypt') */
  mode?: ProtectionMode;
  /**
   * With mode 'integrity': the algorithms to offer the hub, in order of preference; it takes the
   * first it accepts. Only for mode 'integrity'. @default DEFAULT_INTEGRITY_ALGORITHMS (['aes-256-gmac', 'hmac-sha256'])
   */
  integrityAlgorithms?: readonly IntegrityAlgorithm[];
  /** Ephemeral key exchange group. @default DEFAULT_KEY_EXCHANGE_GROUP ('P-256') */
  group?: KeyExchangeGroup;
  /** Crypto implementation. @default Node's crypto from the Node entry, WebCrypto elsewhere */
  crypto?: CryptoProvider;
}

export interface ConnectOptions {
  /** The app's name, as the hub knows it (its config's `apps` key). @default 'anonymous' */
  name?: string;
  /**
   * The app's secret (base64 text or bytes, at least 32 bytes). With it the client authenticates
   * and requires the hub to prove it knows the same secret; it is never sent. @default none
   */
  secret?: string | Uint8Array;
  /** How sessions are protected; needs `secret`. @default encrypt, P-256 */
  security?: SecurityOptions;
  /** Reconnect after the connection drops; `false` to stay closed. @default true (DEFAULT_RECONNECT) */
  reconnect?: boolean | ReconnectOptions;
  /** Time for the transport to open and the handshake to finish. @default DEFAULT_CONNECT_TIMEOUT_MS */
  timeoutMs?: number;
  /** Default timeout of request(). @default DEFAULT_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  /** Backpressure high-water mark. @default DEFAULT_MAX_PENDING_BYTES */
  maxPendingBytes?: number;
  /** @default DEFAULT_RECONNECT_BUFFER_BYTES */
  reconnectBufferBytes?: number;
  /** @default DEFAULT_BATCH_BYTES */
  batchBytes?: number;
  /** Frame limits used until the hub's WELCOME tells its own. @default DEFAULT_FRAME_LIMITS */
  limits?: Partial<FrameLimits>;
  /** @default silent */
  logger?: Logger;
  /** The WebSocket implementation. @default globalThis.WebSocket (the Node entry passes `ws`) */
  WebSocket?: WebSocketConstructor;
  /** Use a custom transport instead of a WebSocket URL (in-memory, postMessage, ...). */
  transport?: TransportConnector;
}

export interface ResolvedConnectOptions {
  name: string;
  reconnect: Readonly<Required<ReconnectOptions>> | undefined;
  timeoutMs: number;
  requestTimeoutMs: number;
  maxPendingBytes: number;
  reconnectBufferBytes: number;
  batchBytes: number;
  limits: FrameLimits;
  logger: Logger;
}

/** The numeric options (all positive numbers) and their defaults. */
const NUMERIC_DEFAULTS = {
  timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  maxPendingBytes: DEFAULT_MAX_PENDING_BYTES,
  reconnectBufferBytes: DEFAULT_RECONNECT_BUFFER_BYTES,
  batchBytes: DEFAULT_BATCH_BYTES,
} as const;

function positive(name: string, v: number | undefined, def: number, allowZero = false): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !(v > 0 || (allowZero && v === 0))) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${name} must be a positive number, got ${String(v)}`, { details: { option: name } });
  }
  return v;
}

function resolveReconnect(r: ReconnectOptions): Readonly<Required<ReconnectOptions>> {
  const out = {} as Required<ReconnectOptions>;
  // Each in the order of DEFAULT_RECONNECT; only the jitter may be 0.
  for (const key of Object.keys(DEFAULT_RECONNECT) as Array<keyof ReconnectOptions>) {
    out[key] = positive(`reconnect.${key}`, r[key], DEFAULT_RECONNECT[key], key === 'jitter');
  }
  if (out.jitter > 1) throw new ConfigError('CB_ERR_INVALID_OPTION', 'reconnect.jitter must be within 0..1');
  if (out.initialDelayMs > out.maxDelayMs) {
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'reconnect.initialDelayMs must not exceed reconnect.maxDelayMs');
  }
  return Object.freeze(out);
}

export function resolveConnectOptions(o: ConnectOptions): ResolvedConnectOptions {
  const reconnect =
    o.reconnect === undefined || o.reconnect === true
      ? DEFAULT_RECONNECT
      : o.reconnect === false
        ? undefined
        : resolveReconnect(o.reconnect);
  const numeric = (name: keyof typeof NUMERIC_DEFAULTS): number => positive(name, o[name], NUMERIC_DEFAULTS[name]);
  const maxPendingBytes = numeric('maxPendingBytes');
  const reconnectBufferBytes = numeric('reconnectBufferBytes');
  if (o.transport !== undefined && o.WebSocket !== undefined) {
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'pass either transport or WebSocket, not both');
  }
  if (o.secret === undefined && o.security !== undefined)
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'security options need a secret');
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 128)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', 'name must be a string of 1..128 characters');
  }
  return Object.freeze({
    name: o.name ?? 'anonymous',
    reconnect,
    timeoutMs: numeric('timeoutMs'),
    requestTimeoutMs: numeric('requestTimeoutMs'),
    maxPendingBytes,
    reconnectBufferBytes,
    batchBytes: numeric('batchBytes'),
    limits: Object.freeze({ ...DEFAULT_FRAME_LIMITS, ...o.limits }),
    logger: o.logger ?? silentLogger,
  });
}
