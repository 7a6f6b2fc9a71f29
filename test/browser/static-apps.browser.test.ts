/**
 * A static web app served by the hub, in a real Chromium: a parent page on another origin (one
 * the app's `frameAncestors` names) frames it in `<iframe sandbox="allow-scripts">`; the app's own
 * script runs, an inline script injected into its HTML is blocked by the CSP (its
 * `securitypolicyviolation` event is seen, and the page's load shows the script never ran), its
 * WebSocket reaches the hub while one to another origin is refused (`connect-src`), and a page on
 * an origin not named cannot frame it (refused for `frame-ancestors`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, runIn as run, startStaticServer, type StaticServer } from '../helpers/browser.js';
import { until } from '../helpers/wait.js';
import { startHub, type Hub } from '../../src/hub/hub.js';
import { testConfigDocument } from '../helpers/security.js';

let hub: Hub;
let parent: StaticServer;
let hostile: StaticServer;
let browser: Browser;
let context: BrowserContext;
let appUrl = '';

const APP_HTML = `<!doctype html><html><head><meta charset="utf-8">
<script src="app.js"></script>
<script>globalThis.inlineRan = true; parent.postMessage({ kind: 'inline-ran' }, '*');</script>
</head><body>app</body></html>`;

// Reports to the parent (the frame's origin is opaque: '*' is the only target it can name).
const APP_JS = `
const report = (m) => parent.postMessage(m, '*');
document.addEventListener('securitypolicyviolation', (e) => report({ kind: 'violation', directive: e.effectiveDirective, blocked: e.blockedURI }));
addEventListener('load', () => report({ kind: 'loaded', inlineRan: globalThis.inlineRan === true }));
report({ kind: 'script-ran', origin: String(self.origin) });
// connect-src: the hub's WebSocket is allowed, any other is not.
const hub = new WebSocket(HUB_WS);
hub.onopen = () => { report({ kind: 'hub-ws-open' }); hub.close(); };
try { new WebSocket(OTHER_WS); } catch (e) { report({ kind: 'other-ws-threw' }); }
`;

/** A page that frames `src` sandboxed and keeps every message it gets. */
function framingPage(src: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>
  globalThis.received = [];
  addEventListener('message', (e) => received.push(e.data));
  const f = document.createElement('iframe');
  f.setAttribute('sandbox', 'allow-scripts');
  f.src = ${JSON.stringify(src)};
  document.body.append(f);
</script></body></html>`;
}

/** Resolves with the console's text once Chromium refused to frame `url` for `frame-ancestors`, or 'loaded' if a frame loaded it. */
function frameRefused(page: Page, url: string): Promise<string> {
  const origin = new URL(url).origin;
  const blocked = new Promise<void>((resolve) => {
    page.on('requestfailed', (r) => {
      if (r.url() === url && r.failure()?.errorText === 'net::ERR_BLOCKED_BY_RESPONSE') resolve();
    });
  });
  const logged = new Promise<string>((resolve) => {
    page.on('console', (m) => {
      const text = m.text();
      if (text.includes(`Framing '${origin}/' violates`) && /frame-ancestors/.test(text)) resolve(text);
    });
  });
  const loaded = new Promise<string>((resolve) => {
    page.on('framenavigated', (f) => {
      if (f !== page.mainFrame() && f.url().startsWith(origin)) resolve('loaded');
    });
  });
  return Promise.race([Promise.all([blocked, logged]).then(([, text]) => text), loaded]);
}

describe('a static app in a sandboxed iframe (Chromium)', { timeout: 60_000 }, () => {
  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'crossbus-static-browser-'));
    writeFileSync(join(root, 'index.html'), APP_HTML);
    // The parent's origin must be known before the hub starts: its server first, its page after.
    const pages: Record<string, { contentType: string; body: string }> = {};
    parent = await startStaticServer(pages);
    hostile = await startStaticServer(pages);
    // The frame's origin is opaque: its WebSocket says `Origin: null`, which the hub must list.
    hub = await startHub({
      port: 0,
      insecure: true,
      config: { ...testConfigDocument(), origins: ['null'] },
      staticApps: [{ name: 'app', root, frameAncestors: [parent.origin] }],
    });
    appUrl = hub.staticApps[0]!.url;
    // Files are read per request: the script learns the hub's address once it is known.
    writeFileSync(
      join(root, 'app.js'),
      APP_JS.replace('HUB_WS', JSON.stringify(hub.url)).replace('OTHER_WS', JSON.stringify(`ws://127.0.0.1:${parent.port}`)),
    );
    pages['/frame.html'] = { contentType: 'text/html; charset=utf-8', body: framingPage(appUrl) };
    browser = await launchChromium();
    context = await browser.newContext();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await parent?.close();
    await hostile?.close();
    await hub?.close();
  });

  it("runs the app's script in the sandbox, and blocks a script injected inline into its HTML", async () => {
    const page = await context.newPage();
    await page.goto(parent.url('/frame.html'));
    type Msg = { kind: string; directive?: string; inlineRan?: boolean; origin?: string };
    const received = (): Promise<Msg[]> => run<Msg[]>(page, 'return received;');
    // The load event comes after every script of the page had its chance to run.
    await until(async () => (await received()).some((m) => m.kind === 'loaded'), 10_000, "the app's load event");
    const msgs = await received();
    assert.deepEqual(
      msgs.find((m) => m.kind === 'script-ran'),
      { kind: 'script-ran', origin: 'null' },
      'its script ran, in an opaque origin',
    );
    assert.ok(
      msgs.some((m) => m.kind === 'violation' && m.directive === 'script-src-elem'),
      `the inline script was reported: ${JSON.stringify(msgs)}`,
    );
    assert.equal(msgs.find((m) => m.kind === 'loaded')?.inlineRan, false);
    await until(
      async () => (await received()).some((m) => m.kind === 'hub-ws-open'),
      10_000,
      "the app's WebSocket to the hub (connect-src)",
    );
    assert.ok(
      (await received()).some((m) => m.kind === 'violation' && m.directive === 'connect-src'),
      'a WebSocket to another origin is refused by connect-src',
    );
    assert.equal(
      msgs.some((m) => m.kind === 'inline-ran'),
      false,
    );
    await page.close();
  });

  it('cannot be framed by a page its frameAncestors does not name', async () => {
    const page = await context.newPage();
    const refused = frameRefused(page, appUrl);
    await page.goto(hostile.url('/frame.html'));
    assert.match(await refused, new RegExp(`frame-ancestors ${parent.origin.replace(/[.]/g, '\\.')}`));
    assert.deepEqual(await run(page, 'return received;'), []);
    await page.close();
  });
});
