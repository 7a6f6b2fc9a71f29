/**
 * What every dashboard response carries and what every dashboard request must show: the security
 * headers (a CSP without 'unsafe-inline' or 'unsafe-eval', no framing, no sniffing, no referrer),
 * the Host and Origin checks, the session cookie and the CSRF token's comparison.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CrossbusError } from '../../core/errors/index.js';

/** The session cookie: HttpOnly, SameSite=Strict, scoped to the dashboard's path. */
export const SESSION_COOKIE = 'cb_dashboard';
/** The header that carries the CSRF token on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';
/** Where the dashboard lives on the hub's HTTP port. */
export const DASHBOARD_PATH = '/dashboard';
/** Largest request body the dashboard's API reads (a login: an app name and a secret). */
export const MAX_BODY_BYTES = 8 * 1024;

/** The headers of every dashboard response; `connect` lists the WebSocket origins the page may reach. */
export function securityHeaders(connect: readonly string[]): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${connect.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

/** The WebSocket origin of an http(s) origin: what the page's bus connection goes to. */
export const wsOrigin = (origin: string): string => origin.replace(/^http/, 'ws');

/** The request's Host, as an origin of the same scheme as `like`, or undefined. */
export function hostOrigin(req: IncomingMessage, scheme: 'http' | 'https'): string | undefined {
  const host = req.headers.host;
  return host === undefined ? undefined : `${scheme}://${host.toLowerCase()}`;
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=${DASHBOARD_PATH}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=${DASHBOARD_PATH}; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads a JSON object body of at most MAX_BODY_BYTES; undefined when it is not one. */
export function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Record<string, unknown> | undefined): void => {
      if (!done) {
        done = true;
        resolve(v);
      }
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        finish(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        finish(typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
      } catch {
        finish(undefined);
      }
    });
    req.on('error', () => finish(undefined));
  });
}

/** HTTP status of a refusal, by its code. */
export function statusOf(code: string): number {
  switch (code) {
    case 'CB_ERR_AUTH_REQUIRED':
    case 'CB_ERR_AUTH_FAILED':
      return 401;
    case 'CB_ERR_FORBIDDEN':
    case 'CB_ERR_ORIGIN_REFUSED':
      return 403;
    case 'CB_ERR_RATE_LIMITED':
      return 429;
    case 'CB_ERR_TOO_MANY_CONNECTIONS':
      return 503;
    default:
      return 400;
  }
}

/** A JSON response with the dashboard's headers and no caching. */
export function sendJson(
  res: ServerResponse,
  headers: Record<string, string>,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, ...extra, 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The refusal as JSON: `{ error: { code, message } }` (details only where they hold no secret: retryAfterMs). */
export function sendError(res: ServerResponse, headers: Record<string, string>, err: CrossbusError): void {
  const retryAfterMs = (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  const extra: Record<string, string> = typeof retryAfterMs === 'number' ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } : {};
  sendJson(
    res,
    headers,
    statusOf(err.code),
    { error: { code: err.code, message: err.message, ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}) } },
    extra,
  );
}
