import { readFileSync } from 'node:fs';
import { isIP, type Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConfigError, ConnectionError } from '../../core/errors/index.js';
import type { TransportConnector } from '../../core/transport/transport.js';
import { DEFAULT_KEEPALIVE_MS, DEFAULT_SOCKET_CONNECT_TIMEOUT_MS } from './defaults.js';
import { type NetAddress, parseNetUrl } from './net-url.js';
import { socketConnectError } from './socket-errors.node.js';
import { SocketTransport, tuneSocket } from './socket-transport.node.js';

/** PEM text, or a file to read it from. */
export type PemSource = string | Uint8Array | { file: string };

/** How a client opens a `tls://` connection. */
export interface TlsClientOptions {
  /**
   * CA certificates to trust instead of Node's bundled roots (a private CA, or the hub's own
   * self-signed certificate). @default Node's root CAs
   */
  ca?: PemSource | readonly PemSource[];
  /** Client certificate, for a hub that maps certificates to apps (mutual TLS). @default none */
  cert?: PemSource;
  /** The client certificate's private key. @default none */
  key?: PemSource;
  /** Host name the hub's certificate must name. @default the URL's host (no check of a name for an IP: its SAN IP is checked) */
  servername?: string;
}

/** Options of a TCP, Unix-socket or TLS connector. */
export interface SocketConnectorOptions {
  /** Time for the socket (and the TLS handshake) to open. @default DEFAULT_SOCKET_CONNECT_TIMEOUT_MS */
  timeoutMs?: number;
  /** TCP keepalive delay; 0 turns it off. @default DEFAULT_KEEPALIVE_MS */
  keepAliveMs?: number;
  /** TLS settings for a `tls://` URL. @default Node's defaults: root CAs, no client certificate */
  tls?: TlsClientOptions;
}

/** Reads PEM text from a source (a file is read each time a connection opens: rotated files are picked up). */
export function readPem(source: PemSource, what: string): string | Buffer {
  if (typeof source === 'object' && 'file' in source) {
    try {
      return readFileSync(source.file);
    } catch (cause) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `cannot read the TLS ${what} file ${source.file}`, {
        cause,
        details: { file: source.file },
      });
    }
  }
  return typeof source === 'string' ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
}

/**
 * A connector for `tcp://host:port`, `unix:///path` or `tls://host:port`: each attempt opens one
 * socket and resolves once it is connected (for TLS: once the hub's certificate is verified).
 * Failures are typed: CB_ERR_TLS for a refused certificate, CB_ERR_CONNECTION_FAILED otherwise.
 */
export function socketConnector(url: string, options: SocketConnectorOptions = {}): TransportConnector {
  const address = parseNetUrl(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SOCKET_CONNECT_TIMEOUT_MS;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
  if (address.kind !== 'tls' && options.tls !== undefined) {
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', `TLS options given for ${address.url}, which is not a tls:// address`);
  }
  return (signal) => openSocket(address, timeoutMs, keepAliveMs, options.tls, signal);
}

function openSocket(
  address: NetAddress,
  timeoutMs: number,
  keepAliveMs: number,
  tls: TlsClientOptions | undefined,
  signal: AbortSignal | undefined,
): Promise<SocketTransport> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ConnectionError('CB_ERR_CONNECTION_FAILED', `connecting to ${address.url} was aborted`));
      return;
    }
    let socket: Socket;
    let ready: string;
    if (address.kind === 'unix') {
      socket = netConnect({ path: address.path });
      ready = 'connect';
    } else if (address.kind === 'tcp') {
      socket = netConnect({ host: address.host, port: address.port });
      ready = 'connect';
    } else {
      const ca = tls?.ca === undefined ? undefined : (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c: PemSource) => readPem(c, 'CA'));
      const servername = tls?.servername ?? (isIP(address.host) === 0 ? address.host : undefined);
      socket = tlsConnect({
        host: address.host,
        port: address.port,
        ...(servername !== undefined ? { servername } : {}),
        ...(ca !== undefined ? { ca } : {}),
        ...(tls?.cert !== undefined ? { cert: readPem(tls.cert, 'certificate') } : {}),
        ...(tls?.key !== undefined ? { key: readPem(tls.key, 'key') } : {}),
      });
      ready = 'secureConnect';
    }
    const fail = (err: unknown): void => {
      cleanup();
      socket.destroy();
      reject(socketConnectError(address.url, err));
    };
    const onAbort = (): void => fail(new Error('aborted'));
    const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    const onReady = (): void => {
      cleanup();
      tuneSocket(socket, keepAliveMs);
      const peer = address.kind === 'unix' ? address.url : `${socket.remoteAddress ?? address.host}:${socket.remotePort ?? address.port}`;
      resolve(new SocketTransport(address.kind, socket, peer));
    };
    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      socket.off(ready, onReady);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.once(ready, onReady);
  });
}
