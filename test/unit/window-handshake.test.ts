/**
 * The window handshake with stand-in windows (the real thing runs in Chromium in
 * test/browser/windows.browser.test.ts): exact origins, the source check, refusals, reconnects.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { originAllowed, originProblem } from '../../src/core/security/origins.js';
import { listenWindow, windowConnector, type MessageEventLike, type WindowLike } from '../../src/transports/postmessage/index.js';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith } from '../../src/client/index.js';
import { rejectsWithCode } from '../helpers/rejects.js';

/** A window: an event target others post to, with the origin the "browser" stamps on its messages. */
class FakeWindow implements WindowLike {
  closed = false;
  private listeners = new Map<string, Set<(ev: MessageEventLike) => void>>();
  /** Who posts from here: `postMessage` on another FakeWindow is called through `from(...)`. */
  constructor(readonly origin: string) {}
  addEventListener(type: string, l: (ev: MessageEventLike) => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(l);
  }
  removeEventListener(type: string, l: (ev: MessageEventLike) => void): void {
    this.listeners.get(type)?.delete(l);
  }
  /** Delivery as the browser does it: only when the target origin matches ours (or '*'). */
  deliver(data: unknown, from: FakeWindow, targetOrigin: string, ports: unknown[]): void {
    if (targetOrigin !== '*' && targetOrigin !== this.origin) return;
    setTimeout(() => {
      for (const l of this.listeners.get('message') ?? []) l({ data, origin: from.origin, source: from.proxyFor(this), ports });
    }, 0);
  }
  /** The WindowProxy `viewer` holds for this window: posting through it stamps our origin. */
  private proxies = new Map<FakeWindow, WindowLike>();
  proxyFor(viewer: FakeWindow): WindowLike {
    let p = this.proxies.get(viewer);
    if (p === undefined) {
      const self = this;
      p = {
        postMessage: (data: unknown, targetOrigin: string, transfer?: unknown[]) =>
          self.deliver(data, viewer, targetOrigin, transfer ?? []),
        get closed() {
          return self.closed;
        },
      };
      this.proxies.set(viewer, p);
    }
    return p;
  }
  postMessage(): void {
    throw new Error('post through proxyFor(viewer)');
  }
}

describe('origins', () => {
  test('exact match only; null only when listed', () => {
    const list = ['http://example.com', 'https://app.test:8443'];
    assert.equal(originAllowed(list, 'http://example.com'), true);
    assert.equal(originAllowed(list, 'http://example.com.attacker.net'), false);
    assert.equal(originAllowed(list, 'http://attacker.net/http://example.com'), false);
    assert.equal(originAllowed(list, 'https://example.com'), false);
    assert.equal(originAllowed(list, 'http://example.com:8080'), false);
    assert.equal(originAllowed(list, 'http://EXAMPLE.com'), false);
    assert.equal(originAllowed(list, 'null'), false);
    assert.equal(originAllowed([...list, 'null'], 'null'), true);
    assert.equal(originAllowed(list, ''), false);
    assert.equal(originAllowed(list, undefined), false);
    assert.equal(originProblem('*'), 'must be one exact origin, not "*"');
    assert.match(originProblem('http://example.com/')!, /without a path/);
    assert.match(originProblem('HTTP://example.com')!, /lower-case/);
    assert.match(originProblem('http://example.com:80')!, /default port/);
    assert.equal(originProblem('http://localhost:7071'), undefined);
  });
});

