/**
 * A settings cache in a file (readable by the owner only, replaced atomically): what an app
 * starts from when the hub cannot be reached. It never holds a secret (LiveSettings redacts them
 * before saving). A file that is missing or does not parse is no cache, never an error.
 */
import type { CachedSettings, SettingsCache } from '../client/settings/cache.js';
import { readIfExists, replaceFileAtomically } from './atomic-file.js';

export class FileSettingsCache implements SettingsCache {
  constructor(readonly path: string) {}

  async load(): Promise<CachedSettings | undefined> {
    try {
      const text = await readIfExists(this.path);
      if (text === undefined) return undefined;
      const parsed = JSON.parse(text) as CachedSettings;
      return typeof parsed === 'object' && parsed !== null && typeof parsed.layers === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  save(settings: CachedSettings): Promise<void> {
    return replaceFileAtomically(this.path, `${JSON.stringify(settings)}\n`);
  }
}
