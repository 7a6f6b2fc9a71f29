/**
 * The hub's settings service: the stored layers (global, per environment, project and user) in
 * the hub's `settings` bucket, one key per layer, one revision per version. Every write is
 * checked against the schema before it is stored (an invalid layer is never stored, the version
 * in force stays), its secrets sealed with the hub's key, its diff (secrets redacted), author and
 * time kept with it, and audited without values. Reads redact secrets unless the app may reveal
 * them. WAIT requests are answered when a layer they name changes: clients' live updates.
 * Isomorphic: the hub wires it to its stream storage, key and access policy.
 */
import { CrossbusError, createError, isCrossbusError } from '../errors/index.js';
import type { SystemRequest, SystemResponders } from '../broker/system-requests.js';
import type { AuditEvent } from '../security/audit.js';
import type { HubBucket } from '../kv/hub-bucket.js';
import { diffSettings, restartNeeded } from './diff.js';
import { ENVIRONMENT_SETTINGS } from './environment-schema.js';
import { checkLayer } from './layers.js';
import { setSetting, unsetSetting } from './paths.js';
import { redact } from './redact.js';
import { openSecrets, sealSecrets } from './secrets.js';
import type { SettingsKey } from './settings-key.js';
import { isPlainObject, layerInvalid, type SettingsLayer, type SettingsSchema } from './settings-schema.js';
import { SettingsWaiters } from './settings-waiters.js';
import {
  SETTINGS_TOPICS,
  type GetResult,
  type LayerVersion,
  type SettingsScope,
  type SettingsTarget,
  type StoredLayerVersion,
  type WriteResult,
  scopeKey,
  targetKeys,
} from './settings-wire.js';

/** Longest a WAIT is held before it is answered `changed: false`. @default 60000 */
export const DEFAULT_SETTINGS_MAX_WAIT_MS = 60_000;
/** WAITs held at once across the hub; past it a WAIT is refused with CB_ERR_RATE_LIMITED. @default 10000 */
export const DEFAULT_SETTINGS_MAX_WAITERS = 10_000;
/** Versions kept per layer (the bucket's history). @default 50 */
export const DEFAULT_SETTINGS_HISTORY = 50;
/** Tries of a write that lost a race with another write of the same layer. */
const WRITE_ATTEMPTS = 5;

export interface SettingsServiceOptions {
  /** The bucket (opened on first use: the hub's stream storage). */
  bucket: () => Promise<HubBucket>;
  /** Seals and opens secrets. */
  key: SettingsKey;
  /** The schema of the layers. @default ENVIRONMENT_SETTINGS */
  settings?: SettingsSchema;
  /** Whether `app` may have secrets revealed. */
  mayReveal(app: string): boolean;
  /** Where changes and refusals are recorded (never with values). @default nowhere */
  audit?: (event: AuditEvent) => void;
  /** @default Date.now */
  clock?: () => number;
  /** @default DEFAULT_SETTINGS_MAX_WAIT_MS */
  maxWaitMs?: number;
  /** @default DEFAULT_SETTINGS_MAX_WAITERS */
  maxWaiters?: number;
}

export class SettingsService {
  readonly #o: SettingsServiceOptions;
  readonly #settings: SettingsSchema;
  readonly #clock: () => number;
  readonly #waiters: SettingsWaiters;
  #bucket: Promise<HubBucket> | undefined;

