/**
 * User consent for grants marked `ask`. The hub holds the operation and calls `request`; a person
 * answers through the CLI (`crossbus consent grant|deny`), which reaches `decide`. Decisions are
 * per (app, action, grant pattern), so one answer covers every topic of that grant, and they are
 * persisted so a restart does not ask again. A request nobody answers times out as a denial of
 * that request only: silence must not become a permanent "no" the person never gave.
 *
 * Everything observable is reported through `onEvent`, which the hub turns into audit entries
 * (`consentAuditEvent`) and uses to end subscriptions whose consent was revoked.
 */
import { createError, ConfigError, type CrossbusError } from '../errors/index.js';
import { randomHex } from '../util/random.js';
import type { AuditEvent } from './audit.js';
import {
  CONSENT_ACTIONS,
  parseConsentState,
  type ConsentAction,
  type ConsentCommand,
  type ConsentDecision,
  type ConsentRequest,
  type ConsentState,
} from './consent-state.js';
import type { Awaitable } from './crypto.js';
import { unrefTimer } from '../util/timers.js';

export * from './consent-state.js';
import { DEFAULT_CONSENT_TIMEOUT_MS, DEFAULT_MAX_PENDING_CONSENTS } from '../defaults.js';
/** How long a request waits for a person (shared with the config schema). @default 60_000 */

/** Longest delay a setTimeout accepts; longer expiries are reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;
/** Bytes of a request id: short enough to type, and checked for collisions. */
const ID_BYTES = 4;

export interface ConsentPersistence {
  load(): Awaitable<ConsentState>;
  save(state: ConsentState): Awaitable<void>;
}

export type ConsentEvent =
  | { readonly type: 'requested'; readonly request: ConsentRequest }
  | { readonly type: 'decided'; readonly request: ConsentRequest; readonly decision: ConsentDecision }
  /** The request expired unanswered: its waiters were refused; no decision was stored. */
  | { readonly type: 'timeout'; readonly request: ConsentRequest; readonly outcome: 'denied' }
  /** A decision was removed; if it was a grant, operations relying on it must end. */
  | { readonly type: 'revoked'; readonly decision: ConsentDecision; readonly by?: string }
  /** Saving failed; memory stays authoritative and the next change tries again. */
  | { readonly type: 'error'; readonly error: unknown };

export interface ConsentManagerOptions {
  store: ConsentPersistence;
  /** How long a request waits for a person. @default DEFAULT_CONSENT_TIMEOUT_MS (60_000) */
  timeoutMs?: number;
  /** @default DEFAULT_MAX_PENDING_CONSENTS */
  maxPending?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout, unref'd where the runtime allows, so a pending prompt never keeps a process alive */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** @default clearTimeout */
  clearTimer?: (handle: unknown) => void;
  onEvent?: (event: ConsentEvent) => void;
}

export type ConsentCommandResult =
  | { readonly ok: true; readonly decision: ConsentDecision }
  | { readonly ok: false; readonly reason: string };

interface Waiter {
  resolve: (v: 'granted') => void;
  reject: (e: CrossbusError) => void;
}
interface Pending {
  readonly request: ConsentRequest;
  readonly waiters: Set<Waiter>;
  timer: unknown;
}

const keyOf = (app: string, action: string, pattern: string): string => `${app}\u0000${action}\u0000${pattern}`;

function defaultSetTimer(fn: () => void, ms: number): unknown {
  const t = setTimeout(fn, ms);
  unrefTimer(t);
  return t;
}
const defaultClearTimer = (h: unknown): void => clearTimeout(h as ReturnType<typeof setTimeout>);

function invalid(option: string, message: string): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', `${option}: ${message}`, { details: { option } });
}

export class ConsentManager {
  private readonly store: ConsentPersistence;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly onEvent: ((event: ConsentEvent) => void) | undefined;
  private readonly decisions = new Map<string, ConsentDecision>();
  private readonly pending = new Map<string, Pending>();
  private readonly pendingByKey = new Map<string, Pending>();
  private saving: Promise<void> = Promise.resolve();
  private loaded = false;
  private closed = false;

