/**
 * The dashboard the hub serves under `/dashboard/` on its WebSocket port: the built page, and a
 * small API for its login (`/dashboard/api/…`). An admin app's id and secret make a session (a
 * cookie); the page then makes a bus secret of its own, registers it with the session (CSRF token
 * and Origin checked) and connects to the bus as that admin app, holding the secret in memory
 * only. Everything else the page does goes over the bus, behind the app's grants; the session's
 * end (logout, idle, age) drops its bus key and closes its connection.
 *
 * API (JSON; every POST needs an allowed Origin, and all but login the session's CSRF token):
 * `POST login {app, secret}` → `{app, csrf, expiresAt}` and the cookie; `GET session` → the same
 * (and the idle clock starts again); `POST bus-key {secret}` → `{keyId}`; `POST logout`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createError, isCrossbusError, type CrossbusError } from '../../core/errors/index.js';
import type { HubConfig } from '../../core/config/schema.js';
import type { AuditSink } from '../../core/security/audit.js';
import type { BrokerSecurity } from '../../core/security/broker-security.js';
import { fromBase64 } from '../../core/security/bytes.js';
import { MIN_SECRET_BYTES } from '../../core/defaults.js';
import type { AppKey } from '../../core/config/app-schema.js';
import { unrefTimer } from '../../core/util/timers.js';
import { checkAdminLogin } from './credentials.js';
import {
  CSRF_HEADER,
  DASHBOARD_PATH,
  SESSION_COOKIE,
  clearedCookie,
  cookieValue,
  csrfMatches,
  hostOrigin,
  readJsonBody,
  securityHeaders,
  sendError,
  sendJson,
  sessionCookie,
  wsOrigin,
} from './http-guard.js';
import { LoginLimiter } from './login-limiter.js';
import { dashboardLimits, type DashboardOptions } from './options.js';
import { DashboardSessions, type DashboardSession } from './sessions.js';
import { defaultDashboardDir, loadStaticFiles, type StaticFile } from './static-files.js';

export interface DashboardDeps {
  /** The hub's security (undefined until set up, and on an insecure hub: then every login is refused). */
  security(): (Pick<BrokerSecurity, 'check'> & { readonly current: HubConfig }) | undefined;
  audit(): AuditSink;
  /** A session's bus key is gone: close the connections it opened. */
  reapply(): void;
}

const API = `${DASHBOARD_PATH}/api/`;

export class Dashboard {
  readonly sessions: DashboardSessions;
  readonly #files: ReadonlyMap<string, StaticFile>;
  readonly #limiter: LoginLimiter;
  readonly #now: () => number;
  readonly #deps: DashboardDeps;
  readonly #givenOrigins: readonly string[] | undefined;
  #origins: readonly string[] = [];
  #headers: Record<string, string> = securityHeaders([]);
  #sweeper: ReturnType<typeof setInterval> | undefined;

