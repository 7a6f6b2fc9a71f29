/**
 * `crossbus config … --hub`: the hub's own limits and roles kept in its settings bucket (key
 * `hub.overlay`, one revision per version, author, time and changed paths kept with it) and laid
 * over its config file at once (see src/core/config/overlay.ts). A change is checked as a file
 * reload is before it is stored, stored, then applied; a bad one changes nothing. Hubs sharing
 * one bucket (a cluster) `follow` it: a version another hub stored is applied here too.
 */
import { isPlainObject } from './settings-schema.js';
import { createError, isCrossbusError } from '../errors/index.js';
import type { SystemResponders } from '../broker/system-requests.js';
import type { HubBucket } from '../kv/hub-bucket.js';

export const HUB_OVERLAY_KEY = 'hub.overlay';
/** The audit target of changes to the hub's settings made through the settings bucket. */
export const HUB_OVERLAY_TARGET = 'settings:hub.overlay';

export const HUB_SETTINGS_TOPICS = {
  get: '$SYS.REQ.SETTINGS.HUB.GET',
  set: '$SYS.REQ.SETTINGS.HUB.SET',
  unset: '$SYS.REQ.SETTINGS.HUB.UNSET',
  history: '$SYS.REQ.SETTINGS.HUB.HISTORY',
  rollback: '$SYS.REQ.SETTINGS.HUB.ROLLBACK',
} as const;

interface StoredOverlay {
  overlay: Record<string, unknown>;
  author: string;
  time: number;
  paths: string[];
  note?: string;
}

export interface HubOverlayServiceOptions {
  bucket: () => Promise<HubBucket>;
  /** The bucket if it exists (a start creates nothing). */
  existingBucket: () => Promise<HubBucket | undefined>;
  /** Checks an overlay as a reload would, without applying it (CB_ERR_CONFIG_INVALID with the path; a refusal is audited). */
  check(overlay: Record<string, unknown>, author: string): void;
  /** Applies an overlay (already checked) to the running hub, audited. */
  apply(overlay: Record<string, unknown> | undefined, author: string): void;
  /** The limits and roles in force (no apps, no secrets). */
  effective(): unknown;
  clock?: () => number;
}

export class HubOverlayService {
  readonly #o: HubOverlayServiceOptions;
  /** The newest version applied here (0: none). */
  #applied = 0;
  /** Applies of versions stored elsewhere, one after another. */
  #following: Promise<void> = Promise.resolve();

  constructor(options: HubOverlayServiceOptions) {
    this.#o = options;
  }

