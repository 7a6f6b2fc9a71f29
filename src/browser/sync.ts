/**
 * Replicated documents for browsers, workers and extensions (`crossbus/sync`): `createSync(bus)`
 * gives a page client's Bus (with the streams plugin) what `bus.sync` is on the Bus `connect()`
 * from 'crossbus' makes; `IndexedDbSyncStore` keeps offline edits across reloads.
 */
export * from '../client/sync/index.js';
export { IndexedDbSyncStore, DEFAULT_SYNC_DATABASE, type IndexedDbSyncStoreOptions } from './indexeddb-sync-store.js';
