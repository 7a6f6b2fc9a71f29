/**
 * Origins, one grammar for the whole library: the hub config's allow-lists, the window and
 * extension transports, the WebSocket Origin check. Browsers compute `event.origin`, the Origin
 * header and `sender.origin` with the WHATWG URL parser, so `normalizeOrigin` normalizes with it too:
 * an entry normalized here is byte for byte what a browser reports for the same origin, and an
 * exact string comparison (`originAllowed`) is then the whole check. `http://example.com` allows
 * exactly that origin: not `http://example.com.attacker.net` (a prefix match would), not
 * `https://example.com`, not another port. `null` (sandboxed frames, `file:`) is allowed only
 * when the list names `null` itself.
 */
import { createError } from '../errors/index.js';

/**
 * The origin as browsers serialize it, or undefined when `input` is not one. Normalized as the
 * URL parser does it: lower-case scheme and host, the default port dropped (http and ws 80,
 * https and wss 443), IDN hosts in punycode, IPv6 hosts in brackets, IPv4 in dotted decimal, a
 * trailing dot kept (browsers keep it too: it is another origin). Other schemes
 * (`chrome-extension://<id>`) keep their host, lower-cased. `"null"` stays `"null"`. Refused:
 * `*`, a path, query or fragment (even a trailing "/", which URL would take for the path "/"),
 * userinfo, whitespace and control characters (URL drops some), a backslash (URL reads "/"), a
 * port outside 1..65535 (URL keeps 0, which no page can have). `originFault` says which.
 */
export function normalizeOrigin(input: string): string | undefined {
  if (input === 'null') return input;
  let url: URL | undefined;
  try {
    // typeof: a caller in JavaScript may pass anything, and an array would pass as its string.
    if (typeof input === 'string' && /^[a-z][a-z\d+.-]*:\/\/[^\0- /?#@\\\x7f]+$/i.test(input) && !/:0+$/.test(input)) url = new URL(input);
  } catch {
    // not an origin
  }
  return url?.host ? `${url.protocol}//${url.host.toLowerCase()}` : undefined;
}

/** Why `normalizeOrigin` refused a string; kept apart so that the page client does not carry it. */
export type OriginFault =
  /** `*`: origins are listed exactly. */
  | { readonly fault: 'wildcard' }
  /** A path, query or fragment (a trailing "/" too), starting at index `at`. */
  | { readonly fault: 'path'; readonly at: number }
  /** A port outside 1..65535, as written. */
  | { readonly fault: 'port'; readonly port: string }
  /** Anything else: no `scheme://`, userinfo, whitespace, a host the URL parser refuses. */
  | { readonly fault: 'form' };

/** The first reason `input` is not an origin, for error messages: call it when `normalizeOrigin` refused `input`. */
export function originFault(input: string): OriginFault {
  if (input === '*') return { fault: 'wildcard' };
  const start = /^[a-z][a-z\d+.-]*:\/\//i.exec(input)?.[0].length;
  const at = start === undefined ? -1 : input.slice(start).search(/[/?#]/);
  if (start !== undefined && at >= 0) return { fault: 'path', at: start + at };
  const port = /:(\d+)$/.exec(input)?.[1];
  if (start !== undefined && port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return { fault: 'port', port };
  return { fault: 'form' };
}

/**
 * An allow-list given as an option, normalized (`normalizeOrigin`: `HTTPS://A.example:443` is
 * `https://a.example`, as a browser reports it) and de-duplicated. Throws CB_ERR_INVALID_OPTION
 * naming `option` for an entry that is not an origin.
 */
export function normalizeAllowedOrigins(list: readonly string[], option: string): string[] {
  const out: string[] = [];
  for (const entry of list) {
    const normal = normalizeOrigin(entry);
    if (normal === undefined)
      throw createError('CB_ERR_INVALID_OPTION', `${option}: ${JSON.stringify(entry)} ${originProblem(entry)}`, { details: { option } });
    if (!out.includes(normal)) out.push(normal);
  }
  return out;
}

/**
 * Exact comparison, nothing else: browsers report origins normalized, so the list must be
 * normalized too (`normalizeOrigin`). `'null'` only when listed.
 */
export function originAllowed(allowed: readonly string[], origin: string | null | undefined): boolean {
  if (typeof origin !== 'string' || origin === '') return false;
  for (const a of allowed) if (a === origin) return true;
  return false;
}

/**
 * Why `origin` is not exactly an origin as browsers report it (normalized), or undefined when it
 * is one. `'null'` is one; whether it may be used is the caller's decision.
 */
export function originProblem(origin: unknown): string | undefined {
  if (typeof origin !== 'string') return 'must be a string';
  const normal = normalizeOrigin(origin);
  if (normal === origin) return undefined;
  if (normal !== undefined) return `must be written as browsers report it (lower-case, no default port): ${JSON.stringify(normal)}`;
  const f = originFault(origin);
  if (f.fault === 'wildcard') return 'must be one exact origin, not "*"';
  return f.fault === 'port' ? `has port ${f.port}, outside 1..65535` : 'must be scheme://host[:port], without a path';
}
