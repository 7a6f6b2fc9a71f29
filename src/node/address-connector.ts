import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../client/options.js';
import { ConfigError, ConnectionError, CrossbusError } from '../core/errors/index.js';
import type { Transport, TransportConnector } from '../core/transport/transport.js';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../transports/net/defaults.js';
import { isNetUrl, parseNetUrl } from '../transports/net/net-url.js';
import { type TlsClientOptions, socketConnector } from '../transports/net/socket-connector.node.js';
import { webSocketConnector } from '../transports/websocket/websocket-client.js';
import { kindOfUrl, rankAddresses } from './transport-rank.js';

/** Options for opening hub addresses by URL from Node. */
export interface AddressOptions {
  /** TLS settings for tls:// addresses (CA, client certificate). @default Node's root CAs, no client certificate */
  tls?: TlsClientOptions;
  /** A custom WebSocket class for ws:// addresses. @default the `ws` package */
  WebSocket?: WebSocketConstructor;
  /**
   * With several addresses: the kind to use ('unix', 'tcp', 'tls', 'websocket'), or an order of
   * kinds, instead of the fastest first. @default fastest first (TRANSPORT_RANK)
   */
  prefer?: string | readonly string[];
  /** With several addresses: time one address gets to open before the next is tried. @default DEFAULT_PROBE_TIMEOUT_MS */
  probeTimeoutMs?: number;
}

/** The connector for one ws://, wss://, tcp://, unix:// or tls:// URL. */
export function urlConnector(url: string, options: AddressOptions = {}, timeoutMs?: number): TransportConnector {
  if (isNetUrl(url)) return socketConnector(url, { ...(options.tls ? { tls: options.tls } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  if (kindOfUrl(url) !== 'websocket') {
    throw new ConfigError(
      'CB_ERR_INVALID_OPTION',
      `hub URL must start with ws://, wss://, tcp://, tls://, unix:// or crossbus://, got ${JSON.stringify(url)}`,
    );
  }
  const custom = options.WebSocket;
  return webSocketConnector(url, {
    WebSocket: custom ?? (WebSocket as unknown as WebSocketConstructor),
    sendCallbacks: custom === undefined,
    binaryType: custom === undefined ? 'nodebuffer' : 'arraybuffer',
  });
}

/**
 * A connector over several addresses of one hub: each attempt (the first connection and every
 * reconnection) tries them fastest first and keeps the first that opens. A Unix address whose
 * socket file is not on this machine is skipped. Fails with the error of the most preferred
 * address, `details.attempts` listing every address and why it failed.
 */
export function addressConnector(urls: readonly string[], options: AddressOptions = {}): TransportConnector {
  if (urls.length === 0) throw new ConfigError('CB_ERR_INVALID_OPTION', 'no hub address given');
  const ranked = rankAddresses(urls, options.prefer);
  if (ranked.length === 0) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `none of the addresses is of the preferred kind ${JSON.stringify(options.prefer)}`, {
      details: { urls: [...urls] },
    });
  }
  const probeMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const connectors = ranked.map((url) => ({ url, open: urlConnector(url, options, probeMs) }));
  return async (signal) => {
    const attempts: { url: string; code: string; message: string }[] = [];
    let first: unknown;
    for (const c of connectors) {
      if (signal?.aborted) break;
      if (kindOfUrl(c.url) === 'unix' && !existsSync(parseNetUrl(c.url).url.slice('unix://'.length))) {
        attempts.push({ url: c.url, code: 'ENOENT', message: 'no such socket on this machine' });
        continue;
      }
      try {
        return await withTimeout(c.open(signal), probeMs, c.url);
      } catch (err) {
        first ??= err;
        attempts.push({ url: c.url, code: err instanceof CrossbusError ? err.code : 'ERROR', message: (err as Error).message });
      }
    }
    if (first instanceof CrossbusError && connectors.length === 1) throw first;
    throw new ConnectionError(
      'CB_ERR_CONNECTION_FAILED',
      `no address of the hub could be reached (${attempts.map((a) => `${a.url}: ${a.code}`).join('; ')})`,
      {
        cause: first,
        details: { attempts },
      },
    );
  };
}

/** A WebSocket connector has no timeout of its own: the probe bounds it (a late socket is closed). */
function withTimeout(opening: Promise<Transport>, ms: number, url: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new ConnectionError('CB_ERR_CONNECTION_FAILED', `${url} did not open within ${ms} ms`, { details: { url, timeoutMs: ms } }));
    }, ms);
    opening.then(
      (t) => {
        clearTimeout(timer);
        if (late) t.close();
        else resolve(t);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Whether `host` names this machine (loopback or one of its interfaces): only then is a Unix socket the same hub's. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h.startsWith('127.')) return true;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.address.toLowerCase() === h) return true;
  }
  return false;
}
