/**
 * The demo's page servers: a fixed set of files, served under one host name only and framed
 * only by the origins allowed to. Checking `Host` defeats DNS rebinding: a page on a name an
 * attacker points at 127.0.0.1 reaches this server with that name in `Host` and is refused (421
 * Misdirected Request), so it can read nothing here. `frame-ancestors` keeps other sites from
 * framing the pages (and driving them, or posing as their parent).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PageFile {
  /** The Content-Type. */
  type: string;
  body: string;
}

export interface PageServerOptions {
  /** The interface to bind. */
  bind: string;
  /** The one name browsers reach the server by ('localhost', '127.0.0.1'): its origin's host. */
  hostName: string;
  /** 0 picks a free one. */
  port: number;
  /** The `frame-ancestors` source list: who may frame these pages (`'none'`, or exact origins). */
  frameAncestors: string;
}

export interface PageServer {
  readonly port: number;
  /** http://<hostName>:<port> */
  readonly origin: string;
  /** What is served, by path (`/` is `/index.html`); filled once every origin is known. */
  readonly files: Map<string, PageFile>;
  close(): Promise<void>;
}

/** The `Host` values that name this server: `<name>:<port>`, and the bare name on port 80. */
function hostsOf(hostName: string, port: number): Set<string> {
  const hosts = new Set([`${hostName}:${port}`]);
  if (port === 80) hosts.add(hostName);
  return hosts;
}

export async function listenPages(options: PageServerOptions): Promise<PageServer> {
  const files = new Map<string, PageFile>();
  let hosts = new Set<string>();
  const headers = {
    'cache-control': 'no-store',
    'content-security-policy': `frame-ancestors ${options.frameAncestors}`,
    'x-content-type-options': 'nosniff',
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const text = (status: number, body: string): void => {
      res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(body);
    };
    if (!hosts.has(req.headers.host ?? '')) {
      text(421, `this server answers for ${[...hosts].join(' or ')} only\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      text(405, 'method not allowed\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const f = files.get(path === '/' ? '/index.html' : path);
    if (f === undefined) {
      text(404, 'not found\n');
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': f.type }).end(req.method === 'HEAD' ? undefined : f.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = hostsOf(options.hostName, port);
  return {
    port,
    origin: `http://${options.hostName}:${port}`,
    files,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Puts `config` into the page where `<!-- demo-config -->` stands, as a JSON script element the
 * page reads (`#demo-config`): settings the server owns, never taken from the page's URL.
 */
export function withPageConfig(html: string, config: Record<string, unknown>): string {
  const marker = '<!-- demo-config -->';
  if (!html.includes(marker)) throw new Error(`the page has no ${marker} marker`);
  // `<` escaped, so that no value can close the script element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return html.replace(marker, () => `<script type="application/json" id="demo-config">${json}</script>`);
}
