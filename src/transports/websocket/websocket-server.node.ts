import type { IncomingMessage } from 'node:http';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConfigError, ConnectionError } from '../../core/errors/index.js';
import {
  CLOSE_NORMAL,
  type Transport,
  type TransportCloseInfo,
  type TransportHandlers,
  type TransportListener,
} from '../../core/transport/transport.js';

/** How long a closing peer gets to answer the close handshake before its socket is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/** One options object for every send: binary, whole messages. */
const SEND_OPTIONS = Object.freeze({ binary: true });

/** Server side of one WebSocket connection (Node, `ws`). */
class WebSocketServerTransport implements Transport {
  readonly kind = 'websocket';
  readonly framing = 'message' as const;
  private handlers: TransportHandlers | undefined;
  private closed = false;
  private early: Uint8Array[] = [];
  /**
   * Called once each send is written out, in order; one function for every send, so that a
   * broadcast to thousands of connections allocates no closure per delivery.
   */
  private readonly written = (): void => {
    if (this.ws.bufferedAmount === 0) this.handlers?.drain?.();
  };

  constructor(
    private readonly ws: WebSocket,
    readonly peer: string,
    readonly origin: string | undefined,
    readonly vouchedOrigin: string | undefined,
  ) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      // Text frames are not part of the protocol, but their bytes go to the decoder anyway so
      // that garbage is answered with a precise error code rather than a bare close.
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data;
      // A plain Uint8Array view, not the Buffer: the decoder cuts every frame and payload out of
      // the chunk, and Buffer.subarray builds a Buffer through its species each time.
      const chunk = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (this.handlers) this.handlers.message(chunk);
      else this.early.push(chunk);
    });
    ws.on('close', (code: number, reason: Buffer) => this.finish({ local: false, code, reason: reason.toString() }));
    ws.on('error', (error: Error) => this.finish({ local: false, code: 1006, reason: error.message, error }));
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = [];
    for (const chunk of early) handlers.message(chunk);
  }

  send(chunk: Uint8Array): void {
    if (this.closed) throw new ConnectionError('CB_ERR_CONNECTION_CLOSED', 'WebSocket is closed');
    this.ws.send(chunk, SEND_OPTIONS, this.written);
  }

  /** What `ws` holds and the socket has not taken yet (the same count the write callbacks settle). */
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.closed) return;
    const wsCode =
      code === CLOSE_NORMAL ||
      (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999)
        ? code
        : 1011;
    try {
      this.ws.close(wsCode, reason.slice(0, 120));
    } catch {
      /* already closing */
    }
    const timer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    this.finish({ local: true, code, reason });
  }

  private finish(info: TransportCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    const h = this.handlers;
    this.handlers = undefined;
    h?.close(info);
  }
}

export interface WebSocketListenOptions {
  host: string;
  port: number;
  /** Largest WebSocket message accepted; bigger ones are closed with 1009 by `ws` itself. */
  maxMessageBytes: number;
  onConnection(transport: Transport, request: IncomingMessage): void;
  /**
   * Decides on a connection's `Origin` header (undefined when there is none, i.e. not a browser)
   * before the upgrade. Refused upgrades get HTTP 403 and never reach the broker. @default allow all
   */
  checkOrigin?(origin: string | undefined, peer: string): boolean;
  /**
   * Take the `Origin` header as the connection's vouched origin (its identity on a hub that
   * identifies apps by origin). Browsers set it and pages cannot forge it; other programs can
   * send anything: see HubOptions.identifyByOrigin. @default false
   */
  vouchOrigin?: boolean;
  /**
   * Answers `GET /.well-known/crossbus` with `{"listeners": [...]}`: every address the hub
   * listens on, for `crossbus://host:port` clients to choose from. @default not served
   */
  discovery?(): readonly string[];
  /**
   * Other plain HTTP requests on the port (the hub's /metrics, /healthz, /readyz): true when it
   * answered. @default none: anything else is answered 426
   */
  http?(req: IncomingMessage, res: ServerResponse): boolean;
}

/** Where a hub's WebSocket port lists the hub's listeners (see WebSocketListenOptions.discovery). */
export const DISCOVERY_PATH = '/.well-known/crossbus';

function peerOf(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? 'unknown';
  const port = req.socket.remotePort ?? 0;
  const origin = req.headers.origin;
  return origin ? `${addr}:${port} (origin ${origin})` : `${addr}:${port}`;
}

/** Listens for WebSocket connections; resolves once bound. */
export async function listenWebSocket(options: WebSocketListenOptions): Promise<TransportListener & { server: Server; port: number }> {
  const discovery = options.discovery;
  const server = createServer((req, res) => {
    if (discovery !== undefined && req.method === 'GET' && req.url === DISCOVERY_PATH) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ listeners: discovery() }));
      return;
    }
    if (options.http?.(req, res) === true) return;
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('crossbus hub: connect with a WebSocket client\n');
  });
  const checkOrigin = options.checkOrigin;
  const wss = new WebSocketServer({
    server,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: true,
    ...(checkOrigin === undefined
      ? {}
      : {
          verifyClient: (info: { origin: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
            const origin = info.req.headers.origin;
            if (checkOrigin(origin, peerOf(info.req))) done(true);
            else done(false, 403, 'CB_ERR_ORIGIN_REFUSED: origin not allowed');
          },
        }),
  });
  // Listen errors (EADDRINUSE, ...) reach us through server.once('error') below; ws re-emits them
  // on the WebSocketServer, where an unhandled 'error' event would crash the process.
  wss.on('error', () => {});
  const vouch = options.vouchOrigin === true;
  wss.on('connection', (ws, req) => {
    const origin = req.headers.origin;
    options.onConnection(new WebSocketServerTransport(ws, peerOf(req), origin, vouch ? origin : undefined), req);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new ConfigError('CB_ERR_ADDRESS_IN_USE', `port ${options.port} on ${options.host} is already in use`, {
            cause: err,
            details: { host: options.host, port: options.port },
          }),
        );
      } else
        reject(new ConnectionError('CB_ERR_TRANSPORT', `cannot listen on ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    kind: 'websocket',
    url: `ws://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => server.close(() => resolve()));
        server.closeAllConnections?.();
      }),
  };
}
