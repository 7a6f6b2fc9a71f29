/**
 * Environment configuration in a real Chromium: a page loads its configuration from the hub,
 * follows a change made from Node, keeps the last good one in localStorage (secrets redacted),
 * and after a reload with the hub gone starts from that cache.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SettingsAdmin } from '../../src/client/settings/admin.js';
import { startHub, type Hub } from '../../src/hub/index.js';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { bundleBrowserEntry, cbPageHtml, launchChromium, runIn as run, startStaticServer, type StaticServer } from '../helpers/browser.js';
import { testConfigDocument } from '../helpers/security.js';

const ENTRY = fileURLToPath(new URL('./fixtures/settings-entry.ts', import.meta.url));

let site: StaticServer;
let hub: Hub;
let browser: Browser;
let page: Page;
let node: SyncingBus;
let tmp: string;
const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
const SECRET = 'page-s3cret-value';

const loadInPage = (hubTimeoutMs: number): string => `
  t.bus = await cb.connect(${JSON.stringify(hub.url)}, { name: 'test', secret: ${JSON.stringify(config.apps.test.secret)},
    waitForHub: false, reconnect: { initialDelayMs: 100, maxDelayMs: 200, maxAttempts: 1000 } });
  t.settings = await cb.loadSettings(t.bus, { env: 'production', cache: new cb.StorageSettingsCache('cfg'),
    hubTimeoutMs: ${hubTimeoutMs}, waitMs: 2000, retryMs: 100 });
  return { origin: t.settings.origin, value: t.settings.value };`;

describe('settings in the browser (Chromium)', { timeout: 90_000 }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'crossbus-settings-browser-'));
    const code = (await bundleBrowserEntry(ENTRY)).code;
    site = await startStaticServer({
      '/': { contentType: 'text/html; charset=utf-8', body: cbPageHtml() },
      '/cb.js': { contentType: 'text/javascript; charset=utf-8', body: code },
    });
    config.origins = [site.origin] as never;
    hub = await startHub({ port: 0, config, dataDir: join(tmp, 'hub'), streamStorage: 'memory', shutdownTimeoutMs: 1_000 });
    node = await connect(hub.url, { name: 'test', secret: config.apps.test.secret, reconnect: false });
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await page.addInitScript('globalThis.__name = (fn) => fn;');
    await page.goto(site.url('/'));
    await page.waitForFunction('globalThis.ready === true');
  });

  after(async () => {
    for (const step of [() => browser?.close(), () => node?.close(), () => hub?.close(), () => site?.close()]) {
      await Promise.resolve()
        .then(step)
        .catch(() => {});
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('loads from the hub, follows a change, caches without secrets, starts from the cache when the hub is gone', async () => {
    const admin = new SettingsAdmin(node);
    await admin.set({ layer: 'environment', env: 'production' }, 'syncInterval', 1234);
    await admin.set({ layer: 'environment', env: 'production' }, 'apiKey', SECRET);
    const first = await run<{ origin: string; value: { syncInterval: number; apiKey: string } }>(page, loadInPage(3_000));
    assert.equal(first.origin, 'hub');
    assert.equal(first.value.syncInterval, 1234);
    assert.equal(first.value.apiKey, '[redacted]');

    await admin.set({ layer: 'environment', env: 'production' }, 'syncInterval', 2000);
    await page.waitForFunction('t.settings.value.syncInterval === 2000');
    await page.waitForFunction("(localStorage.getItem('cfg') ?? '').includes('2000')");
    const stored = await run<string>(page, `return localStorage.getItem('cfg');`);
    assert.equal(stored.includes(SECRET), false, 'no secret in localStorage');

    await node.close();
    await hub.close();
    await page.reload();
    await page.waitForFunction('globalThis.ready === true');
    const offline = await run<{ origin: string; value: { syncInterval: number } }>(page, loadInPage(300));
    assert.equal(offline.origin, 'cache');
    assert.equal(offline.value.syncInterval, 2000);
    await run(page, 't.settings.close(); await t.bus.close();');
  });
});
