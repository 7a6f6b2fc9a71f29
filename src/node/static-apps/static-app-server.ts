/**
 * One static web app on its own port, so on an origin of its own: nothing else the hub serves
 * (the dashboard, /metrics, another app) shares its origin, so its scripts can read none of it.
 * GET and HEAD only; every answer carries the app's security headers (see headers.ts), whatever
 * its status, including those for requests Node's parser refuses. A request is checked in this
 * order: the concurrency bound (503), the `Host` (421: DNS rebinding), the method (405), the path
 * (400/404: request-path.ts), then the file: its real path must be under the root's (a symlink
 * out of the root is a 404), a folder is a 404 (no listings), a file past `maxFileBytes` a 413.
 * A read that fails is a 500 whose body names no path.
 */
import { constants, type Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, sep } from 'node:path';
import { ConfigError } from '../../core/errors/index.js';
import { contentTypeOf } from './content-types.js';
import { staticAppHeaders } from './headers.js';
import type { ResolvedStaticApp } from './options.js';
import { requestPath } from './request-path.js';

export interface StaticAppServer {
  readonly name: string;
  /** http://<host>:<port>, the app's origin (with a trailing `/`: its index). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ALLOW = 'GET, HEAD';
const REASONS: Readonly<Record<number, string>> = {
  400: 'bad request',
  404: 'not found',
  405: 'method not allowed',
  408: 'request timeout',
  413: 'file too large to serve',
  421: 'misdirected request: unknown host',
  431: 'request headers too large',
  500: 'the file could not be read',
  503: 'too many requests at once, try again',
};

/** The `Host` values that name the app: each name with the port, and bare on port 80. */
function allowedHosts(app: ResolvedStaticApp, port: number): ReadonlySet<string> {
  const loopback = app.host === '127.0.0.1' || app.host === 'localhost' || app.host === '::1';
  const names = loopback ? ['127.0.0.1', 'localhost', '[::1]'] : [app.host.includes(':') ? `[${app.host}]` : app.host];
  const hosts = new Set<string>();
  for (const name of [...names, ...app.hostNames].map((n) => n.toLowerCase())) {
    hosts.add(`${name}:${port}`);
    if (port === 80) hosts.add(name);
  }
  return hosts;
}

/** The ETag of a file's version: its size and change time (weak: a metadata tag, not a hash). */
function etagOf(stats: Stats): string {
  return `W/"${stats.size.toString(36)}-${Math.floor(stats.mtimeMs * 1000).toString(36)}-${stats.ino.toString(36)}"`;
}

/** Whether `If-None-Match` names the current version (weak comparison, `*` for any). */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = etag.slice(2);
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === bare;
  });
}

/** Starts the app's server; `hubWsOrigins` are the WebSocket origins its pages may connect to. */
export async function listenStaticApp(app: ResolvedStaticApp, hubWsOrigins: readonly string[]): Promise<StaticAppServer> {
  const headers = staticAppHeaders(app, hubWsOrigins);
  const rootPrefix = app.root.endsWith(sep) ? app.root : app.root + sep;
  let hosts: ReadonlySet<string> = new Set();
  let inFlight = 0;

  const fail = (res: ServerResponse, status: number, extra: Record<string, string> = {}): void => {
    const body = `${REASONS[status] ?? 'error'}\n`;
    res.writeHead(status, {
      ...headers,
      ...extra,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  const serveFile = async (req: IncomingMessage, res: ServerResponse, segments: readonly string[]): Promise<void> => {
    let real: string;
    try {
      real = await realpath(join(app.root, ...segments));
    } catch {
      return fail(res, 404);
    }
    // A symlink (anywhere on the path) to outside the root is refused as if it did not exist.
    if (!real.startsWith(rootPrefix)) return fail(res, 404);
    let file: Awaited<ReturnType<typeof open>>;
    try {
      // O_NONBLOCK: a FIFO in the folder opens at once (and is then refused) instead of holding a thread.
      file = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return fail(res, code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' ? 404 : 500);
    }
    try {
      const stats = await file.stat();
      if (!stats.isFile()) return fail(res, 404);
      if (stats.size > app.maxFileBytes) return fail(res, 413);
      const etag = etagOf(stats);
      const fileHeaders = { ...headers, etag, 'cache-control': app.cacheControl };
      if (notModified(req.headers['if-none-match'], etag)) {
        res.writeHead(304, fileHeaders).end();
        return;
      }
      res.writeHead(200, {
        ...fileHeaders,
        'content-type': contentTypeOf(real),
        'content-length': String(stats.size),
        'accept-ranges': 'none',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      // Streamed from the open file (the one checked above), so memory stays bounded whatever the size.
      const stream = file.createReadStream({ start: 0, end: Math.max(0, stats.size - 1), autoClose: false });
      await new Promise<void>((resolve) => {
        stream.on('error', () => {
          res.destroy();
          resolve();
        });
        res.on('close', () => {
          stream.destroy();
          resolve();
        });
        stream.pipe(res);
      });
    } catch {
      if (!res.headersSent) fail(res, 500);
      else res.destroy();
    } finally {
      await file.close().catch(() => undefined);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (inFlight >= app.maxConcurrentRequests) return fail(res, 503, { 'retry-after': '1' });
    inFlight++;
    // The whole answer must be out within the timeout too: a slow reader is cut off.
    const timer = setTimeout(() => res.destroy(), app.requestTimeoutMs);
    res.once('close', () => {
      inFlight--;
      clearTimeout(timer);
    });
    if (!hosts.has((req.headers.host ?? '').toLowerCase())) return fail(res, 421);
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, { allow: ALLOW });
    const path = requestPath(req.url ?? '');
    if (!path.ok) return fail(res, path.status);
    void serveFile(req, res, path.segments);
  };

  const server: Server = createServer(
    {
      requestTimeout: app.requestTimeoutMs,
      headersTimeout: app.requestTimeoutMs,
      // How often Node looks for requests past their timeout: often enough for a short one.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(app.requestTimeoutMs / 4))),
      keepAliveTimeout: Math.min(5_000, app.requestTimeoutMs),
    },
    handle,
  );
  // Requests Node's parser refuses get the app's headers too, and nothing of the parser's message.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage !== undefined) {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = `${REASONS[status]}\n`;
    const lines = Object.entries({ ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\n${lines}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `port ${app.port} on ${app.host}`;
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError('CB_ERR_ADDRESS_IN_USE', `static app ${app.name}: ${where} is already in use`, {
              cause: err,
              details: { app: app.name },
            })
          : new ConfigError('CB_ERR_INVALID_OPTION', `static app ${app.name}: cannot listen on ${where}`, {
              cause: err,
              details: { app: app.name },
            }),
      );
    });
    server.listen(app.port, app.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(app, port);
  const hostName = app.host.includes(':') ? `[${app.host}]` : app.host;
  return {
    name: app.name,
    url: `http://${hostName}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