  private constructor(options: DashboardOptions, files: ReadonlyMap<string, StaticFile>, deps: DashboardDeps) {
    const limits = dashboardLimits(options);
    this.#now = options.now ?? Date.now;
    this.#files = files;
    this.#deps = deps;
    this.#givenOrigins = options.origins;
    this.sessions = new DashboardSessions(limits, this.#now);
    this.#limiter = new LoginLimiter(limits.loginAttempts, limits.loginWindowMs, this.#now);
    this.#sweeper = setInterval(() => this.sweep(), limits.sweepIntervalMs);
    unrefTimer(this.#sweeper);
  }

  /** Loads the built page (CB_ERR_INVALID_OPTION when it is missing) and checks the options. */
  static async open(options: DashboardOptions, deps: DashboardDeps): Promise<Dashboard> {
    dashboardLimits(options);
    const files = await loadStaticFiles(options.dir ?? defaultDashboardDir());
    return new Dashboard(options, files, deps);
  }

  /** The hub listens: the dashboard's origins (unless given) are its address's. */
  listening(host: string, port: number): void {
    const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
    const hosts = loopback ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') ? `[${host}]` : host];
    this.#origins = this.#givenOrigins ?? hosts.map((h) => `http://${h}:${port}`);
    this.#headers = securityHeaders(this.#origins.map(wsOrigin));
  }

  /** The URL a person opens. */
  get url(): string {
    return `${this.#origins[0] ?? ''}${DASHBOARD_PATH}/`;
  }

  /** For the WebSocket listener: the page's own origin may connect (it still authenticates). */
  originAllowed(origin: string | undefined): boolean {
    return origin !== undefined && this.#origins.includes(origin);
  }

  /** HubSecurityOptions.extraKeys. */
  readonly busKeysOf = (app: string): readonly AppKey[] | undefined => this.sessions.busKeysOf(app);

  /** Ends sessions past their time; their bus connections are closed. */
  sweep(): void {
    if (this.sessions.sweep() > 0) this.#deps.reapply();
  }

  close(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.sessions.clear();
  }

  /** The `http` hook of the WebSocket listener: true when the request was the dashboard's. */
  readonly http = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
    // DNS rebinding: a page of another site that resolves to this hub names its own host.
    const secure = this.#origins.some((o) => o.startsWith('https:'));
    const self = hostOrigin(req, secure ? 'https' : 'http');
    if (self === undefined || !this.#origins.includes(self)) {
      res.writeHead(421, { ...this.#headers, 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('misdirected request: this host does not serve the dashboard\n');
      return true;
    }
    if (path.startsWith(API)) {
      this.#api(path.slice(API.length), req, res, secure).catch((err: unknown) => this.#fail(res, err));
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...this.#headers, allow: 'GET, HEAD', 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (path === DASHBOARD_PATH) {
      res.writeHead(308, { ...this.#headers, location: `${DASHBOARD_PATH}/`, 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    const rest = path.slice(DASHBOARD_PATH.length);
    const file = this.#files.get(rest === '/' ? '/index.html' : rest);
    if (file === undefined) {
      res.writeHead(404, { ...this.#headers, 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('not found\n');
      return true;
    }
    res.writeHead(200, { ...this.#headers, 'content-type': file.type, 'cache-control': file.cache, 'content-length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };

  async #api(route: string, req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    if (route === 'session' && req.method === 'GET') {
      const s = this.#session(req);
      this.sessions.touch(s);
      sendJson(res, this.#headers, 200, this.#describe(s));
      return;
    }
    if (req.method !== 'POST') throw createError('CB_ERR_PAYLOAD_INVALID', `no ${req.method ?? ''} ${API}${route}`);
    const origin = req.headers.origin;
    if (origin === undefined || !this.#origins.includes(origin)) {
      throw createError('CB_ERR_ORIGIN_REFUSED', 'this request must come from the dashboard page itself (Origin)');
    }
    if (route === 'login') return this.#login(req, res, secure);
    const s = this.#session(req);
    if (!csrfMatches(req.headers[CSRF_HEADER], s.csrf)) {
      this.#deps.audit().record({
        actor: { app: s.app, address: address(req) },
        action: 'dashboard',
        target: route,
        outcome: 'denied',
        reason: 'CSRF token missing or wrong',
      });
      throw createError('CB_ERR_FORBIDDEN', 'the CSRF token is missing or wrong: reload the dashboard');
    }
    this.sessions.touch(s);
    if (route === 'logout') {
      if (this.sessions.end(s)) this.#deps.reapply();
      this.#deps.audit().record({ actor: { app: s.app, address: address(req) }, action: 'dashboard-logout', outcome: 'success' });
      sendJson(res, this.#headers, 200, { ok: true }, { 'set-cookie': clearedCookie(secure) });
      return;
    }
    if (route === 'bus-key') {
      const body = await readJsonBody(req);
      const secret = typeof body?.secret === 'string' ? fromBase64(body.secret) : undefined;
      if (secret === undefined || secret.length < MIN_SECRET_BYTES || secret.length > 64) {
        throw createError('CB_ERR_PAYLOAD_INVALID', `bus-key takes { secret: base64 of ${MIN_SECRET_BYTES} to 64 random bytes }`);
      }
      const hadKey = s.busKey !== undefined;
      const keyId = this.sessions.setBusKey(s, secret);
      secret.fill(0);
      // The page reloaded: the connection of its previous key must not outlive it.
      if (hadKey) this.#deps.reapply();
      this.#deps
        .audit()
        .record({ actor: { app: s.app, address: address(req) }, action: 'dashboard-bus-key', target: keyId, outcome: 'success' });
      sendJson(res, this.#headers, 200, { keyId });
      return;
    }
    throw createError('CB_ERR_PAYLOAD_INVALID', `no POST ${API}${route}`);
  }

  async #login(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const from = address(req);
    const wait = this.#limiter.attempt(from);
    if (wait !== undefined) {
      this.#deps.audit().record({ actor: { address: from }, action: 'dashboard-login', outcome: 'denied', reason: 'CB_ERR_RATE_LIMITED' });
      throw createError('CB_ERR_RATE_LIMITED', 'too many login attempts: wait a little', { details: { retryAfterMs: wait } });
    }
    const body = await readJsonBody(req);
    const app = body?.app;
    const secret = body?.secret;
    if (typeof app !== 'string' || typeof secret !== 'string' || app.length > 256 || secret.length > 1024) {
      throw createError('CB_ERR_PAYLOAD_INVALID', 'login takes { app: string, secret: string }');
    }
    const security = this.#deps.security();
    try {
      if (security === undefined) throw createError('CB_ERR_AUTH_FAILED', 'this hub has no apps to log in as (started --insecure)');
      checkAdminLogin(security.current, security, app, secret, this.#now());
    } catch (err) {
      const code = isCrossbusError(err) ? err.code : 'CB_ERR_INTERNAL';
      this.#deps.audit().record({ actor: { app, address: from }, action: 'dashboard-login', outcome: 'denied', reason: code });
      throw err;
    }
    const s = this.sessions.create(app);
    this.#deps.audit().record({ actor: { app, address: from }, action: 'dashboard-login', outcome: 'success' });
    sendJson(res, this.#headers, 200, this.#describe(s), { 'set-cookie': sessionCookie(s.id, secure) });
  }

  #session(req: IncomingMessage): DashboardSession {
    const s = this.sessions.get(cookieValue(req, SESSION_COOKIE));
    if (s === undefined) throw createError('CB_ERR_AUTH_REQUIRED', 'log in to the dashboard (no session, or it ended)');
    return s;
  }

  #describe(s: DashboardSession): { app: string; csrf: string; expiresAt: number } {
    return { app: s.app, csrf: s.csrf, expiresAt: this.sessions.expiresAt(s) };
  }

  #fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const e: CrossbusError = isCrossbusError(err) ? err : createError('CB_ERR_INTERNAL', 'the dashboard request failed');
    sendError(res, this.#headers, e);
  }
}

const address = (req: IncomingMessage): string => req.socket.remoteAddress ?? 'unknown';

type HttpHook = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The dashboard's routes first (they are under /dashboard/ only), then the hub's other endpoints. */
export function withDashboard(dashboard: Dashboard | undefined, endpoints: HttpHook): HttpHook {
  return dashboard === undefined ? endpoints : (req, res) => dashboard.http(req, res) || endpoints(req, res);
}
