/**
 * Consumers tailing one stream share a read in flight (what makes a KV put to 1,000 watchers one
 * storage read), and the browser settings cache keeps what it is given and nothing it cannot parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/core/streams/memory-storage.js';
import { Stream } from '../../src/core/streams/stream.js';
import { resolveStreamConfig } from '../../src/core/streams/config.js';
import { StorageSettingsCache, chromeStorage } from '../../src/browser/storage-settings-cache.js';

test('reads with the same arguments in flight at once are one storage read; later ones read again', async () => {
  const storage = new MemoryStorage();
  let reads = 0;
  const read = storage.read.bind(storage);
  storage.read = (from, options) => {
    reads++;
    return read(from, options);
  };
  const stream = new Stream(resolveStreamConfig({ name: 'S', topics: ['s.>'] }), undefined);
  stream.storage = storage;
  for (let i = 0; i < 3; i++)
    await stream.append({ time: 1, topic: 's.a', payloadType: 1, payload: new TextEncoder().encode(String(i)) }, () => 1);
  const same = await Promise.all(Array.from({ length: 100 }, () => stream.readShared(2, 10)));
  assert.equal(reads, 1);
  assert.ok(same.every((page) => page === same[0]));
  assert.deepEqual(
    same[0]?.map((m) => m.seq),
    [2, 3],
  );
  await Promise.all([stream.readShared(1, 10), stream.readShared(2, 1)]);
  assert.equal(reads, 3, 'other arguments: their own reads');
  await stream.readShared(2, 10);
  assert.equal(reads, 4, 'nothing kept once settled: a later read sees later messages');
});

test('StorageSettingsCache: saves and loads through a storage; a missing or broken entry is no cache', async () => {
  const items = new Map<string, string>();
  const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
  const cache = new StorageSettingsCache('cfg', storage);
  assert.equal(await cache.load(), undefined);
  const saved = { layers: { global: { logLevel: 'warn' } }, versions: { 'layer.global': 3 }, savedAt: 5 };
  await cache.save(saved);
  assert.deepEqual(await cache.load(), saved);
  items.set('cfg', '{not json');
  assert.equal(await cache.load(), undefined);
  items.set('cfg', '42');
  assert.equal(await cache.load(), undefined);
});

test('StorageSettingsCache over an extension storage area (async, as chrome.storage.local)', async () => {
  const items = new Map<string, unknown>();
  const area = {
    get: async (key: string) => (items.has(key) ? { [key]: items.get(key) } : {}),
    set: async (set: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(set)) items.set(k, v);
    },
  };
  const cache = new StorageSettingsCache('crossbus-settings', chromeStorage(area));
  assert.equal(await cache.load(), undefined);
  const saved = { layers: {}, versions: { 'layer.global': 0 }, savedAt: 1 };
  await cache.save(saved);
  assert.equal(typeof items.get('crossbus-settings'), 'string');
  assert.deepEqual(await cache.load(), saved);
  items.set('crossbus-settings', { not: 'a string' });
  assert.equal(await cache.load(), undefined);
});
