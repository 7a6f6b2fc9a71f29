/**
 * Where sync plugs in: `connect()` gives a Bus with `bus.sync` (one per bus; a FailoverBus too),
 * the page client's Bus carries none of it (not a byte: its bundle holds no sync module), and a
 * page adds it with `createSync` from crossbus/sync, which needs the streams plugin and says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { connect as connectPage } from '../../src/browser/page.js';
import { createBusStreams } from '../../src/browser/streams.js';
import { createSync } from '../../src/browser/sync.js';
import { SyncingBus, connectWith } from '../../src/client/index.js';
import { FailoverBus } from '../../src/client/failover/failover-bus.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { startStreamHub } from '../helpers/stream-hub.js';

const PAGE = fileURLToPath(new URL('../../src/browser/page.ts', import.meta.url));

test('the page client bundle holds no sync module and none of its libraries', async () => {
  const r = await build({
    entryPoints: [PAGE],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(r.metafile.inputs);
  for (const left of ['/sync/', 'fast-diff', 'node-diff3', 'fflate']) {
    assert.ok(!inputs.some((f) => f.includes(left)), `${left} is not in the page client`);
  }
});

test('connect() gives a SyncingBus: bus.sync is one SyncApi per bus', async () => {
  const hub = await startStreamHub();
  const bus = await connectWith(memoryConnector(hub.broker), { reconnect: false });
  assert.ok(bus instanceof SyncingBus);
  assert.equal(bus.sync, bus.sync);
  const doc = await bus.sync.open<{ a?: number }>('wiring/one');
  assert.deepEqual(bus.sync.documents, [doc]);
  await bus.close();
  assert.deepEqual(bus.sync.documents, [], 'the documents close with the bus');
  assert.ok(FailoverBus.prototype instanceof SyncingBus, 'a bus over several hubs has bus.sync too');
  await hub.close();
});

test('a page adds sync with createSync; without the streams plugin it is told which plugin it needs', async () => {
  const hub = await startStreamHub();
  const lean = await connectPage(memoryConnector(hub.broker), { reconnect: false });
  assert.throws(
    () => createSync(lean),
    (e: { code?: string; message?: string }) => e.code === 'CB_ERR_INVALID_OPTION' && /crossbus\/streams/.test(e.message ?? ''),
  );
  const page = await connectPage(memoryConnector(hub.broker), { reconnect: false }, { streams: createBusStreams });
  const other = await hub.connect();
  const a = await createSync(page).open<{ from?: string }>('wiring/page');
  const b = await createSync(other).open<{ from?: string }>('wiring/page');
  a.replace({ from: 'page' });
  await a.flushed();
  assert.equal(b.value.from, 'page');
  await Promise.all([a.close(), b.close(), lean.close(), page.close()]);
  await hub.close();
});
