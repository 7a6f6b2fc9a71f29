/**
 * Environment configuration for browsers, workers and extensions (`crossbus/settings`):
 * `loadSettings(bus, { env })` and `StorageSettingsCache` (localStorage, or an extension's
 * `chromeStorage(chrome.storage.local)`). In Node, 'crossbus' exports the same with a file cache.
 */
export * from '../client/settings/index.js';
export { StorageSettingsCache, chromeStorage, type ChromeStorageArea, type StorageLike } from './storage-settings-cache.js';
