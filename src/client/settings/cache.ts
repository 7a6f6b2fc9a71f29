/**
 * Where a client keeps the last configuration it resolved from the hub, to start from when the
 * hub cannot be reached: the stored layers with every secret redacted (a cache never holds a
 * secret), their versions, and when they were saved. Node keeps it in a file
 * (src/node/settings-file-cache.ts), a browser in localStorage (src/browser/storage-settings-cache.ts).
 */
import type { StoredLayers } from '../../core/settings/settings-wire.js';

export interface CachedSettings {
  layers: StoredLayers;
  versions: Record<string, number>;
  savedAt: number;
}

export interface SettingsCache {
  /** The last saved settings, or undefined (none, or unreadable: a cache never fails a start). */
  load(): Promise<CachedSettings | undefined>;
  save(settings: CachedSettings): Promise<void>;
}

/** A cache in memory: for tests, and for apps that want none across restarts. */
export class MemorySettingsCache implements SettingsCache {
  #saved: string | undefined;

  async load(): Promise<CachedSettings | undefined> {
    return this.#saved === undefined ? undefined : (JSON.parse(this.#saved) as CachedSettings);
  }

  async save(settings: CachedSettings): Promise<void> {
    this.#saved = JSON.stringify(settings);
  }
}
