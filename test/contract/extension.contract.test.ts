/**
 * The extension transport (chrome.runtime ports) through the shared contract suites, over an
 * in-process runtime with Chrome's port semantics (JSON-serialized, asynchronous, one-sided
 * onDisconnect). The real Chromium runs are in test/browser/extension.browser.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryStreams, runBusContract, runTransportContract } from './transport-contract.js';
import { Broker } from '../../src/core/broker/broker.js';
import { extensionConnector, listenExtension } from '../../src/transports/extension/index.js';
import type { Transport } from '../../src/core/transport/transport.js';
import { connectWith } from '../../src/client/index.js';
import { fakeChromeRuntime } from '../helpers/fake-chrome-runtime.js';

async function nextConnection(listen: (cb: (t: Transport) => void) => () => void): Promise<{ transport: Transport; stop(): void }> {
  let stop = (): void => {};
  const transport = await new Promise<Transport>((resolve) => {
    stop = listen(resolve);
  });
  return { transport, stop };
}

runTransportContract('extension port (content script ↔ service worker)', async () => {
  const chrome = fakeChromeRuntime();
  const accepted = nextConnection((onConnection) => listenExtension({ onConnection, runtime: chrome.extension }));
  const client = await extensionConnector({ runtime: chrome.contentScript(3, 0) })();
  const { transport: server, stop } = await accepted;
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
      stop();
    },
  };
});

runBusContract('extension port (web page → extension via externally_connectable)', async () => {
  const chrome = fakeChromeRuntime();
  const streams = await memoryStreams();
  const broker = new Broker({ heartbeatMs: 0, streams });
  const stop = listenExtension({
    runtime: chrome.extension,
    allowedOrigins: ['http://localhost:7071'],
    onConnection: (t) => broker.accept(t),
  });
  const page = chrome.page('http://localhost:7071');
  return {
    connector: extensionConnector({ runtime: page, extensionId: chrome.extension.id }),
    broker,
    cleanup: async () => {
      stop();
      await broker.close(100);
      await streams.close();
    },
  };
});

test('extension identities: the worker vouches for its own contexts and for allowed page origins; other origins are refused with CB_ERR_ORIGIN_REFUSED', async () => {
  const chrome = fakeChromeRuntime();
  const seen: Transport[] = [];
  const refused: Array<{ origin: string }> = [];
  const stop = listenExtension({
    runtime: chrome.extension,
    allowedOrigins: ['http://localhost:7071'],
    onConnection: (t) => seen.push(t),
    onRefused: (r) => refused.push(r),
  });
  try {
    const id = chrome.extension.id;
    await extensionConnector({ runtime: chrome.contentScript(4, 0) })();
    await extensionConnector({ runtime: chrome.contentScript(4, 2) })();
    await extensionConnector({ runtime: chrome.page('http://localhost:7071'), extensionId: id })();
    const hostile = await extensionConnector({ runtime: chrome.page('http://localhost:7071.attacker.net'), extensionId: id })();
    const closed = new Promise<{ code: number; reason: string }>((resolve) => hostile.setHandlers({ message: () => {}, close: resolve }));
    assert.equal((await closed).reason, 'CB_ERR_ORIGIN_REFUSED');
    assert.equal(seen.length, 3);
    assert.deepEqual(
      seen.map((t) => t.vouchedOrigin),
      [`chrome-extension://${id}`, `chrome-extension://${id}`, 'http://localhost:7071'],
    );
    assert.notEqual(seen[0]!.peer, seen[1]!.peer, 'two frames of one tab are two peers');
    assert.deepEqual(
      refused.map((r) => r.origin),
      ['http://localhost:7071.attacker.net'],
    );
  } finally {
    stop();
  }
});

test('allowedOrigins are normalized as browsers report origins; an entry that is not an origin is refused at once', async () => {
  const chrome = fakeChromeRuntime();
  const seen: Transport[] = [];
  const stop = listenExtension({
    runtime: chrome.extension,
    allowedOrigins: ['HTTP://LocalHost:7071', 'https://app.example:443'],
    onConnection: (t) => seen.push(t),
  });
  try {
    await extensionConnector({ runtime: chrome.page('http://localhost:7071'), extensionId: chrome.extension.id })();
    await extensionConnector({ runtime: chrome.page('https://app.example'), extensionId: chrome.extension.id })();
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10)); // the worker's end opens asynchronously
    assert.deepEqual(
      seen.map((t) => t.vouchedOrigin),
      ['http://localhost:7071', 'https://app.example'],
    );
  } finally {
    stop();
  }
  assert.throws(() => listenExtension({ runtime: chrome.extension, allowedOrigins: ['https://app.example/'], onConnection: () => {} }), {
    code: 'CB_ERR_INVALID_OPTION',
  });
});

test('a refused page fails connect() with CB_ERR_ORIGIN_REFUSED instead of retrying', async () => {
  const chrome = fakeChromeRuntime();
  const broker = new Broker({ heartbeatMs: 0 });
  const stop = listenExtension({ runtime: chrome.extension, allowedOrigins: [], onConnection: (t) => broker.accept(t) });
  try {
    await assert.rejects(
      connectWith(extensionConnector({ runtime: chrome.page('https://evil.example'), extensionId: chrome.extension.id }), {
        reconnect: false,
      }),
      { code: 'CB_ERR_ORIGIN_REFUSED' },
    );
  } finally {
    stop();
    await broker.close(100);
  }
});

test('the service worker stopping closes every port at once; the bus reconnects and resubscribes by itself', async () => {
  const chrome = fakeChromeRuntime();
  let broker = new Broker({ heartbeatMs: 0 });
  const stop = listenExtension({ runtime: chrome.extension, onConnection: (t) => broker.accept(t) });
  try {
    const bus = await connectWith(extensionConnector({ runtime: chrome.contentScript(1, 0) }), {
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    const got: unknown[] = [];
    await bus.subscribe('ext.>', (m) => got.push(m.data)).ready;
    const lost = new Promise<void>((resolve) => bus.on('disconnected', () => resolve()));
    chrome.stopWorker();
    await broker.close(0);
    broker = new Broker({ heartbeatMs: 0 }); // a fresh worker starts with empty state
    await lost;
    await new Promise<void>((resolve) =>
      bus.on('connected', (e) => {
        if (e.reconnected) resolve();
      }),
    );
    const other = await connectWith(extensionConnector({ runtime: chrome.contentScript(2, 0) }), { reconnect: false });
    await other.publish('ext.after', 42);
    await other.flush();
    const deadline = Date.now() + 2000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [42]);
    await other.close();
    await bus.close();
  } finally {
    stop();
    await broker.close(0);
  }
});
