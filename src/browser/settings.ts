/**
 * Environment configuration for browsers, workers and extensions (`crossbus/settings`):
 * `loadSettings(bus, { env })` and `StorageSettingsCache` (localStorage, or chrome.storage-like
 * storage you pass). In Node, 'crossbus' exports the same with a file cache.
 */
export * from '../client/settings/index.js';
export { StorageSettingsCache, type StorageLike } from './storage-settings-cache.js';