  constructor(options: SettingsServiceOptions) {
    this.#o = options;
    this.#settings = options.settings ?? ENVIRONMENT_SETTINGS;
    this.#clock = options.clock ?? Date.now;
    this.#waiters = new SettingsWaiters(
      options.maxWaitMs ?? DEFAULT_SETTINGS_MAX_WAIT_MS,
      options.maxWaiters ?? DEFAULT_SETTINGS_MAX_WAITERS,
    );
  }

  /** The requests it answers, for the broker's system responders. */
  responders(): SystemResponders {
    const t = SETTINGS_TOPICS;
    return {
      [t.get]: (r) => this.get(r.app, field(r, 'target') as SettingsTarget, (r.data as { reveal?: unknown }).reveal === true),
      [t.set]: (r) =>
        this.set(r.app, field(r, 'scope') as SettingsScope, field(r, 'path') as string, (r.data as { value?: unknown }).value, expectOf(r)),
      [t.unset]: (r) => this.unset(r.app, field(r, 'scope') as SettingsScope, field(r, 'path') as string, expectOf(r)),
      [t.replace]: (r) => this.replace(r.app, field(r, 'scope') as SettingsScope, field(r, 'layer'), expectOf(r)),
      [t.history]: (r) => this.history(field(r, 'scope') as SettingsScope),
      [t.rollback]: (r) => this.rollback(r.app, field(r, 'scope') as SettingsScope, field(r, 'version') as number),
      [t.wait]: (r) => this.wait(field(r, 'versions') as Record<string, number>, (r.data as { timeoutMs?: unknown }).timeoutMs),
    };
  }

  async get(app: string, target: SettingsTarget, reveal: boolean): Promise<GetResult> {
    const keys = targetKeys(target);
    if (reveal && !this.#o.mayReveal(app)) {
      this.#audit(app, 'settings-reveal', keys[1]?.[1] ?? '', 'denied', 'CB_ERR_FORBIDDEN');
      throw createError('CB_ERR_FORBIDDEN', 'revealing secrets needs a request grant on $SYS.REQ.SETTINGS.REVEAL', {
        details: { action: 'request', topic: '$SYS.REQ.SETTINGS.REVEAL' },
      });
    }
    const bucket = await this.#bucketOpen();
    const out: GetResult = { layers: {}, versions: {}, revealed: reveal };
    for (const [layer, key] of keys) {
      const e = await bucket.entry<StoredLayerVersion>(key);
      out.versions[key] = e?.revision ?? 0;
      if (e?.operation !== 'put') continue;
      const stored = layerOf(e.value, key);
      out.layers[layer] = reveal ? await openSecrets(stored, this.#settings, this.#o.key) : redact(stored, this.#settings);
    }
    // An environment's configuration names it, whatever its layers say.
    if (this.#settings.root.kind === 'object' && this.#settings.root.entries.environment !== undefined) {
      out.layers.environment = { ...out.layers.environment, environment: target.env };
    }
    if (reveal) this.#audit(app, 'settings-reveal', keys[1]?.[1] ?? '', 'success');
    return out;
  }

  set(app: string, scope: SettingsScope, path: string, value: unknown, expect?: number): Promise<WriteResult> {
    return this.#write(
      app,
      scope,
      'settings-set',
      (layer) => setSetting(this.#settings, layer, checkPath(path), value),
      expect,
      undefined,
      path,
    );
  }

  unset(app: string, scope: SettingsScope, path: string, expect?: number): Promise<WriteResult> {
    return this.#write(
      app,
      scope,
      'settings-unset',
      (layer) => unsetSetting(this.#settings, layer, checkPath(path)),
      expect,
      undefined,
      path,
    );
  }

  /** A layer replaced whole (a layer file): checked as a whole, secrets given in clear sealed. */
  replace(app: string, scope: SettingsScope, layer: unknown, expect?: number): Promise<WriteResult> {
    if (!isPlainObject(layer)) throw createError('CB_ERR_CONFIG_INVALID', 'a layer must be an object', { details: { path: '' } });
    return this.#write(app, scope, 'settings-replace', () => layer as SettingsLayer, expect, 'replaced');
  }

  async history(scope: SettingsScope): Promise<LayerVersion[]> {
    const bucket = await this.#bucketOpen();
    return (await bucket.history<StoredLayerVersion>(scopeKey(scope))).map((e) => {
      if (e.operation !== 'put') return { version: e.revision, author: '', time: e.time, diff: [], restart: [], note: 'deleted' };
      const v = e.value as StoredLayerVersion;
      const out: LayerVersion = { version: e.revision, author: v.author, time: v.time, diff: v.diff, restart: v.restart };
      if (v.note !== undefined) out.note = v.note;
      return out;
    });
  }

  async rollback(app: string, scope: SettingsScope, version: number): Promise<WriteResult> {
    const key = scopeKey(scope);
    const bucket = await this.#bucketOpen();
    const kept = await bucket.history<StoredLayerVersion>(key);
    const target = kept.find((e) => e.revision === version && e.operation === 'put');
    if (target === undefined) {
      throw createError(
        'CB_ERR_CONFIG_INVALID',
        `${key} has no version ${String(version)} (kept: ${kept.map((e) => e.revision).join(', ') || 'none'})`,
        {
          details: { path: 'version', kept: kept.map((e) => e.revision) },
        },
      );
    }
    const layer = layerOf(target.value, key);
    return this.#write(app, scope, 'settings-rollback', () => layer, undefined, `rollback to ${version}`);
  }

  /** Answered `{ changed: true }` once a named layer's revision differs from the one given, or `false` at the timeout. */
  async wait(versions: Record<string, number>, timeoutMs: unknown): Promise<{ changed: boolean }> {
    if (!isPlainObject(versions) || Object.keys(versions).length === 0 || Object.keys(versions).length > 4) {
      throw createError('CB_ERR_INVALID_OPTION', 'versions must name 1 to 4 layer keys', { details: { option: 'versions' } });
    }
    const bucket = await this.#bucketOpen();
    const ready = this.#waiters.add(versions, timeoutMs);
    // Compared after registering: a write that lands between the two wakes the waiter.
    for (const [key, rev] of Object.entries(versions)) {
      if (((await bucket.entry(key))?.revision ?? 0) !== rev) this.#waiters.changed(key);
    }
    return ready;
  }

  /** WAIT requests held now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Ends every WAIT (answered `changed: false`). */
  close(): void {
    this.#waiters.close();
  }

  #bucketOpen(): Promise<HubBucket> {
    this.#bucket ??= this.#o.bucket().then((b) => {
      b.onWrite((key) => this.#waiters.changed(key));
      return b;
    });
    this.#bucket.catch(() => {
      this.#bucket = undefined;
    });
    return this.#bucket;
  }

  async #write(
    app: string,
    scope: SettingsScope,
    action: string,
    change: (layer: SettingsLayer) => SettingsLayer,
    expect: number | undefined,
    note?: string,
    path?: string,
  ): Promise<WriteResult> {
    const key = scopeKey(scope);
    const bucket = await this.#bucketOpen();
    try {
      for (let attempt = 1; ; attempt++) {
        const cur = await bucket.entry<StoredLayerVersion>(key);
        const revision = cur?.revision ?? 0;
        if (expect !== undefined && revision !== expect) throw mismatch(key, expect, revision);
        const before = cur?.operation === 'put' ? layerOf(cur.value, key) : {};
        const next = change(before);
        const issues = checkLayer(this.#settings, next, { allowSealed: true });
        if (issues.length > 0) throw layerInvalid(key, issues);
        const sealed = await sealSecrets(next, this.#settings, this.#o.key);
        const diff = diffSettings(before, sealed, this.#settings);
        if (diff.length === 0 && note === undefined) return { version: revision, diff, restart: [] };
        const restart = restartNeeded(diff, this.#settings);
        const stored: StoredLayerVersion = { layer: sealed, author: app, time: this.#clock(), diff, restart };
        if (note !== undefined) stored.note = note;
        try {
          const version = await bucket.put(key, stored, revision);
          this.#audit(app, action, key, 'success', undefined, { version, paths: diff.map((d) => d.path) });
          return { version, diff, restart };
        } catch (err) {
          // Another write of this layer came first: start again from it, unless the caller named the revision.
          if (!(isCrossbusError(err) && err.code === 'CB_ERR_SEQ_MISMATCH') || expect !== undefined || attempt >= WRITE_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      const code = err instanceof CrossbusError ? err.code : 'CB_ERR_INTERNAL';
      this.#audit(app, action, key, 'failure', code, path === undefined ? undefined : { path });
      throw err;
    }
  }

  #audit(
    app: string,
    action: string,
    target: string,
    outcome: AuditEvent['outcome'],
    reason?: string,
    details?: Record<string, unknown>,
  ): void {
    const event: AuditEvent = { actor: { app }, action, target, outcome };
    if (reason !== undefined) event.reason = reason;
    if (details !== undefined) event.details = details;
    this.#o.audit?.(event);
  }
}

function field(r: SystemRequest, name: string): unknown {
  const data = r.data;
  if (!isPlainObject(data) || data[name] === undefined) {
    throw createError('CB_ERR_INVALID_OPTION', `the request needs ${name}`, { details: { option: name } });
  }
  return data[name];
}

function expectOf(r: SystemRequest): number | undefined {
  const e = (r.data as { expect?: unknown }).expect;
  if (e === undefined) return undefined;
  if (!Number.isSafeInteger(e) || (e as number) < 0)
    throw createError('CB_ERR_INVALID_OPTION', 'expect must be an integer >= 0', { details: { option: 'expect' } });
  return e as number;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string') throw createError('CB_ERR_CONFIG_INVALID', 'path must be a string', { details: { path: '' } });
  return path;
}

function layerOf(value: unknown, key: string): SettingsLayer {
  const layer = isPlainObject(value) ? (value as { layer?: unknown }).layer : undefined;
  if (!isPlainObject(layer))
    throw createError('CB_ERR_CONFIG_INVALID', `${key} does not hold a settings layer`, { details: { path: key } });
  return layer as SettingsLayer;
}

function mismatch(key: string, expected: number, actual: number): CrossbusError {
  return createError('CB_ERR_SEQ_MISMATCH', `${key} is at version ${actual}, not ${expected}`, { details: { key, expected, actual } });
}
