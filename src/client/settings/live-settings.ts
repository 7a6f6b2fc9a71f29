/**
 * An app's configuration, resolved and kept current: `loadSettings(bus, { env: 'production' })`.
 *
 * - Layers: the hub's stored global < environment < project < user layers, then the app's own
 *   environment variables (`CROSSBUS_SETTINGS__LIMITS__MAX_FILE_SIZE`) and flags
 *   (`limits.maxFileSize=5`) on top. Every value knows which layer set it (`explain`).
 * - Start: from the hub; when it cannot be reached in `hubTimeoutMs`, from the last good cache
 *   (secrets redacted there), then from the defaults. `origin` says which.
 * - Live: a WAIT request held at the hub answers when a layer changes; the new layers are
 *   resolved and validated before anything is applied (a rejected update is an event and changes
 *   nothing), and settings marked "needs restart" keep their running value and are reported.
 *
 * Runtime-neutral: the Node entry passes `process.env` and a file cache.
 */
import type { CrossbusError } from '../../core/errors/index.js';
import { isCrossbusError } from '../../core/errors/index.js';
import { diffSettings, restartNeeded, type SettingsChange } from '../../core/settings/diff.js';
import { ENVIRONMENT_SETTINGS } from '../../core/settings/environment-schema.js';
import { settingsFromEnv, settingsFromFlags } from '../../core/settings/env-vars.js';
import { getSetting, setSetting, unsetSetting } from '../../core/settings/paths.js';
import { redact } from '../../core/settings/redact.js';
import { explainSetting, resolveSettings, type Explanation, type Resolution } from '../../core/settings/resolve.js';
import type { SettingsLayer, SettingsSchema } from '../../core/settings/settings-schema.js';
import { checkEnv, targetKeys, type GetResult, type SettingsTarget, type StoredLayers } from '../../core/settings/settings-wire.js';
import { TypedEmitter } from '../../core/util/emitter.js';
import type { Bus } from '../bus.js';
import { SettingsAdmin } from './admin.js';
import { whenConnected } from '../when-connected.js';
import type { SettingsCache } from './cache.js';

/** How long the first answer from the hub is waited for before the cache is used. @default 3000 */
export const DEFAULT_SETTINGS_HUB_TIMEOUT_MS = 3_000;
/** How long one live-update wait is held at the hub. @default 25000 */
export const DEFAULT_SETTINGS_WAIT_MS = 25_000;
/** The pause after a failed live-update wait (hub away), doubling up to 16 times it. @default 500 */
export const DEFAULT_SETTINGS_RETRY_MS = 500;

export interface LoadSettingsOptions extends SettingsTarget {
  /** The schema the app validates with (the hub checks writes against the environment schema). @default ENVIRONMENT_SETTINGS */
  schema?: SettingsSchema;
  /** Environment variables, read for `CROSSBUS_SETTINGS__*`. @default none (the Node entry passes process.env) */
  envVars?: Record<string, string | undefined>;
  /** `path=value` flags, the top layer. @default none */
  flags?: readonly string[];
  /** Ask for secrets in clear (refused with CB_ERR_FORBIDDEN unless this app may reveal them). @default false */
  reveal?: boolean;
  /** Where the last good configuration is kept. @default none */
  cache?: SettingsCache;
  /** Follow changes made at the hub. @default true */
  live?: boolean;
  /** @default DEFAULT_SETTINGS_HUB_TIMEOUT_MS */
  hubTimeoutMs?: number;
  /** @default DEFAULT_SETTINGS_WAIT_MS */
  waitMs?: number;
  /** @default DEFAULT_SETTINGS_RETRY_MS */
  retryMs?: number;
}

export type SettingsOrigin = 'hub' | 'cache' | 'defaults';

