/**
 * Windows, iframes, popups and workers on one bus, in a real Chromium. Three origins, each its
 * own static server: A hosts a hub in the page; B is the app it frames (and opens as a popup);
 * C is hostile. Code runs in the pages as strings (frame.evaluate), reaching the bundle through
 * `globalThis.cb` and keeping its state in `globalThis.t`.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import {
  bundleBrowserEntry,
  cbPageHtml as html,
  runIn as run,
  launchChromium,
  startStaticServer,
  type StaticServer,
} from '../helpers/browser.js';
import { until } from '../helpers/wait.js';

const ENTRY = fileURLToPath(new URL('./fixtures/page-entry.ts', import.meta.url));

let A: StaticServer;
let B: StaticServer;
let C: StaticServer;
let browser: Browser;
let context: BrowserContext;
let hubPage: Page;
const pageErrors: string[] = [];

async function frameAt(page: Page, origin: string, timeoutMs = 5_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = page.frames().find((x) => x.url().startsWith(origin));
    if (f !== undefined && (await f.evaluate('globalThis.ready === true').catch(() => false))) return f;
    if (Date.now() > deadline) throw new Error(`no ready frame from ${origin}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function addFrame(page: Page, origin: string, attrs = ''): Promise<Frame> {
  await run(
    page,
    `const f = document.createElement('iframe'); f.src = ${JSON.stringify(`${origin}/app.html`)}; ${attrs}; document.body.append(f);`,
  );
  return frameAt(page, origin);
}

const connectFromFrame = (hubOrigin: string, timeoutMs = 3_000): string => `
  try {
    t.bus = await cb.connectWith(cb.windowConnector({ target: parent, hubOrigin: ${JSON.stringify(hubOrigin)}, timeoutMs: ${timeoutMs} }), { reconnect: false });
    return 'connected';
  } catch (e) { return e.code ?? String(e); }`;

describe('windows, iframes, popups and workers (Chromium)', { timeout: 90_000 }, () => {
  before(async () => {
    const code = (await bundleBrowserEntry(ENTRY)).code;
    const js = { contentType: 'text/javascript; charset=utf-8', body: code };
    const page = (body?: string) => ({ contentType: 'text/html; charset=utf-8', body: html(body) });
    const worker = {
      contentType: 'text/javascript; charset=utf-8',
      body: `import * as cb from '/cb.js';
      const bus = await cb.connectWith(cb.workerConnector(self), { reconnect: false });
      bus.serve('worker.square', (m) => m.data * m.data);
      await bus.flush();
      self.postMessage('worker-ready');`,
    };
    const sharedHub = {
      contentType: 'text/javascript; charset=utf-8',
      body: `import * as cb from '/cb.js';
      const broker = new cb.Broker({ heartbeatMs: 0 });
      self.onconnect = (e) => broker.accept(cb.createPortTransport(e.ports[0], { peer: 'tab' }));`,
    };
    A = await startStaticServer({
      '/cb.js': js,
      '/hub.html': page(),
      '/app.html': page(),
      '/worker.js': worker,
      '/shared-hub.js': sharedHub,
    });
    // A sandboxed frame has an opaque origin: its module import of /cb.js is a CORS request.
    B = await startStaticServer({ '/cb.js': { ...js, headers: { 'access-control-allow-origin': '*' } }, '/app.html': page() });
    C = await startStaticServer({ '/cb.js': js, '/app.html': page(), '/frames-hub.html': page() });
    browser = await launchChromium();
    context = await browser.newContext();
    await context.addInitScript('globalThis.__name = (fn) => fn;');
    hubPage = await context.newPage();
    hubPage.on('pageerror', (e) => pageErrors.push(String(e)));
    await hubPage.goto(A.url('/hub.html'));
    await hubPage.waitForFunction('globalThis.ready === true');
    await run(
      hubPage,
      `
      t.refused = []; t.events = [];
      t.broker = new cb.Broker({ heartbeatMs: 0 });
      t.broker.events.on('connection', (e) => t.events.push(['connection', e.name]));
      t.broker.events.on('disconnection', (e) => t.events.push(['disconnection', e.name]));
      t.listener = cb.listenWindow({ allowedOrigins: [${JSON.stringify(B.origin)}], onConnection: (tr) => t.broker.accept(tr), onRefused: (r) => t.refused.push(r), watchIntervalMs: 200 });
      t.bus = await cb.connectWith(cb.memoryConnector(t.broker), { reconnect: false });
      t.got = [];
      t.bus.subscribe('to-page.>', (m) => t.got.push({ topic: m.topic, data: m.data instanceof Uint8Array ? Array.from(m.data) : m.data }));
      t.bus.serve('page.add', (m) => m.data.a + m.data.b);
      await t.bus.flush();`,
    );
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    for (const s of [A, B, C]) await s?.close().catch(() => {});
  });

  it('an iframe on another origin: handshake, pub/sub and request/reply both ways, transferred bytes', async () => {
    const frame = await addFrame(hubPage, B.origin);
    assert.equal(await run(frame, connectFromFrame(A.origin)), 'connected');
    await run(
      frame,
      `
      t.got = [];
      t.bus.subscribe('to-frame.>', (m) => t.got.push(m.data instanceof Uint8Array ? Array.from(m.data) : m.data));
      t.bus.serve('frame.upper', (m) => String(m.data).toUpperCase());
      await t.bus.flush();`,
    );
    await run(
      hubPage,
      `await t.bus.publish('to-frame.x', { hello: 'frame' }); await t.bus.publish('to-frame.bytes', new Uint8Array([0, 1, 254, 255]));`,
    );
    await run(
      frame,
      `await t.bus.publish('to-page.x', { hello: 'page' }); await t.bus.publish('to-page.bytes', new Uint8Array(1000).fill(7));`,
    );
    assert.equal(await run(frame, `return await t.bus.request('page.add', { a: 2, b: 40 });`), 42);
    assert.equal(await run(hubPage, `return await t.bus.request('frame.upper', 'shout');`), 'SHOUT');
    await hubPage.waitForFunction('t.got.length >= 2');
    const atPage = await run<Array<{ topic: string; data: unknown }>>(hubPage, 'return t.got;');
    assert.deepEqual(atPage[0], { topic: 'to-page.x', data: { hello: 'page' } });
    assert.equal((atPage[1]!.data as number[]).length, 1000);
    await frame.waitForFunction('t.got.length >= 2');
    assert.deepEqual(await run(frame, 'return t.got;'), [{ hello: 'frame' }, [0, 1, 254, 255]]);
    assert.equal(
      await run(hubPage, `return t.broker.stats().connections.find((c) => c.transport === 'postmessage')?.peer;`),
      `window ${B.origin}`,
    );
    await run(frame, 'await t.bus.close();');
    await run(hubPage, 'document.querySelector("iframe").remove();');
  });

  it('a reloaded iframe: the old connection closes at once, requests in flight to it fail, the new one works', async () => {
    const frame = await addFrame(hubPage, B.origin);
    assert.equal(await run(frame, connectFromFrame(A.origin)), 'connected');
    await run(frame, `t.bus.serve('frame.slow', () => { t.slowStarted = true; return new Promise(() => {}); }); await t.bus.flush();`);
    await run(hubPage, `t.inflight = t.bus.request('frame.slow', 1, { timeoutMs: 20000 }).then(() => 'answered', (e) => e.code);`);
    await frame.waitForFunction('t.slowStarted === true', undefined, { timeout: 5_000 }); // the request is in flight to the frame
    const started = Date.now();
    await frame.evaluate('location.reload()').catch(() => {});
    const code = await run(hubPage, 'return await t.inflight;');
    assert.equal(code, 'CB_ERR_RESPONDER_GONE');
    assert.ok(Date.now() - started < 5_000, 'at once, not at the 20 s timeout');
    const again = await frameAt(hubPage, B.origin);
    assert.equal(await run(again, connectFromFrame(A.origin)), 'connected');
    await run(again, `t.bus.serve('frame.ping', () => 'pong'); await t.bus.flush();`);
    assert.equal(await run(hubPage, `return await t.bus.request('frame.ping', 1);`), 'pong');
    assert.equal(await run(hubPage, 'return t.listener.connections;'), 1);
    await run(again, 'await t.bus.close();');
    await run(hubPage, 'document.querySelector("iframe").remove();');
  });

  it('removing the iframe closes its connection within the watch interval', async () => {
    const frame = await addFrame(hubPage, B.origin);
    assert.equal(await run(frame, connectFromFrame(A.origin)), 'connected');
    await run(frame, `t.bus.serve('frame.never', () => { t.neverStarted = true; return new Promise(() => {}); }); await t.bus.flush();`);
    await run(hubPage, `t.inflight2 = t.bus.request('frame.never', 1, { timeoutMs: 20000 }).then(() => 'answered', (e) => e.code);`);
    await frame.waitForFunction('t.neverStarted === true', undefined, { timeout: 5_000 }); // the request is in flight to the frame
    await run(hubPage, 'document.querySelector("iframe").remove();');
    assert.equal(await run(hubPage, 'return await t.inflight2;'), 'CB_ERR_RESPONDER_GONE');
    await hubPage.waitForFunction('t.listener.connections === 0', undefined, { timeout: 3_000 });
  });

  it('a hostile origin framed by the hub page is refused and reported', async () => {
    const before = (await run<unknown[]>(hubPage, 'return t.refused;')).length;
    const frame = await addFrame(hubPage, C.origin);
    assert.equal(await run(frame, connectFromFrame(A.origin)), 'CB_ERR_ORIGIN_REFUSED');
    const refused = await run<Array<{ origin: string }>>(hubPage, 'return t.refused;');
    assert.deepEqual(
      refused.slice(before).map((r) => r.origin),
      [C.origin],
    );
    await run(hubPage, 'document.querySelector("iframe").remove();');
  });

  it('a hostile origin that frames the hub page is refused and reported', async () => {
    const evil = await context.newPage();
    await evil.goto(C.url('/frames-hub.html'));
    await evil.waitForFunction('globalThis.ready === true');
    await run(evil, `const f = document.createElement('iframe'); f.src = ${JSON.stringify(A.url('/hub.html'))}; document.body.append(f);`);
    const framed = await frameAt(evil, A.origin);
    await run(
      framed,
      `
      t.refused = [];
      t.broker = new cb.Broker({ heartbeatMs: 0 });
      cb.listenWindow({ allowedOrigins: [${JSON.stringify(B.origin)}], onConnection: (tr) => t.broker.accept(tr), onRefused: (r) => t.refused.push(r) });`,
    );
    const result = await run(
      evil,
      `
      const hubWin = document.querySelector('iframe').contentWindow;
      try {
        await cb.connectWith(cb.windowConnector({ target: hubWin, hubOrigin: ${JSON.stringify(A.origin)}, timeoutMs: 3000 }), { reconnect: false });
        return 'connected';
      } catch (e) { return e.code; }`,
    );
    assert.equal(result, 'CB_ERR_ORIGIN_REFUSED');
    assert.deepEqual(
      (await run<Array<{ origin: string }>>(framed, 'return t.refused;')).map((r) => r.origin),
      [C.origin],
    );
    await evil.close();
  });

  it('a sandboxed (null-origin) iframe is refused', async () => {
    const before = (await run<unknown[]>(hubPage, 'return t.refused;')).length;
    await run(
      hubPage,
      `const f = document.createElement('iframe'); f.sandbox = 'allow-scripts'; f.src = ${JSON.stringify(B.url('/app.html'))}; document.body.append(f);`,
    );
    const frame = await frameAt(hubPage, B.origin);
    assert.equal(await run(frame, 'return location.origin === "null" || self.origin;'), 'null');
    assert.equal(await run(frame, connectFromFrame(A.origin, 800)), 'CB_ERR_HANDSHAKE_TIMEOUT');
    const refused = await run<Array<{ origin: string }>>(hubPage, 'return t.refused;');
    assert.deepEqual(
      refused.slice(before).map((r) => r.origin),
      ['null'],
    );
    await run(hubPage, 'document.querySelector("iframe").remove();');
  });

  it('"null" cannot be listed in allowedOrigins: Chromium cannot post to it, so listenWindow refuses it at once', async () => {
    const r = await run<{ post: string; listen: string }>(
      hubPage,
      `let post = 'posted';
      try { window.postMessage('x', 'null'); } catch (e) { post = e.name; }
      let listen = 'listening';
      try { cb.listenWindow({ allowedOrigins: ['null'], onConnection() {} }).close(); } catch (e) { listen = e.code + ' ' + e.message; }
      return { post, listen };`,
    );
    // Why: the browser itself refuses 'null' as a target origin, so an answer could never be sent.
    assert.equal(r.post, 'SyntaxError');
    assert.match(r.listen, /^CB_ERR_INVALID_OPTION allowedOrigins: "null" cannot be listed/);
  });

  it('a forged answer from another window is dropped', async () => {
    // Two frames from B; the second posts a fake accept (right nonce, a port of its own) to the first,
    // which is connecting to a page that never answers.
    const quiet = await context.newPage();
    await quiet.goto(C.url('/app.html'));
    await quiet.waitForFunction('globalThis.ready === true');
    await run(
      quiet,
      `for (const n of [1, 2]) { const f = document.createElement('iframe'); f.name = 'f' + n; f.src = ${JSON.stringify(B.url('/app.html'))}; document.body.append(f); }`,
    );
    await quiet.waitForFunction(
      `Array.from(document.querySelectorAll('iframe')).every((f) => { try { return true; } catch { return false; } })`,
    );
    await until(() => quiet.frames().filter((x) => x.url().startsWith(B.origin)).length === 2, 5_000, 'both frames');
    const [f1, f2] = quiet.frames().filter((x) => x.url().startsWith(B.origin));
    await f1!.waitForFunction('globalThis.ready === true');
    await f2!.waitForFunction('globalThis.ready === true');
    await run(
      f1!,
      `t.result = cb.connectWith(cb.windowConnector({ target: parent, hubOrigin: ${JSON.stringify(C.origin)}, timeoutMs: 1500, createNonce: () => 'forged-nonce-0000000' }), { reconnect: false }).then(() => 'connected', (e) => e.code);`,
    );
    await run(
      f2!,
      `const ch = new MessageChannel(); parent.frames['f1'].postMessage({ crossbus: 'crossbus-window/1', type: 'accept', nonce: 'forged-nonce-0000000' }, ${JSON.stringify(B.origin)}, [ch.port2]);`,
    );
    assert.equal(await run(f1!, 'return await t.result;'), 'CB_ERR_HANDSHAKE_TIMEOUT');
    await quiet.close();
  });

  it('a popup connects through window.opener', async () => {
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      run(hubPage, `window.open(${JSON.stringify(B.url('/app.html'))}, 'popup');`),
    ]);
    await popup!.waitForFunction('globalThis.ready === true');
    const connected = await run(
      popup!,
      `
      t.bus = await cb.connectWith(cb.windowConnector({ target: opener, hubOrigin: ${JSON.stringify(A.origin)} }), { reconnect: false });
      return await t.bus.request('page.add', { a: 1, b: 1 });`,
    );
    assert.equal(connected, 2);
    await popup!.close();
    await hubPage.waitForFunction('t.listener.connections === 0', undefined, { timeout: 3_000 });
  });

  it('a dedicated worker and a SharedWorker join through ports', async () => {
    const viaWorker = await run(
      hubPage,
      `
      const w = new Worker('/worker.js', { type: 'module' });
      const ready = new Promise((r) => w.addEventListener('message', (e) => { if (e.data === 'worker-ready') r(); }));
      cb.listenPorts(w, (tr) => t.broker.accept(tr), { peer: 'worker' });
      await ready;
      return await t.bus.request('worker.square', 12);`,
    );
    assert.equal(viaWorker, 144);
    const tab2 = await context.newPage();
    await tab2.goto(A.url('/app.html'));
    await tab2.waitForFunction('globalThis.ready === true');
    const connectShared = `t.bus = await cb.connectWith(async () => cb.createPortTransport(new SharedWorker('/shared-hub.js', { type: 'module' }).port, { peer: 'shared-hub' }), { reconnect: false });`;
    await run(
      hubPage,
      `${connectShared.replace('t.bus', 't.shared')} t.sharedGot = []; t.shared.subscribe('tabs.>', (m) => t.sharedGot.push(m.data)); await t.shared.flush();`,
    );
    await run(tab2, `${connectShared} await t.bus.publish('tabs.hello', 'from tab 2'); await t.bus.flush();`);
    await hubPage.waitForFunction('t.sharedGot.length === 1');
    assert.deepEqual(await run(hubPage, 'return t.sharedGot;'), ['from tab 2']);
    await tab2.close();
  });

  it('no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