  constructor(options: ConsentManagerOptions) {
    const o = options as Partial<ConsentManagerOptions> | undefined;
    if (typeof o?.store?.load !== 'function' || typeof o.store.save !== 'function') throw invalid('store', 'must have load() and save()');
    this.store = o.store;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_CONSENT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0)
      throw invalid('timeoutMs', `must be a positive finite number, got ${String(this.timeoutMs)}`);
    this.maxPending = o.maxPending ?? DEFAULT_MAX_PENDING_CONSENTS;
    if (!Number.isSafeInteger(this.maxPending) || this.maxPending < 1)
      throw invalid('maxPending', `must be an integer >= 1, got ${String(this.maxPending)}`);
    for (const f of ['now', 'setTimer', 'clearTimer', 'onEvent'] as const) {
      if (o[f] !== undefined && typeof o[f] !== 'function') throw invalid(f, 'must be a function');
    }
    this.now = o.now ?? Date.now;
    this.setTimer = o.setTimer ?? defaultSetTimer;
    this.clearTimer = o.clearTimer ?? defaultClearTimer;
    this.onEvent = o.onEvent;
  }

  /** Creates a manager and loads its state; the usual way to get one. */
  static async open(options: ConsentManagerOptions): Promise<ConsentManager> {
    const m = new ConsentManager(options);
    await m.load();
    return m;
  }

  /**
   * Loads decisions and pending requests. Requests still open get their original expiry back
   * (nobody is waiting on them after a restart, but a person may still answer, and the app's
   * next attempt joins them); requests that expired while the hub was down time out now.
   */
  async load(): Promise<void> {
    if (this.loaded) return;
    const state = parseConsentState(await this.store.load(), 'consent store');
    for (const d of state.decisions) this.decisions.set(keyOf(d.app, d.action, d.pattern), d);
    const t = this.now();
    let changed = false;
    for (const r of state.pending) {
      const key = keyOf(r.app, r.action, r.pattern);
      // Answered or duplicated while stored: the decision (or the first request) wins.
      if (this.decisions.has(key) || this.pendingByKey.has(key) || this.pending.has(r.id)) {
        changed = true;
      } else if (r.expiresAt <= t) {
        changed = true;
        this.emit({ type: 'timeout', request: r, outcome: 'denied' });
      } else {
        this.track(r);
      }
    }
    this.loaded = true;
    if (changed) await this.persist();
  }

  /**
   * Resolves when consent for (app, action, pattern) is granted: at once if a person already
   * granted it, otherwise when one does. Rejects with CB_ERR_CONSENT_DENIED (denied now or
   * before) or CB_ERR_CONSENT_TIMEOUT. A request for a key already pending joins it. `signal`
   * lets the hub stop waiting (its connection closed) without withdrawing the request.
   */
  request(app: string, action: ConsentAction, pattern: string, target: string, options: { signal?: AbortSignal } = {}): Promise<'granted'> {
    try {
      this.assertOpen();
      if (typeof app !== 'string' || app === '') throw invalid('app', 'must be a non-empty string');
      if (!CONSENT_ACTIONS.includes(action)) throw invalid('action', `must be one of ${CONSENT_ACTIONS.join(', ')}`);
      if (typeof pattern !== 'string' || pattern === '') throw invalid('pattern', 'must be a non-empty string');
      if (typeof target !== 'string' || target === '') throw invalid('target', 'must be a non-empty string');
      options.signal?.throwIfAborted();
    } catch (err) {
      return Promise.reject(err);
    }
    const key = keyOf(app, action, pattern);
    const decided = this.decisions.get(key);
    if (decided?.decision === 'granted') return Promise.resolve('granted');
    if (decided !== undefined) return Promise.reject(deniedError(decided));

    let p = this.pendingByKey.get(key);
    if (p === undefined) {
      if (this.pending.size >= this.maxPending) {
        return Promise.reject(
          createError('CB_ERR_RATE_LIMITED', 'too many consent requests are waiting for a person', {
            details: { maxPending: this.maxPending },
          }),
        );
      }
      const t = this.now();
      p = this.track({ id: this.newId(), app, action, pattern, target, createdAt: t, expiresAt: t + this.timeoutMs });
      this.emit({ type: 'requested', request: p.request });
      void this.persist(); // so `crossbus consent list` shows it
    }
    const pending = p;
    return new Promise<'granted'>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        pending.waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      pending.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * A person's answer to pending request `id`: settles everyone waiting on it and stores the
   * decision. Resolves (after saving) to the decision, or to undefined if no request `id` is
   * pending (already answered, timed out, or never existed).
   */
  async decide(id: string, verdict: 'grant' | 'deny', by?: string): Promise<ConsentDecision | undefined> {
    this.assertOpen();
    if (verdict !== 'grant' && verdict !== 'deny') throw invalid('verdict', "must be 'grant' or 'deny'");
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.untrack(p);
    const { app, action, pattern } = p.request;
    const base = {
      id,
      app,
      action,
      pattern,
      decision: verdict === 'grant' ? ('granted' as const) : ('denied' as const),
      decidedAt: this.now(),
    };
    const decision: ConsentDecision = by === undefined ? base : { ...base, by };
    this.decisions.set(keyOf(app, action, pattern), decision);
    for (const w of p.waiters) {
      if (decision.decision === 'granted') w.resolve('granted');
      else w.reject(deniedError(decision));
    }
    this.emit({ type: 'decided', request: p.request, decision });
    await this.persist();
    return decision;
  }

  /**
   * Removes a decision, given its id or its key, so the app is asked again next time. Removing a
   * grant emits 'revoked' so the hub can end subscriptions that relied on it. Resolves to the
   * removed decision, or undefined if there was none.
   */
  revoke(id: string, by?: string): Promise<ConsentDecision | undefined>;
  revoke(app: string, action: ConsentAction, pattern: string, by?: string): Promise<ConsentDecision | undefined>;
  async revoke(...args: [string, string?] | [string, ConsentAction, string, string?]): Promise<ConsentDecision | undefined> {
    this.assertOpen();
    let key: string | undefined;
    let by: string | undefined;
    if (args.length >= 3) {
      key = keyOf(args[0], args[1] as string, args[2] as string);
      by = args[3];
    } else {
      for (const [k, d] of this.decisions) if (d.id === args[0]) key = k;
      by = args[1];
    }
    const decision = key === undefined ? undefined : this.decisions.get(key);
    if (key === undefined || decision === undefined) return undefined;
    this.decisions.delete(key);
    this.emit(by === undefined ? { type: 'revoked', decision } : { type: 'revoked', decision, by });
    await this.persist();
    return decision;
  }

  /** Carries out a command from the CLI inbox. Never throws for an unknown id: it reports it. */
  async apply(command: ConsentCommand): Promise<ConsentCommandResult> {
    const { op, id, by } = command;
    let decision: ConsentDecision | undefined;
    if (op === 'revoke') {
      decision =
        id !== undefined
          ? await this.revoke(id, by)
          : command.app !== undefined && command.action !== undefined && command.pattern !== undefined
            ? await this.revoke(command.app, command.action, command.pattern, by)
            : undefined;
      return decision === undefined ? { ok: false, reason: 'no such decision' } : { ok: true, decision };
    }
    if (id === undefined) return { ok: false, reason: `${op} needs an id` };
    decision = await this.decide(id, op, by);
    return decision === undefined ? { ok: false, reason: `no pending request ${id}` } : { ok: true, decision };
  }

  isGranted(app: string, action: ConsentAction, pattern: string): boolean {
    return this.decisions.get(keyOf(app, action, pattern))?.decision === 'granted';
  }

  decisionFor(app: string, action: ConsentAction, pattern: string): ConsentDecision | undefined {
    return this.decisions.get(keyOf(app, action, pattern));
  }

  /** A snapshot; changing it changes nothing here. */
  list(): ConsentState {
    return {
      pending: [...this.pending.values()].map((p) => ({ ...p.request })),
      decisions: [...this.decisions.values()].map((d) => ({ ...d })),
    };
  }

  /**
   * Stops timers and refuses current waiters (CB_ERR_HUB_SHUTTING_DOWN). Pending requests stay
   * stored, so the next start restores them. Resolves once the last save finished.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      this.clearTimer(p.timer);
      for (const w of p.waiters) w.reject(createError('CB_ERR_HUB_SHUTTING_DOWN', 'the hub is shutting down before consent was decided'));
      p.waiters.clear();
    }
    await this.saving;
  }

  private track(request: ConsentRequest): Pending {
    const p: Pending = { request, waiters: new Set(), timer: undefined };
    this.pending.set(request.id, p);
    this.pendingByKey.set(keyOf(request.app, request.action, request.pattern), p);
    this.schedule(p);
    return p;
  }

  private untrack(p: Pending): void {
    this.clearTimer(p.timer);
    this.pending.delete(p.request.id);
    this.pendingByKey.delete(keyOf(p.request.app, p.request.action, p.request.pattern));
  }

  private schedule(p: Pending): void {
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, p.request.expiresAt - this.now()));
    p.timer = this.setTimer(() => {
      if (this.pending.get(p.request.id) !== p || this.closed) return;
      // Timers may fire early (clamped delays, coarse clocks): the clock decides, not the timer.
      if (this.now() < p.request.expiresAt) return this.schedule(p);
      this.untrack(p);
      const err = createError('CB_ERR_CONSENT_TIMEOUT', `nobody answered consent request ${p.request.id} in time`, {
        details: { id: p.request.id, app: p.request.app, action: p.request.action, pattern: p.request.pattern },
      });
      for (const w of p.waiters) w.reject(err);
      this.emit({ type: 'timeout', request: p.request, outcome: 'denied' });
      void this.persist();
    }, delay);
  }

  private newId(): string {
    for (;;) {
      const id = randomHex(ID_BYTES);
      if (!this.pending.has(id) && ![...this.decisions.values()].some((d) => d.id === id)) return id;
    }
  }

  /** Saves are serialised and each writes the state as it is when it runs, so the last one wins. */
  private persist(): Promise<void> {
    this.saving = this.saving.then(async () => {
      try {
        await this.store.save(this.list());
      } catch (error) {
        this.emit({ type: 'error', error });
      }
    });
    return this.saving;
  }

  private emit(event: ConsentEvent): void {
    try {
      this.onEvent?.(event);
    } catch {
      // A failing listener must not leave requests half settled; it is the listener's bug to report.
    }
  }

  private assertOpen(): void {
    if (this.closed) throw createError('CB_ERR_HUB_SHUTTING_DOWN', 'the consent manager is closed');
    if (!this.loaded) throw createError('CB_ERR_INTERNAL', 'ConsentManager.load() must complete first');
  }
}