  responders(): SystemResponders {
    const t = HUB_SETTINGS_TOPICS;
    const data = (x: unknown): Record<string, unknown> => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {});
    return {
      [t.get]: () => this.get(),
      [t.set]: (r) => this.#change(r.app, data(r.data).path, (o, path) => setPath(o, path, required(data(r.data).value))),
      [t.unset]: (r) => this.#change(r.app, data(r.data).path, (o, path) => unsetPath(o, path)),
      [t.history]: () => this.history(),
      [t.rollback]: (r) => this.rollback(r.app, data(r.data).version),
    };
  }

  /** At start: the stored overlay applied over the file; a stored one that no longer fits is thrown (the file's config stays). */
  async restore(): Promise<boolean> {
    const e = await (await this.#o.existingBucket())?.entry<StoredOverlay>(HUB_OVERLAY_KEY);
    if (e?.operation !== 'put') return false;
    const overlay = (e.value as StoredOverlay).overlay;
    this.#o.check(overlay, 'hub');
    this.#o.apply(overlay, 'hub');
    this.#applied = e.revision;
    return true;
  }

  /**
   * Applies each version of the hub settings that another hub stores in the bucket (shared: it is
   * created if need be), as its author's; one that does not fit this hub's config file is reported
   * to `refused` and changes nothing here. Resolves with the function that stops following.
   */
  async follow(refused: (error: unknown) => void): Promise<() => void> {
    const bucket = await this.#o.bucket();
    return bucket.onWrite((key, revision) => {
      if (key !== HUB_OVERLAY_KEY || revision <= this.#applied) return;
      this.#following = this.#following
        .then(async () => {
          const e = await bucket.entry<StoredOverlay>(HUB_OVERLAY_KEY);
          // Ours (applied as it was written), or an older one than what is in force.
          if (e === undefined || e.revision <= this.#applied) return;
          const stored = e.operation === 'put' ? (e.value as StoredOverlay) : undefined;
          const overlay = stored?.overlay ?? {};
          this.#o.check(overlay, stored?.author ?? 'hub');
          this.#o.apply(Object.keys(overlay).length === 0 ? undefined : overlay, stored?.author ?? 'hub');
          this.#applied = e.revision;
        })
        .catch(refused);
    });
  }

  async get(): Promise<{ overlay: Record<string, unknown>; version: number; effective: unknown }> {
    const e = await (await this.#o.bucket()).entry<StoredOverlay>(HUB_OVERLAY_KEY);
    return {
      overlay: e?.operation === 'put' ? (e.value as StoredOverlay).overlay : {},
      version: e?.revision ?? 0,
      effective: this.#o.effective(),
    };
  }

  async history(): Promise<Array<{ version: number; author: string; time: number; paths: string[]; note?: string }>> {
    const kept = await (await this.#o.bucket()).history<StoredOverlay>(HUB_OVERLAY_KEY);
    return kept.map((e) => {
      const v = e.value as StoredOverlay;
      return { version: e.revision, author: v.author, time: v.time, paths: v.paths, ...(v.note !== undefined ? { note: v.note } : {}) };
    });
  }

  async rollback(app: string, version: unknown): Promise<{ version: number }> {
    const kept = await (await this.#o.bucket()).history<StoredOverlay>(HUB_OVERLAY_KEY);
    const target = kept.find((e) => e.revision === version && e.operation === 'put');
    if (target === undefined) {
      throw createError(
        'CB_ERR_CONFIG_INVALID',
        `${HUB_OVERLAY_KEY} has no version ${String(version)} (kept: ${kept.map((e) => e.revision).join(', ') || 'none'})`,
        {
          details: { path: 'version' },
        },
      );
    }
    return this.#write(app, (target.value as StoredOverlay).overlay, ['(rollback)'], `rollback to ${String(version)}`);
  }

  async #change(
    app: string,
    path: unknown,
    edit: (overlay: Record<string, unknown>, path: string[]) => Record<string, unknown>,
  ): Promise<{ version: number }> {
    const forbidden = ['', '__proto__', 'constructor', 'prototype'];
    if (typeof path !== 'string' || path.split('.').some((s) => forbidden.includes(s))) {
      throw createError('CB_ERR_CONFIG_INVALID', 'a hub setting is a dotted path such as limits.rate.perSecond', {
        details: { path: String(path) },
      });
    }
    const cur = await (await this.#o.bucket()).entry<StoredOverlay>(HUB_OVERLAY_KEY);
    const overlay = cur?.operation === 'put' ? (cur.value as StoredOverlay).overlay : {};
    return this.#write(app, edit(overlay, path.split('.')), [path], undefined, cur?.revision ?? 0);
  }

  async #write(
    app: string,
    overlay: Record<string, unknown>,
    paths: string[],
    note?: string,
    expect?: number,
  ): Promise<{ version: number }> {
    this.#o.check(overlay, app);
    const bucket = await this.#o.bucket();
    const stored: StoredOverlay = { overlay, author: app, time: (this.#o.clock ?? Date.now)(), paths };
    if (note !== undefined) stored.note = note;
    let version: number;
    try {
      version = await bucket.put(HUB_OVERLAY_KEY, stored, expect);
    } catch (err) {
      if (isCrossbusError(err) && err.code === 'CB_ERR_SEQ_MISMATCH') {
        throw createError('CB_ERR_SEQ_MISMATCH', 'the hub settings changed meanwhile: run the command again', {
          details: { key: HUB_OVERLAY_KEY },
          cause: err,
        });
      }
      throw err;
    }
    this.#applied = Math.max(this.#applied, version);
    this.#o.apply(Object.keys(overlay).length === 0 ? undefined : overlay, app);
    return { version };
  }
}

function required(value: unknown): unknown {
  if (value === undefined) throw createError('CB_ERR_CONFIG_INVALID', 'a value must be given', { details: { path: 'value' } });
  return value;
}

function setPath(o: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path as [string, ...string[]];
  const out = { ...o };
  out[head] = rest.length === 0 ? value : setPath(isPlainObject(o[head]) ? (o[head] as Record<string, unknown>) : {}, rest, value);
  return out;
}

function unsetPath(o: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(o, head)) return o;
  const out = { ...o };
  if (rest.length === 0 || !isPlainObject(o[head])) delete out[head];
  else {
    const below = unsetPath(o[head] as Record<string, unknown>, rest);
    if (Object.keys(below).length === 0) delete out[head];
    else out[head] = below;
  }
  return out;
}
