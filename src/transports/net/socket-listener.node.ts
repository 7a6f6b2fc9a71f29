import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import { type TLSSocket, type Server as TlsServer, createServer as createTlsServer } from 'node:tls';
import { ConfigError, ConnectionError, createError } from '../../core/errors/index.js';
import { encodeFrame } from '../../core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../core/protocol/envelope.js';
import { CLOSE_TRY_AGAIN_LATER, type Transport, type TransportListener } from '../../core/transport/transport.js';
import { encodeJson } from '../../core/util/json.js';
import {
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_LISTENER_MAX_CONNECTIONS,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_TLS_RELOAD_DEBOUNCE_MS,
} from './defaults.js';
import { certificateFingerprint } from './fingerprint.node.js';
import { hostPortUrl } from './net-url.js';
import { type PemSource, readPem } from './socket-connector.node.js';
import { SocketTransport, tuneSocket } from './socket-transport.node.js';
import {
  type TlsMaterial,
  type TlsReloadEvent,
  type TlsReloadOutcome,
  TlsReloader,
  type TlsSources,
  secureContextOptions,
} from './tls-reload.node.js';
import { freeUnixPath } from './unix-path.node.js';

export { certificateFingerprint } from './fingerprint.node.js';
export type { TlsReloadEvent, TlsReloadOutcome } from './tls-reload.node.js';

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
  /**
   * Reload `cert`, `key` and `ca` given as files when they change (their folders are watched);
   * `reloadCertificates()` reloads them whatever this says. @default true
   */
  watchFiles?: boolean;
  /**
   * Quiet time after the last change to those files before they are read (a rotation writes
   * several files), 0..600,000 ms. @default DEFAULT_TLS_RELOAD_DEBOUNCE_MS
   */
  reloadDebounceMs?: number;
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
    /**
     * A TLS listener loaded new certificate files, or failed to and kept serving the previous
     * ones (`error`: CB_ERR_TLS). @default ignored
     */
    onCertificatesReload?(event: TlsReloadEvent): void;
  };

export interface SocketListener extends TransportListener {
  readonly kind: 'tcp' | 'unix' | 'tls';
  /** Connections open now. */
  connections(): number;
  /**
   * A TLS listener only: reads its certificate, key and CA files again and serves them to new
   * connections if they changed and load; after a failure the previous ones stay. Never rejects.
   */
  readonly reloadCertificates?: () => Promise<TlsReloadOutcome>;
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
  let tls: { server: TlsServer; sources: TlsSources; material: TlsMaterial; watchFiles: boolean; debounceMs: number } | undefined;
  if (options.kind === 'tls') {
    const reloadDebounceMs = limitOption('reloadDebounceMs', options.reloadDebounceMs, DEFAULT_TLS_RELOAD_DEBOUNCE_MS, 0, 600_000);
    const caSources = options.ca === undefined ? undefined : Array.isArray(options.ca) ? options.ca : [options.ca];
    const sources: TlsSources = { cert: options.cert, key: options.key, ca: caSources as readonly PemSource[] | undefined };
    const material: TlsMaterial = {
      cert: pemBytes(options.cert, 'certificate'),
      key: pemBytes(options.key, 'key'),
      ca: sources.ca?.map((c) => pemBytes(c, 'CA')),
    };
    const requestCert = options.requestClientCertificates === true;
    const tlsServer = createTlsServer(
      {
        ...secureContextOptions(material),
        requestCert,
        // Verified here, not enforced: a client without a mapped certificate uses its secret.
        rejectUnauthorized: false,
        handshakeTimeout: tlsHandshakeTimeoutMs,
      },
      (socket: TLSSocket) => accept(socket, requestCert ? verifiedFingerprint(socket) : undefined),
    );
    tlsServer.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      socket.destroy();
      options.onTlsError?.(error, `${socket.remoteAddress}:${socket.remotePort}`);
    });
    tls = { server: tlsServer, sources, material, watchFiles: options.watchFiles !== false, debounceMs: reloadDebounceMs };
    server = tlsServer;
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
  // Watched from here on: the events name the listener's URL, which has its port only once bound.
  const certificates =
    tls === undefined
      ? undefined
      : new TlsReloader(tls.server, tls.sources, tls.material, {
          url,
          watchFiles: tls.watchFiles,
          debounceMs: tls.debounceMs,
          onReload: options.onCertificatesReload ?? (() => {}),
        });
  return {
    kind,
    url,
    connections: () => open.size,
    ...(certificates !== undefined ? { reloadCertificates: () => certificates.reload() } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        certificates?.close();
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

/** A PEM source's bytes, read now (an unreadable file is CB_ERR_INVALID_OPTION: the listener does not start). */
function pemBytes(source: PemSource, what: string): Buffer {
  const pem = readPem(source, what);
  return typeof pem === 'string' ? Buffer.from(pem) : pem;
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

function limitOption(name: string, value: number | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return def;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `in ${min}..${max}`;
    throw new ConfigError('CB_ERR_INVALID_OPTION', `${name} must be an integer ${range}, got ${String(value)}`, {
      details: { option: name, value },
    });
  }
  return value;
}
