/**
 * Sync in a real Chromium (issue 18's seed scenario): a page (the web app) and a Node service
 * edit one project at once and converge; the page's edits kept offline survive a reload in
 * IndexedDB and land; a conflict parked in the browser is resolved from the CLI. Code runs in the
 * page as strings, reaching the bundle through `globalThis.cb` and its state through `globalThis.t`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startHub, type Hub } from '../../src/hub/index.js';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { bundleBrowserEntry, cbPageHtml, launchChromium, runIn as run, startStaticServer, type StaticServer } from '../helpers/browser.js';
import { runCli } from '../helpers/hub-process.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const ENTRY = fileURLToPath(new URL('./fixtures/sync-entry.ts', import.meta.url));

let site: StaticServer;
let hub: Hub;
let browser: Browser;
let page: Page;
let node: SyncingBus;
let tmp: string;
let secretFile: string;
const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });

/** Connects the page as app `test` (its origin is allowed) and keeps the bus as `t.bus`. */
const connectPage = (): string => `
  t.bus = await cb.connect(${JSON.stringify(hub.url)}, { name: 'test', secret: ${JSON.stringify(config.apps.test.secret)}, reconnect: false });
  t.store = new cb.IndexedDbSyncStore({ database: 'seed' });`;

describe('sync in the browser (Chromium)', { timeout: 90_000 }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'crossbus-sync-browser-'));
    const code = (await bundleBrowserEntry(ENTRY)).code;
    site = await startStaticServer({
      '/': { contentType: 'text/html; charset=utf-8', body: cbPageHtml() },
      '/cb.js': { contentType: 'text/javascript; charset=utf-8', body: code },
    });
    config.origins = [site.origin] as never;
    hub = await startHub({ port: 0, config, dataDir: join(tmp, 'hub'), streamStorage: 'memory', shutdownTimeoutMs: 1_000 });
    secretFile = join(tmp, 'test.secret');
    writeFileSync(secretFile, config.apps.test.secret, { mode: 0o600 });
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

  it('the web app and a Node service edit one project at once and converge', async () => {
    await run(
      page,
      `${connectPage()}
      t.doc = await t.bus.sync.open('seed/project', { kind: 'files', store: t.store });`,
    );
    const service = await node.sync.open('seed/project');
    await until(() => service.kind === 'files', 5_000, 'the page created the file tree');
    const text = 'one\ntwo\nthree\nfour\nfive\n';
    await service.writeFile('/index.html', text);
    await service.flushed();
    await page.waitForFunction(`t.doc.readFile('/index.html') === ${JSON.stringify(text)}`);
    // Both at once, each editing the file as it has it (as an editor does): different lines of one file, and a file each.
    await Promise.all([
      run(
        page,
        `await t.doc.writeFile('/index.html', t.doc.readFile('/index.html').replace('one', 'ONE (page)'));
        await t.doc.writeFile('/page.css', 'body {}'); await t.doc.flushed();`,
      ),
      (async () => {
        await service.writeFile('/index.html', (service.readFile('/index.html') as string).replace('five', 'FIVE (service)'));
        await service.writeFile('/service.json', '{}');
        await service.flushed();
      })(),
    ]);
    await until(
      async () => JSON.stringify(await run(page, 'return t.doc.value')) === JSON.stringify(service.value),
      10_000,
      'the page and the service converge',
    );
    assert.equal(service.readFile('/index.html'), 'ONE (page)\ntwo\nthree\nfour\nFIVE (service)\n');
    assert.deepEqual(service.paths(), ['/index.html', '/page.css', '/service.json']);
    await run(page, 'await t.doc.close(); await t.bus.close(); await t.store.close();');
    await service.close();
  });

  it("edits kept in the page's IndexedDB survive a reload and land", async () => {
    const service = await node.sync.open<Record<string, number>>('seed/offline');
    const replica = await run<string>(
      page,
      `${connectPage()}
      t.doc = await t.bus.sync.open('seed/offline', { mode: 'manual', store: t.store });
      t.doc.change((d) => { d.made = 1; }); t.doc.change((d) => { d.offline = 2; });
      await t.doc.close(); await t.bus.close(); await t.store.close();
      return t.doc.replica;`,
    );
    assert.deepEqual(service.value, {}, 'nothing was sent');
    await page.reload();
    await page.waitForFunction('globalThis.ready === true');
    const after = await run<{ replica: string; value: unknown }>(
      page,
      `${connectPage()}
      t.doc = await t.bus.sync.open('seed/offline', { store: t.store });
      await t.doc.flushed();
      return { replica: t.doc.replica, value: t.doc.value };`,
    );
    assert.equal(after.replica, replica, 'the same replica, from IndexedDB');
    await until(() => service.value.offline === 2, 5_000, 'the edits landed');
    assert.deepEqual(service.value, { made: 1, offline: 2 });
    await run(page, 'await t.doc.close(); await t.bus.close(); await t.store.close();');
    await service.close();
  });

  it('one store per IndexedDB database across tabs: a second tab is refused until the first closes', async () => {
    const other = await page.context().newPage();
    await other.addInitScript('globalThis.__name = (fn) => fn;');
    await other.goto(site.url('/'));
    await other.waitForFunction('globalThis.ready === true');
    await run(page, `t.first = new cb.IndexedDbSyncStore({ database: 'tabs' }); await t.first.load('any');`);
    const refused = await run<{ code: string; database: string }>(
      other,
      `t.second = new cb.IndexedDbSyncStore({ database: 'tabs' });
      try { await t.second.load('any'); return { code: 'none' }; } catch (e) { return { code: e.code, database: e.details.database }; }`,
    );
    assert.deepEqual(refused, { code: 'CB_ERR_DATA_DIR_LOCKED', database: 'tabs' });
    await run(page, 'await t.first.close();');
    // Released: the second tab's store now opens (a refusal is not kept).
    assert.equal(await run(other, `return (await t.second.load('any')) === undefined;`), true);
    await run(other, 'await t.second.close();');
    await other.close();
  });

  it('a conflict parked in the browser is resolved from the CLI', async () => {
    const service = await node.sync.open<{ title?: string }>('seed/conflict', { strategies: [{ path: '/title', strategy: 'manual' }] });
    service.replace({ title: 'Draft' });
    await service.flushed();
    await run(
      page,
      `${connectPage()}
      t.doc = await t.bus.sync.open('seed/conflict', { mode: 'manual', store: t.store });
      t.doc.change((d) => { d.title = 'Page title'; });`,
    );
    service.change((d) => {
      d.title = 'Service title';
    });
    await service.flushed();
    await run(page, 't.doc.sync(); await t.doc.flushed();');
    await page.waitForFunction('t.doc.conflicts.length === 1');
    const id = await run<string>(page, 'return t.doc.conflicts[0].id');
    assert.equal(await run(page, 'return t.doc.value.title'), 'Service title', 'parked: the value stays');
    const creds = ['--url', hub.url, '--name', 'test', '--secret-file', secretFile];
    const listed = await runCli(['sync', 'conflicts', '--doc', 'seed/conflict', '--json', ...creds], 20_000);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string; path: string }>).map((c) => [c.id, c.path]),
      [[id, '/title']],
    );
    const resolved = await runCli(['sync', 'resolve', '--doc', 'seed/conflict', '--conflict', id, '--take', 'remote', ...creds], 20_000);
    assert.equal(resolved.code, 0, resolved.stderr);
    await page.waitForFunction("t.doc.conflicts.length === 0 && t.doc.value.title === 'Page title'");
    await until(() => service.value.title === 'Page title', 5_000, 'the service sees it');
    await run(page, 'await t.doc.close(); await t.bus.close(); await t.store.close();');
    await service.close();
  });
});
