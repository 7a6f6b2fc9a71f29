import type { X509Certificate } from 'node:crypto';
import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import { type TLSSocket, createServer as createTlsServer } from 'node:tls';
import { ConfigError, ConnectionError, createError } from '../../core/errors/index.js';
import { encodeFrame } from '../../core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../core/protocol/envelope.js';
import { CLOSE_TRY_AGAIN_LATER, type Transport, type TransportListener } from '../../core/transport/transport.js';
import { encodeJson } from '../../core/util/json.js';
import { DEFAULT_KEEPALIVE_MS, DEFAULT_LISTENER_MAX_CONNECTIONS, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS } from './defaults.js';
import { hostPortUrl } from './net-url.js';
import { type PemSource, readPem } from './socket-connector.node.js';
import { SocketTransport, tuneSocket } from './socket-transport.node.js';
import { freeUnixPath } from './unix-path.node.js';

/** The limits every socket listener has of its own (the broker's apply on top). */
export interface SocketListenerLimits {
  /** Connections this listener holds at once; more are refused with CB_ERR_TOO_MANY_CONNECTIONS. @default DEFAULT_LISTENER_MAX_CONNECTIONS */
  maxConnections?: number;
  /** TCP keepalive delay (finds half-open sockets); 0 turns it off. @default DEFAULT_KEEPALIVE_MS */
  keepAliveMs?: number;
  /** Time a TLS client gets to finish the TLS handshake. @default DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS */
  tlsHandshakeTimeoutMs?: number;
}

/** The hub's side of TLS. */
export interface TlsServerOptions {
  /** The hub's certificate (chain), PEM. */
  cert: PemSource;
  /** Its private key, PEM. */
  key: PemSource;
  /** CAs whose client certificates are verified (mutual TLS). @default Node's root CAs */
  ca?: PemSource | readonly PemSource[];
  /**
   * Ask clients for a certificate. A verified one is handed to the hub as the connection's
   * `peerCertificate` (the hub maps it to an app); a client without one, or with one that does
   * not verify, is not refused here: it authenticates with its secret. @default false
   */
  requestClientCertificates?: boolean;
}

export type SocketListenAddress =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | ({ kind: 'tls'; host: string; port: number } & TlsServerOptions);

export type SocketListenOptions = SocketListenAddress &
  SocketListenerLimits & {
    onConnection(transport: Transport): void;
    /** A TLS client failed its handshake (timed out, bad certificate, not TLS at all). @default ignored */
    onTlsError?(error: Error, peer: string): void;
  };

export interface SocketListener extends TransportListener {
  readonly kind: 'tcp' | 'unix' | 'tls';
  /** Connections open now. */
  connections(): number;
}

/**
 * Listens for TCP, Unix-socket or TLS connections; resolves once bound. A Unix path that holds a
 * stale socket is taken over, a live one or another file is refused (see freeUnixPath).
 */
