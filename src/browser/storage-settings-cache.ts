/**
 * A settings cache in a page's Web Storage (localStorage by default), an extension's
 * `chrome.storage` area (`chromeStorage(chrome.storage.local)`: a service worker has no
 * localStorage), or any object of that shape: what an app starts from when the hub cannot be
 * reached. It never holds a secret (LiveSettings redacts them before saving); an entry that is
 * missing or does not parse is no cache.
 */
import type { CachedSettings, SettingsCache } from '../client/settings/cache.js';

/** The part of the Web Storage API the cache uses; either method may answer with a promise. */
export interface StorageLike {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** The part of an extension's `chrome.storage` area (local, session, sync) the cache uses. */
export interface ChromeStorageArea {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

/** `chrome.storage.local` (or another area) as a StorageLike, for StorageSettingsCache in an extension. */
export function chromeStorage(area: ChromeStorageArea): StorageLike {
  return {
    getItem: async (key) => {
      const value = (await area.get(key))[key];
      return typeof value === 'string' ? value : null;
    },
    setItem: (key, value) => area.set({ [key]: value }),
  };
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
      const text = await this.#storage.getItem(this.key);
      if (text === null) return undefined;
      const parsed = JSON.parse(text) as CachedSettings;
      return typeof parsed === 'object' && parsed !== null && typeof parsed.layers === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async save(settings: CachedSettings): Promise<void> {
    await this.#storage.setItem(this.key, JSON.stringify(settings));
  }
}