function deniedError(d: ConsentDecision): CrossbusError {
  return createError('CB_ERR_CONSENT_DENIED', `consent for ${d.action} on ${d.pattern} was denied`, {
    details: { id: d.id, app: d.app, action: d.action, pattern: d.pattern },
  });
}

/**
 * The audit entry for a consent event (the hub records it as is); undefined for 'error'. The
 * actor is the app concerned; the person who decided, when known, is `details.by`.
 */
export function consentAuditEvent(e: ConsentEvent): AuditEvent | undefined {
  const entry = (
    app: string,
    id: string,
    outcome: AuditEvent['outcome'],
    reason: string,
    details: Record<string, unknown>,
  ): AuditEvent => ({ actor: { app }, action: 'consent', target: id, outcome, reason, details });
  switch (e.type) {
    case 'requested':
      return entry(e.request.app, e.request.id, 'info', 'requested', { ...e.request });
    case 'decided':
      return entry(e.decision.app, e.decision.id, e.decision.decision === 'granted' ? 'success' : 'denied', e.decision.decision, {
        ...e.decision,
        target: e.request.target,
      });
    case 'timeout':
      return entry(e.request.app, e.request.id, 'denied', 'CB_ERR_CONSENT_TIMEOUT', { ...e.request });
    case 'revoked':
      return entry(
        e.decision.app,
        e.decision.id,
        'info',
        'revoked',
        e.by === undefined ? { ...e.decision } : { ...e.decision, revokedBy: e.by },
      );
    case 'error':
      return undefined;
  }
}
