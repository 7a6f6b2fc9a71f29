/**
 * Starting without the hub (`connect(…, { waitForHub: false })`) and opening a document from its
 * store, against an in-process hub behind a connector that refuses until the test lets it through:
 * the bus resolves at once and connects in the background by the reconnect rules; a document the
 * store holds opens from its confirmed state and offline queue, takes edits, and joins its log
 * once connected (the edits land, the meanwhile edits of others arrive); a document the store does
 * not hold needs the hub (CB_ERR_CONNECTION_FAILED); the attempts give up by `maxAttempts`, a
 * refusal for good closes the bus, and waitForHub: false without reconnects is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWith, type SyncingBus } from '../../src/client/index.js';
import { MemorySyncStore } from '../../src/client/sync/store.js';
import { createError } from '../../src/core/errors/index.js';
import type { TransportConnector } from '../../src/core/transport/transport.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { startStreamHub, type StreamHub } from '../helpers/stream-hub.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

const crypto = createNodeCryptoProvider();
const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

/** A connector to `hub` that fails (as a hub that is down) until `open()`; counts the attempts. */
function gated(hub: StreamHub): { connector: TransportConnector; open(): void; attempts(): number } {
  let up = false;
  let attempts = 0;
  const inner = memoryConnector(hub.broker);
  return {
    connector: (signal) => {
      attempts++;
      return up ? inner(signal) : Promise.reject(createError('CB_ERR_CONNECTION_FAILED', 'the hub is down'));
    },
    open: () => {
      up = true;
    },
    attempts: () => attempts,
  };
}

type Doc = Record<string, number>;

describe('sync: a document opened without the hub', () => {
  test('opens from its store, takes edits, and joins its log once the bus connects in the background', async () => {
    const hub = await startStreamHub();
    const store = new MemorySyncStore();
    // An earlier run of the app: the document opened with the hub, edited, closed.
    const earlier = (await connectWith(memoryConnector(hub.broker), { sync: { crypto, store } })) as SyncingBus;
    const first = await earlier.sync.open<Doc>('offline/doc');
    first.replace({ a: 1 });
    await first.flushed();
    await first.close();
    await earlier.close();
    const otherBus = (await connectWith(memoryConnector(hub.broker), { sync: { crypto } })) as SyncingBus;
    const watcher = await otherBus.sync.open<Doc>('offline/doc');

    // The app starts again while the hub is out of reach.
    const gate = gated(hub);
    const bus = await connectWith(gate.connector, { waitForHub: false, reconnect: FAST, sync: { crypto, store } });
    assert.equal(bus.state, 'connecting', 'connect() resolved without the hub');
    await rejectsWithCode(bus.sync.open('offline/never-opened'), 'CB_ERR_CONNECTION_FAILED');
    const doc = await bus.sync.open<Doc>('offline/doc');
    assert.deepEqual(doc.value, { a: 1 }, 'the confirmed state from the store');
    doc.change((d) => {
      d.b = 2;
    });
    doc.change((d) => {
      d.c = 3;
    });
    assert.deepEqual(doc.value, { a: 1, b: 2, c: 3 }, 'offline edits show at once');
    assert.ok(doc.pendingChanges > 0);
    // Meanwhile another replica edits.
    watcher.change((d) => {
      d.meanwhile = 1;
    });
    await watcher.flushed();
    await until(() => gate.attempts() >= 2, 3_000, 'the bus keeps trying');
    assert.equal(bus.state, 'connecting');

    gate.open();
    await doc.flushed();
    assert.equal(bus.state, 'connected');
    await until(() => watcher.value.c === 3 && doc.seq === watcher.seq, 3_000, 'the offline edits landed');
    assert.deepEqual(doc.value, { a: 1, b: 2, c: 3, meanwhile: 1 });
    assert.deepEqual(watcher.value, doc.value);
    // And it goes on as any document does.
    doc.change((d) => {
      d.after = 4;
    });
    await doc.flushed();
    await until(() => watcher.value.after === 4, 3_000, 'an edit after joining');
    await Promise.all([doc.close(), watcher.close()]);
    await Promise.all([bus.close(), otherBus.close()]);
    await hub.close();
  });

  test('a document opened on a bus that lost its connection opens from its store too', async () => {
    const hub = await startStreamHub();
    const store = new MemorySyncStore();
    const gate = gated(hub);
    gate.open();
    const bus = (await connectWith(gate.connector, { reconnect: FAST, sync: { crypto, store } })) as SyncingBus;
    const first = await bus.sync.open<Doc>('offline/lost');
    first.replace({ x: 1 });
    await first.flushed();
    await first.close();
    // The hub goes away: the bus is reconnecting.
    const lost = new Promise<void>((resolve) => bus.on('disconnected', () => resolve()));
    await hub.broker.close(0);
    await lost;
    assert.equal(bus.state, 'reconnecting');
    const doc = await bus.sync.open<Doc>('offline/lost');
    doc.change((d) => {
      d.y = 2;
    });
    assert.deepEqual(doc.value, { x: 1, y: 2 });
    await doc.close();
    await bus.close();
    await hub.close();
  });

  test('the background attempts follow the reconnect rules: maxAttempts, a refusal for good, no reconnects', async () => {
    const hub = await startStreamHub();
    const gate = gated(hub);
    const bus = await connectWith(gate.connector, { waitForHub: false, reconnect: { ...FAST, maxAttempts: 2 } });
    const closed = await new Promise<string | undefined>((resolve) => bus.on('closed', (e) => resolve(e.error?.code)));
    assert.equal(closed, 'CB_ERR_CONNECTION_FAILED');
    assert.equal(gate.attempts(), 3, 'the first attempt and maxAttempts more');
    assert.equal(bus.state, 'closed');
    await rejectsWithCode(bus.sync.open('offline/any'), 'CB_ERR_CONNECTION_CLOSED');

    // Refused for good (not retryable): closed at once with the refusal.
    let tries = 0;
    const refusing: TransportConnector = () => {
      tries++;
      return Promise.reject(createError('CB_ERR_AUTH_FAILED', 'no'));
    };
    const refused = await connectWith(refusing, { waitForHub: false, reconnect: FAST });
    const code = await new Promise<string | undefined>((resolve) => refused.on('closed', (e) => resolve(e.error?.code)));
    assert.equal(code, 'CB_ERR_AUTH_FAILED');
    assert.equal(tries, 1);

    await rejectsWithCode(connectWith(gate.connector, { waitForHub: false, reconnect: false }), 'CB_ERR_CONFLICTING_OPTIONS');
    await rejectsWithCode(connectWith(gate.connector, { waitForHub: 'no' as never }), 'CB_ERR_INVALID_OPTION');
    await hub.close();
  });
});