export async function listenSocket(options: SocketListenOptions): Promise<SocketListener> {
  const maxConnections = limitOption('maxConnections', options.maxConnections, DEFAULT_LISTENER_MAX_CONNECTIONS, 1);
  const keepAliveMs = limitOption('keepAliveMs', options.keepAliveMs, DEFAULT_KEEPALIVE_MS, 0);
  const tlsHandshakeTimeoutMs = limitOption('tlsHandshakeTimeoutMs', options.tlsHandshakeTimeoutMs, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, 1);
  const kind = options.kind;
  const open = new Set<Socket>();
  const accept = (socket: Socket, peerCertificate?: string): void => {
    tuneSocket(socket, keepAliveMs);
    const peer = kind === 'unix' ? `unix:${options.kind === 'unix' ? options.path : ''}` : `${socket.remoteAddress}:${socket.remotePort}`;
    const transport = new SocketTransport(kind, socket, peer, peerCertificate);
    if (open.size >= maxConnections) {
      refuseFull(transport, maxConnections);
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    options.onConnection(transport);
  };
  let server: Server;
  if (options.kind === 'tls') {
    const ca =
      options.ca === undefined
        ? undefined
        : (Array.isArray(options.ca) ? options.ca : [options.ca]).map((c: PemSource) => readPem(c, 'CA'));
    const requestCert = options.requestClientCertificates === true;
    server = createTlsServer(
      {
        cert: readPem(options.cert, 'certificate'),
        key: readPem(options.key, 'key'),
        ...(ca !== undefined ? { ca } : {}),
        requestCert,
        // Verified here, not enforced: a client without a mapped certificate uses its secret.
        rejectUnauthorized: false,
        handshakeTimeout: tlsHandshakeTimeoutMs,
      },
      (socket: TLSSocket) => accept(socket, requestCert ? verifiedFingerprint(socket) : undefined),
    );
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      socket.destroy();
      options.onTlsError?.(error, `${socket.remoteAddress}:${socket.remotePort}`);
    });
  } else {
    server = createNetServer({ noDelay: true }, (socket) => accept(socket));
  }
  // Every raw socket, TLS handshakes included, so that close() ends them all at once.
  const raw = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    raw.add(socket);
    socket.once('close', () => raw.delete(socket));
  });
  if (options.kind === 'unix') await freeUnixPath(options.path);
  await bind(server, options);
  const url = options.kind === 'unix' ? `unix://${options.path}` : hostPortUrl(options.kind, options.host, boundPort(server, options.port));
  return {
    kind,
    url,
    connections: () => open.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
        for (const socket of raw) socket.destroy();
      }),
  };
}

/** `sha256/<hex>` of a client certificate that verified against the listener's CAs, else undefined. */
function verifiedFingerprint(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const raw = socket.getPeerX509Certificate?.() ?? undefined;
  if (raw === undefined) return undefined;
  return certificateFingerprint(raw);
}

/** The form the hub config names certificates in: `sha256/` and the DER's SHA-256 in lowercase hex. */
export function certificateFingerprint(cert: X509Certificate): string {
  return `sha256/${cert.fingerprint256.replaceAll(':', '').toLowerCase()}`;
}

/** Says why (an ERROR frame in clear, as the broker does when it is full), then closes. */
function refuseFull(transport: SocketTransport, limit: number): void {
  const error = createError('CB_ERR_TOO_MANY_CONNECTIONS', `this ${transport.kind} listener holds its maximum of ${limit} connections`, {
    details: { limit },
  });
  try {
    transport.send(encodeFrame(envelope(Kind.ERROR, { payloadType: PayloadType.JSON, payload: encodeJson(error.toJSON()) })));
  } catch {
    /* already gone */
  }
  transport.close(CLOSE_TRY_AGAIN_LATER, error.code);
}

function bind(server: Server, options: SocketListenAddress): Promise<void> {
  const where = options.kind === 'unix' ? options.path : `${options.host}:${options.port}`;
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') {
        reject(new ConfigError('CB_ERR_ADDRESS_IN_USE', `${where} is already in use`, { cause: err, details: { address: where } }));
      } else if (
        err.code === 'EACCES' ||
        err.code === 'EPERM' ||
        err.code === 'ENOENT' ||
        err.code === 'ENOTDIR' ||
        err.code === 'EINVAL'
      ) {
        reject(
          new ConfigError('CB_ERR_INVALID_OPTION', `cannot listen on ${where}: ${err.code} (${err.message})`, {
            cause: err,
            details: { address: where },
          }),
        );
      } else reject(new ConnectionError('CB_ERR_TRANSPORT', `cannot listen on ${where}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    const listening = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (options.kind === 'unix') server.listen(options.path, listening);
    else server.listen(options.port, options.host, listening);
  });
}

function boundPort(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
}

function limitOption(name: string, value: number | undefined, def: number, min: number): number {
  if (value === undefined) return def;
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${name} must be an integer of at least ${min}, got ${String(value)}`, {
      details: { option: name, value },
    });
  }
  return value;
}
