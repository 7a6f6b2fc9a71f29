import { ConfigError, ConnectionError } from '../core/errors/index.js';
import type { Transport, TransportConnector } from '../core/transport/transport.js';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../transports/net/defaults.js';
import { DISCOVERY_PATH } from '../transports/websocket/websocket-server.node.js';
import { type AddressOptions, addressConnector, isLocalHost } from './address-connector.js';
import { kindOfUrl } from './transport-rank.js';

/**
 * A connector for `crossbus://host:port` (the hub's WebSocket port): each attempt asks the hub for
 * its listeners (`GET /.well-known/crossbus`), keeps those this machine can use (a Unix socket only
 * when the host is this machine; a wildcard bind address becomes `host`), and opens the fastest. A
 * hub that does not answer the question is reached over ws://host:port.
 */
export function discoveryConnector(url: string, options: AddressOptions = {}): TransportConnector {
  const m = /^crossbus:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/i.exec(url);
  if (m === null) throw new ConfigError('CB_ERR_INVALID_OPTION', `expected crossbus://host:port, got ${JSON.stringify(url)}`);
  const bracketed = m[1] as string;
  const host = bracketed.startsWith('[') ? bracketed.slice(1, -1) : bracketed;
  const port = Number(m[2]);
  const ws = `ws://${bracketed}:${port}`;
  const probeMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const local = isLocalHost(host);
  let known = '';
  let connector: TransportConnector = addressConnector([ws], options);
  return async (signal?: AbortSignal): Promise<Transport> => {
    const listeners = await discover(`http://${bracketed}:${port}${DISCOVERY_PATH}`, probeMs, signal);
    const usable = [
      ws,
      ...listeners.map((l) => rehost(l, bracketed)).filter((l) => kindOfUrl(l) !== undefined && (local || kindOfUrl(l) !== 'unix')),
    ];
    const key = usable.join(' ');
    if (key !== known) {
      known = key;
      connector = addressConnector([...new Set(usable)], options);
    }
    return connector(signal);
  };
}

/** The hub's listeners, or none when it does not say (an older hub, a proxy): the WebSocket is tried then. */
async function discover(url: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<string[]> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!res.ok) return [];
    const body = (await res.json()) as { listeners?: unknown };
    return Array.isArray(body.listeners) ? body.listeners.filter((l): l is string => typeof l === 'string').slice(0, 32) : [];
  } catch (err) {
    if (signal?.aborted) throw new ConnectionError('CB_ERR_CONNECTION_FAILED', `connecting to ${url} was aborted`, { cause: err });
    return [];
  }
}

/** A listener bound to every interface is reached at the host the client was given. */
function rehost(listener: string, host: string): string {
  return listener.replace(/^(tcp|tls|ws|wss):\/\/(0\.0\.0\.0|\[::\]):/i, `$1://${host}:`);
}
