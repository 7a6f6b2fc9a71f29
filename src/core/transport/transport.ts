/**
 * The one interface every transport implements (in-memory, WebSocket, and later TCP, postMessage,
 * MessagePort, extension ports, shared memory). It moves opaque bytes, nothing more: framing,
 * security and routing live above it. Keep it this small.
 */

export interface TransportCloseInfo {
  /** True when this side called close(). */
  local: boolean;
  /** A WebSocket-style close code when the transport has one (1000 normal, 1002 protocol error, ...). */
  code: number;
  reason: string;
  /** Underlying error, if the transport failed. */
  error?: unknown;
}

export interface TransportHandlers {
  /** A chunk of bytes arrived. For `framing: 'message'` a chunk holds whole frames only. */
  message(chunk: Uint8Array): void;
  /** The transport closed, for whatever reason. Called exactly once. */
  close(info: TransportCloseInfo): void;
  /** Bytes previously buffered have been written out; `bufferedAmount` went down. */
  drain?(): void;
}

export interface Transport {
  /** A short name for logs and events: 'memory', 'websocket', ... */
  readonly kind: string;
  /**
   * 'message': the transport keeps chunk boundaries (each chunk holds whole frames);
   * 'stream': bytes may be split or joined anywhere (frames must be reassembled).
   */
  readonly framing: 'message' | 'stream';
  /** Who is on the other side (remote address, origin), for logs and policy. */
  readonly peer: string;
  /** The peer's web origin as reported (WebSocket Origin header, postMessage origin), for logs and the allow-list. */
  readonly origin?: string | undefined;
  /**
   * The peer's origin when the runtime itself guarantees it (postMessage `event.origin`, an
   * extension port's `sender.origin`), so that a browser hub may identify apps by it. Not set
   * for WebSocket, where a non-browser client can send any Origin header, unless the hub opts in
   * (HubOptions.identifyByOrigin).
   */
  readonly vouchedOrigin?: string | undefined;
  /**
   * A TLS client certificate the transport verified against its CAs, as `sha256/<hex>` of its DER,
   * so that a hub may identify the app by it (`apps.<name>.certificates`). Only a TLS listener
   * that asks for client certificates sets it.
   */
  readonly peerCertificate?: string | undefined;
  /** Installs the handlers. Called once, before any event can be delivered. */
  setHandlers(handlers: TransportHandlers): void;
  /**
   * Queues bytes for sending. The transport takes ownership of `chunk`: the caller must not
   * modify it afterwards. Throws CB_ERR_CONNECTION_CLOSED after close. `headroom` says how many
   * bytes just before `chunk` in its buffer the transport may overwrite too, so that a wrapping
   * layer can put its own header there instead of copying the chunk (see FrameWriter). @default 0
   */
  send(chunk: Uint8Array, headroom?: number): void;
  /** Bytes accepted by send() and not yet handed to the OS/peer. Drives backpressure. */
  bufferedAmount(): number;
  /** Closes; idempotent. Pending bytes are flushed when the transport can. */
  close(code?: number, reason?: string): void;
}

/** Opens client-side transports: one per connection attempt. */
export type TransportConnector = (signal?: AbortSignal) => Promise<Transport>;

/** Hub side: every accepted connection is handed to `onConnection`. */
export interface TransportListener {
  readonly kind: string;
  /** Where it listens, as a URL a client can use (e.g. ws://127.0.0.1:7070). */
  readonly url: string;
  close(): Promise<void>;
}

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_INTERNAL_ERROR = 1011;
/** The server is overloaded; try again later. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** Application range: authentication or record protection failed. */
export const CLOSE_AUTH_FAILED = 4003;
/** Application range: access was revoked (config reload, key expiry, abuse). */
export const CLOSE_REVOKED = 4004;
/** Application range: the hub closed a slow consumer. */
export const CLOSE_SLOW_CONSUMER = 4008;
