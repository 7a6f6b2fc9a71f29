/** Environment configuration over the bus: `loadSettings(bus, { env })` for apps, `SettingsAdmin` for tools. */
export {
  DEFAULT_SETTINGS_HUB_TIMEOUT_MS,
  DEFAULT_SETTINGS_RETRY_MS,
  DEFAULT_SETTINGS_WAIT_MS,
  LiveSettings,
  loadSettings,
  type LiveSettingsEvents,
  type LoadSettingsOptions,
  type SettingsOrigin,
} from './live-settings.js';
export { SettingsAdmin } from './admin.js';
export { MemorySettingsCache, type CachedSettings, type SettingsCache } from './cache.js';
export * from '../../core/settings/index.js';
export * from '../../core/settings/settings-wire.js';
