/**
 * The demo that `npm start` shows, end to end: the real `crossbus demo` process, the editor page
 * (a page hub) in Chromium, the preview iframe on another site joined through postMessage, the
 * Node service reached through the bridge, and the traffic shown live.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { launchWithExtension } from '../helpers/browser.js';
import { spawnCli, type CliProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';

let demo: CliProcess;
let context: BrowserContext;
let page: Page;
let editorUrl = '';
let previewOrigin = '';
const pageErrors: string[] = [];

describe('the demo (crossbus demo, Chromium)', { timeout: 60_000 }, () => {
  before(async () => {
    const data = mkdtempSync(join(tmpdir(), 'crossbus-demo-'));
    demo = spawnCli([
      'demo',
      '--port',
      '0',
      '--editor-port',
      '0',
      '--preview-port',
      '0',
      '--data',
      data,
      '--extension-dir',
      join(data, 'extension'),
    ]);
    await until(() => /extension is built in/.test(demo.stdout()), 20_000, `the demo to start\n${demo.stderr()}`);
    editorUrl = /open (http:\/\/localhost:\d+\/)/.exec(demo.stdout())![1]!;
    previewOrigin = /comes from (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout())![1]!;
    // The extension the demo built for this hub, loaded unpacked as the README says.
    const extensionDir = /extension is built in (\S+)/.exec(demo.stdout())![1]!;
    ({ context } = await launchWithExtension(extensionDir, join(data, 'profile')));
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(editorUrl);
  });

  after(async () => {
    await context?.close().catch(() => {});
    demo?.proc.kill('SIGTERM');
    await demo?.exited;
  });

  async function preview(): Promise<Frame> {
    for (let i = 0; i < 200; i++) {
      const f = page.frames().find((x) => x.url().startsWith(previewOrigin));
      if (f !== undefined && (await f.evaluate('document.getElementById("status").textContent').catch(() => '')) !== 'connecting…')
        return f;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the preview frame did not connect');
  }

  it('the editor hosts a page hub bridged to the Node hub; the preview on another site joins it', async () => {
    await page.waitForFunction('document.getElementById("status").textContent.includes("bridged")', undefined, { timeout: 10_000 });
    const f = await preview();
    assert.match((await f.evaluate('document.getElementById("status").textContent')) as string, /connected to the page hub/);
    assert.equal(await f.evaluate('location.origin'), previewOrigin);
  });

  it('edits reach the preview live; RPC goes to the Node service and to the iframe; the traffic is shown', async () => {
    const f = await preview();
    await page.fill('#source', '#Title\n\n\n\nsome   words here   ');
    await f.waitForFunction('document.getElementById("doc").textContent.startsWith("#Title")', undefined, { timeout: 5_000 });
    await page.click('#format');
    await page.waitForFunction('document.getElementById("answer").textContent.includes("formatted by the Node service")', undefined, {
      timeout: 5_000,
    });
    assert.equal(await page.inputValue('#source'), '# Title\n\nsome   words here');
    await f.waitForFunction('document.getElementById("doc").textContent === "# Title\\n\\nsome   words here"', undefined, {
      timeout: 5_000,
    });
    await page.click('#stats');
    await page.waitForFunction('document.getElementById("answer").textContent.includes("preview says: 5 words, 3 lines")', undefined, {
      timeout: 5_000,
    });
    const traffic = await page.textContent('#traffic');
    assert.match(traffic ?? '', /edits\.doc/);
    assert.match(traffic ?? '', /preview\.ready/);
  });

  it('the unpacked extension joins: the editor page connects to its hub over externally_connectable', async () => {
    await page.waitForFunction('document.getElementById("ext").textContent.includes("connected")', undefined, { timeout: 10_000 });
    assert.match((await page.textContent('#ext')) ?? '', /extension gemalglccfifdabnmiddladfobhgmbde connected/);
  });

  it('no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
