/**
 * The demo (`crossbus demo`, what `npm start` runs) attacked from hostile origins in a real
 * Chromium: the real demo process, a hostile site on a port of its own (another origin), and a
 * host name that resolves to 127.0.0.1 (`--host-resolver-rules`), as DNS rebinding makes it.
 * Every "did not happen" waits for a positive signal first: the frame refused by CSP, the
 * preview's connection failing towards its pinned hub, a 421 from the server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchChromium, runIn as run, startStaticServer, type StaticServer } from '../helpers/browser.js';
import { spawnCli, type CliProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';
import { HANDSHAKE_TAG } from '../../src/transports/postmessage/messages.js';

const REBIND_HOST = 'rebind.test';

let demo: CliProcess;
let dataDir = '';
let editorOrigin = '';
let previewOrigin = '';
let hubUrl = '';
let hostile: StaticServer;
let browser: Browser;
let context: BrowserContext;

/** The preview, as the hostile site frames it: naming itself the hub in the query. */
function framedPreviewUrl(): string {
  return `${previewOrigin}/preview.html?hub=${encodeURIComponent(hostile.origin)}`;
}

/**
 * A hostile page: frames `src` (naming itself the hub with `?hub=<its own origin>` when `asHub`),
 * records every message posted to it, and answers a window `connect` as a hub would (`accept`
 * with a channel of its own), so a preview that took it for its hub would connect.
 */
function framingPage(src: string, asHub: boolean): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>
  globalThis.received = [];
  addEventListener('message', (e) => {
    received.push({ origin: e.origin, data: JSON.stringify(e.data) });
    if (e.data?.crossbus === ${JSON.stringify(HANDSHAKE_TAG)} && e.data.type === 'connect') {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = (m) => received.push({ origin: 'channel', data: String(m.data) });
      e.source.postMessage({ crossbus: ${JSON.stringify(HANDSHAKE_TAG)}, type: 'accept', nonce: e.data.nonce }, e.origin, [port2]);
    }
  });
  const f = document.createElement('iframe');
  f.src = ${JSON.stringify(src)} + (${asHub} ? '?hub=' + encodeURIComponent(location.origin) : '');
  document.body.append(f);
