/**
 * The browser client in a real Chromium, against an in-process hub, talking with Node clients.
 *
 * The page and its bundle are served from their own node:http server, so the page's origin
 * (http://127.0.0.1:A) differs from the hub's (ws://127.0.0.1:B): a real cross-origin connection.
 *
 * Code passed to page.evaluate runs in the page: it cannot see this module's scope, so every
 * callback reaches its state through `globalThis.__t` and receives values as arguments.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startHub, type Hub } from '../../src/hub/index.js';
import { connect as connectNode, type Bus as NodeBus } from '../../src/node/index.js';
import { testConfigDocument } from '../helpers/security.js';
import {
  bundleBrowserEntry,
  installPageShims,
  launchChromium,
  startStaticServer,
  testPageHtml,
  type BrowserBundle,
  type StaticServer,
} from '../helpers/browser.js';

// ---------------------------------------------------------------- page-side types (type-only)

type CrossbusModule = typeof import('../../src/browser/index.js');
type PageBus = import('../../src/browser/index.js').Bus;

interface ReceivedMessage {
  topic: string;
  isBytes: boolean;
  /** JSON value, or the bytes as a number array (Uint8Array does not cross page.evaluate). */
  data: unknown;
  headers: Record<string, string>;
}

interface PageErrorInfo {
  caught: boolean;
  code?: string;
  name?: string;
  isCrossbusError?: boolean;
  message?: string;
  elapsedMs?: number;
}

interface PageState {
  cb: CrossbusModule;
  bus: PageBus;
  received: ReceivedMessage[];
  states: Array<{ from: string; to: string }>;
  connected: Array<{ reconnected: boolean }>;
  busErrors: string[];
  iterated?: Promise<{ messages: ReceivedMessage[]; closedAfterBreak: boolean }>;
  waitFor(what: string, pred: () => boolean, timeoutMs?: number): Promise<void>;
}

type PageGlobals = typeof globalThis & { __t: PageState; crossbusLoaded?: boolean };

// ---------------------------------------------------------------- fixtures

const BUNDLE_PATH = '/crossbus.js';

let bundle: BrowserBundle;
let site: StaticServer | undefined;
let hub: Hub | undefined;
let hubPort = 0;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;
const nodeBuses: NodeBus[] = [];
const pageErrors: string[] = [];

/** The hub's config: app `test` may do anything; the test page's origin is allowed. */
let hubConfig: ReturnType<typeof testConfigDocument>;

