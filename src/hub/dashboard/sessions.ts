/**
 * The dashboard's HTTP sessions: who logged in, until when, with which CSRF token, and the bus
 * key the page connects with. A session id and its CSRF token are 256 random bits each; a session
 * ends when unused for `idleTimeoutMs` or `maxSessionMs` after login, whichever comes first, and at
 * logout. Its bus key is a secret the page made (it never leaves the page's memory and is never
 * served back): the hub accepts it for the session's app only while the session lives, so the
 * page's bus connection is closed when the session ends (see HubSecurityOptions.extraKeys).
 */
import { randomBytes } from 'node:crypto';
import { createError } from '../../core/errors/index.js';
import type { AppKey } from '../../core/config/app-schema.js';
import type { DashboardLimits } from './options.js';

/** Key ids of dashboard bus keys start with this (audit entries and sessions tell them apart). */
export const DASHBOARD_KEY_PREFIX = 'dashboard-';

export interface DashboardSession {
  /** The cookie's value: 64 hex digits. */
  readonly id: string;
  /** The synchronizer token every state-changing request carries (x-csrf-token). */
  readonly csrf: string;
  /** The admin app that logged in. */
  readonly app: string;
  readonly createdAt: number;
  lastSeenAt: number;
  busKey: AppKey | undefined;
}

export class DashboardSessions {
  readonly #limits: DashboardLimits;
  readonly #now: () => number;
  readonly #byId = new Map<string, DashboardSession>();
  /** Each app's live bus keys, rebuilt when one is added or removed (read at every handshake). */
  readonly #keysByApp = new Map<string, readonly AppKey[]>();

  constructor(limits: DashboardLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** A new session for `app`; CB_ERR_TOO_MANY_CONNECTIONS when `maxSessions` are open. */
  create(app: string): DashboardSession {
    this.sweep();
    if (this.#byId.size >= this.#limits.maxSessions) {
      throw createError(
        'CB_ERR_TOO_MANY_CONNECTIONS',
        `too many dashboard sessions (${this.#limits.maxSessions}); log out of one or wait`,
        {
          details: { maxSessions: this.#limits.maxSessions },
        },
      );
    }
    const now = this.#now();
    const session: DashboardSession = {
      id: randomBytes(32).toString('hex'),
      csrf: randomBytes(32).toString('hex'),
      app,
      createdAt: now,
      lastSeenAt: now,
      busKey: undefined,
    };
    this.#byId.set(session.id, session);
    return session;
  }

  /** The live session with this id, or undefined (unknown, or ended: then it is removed). */
  get(id: string | undefined): DashboardSession | undefined {
    if (id === undefined) return undefined;
    const s = this.#byId.get(id);
    if (s === undefined) return undefined;
    if (!this.#alive(s, this.#now())) {
      this.end(s);
      return undefined;
    }
    return s;
  }

  /** The person used the session: its idle clock starts again. */
  touch(s: DashboardSession): void {
    s.lastSeenAt = this.#now();
  }

  /** When the session ends unless touched again. */
  expiresAt(s: DashboardSession): number {
    return Math.min(s.lastSeenAt + this.#limits.idleTimeoutMs, s.createdAt + this.#limits.maxSessionMs);
  }

  /** Ends the session (logout, expiry). Returns whether it had a bus key (its connection must go). */
  end(s: DashboardSession): boolean {
    if (this.#byId.get(s.id) !== s) return false;
    this.#byId.delete(s.id);
    const hadKey = s.busKey !== undefined;
    if (hadKey) {
      s.busKey = undefined;
      this.#rebuildKeys(s.app);
    }
    return hadKey;
  }

  /**
   * Sets the session's bus key (replacing the one before: a reloaded page makes a new one), valid
   * until the session's absolute end. Returns the key's id.
   */
  setBusKey(s: DashboardSession, secret: Uint8Array): string {
    const id = `${DASHBOARD_KEY_PREFIX}${randomBytes(8).toString('hex')}`;
    s.busKey = Object.freeze({ id, secret: new Uint8Array(secret), expiresAt: s.createdAt + this.#limits.maxSessionMs });
    this.#rebuildKeys(s.app);
    return id;
  }

  /** The bus keys of `app`'s live sessions (HubSecurityOptions.extraKeys). */
  busKeysOf(app: string): readonly AppKey[] | undefined {
    const keys = this.#keysByApp.get(app);
    if (keys === undefined) return undefined;
    const now = this.#now();
    // An ended session not yet swept must not authenticate anything.
    for (const s of this.#byId.values()) if (s.app === app && s.busKey !== undefined && !this.#alive(s, now)) this.end(s);
    return this.#keysByApp.get(app);
  }

  /** Ends every session past its time. Returns how many of them had a bus key. */
  sweep(): number {
    const now = this.#now();
    let withKeys = 0;
    for (const s of [...this.#byId.values()]) if (!this.#alive(s, now) && this.end(s)) withKeys++;
    return withKeys;
  }

  /** Ends every session (the hub closes). */
  clear(): void {
    this.#byId.clear();
    this.#keysByApp.clear();
  }

  #alive(s: DashboardSession, now: number): boolean {
    return now < this.expiresAt(s);
  }

  #rebuildKeys(app: string): void {
    const keys: AppKey[] = [];
    for (const s of this.#byId.values()) if (s.app === app && s.busKey !== undefined) keys.push(s.busKey);
    if (keys.length === 0) this.#keysByApp.delete(app);
    else this.#keysByApp.set(app, Object.freeze(keys));
  }
}
