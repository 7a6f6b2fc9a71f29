/**
 * The dashboard's HTTP session with its hub (`/dashboard/api/…`): login, the session's state, the
 * bus key, logout. The session cookie is HttpOnly (this code never sees it); the CSRF token lives
 * in memory only and goes with every state-changing request.
 */

export interface SessionInfo {
  app: string;
  csrf: string;
  expiresAt: number;
}

/** A refusal from the hub, with its CB_ERR_* code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const API = '/dashboard/api/';

async function call<T>(route: string, init: { method: 'GET' | 'POST'; body?: unknown; csrf?: string }): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.csrf !== undefined) headers['x-csrf-token'] = init.csrf;
  const res = await fetch(API + route, {
    method: init.method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiError(body.error?.code ?? 'CB_ERR_INTERNAL', body.error?.message ?? `HTTP ${res.status}`, res.status);
  return body as T;
}

export const login = (app: string, secret: string): Promise<SessionInfo> => call('login', { method: 'POST', body: { app, secret } });

/** The live session (and its idle clock starts again), or an ApiError CB_ERR_AUTH_REQUIRED. */
export const currentSession = (): Promise<SessionInfo> => call('session', { method: 'GET' });

export const registerBusKey = (csrf: string, secret: string): Promise<{ keyId: string }> =>
  call('bus-key', { method: 'POST', body: { secret }, csrf });

export const logout = (csrf: string): Promise<unknown> => call('logout', { method: 'POST', body: {}, csrf });