async function nodeClient(_label: string): Promise<NodeBus> {
  assert.ok(hub, 'hub is running');
  const bus = await connectNode(hub.url, { name: 'test', secret: hubConfig.apps.test.secret, reconnect: false });
  nodeBuses.push(bus);
  return bus;
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('browser client (Chromium)', { timeout: 60_000 }, () => {
  before(async () => {
    bundle = await bundleBrowserEntry();
    site = await startStaticServer({
      '/': { contentType: 'text/html; charset=utf-8', body: testPageHtml(BUNDLE_PATH) },
      [BUNDLE_PATH]: { contentType: 'text/javascript; charset=utf-8', body: bundle.code },
    });
    hubConfig = testConfigDocument({
      origins: [new URL(site.url('/')).origin],
      limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
    });
    hub = await startHub({ port: 0, shutdownTimeoutMs: 1_000, config: hubConfig });
    hubPort = hub.port;
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await installPageShims(page);
    await page.goto(site.url('/'));
    await page.waitForFunction(() => (globalThis as PageGlobals).crossbusLoaded === true, undefined, { timeout: 5_000 });
  });

  after(async () => {
    // Each step on its own: one failure must not leave the others running.
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => page?.evaluate(() => (globalThis as PageGlobals).__t?.bus.close()).catch(() => {}),
      ...nodeBuses.map((b) => () => b.close()),
      () => context?.close(),
      () => browser?.close(),
      () => hub?.close(),
      () => site?.close(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch {
        /* keep closing the rest */
      }
    }
  });

  it('bundles src/browser/index.ts for the browser without any Node built-in', () => {
    // esbuild (platform 'browser') already refused any node:* / built-in import by succeeding.
    assert.ok(bundle.code.length > 1000, 'bundle has content');
    assert.doesNotMatch(bundle.code, /from\s*["']node:|import\(\s*["']node:|require\(\s*["']node:/, 'no node: import in the output');
    assert.deepEqual(bundle.externalImports, [], 'the bundle is self-contained');
    const nodeOnly = bundle.inputs.filter((p) => /node_modules[\\/]ws[\\/]|\.node\.ts$|src[\\/](hub|node|cli)[\\/]/.test(p));
    assert.deepEqual(nodeOnly, [], 'no Node-only module is reachable from the browser entry');
    assert.ok(bundle.inputs.some((p) => p.endsWith('src/browser/index.ts')));
  });

  it('the bundling guard itself rejects a Node built-in (negative control)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crossbus-bundle-'));
    try {
      const entry = join(dir, 'uses-node.ts');
      await writeFile(entry, "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
      await assert.rejects(bundleBrowserEntry(entry), /Could not resolve "node:fs"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('connects from the page to a hub on another origin', async () => {
    assert.ok(hub && site);
    const result = await page.evaluate(
      async ({ bundleUrl, hubUrl, secret }) => {
        const cb = (await import(bundleUrl)) as CrossbusModule;
        const states: PageState['states'] = [];
        const connected: PageState['connected'] = [];
        const busErrors: string[] = [];
        // Authenticated and encrypted through the browser's WebCrypto.
        const bus = await cb.connect(hubUrl, {
          name: 'test',
          secret,
          reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
          requestTimeoutMs: 3_000,
        });
        bus.on('state', (e) => states.push({ from: e.from, to: e.to }));
        bus.on('connected', (e) => connected.push({ reconnected: e.reconnected }));
        bus.on('error', (e) => busErrors.push(`${e.error.code}: ${e.error.message}`));
        const t: PageState = {
          cb,
          bus,
          states,
          connected,
          busErrors,
          received: [],
          async waitFor(what, pred, timeoutMs = 5_000) {
            const deadline = Date.now() + timeoutMs;
            while (!pred()) {
              if (Date.now() > deadline) throw new Error(`page: timed out waiting for ${what}`);
              await new Promise((r) => setTimeout(r, 10));
            }
          },
        };
        (globalThis as PageGlobals).__t = t;
        return { state: bus.state, origin: location.origin, hasInfo: bus.info !== undefined };
      },
      { bundleUrl: site.url(BUNDLE_PATH), hubUrl: hub.url, secret: hubConfig.apps.test.secret },
    );
    assert.equal(result.state, 'connected');
    assert.equal(result.hasInfo, true);
    assert.equal(result.origin, site.origin);
    assert.notEqual(new URL(site.origin).port, String(hub.port), 'page and hub are different origins');
    const pageConn = hub.stats().connections.find((c) => c.peer.includes(`origin ${site!.origin}`));
    assert.ok(pageConn, 'the hub sees the page');
    assert.equal(pageConn.name, 'test', 'authenticated as its app');
    assert.match(pageConn.peer, new RegExp(`origin ${site.origin.replace(/[.]/g, '\\.')}`), 'the hub saw the page origin');
  });

  it('receives JSON and bytes published by a Node client (subscribe browser.*)', async () => {
    await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      const sub = t.bus.subscribe('browser.*', (msg) => {
        const data: unknown = msg.data;
        const isBytes = data instanceof Uint8Array;
        t.received.push({ topic: msg.topic, isBytes, data: isBytes ? Array.from(data) : data, headers: { ...msg.headers } });
      });
      await sub.ready;
    });

    const pub = await nodeClient('node-pub');
    const json = { text: 'héllo 🌍', n: -1.5, big: Number.MAX_SAFE_INTEGER, nested: { arr: [1, null, true, 'x'], empty: {} } };
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const random = new Uint8Array(randomBytes(48 * 1024));
    await pub.publish('browser.x', json, { headers: { 'x-from': 'node' } });
    await pub.publish('browser.x', allBytes);
    await pub.publish('browser.x', random);
    await pub.publish('other.x', { not: 'for the page' });
    await pub.flush();

    const received = await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      await t.waitFor('3 messages on browser.*', () => t.received.length >= 3);
      return t.received.splice(0);
    });
    assert.equal(received.length, 3);
    const [m0, m1, m2] = received;
    assert.ok(m0 && m1 && m2);
    assert.equal(m0.topic, 'browser.x');
    assert.equal(m0.isBytes, false);
    assert.deepEqual(m0.data, json);
    assert.deepEqual(m0.headers, { 'x-from': 'node' });
    assert.equal(m1.isBytes, true);
    assert.deepEqual(Uint8Array.from(m1.data as number[]), allBytes, 'bytes 0..255 byte-identical');
    assert.equal(m2.isBytes, true);
    assert.ok(Buffer.from(m2.data as number[]).equals(Buffer.from(random)), '48 KiB random payload byte-identical');
  });

  it('publishes to a Node subscriber with headers intact', async () => {
    const sub = await nodeClient('node-sub');
    const got = deferred<{ topic: string; data: unknown; headers: Record<string, string>; bytes?: number[] }>();
    const gotBytes = deferred<number[]>();
    const s = sub.subscribe('node.y', (msg) => {
      if (msg.data instanceof Uint8Array) gotBytes.resolve(Array.from(msg.data));
      else got.resolve({ topic: msg.topic, data: msg.data, headers: { ...msg.headers } });
    });
    await s.ready;

    const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-unicode': 'ünï 🚀', 'x-empty': '' };
    await page.evaluate(async (h) => {
      const t = (globalThis as PageGlobals).__t;
      await t.bus.publish('node.y', { from: 'page', list: [1, 2, 3] }, { headers: h });
      await t.bus.publish('node.y', new Uint8Array([0, 255, 1, 254, 128]));
      await t.bus.flush();
    }, headers);

    const msg = await withTimeout(got.promise, 5_000, 'the page message in Node');
    assert.equal(msg.topic, 'node.y');
    assert.deepEqual(msg.data, { from: 'page', list: [1, 2, 3] });
    assert.deepEqual(msg.headers, headers);
    assert.deepEqual(await withTimeout(gotBytes.promise, 5_000, 'the page bytes in Node'), [0, 255, 1, 254, 128]);
  });

  it('serves page.echo for a Node requester', async () => {
    await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      const svc = t.bus.serve('page.echo', (msg) => {
        const data: unknown = msg.data;
        if (data instanceof Uint8Array) return data.slice().reverse();
        return { echoed: data, by: 'page', header: msg.headers['x-req'] ?? null };
      });
      const failing = t.bus.serve('page.fail', () => {
        throw new Error('page handler broke');
      });
      await Promise.all([svc.ready, failing.ready]);
    });

    const req = await nodeClient('node-req');
    assert.deepEqual(await req.request('page.echo', { q: 42 }, { timeoutMs: 3_000, headers: { 'x-req': 'yes' } }), {
      echoed: { q: 42 },
      by: 'page',
      header: 'yes',
    });
    const bytes = await req.request('page.echo', Uint8Array.from([1, 2, 3, 250]), { timeoutMs: 3_000 });
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(Array.from(bytes), [250, 3, 2, 1]);
    await assert.rejects(req.request('page.fail', null, { timeoutMs: 3_000 }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'CB_ERR_HANDLER_FAILED');
      assert.match((err as Error).message, /page handler broke/);
      return true;
    });
  });

  it('requests a Node-served service', async () => {
    const svc = await nodeClient('node-svc');
    const s = svc.serve<{ a: number; b: number }>('node.sum', (msg) => ({
      sum: msg.data.a + msg.data.b,
      name: msg.headers['x-name'] ?? null,
    }));
    await s.ready;
    const reply = await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      return t.bus.request('node.sum', { a: 2, b: 40 }, { timeoutMs: 3_000, headers: { 'x-name': 'page' } });
    });
    assert.deepEqual(reply, { sum: 42, name: 'page' });
  });

  it('gets CB_ERR_NO_RESPONDERS at once for an unserved topic', async () => {
    const info = await page.evaluate(async (): Promise<PageErrorInfo> => {
      const t = (globalThis as PageGlobals).__t;
      const started = Date.now();
      try {
        await t.bus.request('nobody.serves.this', { x: 1 }, { timeoutMs: 2_500 });
        return { caught: false };
      } catch (err) {
        const e = err as { code?: string; name?: string; message?: string };
        return {
          caught: true,
          code: e.code,
          name: e.name,
          message: e.message,
          isCrossbusError: err instanceof t.cb.CrossbusError,
          elapsedMs: Date.now() - started,
        };
      }
    });
    assert.equal(info.caught, true);
    assert.equal(info.code, 'CB_ERR_NO_RESPONDERS');
    assert.equal(info.name, 'RequestError');
    assert.equal(info.isCrossbusError, true);
    assert.ok((info.elapsedMs ?? Infinity) < 2_000, `rejected at once, not by the timeout (${info.elapsedMs} ms)`);
  });

  it('rejects a publish to a wildcard topic with CB_ERR_TOPIC_INVALID', async () => {
    const info = await page.evaluate(async (): Promise<PageErrorInfo> => {
      const t = (globalThis as PageGlobals).__t;
      try {
        await t.bus.publish('bad.*', { x: 1 });
        return { caught: false };
      } catch (err) {
        const e = err as { code?: string; name?: string; message?: string };
        return { caught: true, code: e.code, name: e.name, message: e.message, isCrossbusError: err instanceof t.cb.CrossbusError };
      }
    });
    assert.equal(info.caught, true);
    assert.equal(info.code, 'CB_ERR_TOPIC_INVALID');
    assert.equal(info.name, 'ValidationError');
    assert.equal(info.isCrossbusError, true);
  });

  it('consumes a subscription as an async iterator in the page', async () => {
    await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      const sub = t.bus.subscribe('iter.>');
      await sub.ready;
      t.iterated = (async () => {
        const messages: ReceivedMessage[] = [];
        for await (const msg of sub) {
          const data: unknown = msg.data;
          const isBytes = data instanceof Uint8Array;
          messages.push({ topic: msg.topic, isBytes, data: isBytes ? Array.from(data) : data, headers: { ...msg.headers } });
          if (messages.length === 3) break;
        }
        return { messages, closedAfterBreak: sub.closed };
      })();
    });

    const pub = await nodeClient('node-iter');
    await pub.publish('iter.a', 1);
    await pub.publish('iter.b.c', { two: 2 });
    await pub.publish('iter.d', Uint8Array.from([3, 3, 3]));
    await pub.publish('iter.e', 'after the break');
    await pub.flush();

    const result = await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      const r = await Promise.race([
        t.iterated,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('page: iterator did not finish')), 5_000)),
      ]);
      if (r === undefined) throw new Error('page: no iterator');
      return r;
    });
    assert.deepEqual(
      result.messages.map((m) => [m.topic, m.isBytes, m.data]),
      [
        ['iter.a', false, 1],
        ['iter.b.c', false, { two: 2 }],
        ['iter.d', true, [3, 3, 3]],
      ],
    );
    assert.equal(result.closedAfterBreak, true, 'breaking out of for-await ends the subscription');
  });

  it('streams ~3 MiB from the page under backpressure, in order and intact', async () => {
    assert.ok(hub);
    const COUNT = 48;
    const SIZE = 60 * 1024;
    const sink = await nodeClient('node-bulk');
    const seen: number[] = [];
    const corrupt: number[] = [];
    const all = deferred<void>();
    const s = sink.subscribe('bulk.data', (msg) => {
      const b = msg.data as Uint8Array;
      const i = Number(msg.headers['x-i']);
      seen.push(i);
      if (b.length !== SIZE || b.some((v, j) => v !== ((i * 31 + j) & 0xff))) corrupt.push(i);
      if (seen.length === COUNT) all.resolve();
    });
    await s.ready;

    const stats = await page.evaluate(
      async ({ hubUrl, count, size, secret }) => {
        const t = (globalThis as PageGlobals).__t;
        // A second bus with a small high-water mark, so publish() has to wait for drains.
        const bulk = await t.cb.connect(hubUrl, { name: 'test', secret, maxPendingBytes: 64 * 1024, reconnect: false });
        let maxPending = 0;
        for (let i = 0; i < count; i++) {
          const payload = new Uint8Array(size);
          for (let j = 0; j < size; j++) payload[j] = (i * 31 + j) & 0xff;
          const sent = bulk.publish('bulk.data', payload, { headers: { 'x-i': String(i) } });
          maxPending = Math.max(maxPending, bulk.pendingBytes);
          await sent;
        }
        await bulk.flush();
        const pendingAtEnd = bulk.pendingBytes;
        await bulk.close();
        let afterClose = 'resolved';
        await bulk.publish('bulk.data', 1).catch((err: { code?: string }) => (afterClose = err.code ?? 'no code'));
        return { maxPending, pendingAtEnd, state: bulk.state, afterClose };
      },
      { hubUrl: hub.url, count: COUNT, size: SIZE, secret: hubConfig.apps.test.secret },
    );
    await withTimeout(all.promise, 10_000, `${COUNT} bulk messages in Node (got ${seen.length})`);
    assert.deepEqual(
      seen,
      Array.from({ length: COUNT }, (_, i) => i),
      'in order, none lost',
    );
    assert.deepEqual(corrupt, [], 'payloads intact');
    assert.equal(stats.pendingAtEnd, 0);
    assert.equal(stats.state, 'closed');
    assert.equal(stats.afterClose, 'CB_ERR_CONNECTION_CLOSED', 'publish after close() rejects');
  });

  it('reconnects after the hub restarts on the same port and restores its subscriptions', async () => {
    assert.ok(hub);
    await page.evaluate(() => {
      const t = (globalThis as PageGlobals).__t;
      t.states.length = 0;
      t.connected.length = 0;
      t.received.length = 0;
    });

    await hub.close();
    hub = undefined;
    await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      await t.waitFor('state reconnecting', () => t.bus.state === 'reconnecting', 5_000);
      // Published while away: kept, and sent after the restored subscriptions on the new
      // connection, so the page's own browser.* subscription gets it back.
      await t.bus.publish('browser.self', { while: 'away' });
    });

    hub = await startHub({ port: hubPort, shutdownTimeoutMs: 1_000, config: hubConfig });
    assert.equal(hub.port, hubPort);

    const reconnected = await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      await t.waitFor('reconnected', () => t.connected.some((c) => c.reconnected), 10_000);
      // Subscriptions are re-sent first on the new connection; a PING round trip after them
      // proves the hub has processed them.
      await t.bus.flush();
      await t.waitFor('the message published while away', () => t.received.length >= 1);
      return {
        state: t.bus.state,
        states: t.states.map((s) => `${s.from}->${s.to}`),
        connected: t.connected,
        received: t.received.splice(0),
      };
    });
    assert.equal(reconnected.state, 'connected');
    assert.deepEqual(reconnected.states, ['connected->reconnecting', 'reconnecting->connected']);
    assert.deepEqual(reconnected.connected, [{ reconnected: true }]);
    assert.deepEqual(
      reconnected.received.map((m) => [m.topic, m.data]),
      [['browser.self', { while: 'away' }]],
    );

    const pub = await nodeClient('node-pub-2');
    await pub.publish('browser.x', { after: 'restart' });
    await pub.flush();
    const received = await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      await t.waitFor('a message after the restart', () => t.received.length >= 1);
      return t.received.splice(0);
    });
    assert.deepEqual(
      received.map((m) => [m.topic, m.data]),
      [['browser.x', { after: 'restart' }]],
    );

    // The page's service came back too, and the page can publish again.
    assert.deepEqual(await pub.request('page.echo', 'again', { timeoutMs: 3_000 }), { echoed: 'again', by: 'page', header: null });
    const watcher = await nodeClient('node-watch');
    const got = deferred<unknown>();
    const w = watcher.subscribe('node.y', (msg) => got.resolve(msg.data));
    await w.ready;
    await page.evaluate(async () => {
      const t = (globalThis as PageGlobals).__t;
      await t.bus.publish('node.y', { from: 'page', phase: 'after restart' });
    });
    assert.deepEqual(await withTimeout(got.promise, 5_000, 'the page publish after restart'), { from: 'page', phase: 'after restart' });
  });

  it('left no uncaught errors in the page', async () => {
    const busErrors = await page.evaluate(() => (globalThis as PageGlobals).__t.busErrors);
    // The page.fail handler is expected to report CB_ERR_HANDLER_FAILED; nothing else.
    assert.deepEqual(
      busErrors.filter((e) => !e.startsWith('CB_ERR_HANDLER_FAILED: service handler for page.fail')),
      [],
    );
    assert.deepEqual(pageErrors, []);
  });
});