export interface LiveSettingsEvents {
  /** A live update was applied: the value now in force, and what changed (restart-only changes left out). */
  change: { value: unknown; changes: SettingsChange[] };
  /** Settings changed at the hub that need a restart: not applied, reported. */
  restart: { paths: string[] };
  /** A live update (or the hub's first answer) failed validation: nothing was applied. */
  rejected: { error: CrossbusError };
}

export class LiveSettings<T = Record<string, unknown>> {
  readonly events = new TypedEmitter<LiveSettingsEvents>();
  readonly #admin: SettingsAdmin;
  readonly #bus: Bus;
  readonly #o: LoadSettingsOptions;
  readonly #schema: SettingsSchema;
  readonly #local: { env: SettingsLayer; flags: SettingsLayer };
  #resolution!: Resolution;
  #versions: Record<string, number> = {};
  #origin: SettingsOrigin = 'defaults';
  #closed = false;
  /** Paths whose hub value waits for a restart. */
  #pendingRestart = new Set<string>();
  /** The last cache write. */
  #saved: Promise<void> = Promise.resolve();

  /** @internal use loadSettings() */
  constructor(bus: Bus, options: LoadSettingsOptions) {
    checkEnv(options.env);
    targetKeys(options); // project and user names checked here, before anything is asked
    this.#admin = new SettingsAdmin(bus);
    this.#bus = bus;
    this.#o = options;
    this.#schema = options.schema ?? ENVIRONMENT_SETTINGS;
    // The app's own layers: wrong ones fail the load, loudly.
    this.#local = {
      env: settingsFromEnv(this.#schema, options.envVars ?? {}),
      flags: settingsFromFlags(this.#schema, options.flags ?? []),
    };
  }

  /** The configuration in force. */
  get value(): T {
    return this.#resolution.value as T;
  }

  /** Where it came from: the hub, the cache, or the defaults. */
  get origin(): SettingsOrigin {
    return this.#origin;
  }

  /** The hub's versions of the layers in force, by bucket key. */
  get versions(): Readonly<Record<string, number>> {
    return this.#versions;
  }

  /** Which layer set each path. */
  get sources(): ReadonlyMap<string, string> {
    return this.#resolution.sources;
  }

  /** Changed at the hub, waiting for a restart. */
  get restartPending(): readonly string[] {
    return [...this.#pendingRestart].sort();
  }

  /** Every layer's value at `path`, and which one won (secrets redacted unless revealed). */
  explain(path: string): Explanation {
    return explainSetting(this.#resolution, path, { reveal: this.#o.reveal === true });
  }

  /** @internal */
  async start(): Promise<this> {
    const hubTimeoutMs = this.#o.hubTimeoutMs ?? DEFAULT_SETTINGS_HUB_TIMEOUT_MS;
    const started = Date.now();
    const connected = await this.#connected(hubTimeoutMs);
    const first = connected
      ? await this.#fetch(Math.max(1, hubTimeoutMs - (Date.now() - started))).catch((err: unknown) => err as Error)
      : new Error('the hub did not answer in time');
    if (!(first instanceof Error) && this.#tryApply(first, true)) this.#origin = 'hub';
    else {
      if (isCrossbusError(first) && first.code === 'CB_ERR_FORBIDDEN') throw first;
      const cached = await this.#o.cache?.load().catch(() => undefined);
      if (cached === undefined || !this.#tryApply({ layers: cached.layers, versions: cached.versions, revealed: false }, true, false)) {
        this.#resolution = this.#resolve({});
        this.#origin = 'defaults';
      } else this.#origin = 'cache';
    }
    if (this.#o.live !== false) void this.#follow();
    await this.#saved;
    return this;
  }

  /** Stops following the hub. */
  close(): void {
    this.#closed = true;
  }

  /** True once the bus is connected (see when-connected.ts: requests are only sent connected). */
  #connected(timeoutMs?: number): Promise<boolean> {
    return whenConnected(this.#bus, timeoutMs);
  }

  #fetch(timeoutMs?: number): Promise<GetResult> {
    const target: SettingsTarget = { env: this.#o.env };
    if (this.#o.project !== undefined) target.project = this.#o.project;
    if (this.#o.user !== undefined) target.user = this.#o.user;
    return this.#admin.get(
      target,
      timeoutMs === undefined ? { reveal: this.#o.reveal === true } : { reveal: this.#o.reveal === true, timeoutMs },
    );
  }

  #resolve(layers: StoredLayers): Resolution {
    return resolveSettings(this.#schema, { ...layers, env: this.#local.env, flags: this.#local.flags }, { invalidLayer: 'fail' });
  }

  /** Resolves and validates `got`; applies it unless invalid. False (and a `rejected` event) when invalid. */
  #tryApply(got: GetResult, initial: boolean, save = true): boolean {
    let next: Resolution;
    try {
      next = this.#resolve(got.layers);
    } catch (err) {
      this.#versions = got.versions; // do not ask again for a version already refused
      if (isCrossbusError(err)) this.events.emit('rejected', { error: err });
      return false;
    }
    this.#versions = got.versions;
    if (!initial) {
      const changes = diffSettings(this.#resolution.value, next.value, this.#schema);
      const restart = restartNeeded(changes, this.#schema);
      let value = next.value as SettingsLayer;
      for (const path of restart) {
        const running = getSetting(this.#resolution.value as SettingsLayer, path);
        value = running === undefined ? unsetSetting(this.#schema, value, path) : setSetting(this.#schema, value, path, running);
        this.#pendingRestart.add(path);
      }
      this.#resolution = { ...next, value };
      const applied = changes.filter((c) => !restart.includes(c.path));
      if (applied.length > 0) this.events.emit('change', { value, changes: applied });
      if (restart.length > 0) this.events.emit('restart', { paths: restart });
    } else this.#resolution = next;
    if (save && this.#o.cache !== undefined) {
      const layers: StoredLayers = {};
      for (const [k, layer] of Object.entries(got.layers)) layers[k as keyof StoredLayers] = redact(layer as SettingsLayer, this.#schema);
      // A cache that cannot be written only costs the next offline start: never an error here.
      this.#saved = this.#o.cache.save({ layers, versions: got.versions, savedAt: Date.now() }).catch(() => {});
    }
    return true;
  }

  async #refresh(): Promise<void> {
    const got = await this.#fetch();
    if (!this.#closed && this.#tryApply(got, false)) this.#origin = 'hub';
  }

  async #follow(): Promise<void> {
    const waitMs = this.#o.waitMs ?? DEFAULT_SETTINGS_WAIT_MS;
    const retryMs = this.#o.retryMs ?? DEFAULT_SETTINGS_RETRY_MS;
    let failures = 0;
    while (!this.#closed) {
      try {
        if (!(await this.#connected())) return; // closed
        if (this.#closed) return;
        // Started from the cache or the defaults: the hub's layers as soon as it answers.
        if (this.#origin !== 'hub') await this.#refresh();
        const versions: Record<string, number> = {};
        for (const [, key] of targetKeys(this.#o)) versions[key] = this.#versions[key] ?? 0;
        const { changed } = await this.#admin.wait(versions, waitMs);
        if (changed && !this.#closed) await this.#refresh();
        failures = 0;
      } catch {
        // The hub is away or refused: try again later, the configuration in force stays.
        if (this.#bus.state === 'closed') return;
        failures++;
        await new Promise((resolve) => setTimeout(resolve, retryMs * 2 ** Math.min(failures - 1, 4)));
      }
    }
  }
}

/** Loads an app's configuration (see LiveSettings); CB_ERR_CONFIG_INVALID when its own env vars or flags are wrong. */
export function loadSettings<T = Record<string, unknown>>(bus: Bus, options: LoadSettingsOptions): Promise<LiveSettings<T>> {
  return new LiveSettings<T>(bus, options).start();
}
