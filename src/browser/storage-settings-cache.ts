/**
 * A settings cache in a page's Web Storage (localStorage by default) or any object of its shape:
 * what a page starts from when the hub cannot be reached. It never holds a secret (LiveSettings
 * redacts them before saving); an entry that is missing or does not parse is no cache.
 */
import type { CachedSettings, SettingsCache } from '../client/settings/cache.js';

/** The part of the Web Storage API the cache uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export class StorageSettingsCache implements SettingsCache {
  readonly #storage: StorageLike;

  /** @param key the storage key. @param storage @default globalThis.localStorage */
  constructor(
    readonly key = 'crossbus-settings',
    storage?: StorageLike,
  ) {
    this.#storage = storage ?? (globalThis as unknown as { localStorage: StorageLike }).localStorage;
  }

  async load(): Promise<CachedSettings | undefined> {
    try {
      const text = this.#storage.getItem(this.key);
      if (text === null) return undefined;
      const parsed = JSON.parse(text) as CachedSettings;
      return typeof parsed === 'object' && parsed !== null && typeof parsed.layers === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async save(settings: CachedSettings): Promise<void> {
    this.#storage.setItem(this.key, JSON.stringify(settings));
  }
}