</script></body></html>`;
}

/**
 * Resolves once Chromium refused to frame `url` for its `frame-ancestors` (the frame's request
 * failed as blocked by the response, and the console names the directive: resolves with that
 * text), or as soon as a frame loaded it instead (resolves with "loaded").
 */
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

/** GET over plain HTTP with the Host header given (what a page on another name sends). */
function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every secret in the demo's data folder (the hub config's apps). */
function demoSecrets(): string[] {
  const doc = JSON.parse(readFileSync(join(dataDir, 'crossbus.config.json'), 'utf8')) as {
    apps: Record<string, { secret?: string; secrets?: Array<{ secret: string }> }>;
  };
  return Object.values(doc.apps).flatMap((a) => [...(a.secret ? [a.secret] : []), ...(a.secrets ?? []).map((s) => s.secret)]);
}

function newPage(): Promise<Page> {
  return context.newPage();
}

describe('the demo under attack from hostile origins (Chromium)', { timeout: 90_000 }, () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'crossbus-demo-sec-'));
    demo = spawnCli([
      'demo',
      '--port',
      '0',
      '--editor-port',
      '0',
      '--preview-port',
      '0',
      '--data',
      dataDir,
      '--extension-dir',
      join(dataDir, 'extension'),
    ]);
    await until(() => /extension is built in/.test(demo.stdout()), 20_000, `the demo to start\n${demo.stderr()}`);
    editorOrigin = /open (http:\/\/localhost:\d+)\//.exec(demo.stdout())![1]!;
    previewOrigin = /comes from (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout())![1]!;
    hubUrl = /hub listening on (ws:\/\/\S+)/.exec(demo.stdout())![1]!;
    // The hostile site: a static server of its own (another origin). Its pages are real
    // responses from 127.0.0.1, as a local attacker's would be (a page Playwright made up would
    // be held to Chromium's local network access checks instead).
    const html = { contentType: 'text/html; charset=utf-8' };
    hostile = await startStaticServer({
      '/frame-preview.html': { ...html, body: framingPage(`${previewOrigin}/preview.html`, true) },
      '/frame-editor.html': { ...html, body: framingPage(`${editorOrigin}/`, false) },
      '/blank.html': { ...html, body: '<!doctype html><html><body></body></html>' },
    });
    browser = await launchChromium([`--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`]);
    context = await browser.newContext();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await hostile?.close();
    demo?.proc.kill('SIGTERM');
    await demo?.exited;
  });

  it('a hostile site that frames the preview with ?hub=<its origin> is refused by frame-ancestors, and gets no message', async () => {
    const page = await newPage();
    const refused = frameRefused(page, framedPreviewUrl());
    await page.goto(hostile.url('/frame-preview.html'));
    assert.ok((await refused).includes(`"frame-ancestors ${editorOrigin}"`), 'only the editor may frame the preview');
    assert.deepEqual(await run(page, 'return received;'), []);
    await page.close();
  });

  it('without frame-ancestors, the preview still connects only to its pinned hub: never to the framing site', async () => {
    const page = await newPage();
    const addressed = new Promise<void>((resolve) => {
      page.on('console', (m) => {
        if (
          m
            .text()
            .includes(`The target origin provided ('${editorOrigin}') does not match the recipient window's origin ('${hostile.origin}')`)
        )
          resolve();
      });
    });
    // Strip the preview's CSP, as an older browser ignoring frame-ancestors would.
    await page.route(`${previewOrigin}/preview.html*`, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['content-security-policy'];
      await route.fulfill({ response, headers });
    });
    await page.goto(hostile.url('/frame-preview.html'));
    let frame: Frame | undefined;
    await until(() => (frame = page.frames().find((f) => f.url().startsWith(previewOrigin))) !== undefined, 5_000, 'the preview frame');
    // The positive signals: the preview addressed the editor's origin (pinned by the server), which
    // the browser would not deliver to this page, and then gave up.
    const talked = page
      .waitForFunction('received.length > 0', undefined, { timeout: 0 })
      .then(() => 'the preview talked to the hostile page')
      .catch(() => 'page closed');
    assert.equal(await Promise.race([addressed.then(() => 'addressed the editor'), talked]), 'addressed the editor');
    await frame!.waitForFunction(
      `document.getElementById('status').textContent.includes(${JSON.stringify(`the hub at ${editorOrigin} did not answer`)})`,
      undefined,
      { timeout: 10_000 },
    );
    assert.deepEqual(await run(page, 'return received;'), []);
    await page.close();
  });

  it('a hostile site cannot frame the editor (frame-ancestors), so it cannot drive its bridge', async () => {
    const page = await newPage();
    const refused = frameRefused(page, `${editorOrigin}/`);
    await page.goto(hostile.url('/frame-editor.html'));
    assert.match(await refused, /frame-ancestors 'none'/);
    assert.deepEqual(await run(page, 'return received;'), []);
    await page.close();
  });

  it('a hostile site cannot join the Node hub as the editor: its Origin is not the editor’s', async () => {
    const page = await newPage();
    await page.goto(hostile.url('/blank.html'));
    const outcome = await run<string>(
      page,
      `return await new Promise((resolve) => {
        const ws = new WebSocket(${JSON.stringify(hubUrl)});
        ws.onopen = () => resolve('open');
        ws.onclose = (e) => resolve('closed ' + e.code);
      });`,
    );
    assert.equal(outcome, 'closed 1006');
    await until(() => demo.stdout().includes(hostile.origin) || demo.stderr().includes(hostile.origin), 5_000, 'the refusal in the log');
    await page.close();
  });

  it('DNS rebinding: a page on a name that resolves to 127.0.0.1 gets 421 from both page servers', async () => {
    for (const origin of [editorOrigin, previewOrigin]) {
      const port = new URL(origin).port;
      const rebound = `http://${REBIND_HOST}:${port}`;
      // A page on that name: what the server answered for it (its 421), where the attacker's
      // script runs; everything it fetches goes to the demo server as same-origin requests.
      const page = await newPage();
      const landing = await page.goto(`${rebound}/`);
      assert.equal(landing?.status(), 421);
      assert.equal(await page.evaluate('location.origin'), rebound);
      const statuses = await run<number[]>(
        page,
        `const out = [];
        for (const p of ['/', '/index.html', '/editor.js', '/preview.html', '/preview.js', '/demo-config.json'])
          out.push((await fetch(p)).status);
        return out;`,
      );
      assert.deepEqual(statuses, [421, 421, 421, 421, 421, 421], `${rebound}`);
      await page.close();
    }
    // The same from outside a browser: any Host but the server's own is refused.
    assert.equal((await get(`${editorOrigin.replace('localhost', '127.0.0.1')}/`)).status, 421);
    assert.equal((await get(`${previewOrigin}/preview.html`, `localhost:${new URL(previewOrigin).port}`)).status, 421);
    assert.equal((await get(`${editorOrigin.replace('localhost', '127.0.0.1')}/`, `localhost:${new URL(editorOrigin).port}`)).status, 200);
  });

  it('nothing the demo serves over HTTP holds a secret from its data folder; the editor page holds none', async () => {
    const secrets = demoSecrets();
    assert.ok(secrets.length >= 3, 'the config has the secrets to look for');
    const editorPort = new URL(editorOrigin).port;
    const previewPort = new URL(previewOrigin).port;
    const served: Array<[string, string]> = [];
    for (const [base, host] of [
      [`http://127.0.0.1:${editorPort}`, `localhost:${editorPort}`],
      [previewOrigin, `127.0.0.1:${previewPort}`],
    ] as const) {
      for (const path of ['/', '/index.html', '/editor.js', '/preview.html', '/preview.js', '/demo-config.json', '/config.json']) {
        const r = await get(`${base}${path}`, host);
        if (r.status === 200) served.push([`${host}${path}`, r.body]);
      }
    }
    assert.deepEqual(
      served.map(([where]) => where),
      [
        `localhost:${editorPort}/`,
        `localhost:${editorPort}/index.html`,
        `localhost:${editorPort}/editor.js`,
        `127.0.0.1:${previewPort}/preview.html`,
        `127.0.0.1:${previewPort}/preview.js`,
      ],
    );
    for (const [where, body] of served) for (const s of secrets) assert.ok(!body.includes(s), `${where} holds a secret`);
    // The running editor (bridged to the Node hub without one) has none in its document either.
    const page = await newPage();
    await page.goto(`${editorOrigin}/`);
    await page.waitForFunction('document.getElementById("status").textContent.includes("bridged")', undefined, { timeout: 10_000 });
    const html = await page.content();
    for (const s of secrets) assert.ok(!html.includes(s), 'the editor page holds a secret');
    await page.close();
  });
});
