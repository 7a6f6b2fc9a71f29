import { ConfigError } from '../../core/errors/index.js';

/** A hub address over a socket: `tcp://host:port`, `tls://host:port` or `unix:///absolute/path`. */
export type NetAddress = { kind: 'tcp' | 'tls'; host: string; port: number; url: string } | { kind: 'unix'; path: string; url: string };

/** Whether `url` names a socket transport (tcp://, tls://, unix://). */
export function isNetUrl(url: string): boolean {
  return /^(tcp|tls|unix):\/\//i.test(url);
}

/**
 * Parses a socket URL. Throws CB_ERR_INVALID_OPTION for anything else, for a port outside
 * 1..65535 and for a Unix path that is not absolute. IPv6 hosts are written in brackets.
 */
export function parseNetUrl(url: string): NetAddress {
  const m = /^(tcp|tls|unix):\/\/(.*)$/i.exec(url);
  if (m === null) throw invalid(url, 'expected tcp://host:port, tls://host:port or unix:///path');
  const kind = (m[1] as string).toLowerCase() as 'tcp' | 'tls' | 'unix';
  const rest = m[2] as string;
  if (kind === 'unix') {
    let path: string;
    try {
      path = decodeURIComponent(rest);
    } catch {
      throw invalid(url, 'the path is not valid percent-encoding');
    }
    if (!path.startsWith('/') || path.length < 2) throw invalid(url, 'a Unix socket path must be absolute: unix:///path/to/hub.sock');
    return { kind, path, url: `unix://${path}` };
  }
  const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(rest);
  if (hp === null) throw invalid(url, `expected ${kind}://host:port`);
  const port = Number(hp[2]);
  if (port < 1 || port > 65535) throw invalid(url, 'the port must be in 1..65535');
  const bracketed = hp[1] as string;
  const host = bracketed.startsWith('[') ? bracketed.slice(1, -1) : bracketed;
  return { kind, host, port, url: `${kind}://${bracketed}:${port}` };
}

/** The URL of a host and port, IPv6 in brackets. */
export function hostPortUrl(kind: 'tcp' | 'tls', host: string, port: number): string {
  return `${kind}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function invalid(url: string, why: string): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', `bad hub address ${JSON.stringify(url)}: ${why}`, { details: { url } });
}
