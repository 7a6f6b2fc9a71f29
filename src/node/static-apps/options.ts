/**
 * A static web app's options (`startHub({ staticApps })`) and every default of its server, in one
 * place, with the check that turns them into a resolved app: a refused option is a typed
 * CB_ERR_INVALID_OPTION naming `staticApps[<i>].<option>`, never a server that starts weaker.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../core/errors/index.js';

/** Largest file served; a bigger one is answered 413 (bundles are rarely past a few MiB). */
export const DEFAULT_STATIC_MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Requests one app serves at once; more are answered 503 with `retry-after` at once. */
export const DEFAULT_STATIC_MAX_CONCURRENT_REQUESTS = 64;
/**
 * How long a request may take, from its first byte to the last byte of its answer: a client that
 * sends its headers slowly, or reads the answer slowly, is cut off after it.
 */
export const DEFAULT_STATIC_REQUEST_TIMEOUT_MS = 10_000;
/** Files are revalidated on every use: the ETag makes that a 304 without a body. */
export const DEFAULT_STATIC_CACHE_CONTROL = 'no-cache';
/** Who may frame an app: nobody, unless its options name the embedding pages' origins. */
export const DEFAULT_STATIC_FRAME_ANCESTORS: readonly string[] = ["'none'"];

export interface StaticAppOptions {
  /** The app's name: letters, digits, `.`, `_`, `-` (1 to 64), unique among the hub's static apps. */
  name: string;
  /** The folder served: `/` is its `index.html`. Must exist. */
  root: string;
  /** The app's own port (its own origin); 0 picks a free one. Never the hub's port. @default 0 */
  port?: number;
  /** The interface to bind. @default the hub's host */
  host?: string;
  /**
   * The names the app is reached by (`Host` without the port), besides those of `host` (its
   * address, and the localhost names when bound to loopback): a request naming any other host is
   * answered 421, which defeats DNS rebinding. @default []
   */
  hostNames?: readonly string[];
  /**
   * The origins of the pages allowed to frame the app (`frame-ancestors`): exact
   * `scheme://host[:port]` origins, or `'self'`; `'none'` alone for none. @default DEFAULT_STATIC_FRAME_ANCESTORS
   */
  frameAncestors?: readonly string[];
  /**
   * CSP directives to add or replace, by name (`{ 'img-src': "'self' data:" }`); `frame-ancestors`
   * comes from `frameAncestors`. Values may not hold `;`, `,` or line breaks. @default {}
   */
  csp?: Readonly<Record<string, string>>;
  /** `Cache-Control` of the files (every error answer is `no-store`). @default DEFAULT_STATIC_CACHE_CONTROL */
  cacheControl?: string;
  /** @default DEFAULT_STATIC_MAX_FILE_BYTES */
  maxFileBytes?: number;
  /** @default DEFAULT_STATIC_MAX_CONCURRENT_REQUESTS */
  maxConcurrentRequests?: number;
  /** @default DEFAULT_STATIC_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

/** An app's options checked, with every default applied and its root's real path. */
export interface ResolvedStaticApp {
  readonly name: string;
  /** The root's real path (symlinks resolved): every file served must be under it. */
  readonly root: string;
  readonly port: number;
  readonly host: string;
  readonly hostNames: readonly string[];
  readonly frameAncestors: readonly string[];
  readonly csp: Readonly<Record<string, string>>;
  readonly cacheControl: string;
  readonly maxFileBytes: number;
  readonly maxConcurrentRequests: number;
  readonly requestTimeoutMs: number;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ORIGIN = /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;
const DIRECTIVE = /^[a-z-]{1,64}$/;
// A header value that cannot end the directive, the policy or the header.
const DIRECTIVE_VALUE = /^[^;,\r\n\0]{0,1024}$/;
const HOST_NAME = /^[A-Za-z0-9.-]{1,253}$/;
const HEADER_VALUE = /^[\x20-\x7e]{1,256}$/;

function refuse(where: string, message: string): never {
  throw new ConfigError('CB_ERR_INVALID_OPTION', `${where} ${message}`, { details: { option: where } });
}

function positive(where: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) refuse(where, `must be a positive whole number, got ${String(value)}`);
  return value;
}

/** Checks one app's options (`index` for the messages); `hubHost` is its default `host`. */
export function resolveStaticApp(o: StaticAppOptions, index: number, hubHost: string): ResolvedStaticApp {
  const at = `staticApps[${index}]`;
  if (typeof o.name !== 'string' || !NAME.test(o.name)) refuse(`${at}.name`, 'must be 1 to 64 letters, digits, ".", "_" or "-"');
  if (typeof o.root !== 'string' || o.root === '') refuse(`${at}.root`, 'must be a folder');
  let root: string;
  try {
    root = realpathSync(isAbsolute(o.root) ? o.root : resolve(o.root));
    if (!statSync(root).isDirectory()) throw new Error('not a folder');
  } catch {
    refuse(`${at}.root`, `is not a folder that can be read: ${o.root}`);
  }
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) refuse(`${at}.port`, `must be an integer in 0..65535, got ${String(port)}`);
  const host = o.host ?? hubHost;
  const hostNames = [...(o.hostNames ?? [])];
  for (const h of hostNames) if (typeof h !== 'string' || !HOST_NAME.test(h)) refuse(`${at}.hostNames`, `holds an invalid host name`);
  const frameAncestors = [...(o.frameAncestors ?? DEFAULT_STATIC_FRAME_ANCESTORS)];
  if (frameAncestors.length === 0) refuse(`${at}.frameAncestors`, "must name at least one source ('none' for none)");
  for (const a of frameAncestors) {
    if (a === "'none'" ? frameAncestors.length > 1 : a !== "'self'" && !(typeof a === 'string' && ORIGIN.test(a)))
      refuse(`${at}.frameAncestors`, `must be exact origins (scheme://host[:port]) or 'self', or 'none' alone; got ${JSON.stringify(a)}`);
  }
  const csp: Record<string, string> = {};
  for (const [name, value] of Object.entries(o.csp ?? {})) {
    if (!DIRECTIVE.test(name) || name === 'frame-ancestors')
      refuse(`${at}.csp`, `cannot set the directive ${JSON.stringify(name)} (frame-ancestors comes from frameAncestors)`);
    if (typeof value !== 'string' || !DIRECTIVE_VALUE.test(value))
      refuse(`${at}.csp.${name}`, 'must be a source list without ";", "," or line breaks');
    csp[name] = value.trim();
  }
  const cacheControl = o.cacheControl ?? DEFAULT_STATIC_CACHE_CONTROL;
  if (typeof cacheControl !== 'string' || !HEADER_VALUE.test(cacheControl))
    refuse(`${at}.cacheControl`, 'must be a printable header value');
  return {
    name: o.name,
    root,
    port,
    host,
    hostNames,
    frameAncestors,
    csp,
    cacheControl,
    maxFileBytes: positive(`${at}.maxFileBytes`, o.maxFileBytes ?? DEFAULT_STATIC_MAX_FILE_BYTES),
    maxConcurrentRequests: positive(`${at}.maxConcurrentRequests`, o.maxConcurrentRequests ?? DEFAULT_STATIC_MAX_CONCURRENT_REQUESTS),
    requestTimeoutMs: positive(`${at}.requestTimeoutMs`, o.requestTimeoutMs ?? DEFAULT_STATIC_REQUEST_TIMEOUT_MS),
  };
}

/** Every app checked, names unique and fixed ports distinct from each other and from `hubPort`. */
export function resolveStaticApps(list: readonly StaticAppOptions[], hubHost: string, hubPort: number): ResolvedStaticApp[] {
  if (!Array.isArray(list)) refuse('staticApps', 'must be a list of apps');
  const apps = list.map((o, i) => resolveStaticApp(o, i, hubHost));
  const names = new Set<string>();
  const ports = new Set<number>(hubPort === 0 ? [] : [hubPort]);
  apps.forEach((a, i) => {
    if (names.has(a.name)) refuse(`staticApps[${i}].name`, `repeats ${JSON.stringify(a.name)}: every app needs a name of its own`);
    names.add(a.name);
    if (a.port !== 0) {
      if (ports.has(a.port))
        refuse(`staticApps[${i}].port`, `${a.port} is taken by the hub or another app: every app needs an origin of its own`);
      ports.add(a.port);
    }
  });
  return apps;
}