describe('window handshake (stand-in windows)', () => {
  const HUB = 'http://localhost:7071';
  const APP = 'http://127.0.0.1:7072';

  function setup(allowed = [APP]) {
    const hubWin = new FakeWindow(HUB);
    const broker = new Broker({ heartbeatMs: 0 });
    const refused: Array<{ origin: string; reason: string }> = [];
    const listener = listenWindow({
      window: hubWin,
      allowedOrigins: allowed,
      onConnection: (t) => broker.accept(t),
      onRefused: (r) => refused.push(r),
      watchIntervalMs: 20,
    });
    (globalThis as { MessageChannel?: unknown }).MessageChannel ??= MessageChannel;
    return { hubWin, broker, refused, listener };
  }

  test('an allowed origin connects; its channel carries the bus; the hub sees the vouched origin', async () => {
    const { hubWin, broker, listener } = setup();
    const frame = new FakeWindow(APP);
    const origins: Array<string | undefined> = [];
    broker.events.on('connection', () => {});
    const bus = await connectWith(windowConnector({ target: hubWin.proxyFor(frame), hubOrigin: HUB, self: frame, timeoutMs: 1_000 }), {
      reconnect: false,
    });
    assert.equal(listener.connections, 1);
    origins.push(...broker.stats().connections.map((c) => c.peer));
    assert.deepEqual(origins, [`window ${APP}`]);
    await bus.publish('x', 1, { ack: true });
    await bus.close();
    listener.close();
    await broker.close(10);
  });

  test('a disallowed origin is refused with CB_ERR_ORIGIN_REFUSED; a null origin gets no answer; both are reported', async () => {
    const { hubWin, broker, refused, listener } = setup();
    const evil = new FakeWindow('http://127.0.0.1:7072.attacker.net');
    await rejectsWithCode(
      connectWith(windowConnector({ target: hubWin.proxyFor(evil), hubOrigin: HUB, self: evil, timeoutMs: 1_000 }), { reconnect: false }),
      'CB_ERR_ORIGIN_REFUSED',
    );
    const sandboxed = new FakeWindow('null');
    await rejectsWithCode(
      connectWith(windowConnector({ target: hubWin.proxyFor(sandboxed), hubOrigin: HUB, self: sandboxed, timeoutMs: 300 }), {
        reconnect: false,
      }),
      'CB_ERR_HANDSHAKE_TIMEOUT',
    );
    assert.deepEqual(
      refused.map((r) => r.origin),
      ['http://127.0.0.1:7072.attacker.net', 'null'],
    );
    listener.close();
    await broker.close(10);
  });

  test('"null" in allowedOrigins is refused at once with CB_ERR_INVALID_OPTION (browsers cannot answer it)', () => {
    const hubWin = new FakeWindow(HUB);
    for (const allowedOrigins of [['null'], [APP, 'null']]) {
      assert.throws(
        () => listenWindow({ window: hubWin, allowedOrigins, onConnection: () => {} }),
        (e: { code?: string; message?: string; details?: { option?: string } }) =>
          e.code === 'CB_ERR_INVALID_OPTION' && e.details?.option === 'allowedOrigins' && /"null" cannot be listed/.test(e.message ?? ''),
      );
    }
  });

  test('an answer from another window, or with another nonce, is dropped', async () => {
    const hubWin = new FakeWindow(HUB); // no listener: the hub never answers
    const frame = new FakeWindow(APP);
    const sibling = new FakeWindow(HUB); // same origin as the hub, but not the hub's window
    const { port1 } = new MessageChannel();
    const connecting = connectWith(
      windowConnector({ target: hubWin.proxyFor(frame), hubOrigin: HUB, self: frame, timeoutMs: 300, createNonce: () => 'n'.repeat(16) }),
      { reconnect: false },
    );
    frame.deliver({ crossbus: 'crossbus-window/1', type: 'accept', nonce: 'n'.repeat(16) }, sibling, APP, [port1]);
    frame.deliver({ crossbus: 'crossbus-window/1', type: 'accept', nonce: 'm'.repeat(16) }, hubWin, APP, [port1]);
    await rejectsWithCode(connecting, 'CB_ERR_HANDSHAKE_TIMEOUT');
    port1.close();
  });

  test('a window that connects again replaces its old connection; a window that is gone is closed within the watch interval', async () => {
    const { hubWin, broker, listener } = setup();
    const frame = new FakeWindow(APP);
    const connector = windowConnector({ target: hubWin.proxyFor(frame), hubOrigin: HUB, self: frame, timeoutMs: 1_000 });
    const first = await connectWith(connector, { reconnect: false });
    const lost = new Promise((r) => first.on('closed', (e) => r(e.error?.code)));
    const second = await connectWith(connector, { reconnect: false }); // "reloaded"
    assert.equal(await lost, 'CB_ERR_CONNECTION_LOST');
    assert.equal(listener.connections, 1);
    const gone = new Promise((r) => second.on('closed', (e) => r(e.error?.code)));
    frame.closed = true; // the iframe was removed
    assert.equal(await gone, 'CB_ERR_CONNECTION_LOST');
    assert.equal(listener.connections, 0);
    listener.close();
    await broker.close(10);
  });

  test('origins given in another spelling (upper case, a default port) are normalized as browsers report them, and connect', async () => {
    const { hubWin, broker, listener } = setup(['HTTP://127.0.0.1:7072']);
    const frame = new FakeWindow(APP);
    const bus = await connectWith(
      windowConnector({ target: hubWin.proxyFor(frame), hubOrigin: 'HTTP://LocalHost:7071', self: frame, timeoutMs: 1_000 }),
      { reconnect: false },
    );
    assert.deepEqual(
      broker.stats().connections.map((c) => c.peer),
      [`window ${APP}`],
    );
    // HTTP://LOCALHOST:80 is http://localhost: another origin than the hub's, so the hub's window never gets the request.
    const other = windowConnector({ target: hubWin.proxyFor(frame), hubOrigin: 'HTTP://LOCALHOST:80', self: frame, timeoutMs: 300 });
    await rejectsWithCode(connectWith(other, { reconnect: false }), 'CB_ERR_HANDSHAKE_TIMEOUT');
    await bus.close();
    listener.close();
    await broker.close(10);
  });

  test('bad options are refused at once', () => {
    assert.throws(() => windowConnector({ target: new FakeWindow(APP).proxyFor(new FakeWindow(HUB)), hubOrigin: '*' }), /exact origin/);
    assert.throws(
      () => listenWindow({ onConnection: () => {}, allowedOrigins: ['http://a.test/'], window: new FakeWindow(HUB) }),
      /without a path/,
    );
  });
});
