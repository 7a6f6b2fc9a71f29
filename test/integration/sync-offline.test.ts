/**
 * An app that restarts while its hub is down, against a REAL hub process stopped and started again
 * on the same port and data: `connect(…, { waitForHub: false })` resolves without the hub, the
 * document opens from its FileSyncStore (its confirmed state and offline queue), takes edits, and
 * once the hub is back the bus connects by itself and the edits land, seen by another replica; a
 * document the store never held needs the hub, with a typed error. Needs `npm run build` first.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { FileSyncStore } from '../../src/node/sync.js';
import { restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 60_000 };
const hubs: HubProcess[] = [];
const buses: SyncingBus[] = [];
const dirs: string[] = [];

after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  for (const h of hubs) if (h.alive()) await h.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Notes = Record<string, string>;

test('restarting without the hub: the document opens from its store, edits land once the hub is back', T, async () => {
  const hub = await startHubProcess();
  hubs.push(hub);
  const options = { ...hub.credentials, timeoutMs: 2_000, requestTimeoutMs: 2_000, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } };
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-sync-offline-'));
  dirs.push(dir);

  // The app's first run, with the hub.
  const firstBus = await connect(hub.url, options);
  const firstStore = new FileSyncStore(dir);
  const first = await firstBus.sync.open<Notes>('notes/offline-start', { store: firstStore });
  first.replace({ a: 'written online' });
  await first.flushed();
  await first.close();
  await firstBus.close();
  await firstStore.close();

  // The hub goes down; the app starts again.
  await hub.stop();
  const store = new FileSyncStore(dir);
  const bus = await connect(hub.url, { ...options, waitForHub: false });
  buses.push(bus);
  assert.equal(bus.state, 'connecting');
  const refused = await rejectsWithCode(bus.sync.open('notes/never-here', { store }), 'CB_ERR_CONNECTION_FAILED');
  assert.match(refused.message, /not in this store: opening it the first time needs the hub/);
  const doc = await bus.sync.open<Notes>('notes/offline-start', { store });
  assert.deepEqual(doc.value, { a: 'written online' }, 'from the store');
  doc.change((d) => {
    d.b = 'written offline';
  });
  doc.change((d) => {
    d.c = 'also offline';
  });
  assert.deepEqual(doc.value, { a: 'written online', b: 'written offline', c: 'also offline' });
  const flushed = doc.flushed();

  // The hub comes back on its port with its data: the bus connects by itself, the edits land.
  const back = await restartOnPort(hub.port);
  hubs.push(back);
  await flushed;
  assert.equal(bus.state, 'connected');
  assert.equal(doc.pendingChanges, 0);
  const other = await connect(back.url, options);
  buses.push(other);
  const seen = await other.sync.open<Notes>('notes/offline-start');
  assert.deepEqual(seen.value, { a: 'written online', b: 'written offline', c: 'also offline' });
  // And the two go on in step.
  seen.change((d) => {
    d.d = 'from the other';
  });
  await seen.flushed();
  await until(() => doc.value.d === 'from the other', 5_000, 'the reopened document follows the log');
  await Promise.all([doc.close(), seen.close()]);
  await store.close();
});
