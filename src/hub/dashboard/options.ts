/**
 * The dashboard's options (`startHub({ dashboard })`) and every default of its login and sessions,
 * in one place. Sessions are short on purpose: the dashboard can grant consent and replay dead
 * letters, so a forgotten tab must stop being able to after a while.
 */
import { ConfigError } from '../../core/errors/index.js';

/** A session unused this long ends (the page touches it while a person works in it). */
export const DEFAULT_DASHBOARD_IDLE_TIMEOUT_MS = 15 * 60_000;
/** A session ends this long after login, used or not. */
export const DEFAULT_DASHBOARD_MAX_SESSION_MS = 8 * 60 * 60_000;
/** Sessions open at once, across every admin app: a login past it is refused until one ends. */
export const DEFAULT_DASHBOARD_MAX_SESSIONS = 32;
/** Login attempts one address may make per window (successful or not). */
export const DEFAULT_DASHBOARD_LOGIN_ATTEMPTS = 10;
/** The window of DEFAULT_DASHBOARD_LOGIN_ATTEMPTS. */
export const DEFAULT_DASHBOARD_LOGIN_WINDOW_MS = 60_000;
/** How often ended sessions are swept (their bus keys dropped, their bus connections closed). */
export const DEFAULT_DASHBOARD_SWEEP_INTERVAL_MS = 15_000;
/** Addresses whose login attempts are counted at once; past it the oldest window is forgotten. */
export const DEFAULT_DASHBOARD_MAX_TRACKED_ADDRESSES = 10_000;

export interface DashboardOptions {
  /** The built dashboard (index.html and assets/). @default `dist/dashboard` of this package */
  dir?: string;
  /**
   * The origins (scheme://host:port) the dashboard is reached at: the `Host` of every dashboard
   * request and the `Origin` of every state-changing one must be one of them, and its WebSocket is
   * let in. An https origin (behind a TLS proxy) makes the session cookie `Secure`.
   * @default the hub's own: http://<host>:<port>, and the localhost names when bound to loopback
   */
  origins?: readonly string[];
  /** @default DEFAULT_DASHBOARD_IDLE_TIMEOUT_MS */
  idleTimeoutMs?: number;
  /** @default DEFAULT_DASHBOARD_MAX_SESSION_MS */
  maxSessionMs?: number;
  /** @default DEFAULT_DASHBOARD_MAX_SESSIONS */
  maxSessions?: number;
  /** @default DEFAULT_DASHBOARD_LOGIN_ATTEMPTS */
  loginAttempts?: number;
  /** @default DEFAULT_DASHBOARD_LOGIN_WINDOW_MS */
  loginWindowMs?: number;
  /** @default DEFAULT_DASHBOARD_SWEEP_INTERVAL_MS */
  sweepIntervalMs?: number;
  /** For tests: the clock sessions and login windows read. @default Date.now */
  now?: () => number;
}

export interface DashboardLimits {
  readonly idleTimeoutMs: number;
  readonly maxSessionMs: number;
  readonly maxSessions: number;
  readonly loginAttempts: number;
  readonly loginWindowMs: number;
  readonly sweepIntervalMs: number;
}

/** The options' limits with their defaults, each a positive whole number (CB_ERR_INVALID_OPTION otherwise). */
export function dashboardLimits(o: DashboardOptions): DashboardLimits {
  const limits: DashboardLimits = {
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_DASHBOARD_IDLE_TIMEOUT_MS,
    maxSessionMs: o.maxSessionMs ?? DEFAULT_DASHBOARD_MAX_SESSION_MS,
    maxSessions: o.maxSessions ?? DEFAULT_DASHBOARD_MAX_SESSIONS,
    loginAttempts: o.loginAttempts ?? DEFAULT_DASHBOARD_LOGIN_ATTEMPTS,
    loginWindowMs: o.loginWindowMs ?? DEFAULT_DASHBOARD_LOGIN_WINDOW_MS,
    sweepIntervalMs: o.sweepIntervalMs ?? DEFAULT_DASHBOARD_SWEEP_INTERVAL_MS,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `dashboard.${name} must be a positive whole number, got ${String(value)}`, {
        details: { option: `dashboard.${name}` },
      });
    }
  }
  return limits;
}
