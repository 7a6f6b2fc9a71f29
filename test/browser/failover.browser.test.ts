/**
 * Failover in a real Chromium: the browser build's connect() given two hub processes (A
 * preferred, B a backup) moves to B when A is killed with SIGKILL, with its subscription, and
 * returns to A once A, restarted, has been healthy for recoveryMs. The page's origin differs
 * from the hubs': real cross-origin WebSockets, secrets through WebCrypto.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { closeAllBuses, openBus } from '../helpers/buses.js';
import { restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { testConfigDocument } from '../helpers/security.js';
import {
  bundleBrowserEntry,
  installPageShims,
  launchChromium,
  startStaticServer,
  testPageHtml,
  type StaticServer,
} from '../helpers/browser.js';

type CrossbusModule = typeof import('../../src/browser/index.js');
interface PageState {
  bus: import('../../src/browser/index.js').FailoverBus;
  got: number[];
  moves: string[];
}
type PageGlobals = typeof globalThis & { __f: PageState; crossbusLoaded?: boolean };

const BUNDLE_PATH = '/crossbus.js';
const RECOVERY_MS = 1_000;

describe('failover in the browser (Chromium)', { timeout: 60_000 }, () => {
  let site: StaticServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let hubA: HubProcess | undefined;
  let hubB: HubProcess | undefined;
  let config: ReturnType<typeof testConfigDocument>;

  before(async () => {
    const bundle = await bundleBrowserEntry();
    site = await startStaticServer({
      '/': { contentType: 'text/html; charset=utf-8', body: testPageHtml(BUNDLE_PATH) },
      [BUNDLE_PATH]: { contentType: 'text/javascript; charset=utf-8', body: bundle.code },
    });
    config = testConfigDocument({ origins: [new URL(site.url('/')).origin], limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
    [hubA, hubB] = await Promise.all([startHubProcess([], { config }), startHubProcess([], { config })]);
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await installPageShims(page);
    await page.goto(site.url('/'));
    await page.waitForFunction(() => (globalThis as PageGlobals).crossbusLoaded === true, undefined, { timeout: 5_000 });
  });

  after(async () => {
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => page?.evaluate(() => (globalThis as PageGlobals).__f?.bus.close()).catch(() => {}),
      () => closeAllBuses(),
      () => browser?.close(),
      () => hubA?.stop(),
      () => hubB?.stop(),
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

  const pageState = <T>(fn: (s: PageState) => T): Promise<T> =>
    page.evaluate((body) => new Function('s', `return (${body})(s)`)((globalThis as PageGlobals).__f), fn.toString()) as Promise<T>;

  async function pageUntil(what: string, fn: (s: PageState) => boolean, timeoutMs = 10_000): Promise<void> {
    await page
      .waitForFunction((body) => Boolean(new Function('s', `return (${body})(s)`)((globalThis as PageGlobals).__f)), fn.toString(), {
        timeout: timeoutMs,
        polling: 20,
      })
      .catch((err: Error) => {
        throw new Error(`page: timed out waiting for ${what}: ${err.message}`);
      });
  }

  it('moves to B when A is killed, keeps its subscription, and returns to A', async () => {
    assert.ok(hubA && hubB && site);
    const started = await page.evaluate(
      async ({ bundleUrl, a, b, secret, recoveryMs }) => {
        const cb = (await import(bundleUrl)) as CrossbusModule;
        const bus = await cb.connect(
          [
            { url: a, name: 'A', weight: 1 },
            { url: b, name: 'B', weight: 0 },
          ],
          { name: 'test', secret, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, failover: { heartbeatMs: 200, recoveryMs } },
        );
        const s: PageState = { bus, got: [], moves: [] };
        bus.on('move', (m) => s.moves.push(`${m.from}>${m.to}:${m.reason}`));
        bus.subscribe<number>('web.x', (m) => {
          s.got.push(m.data);
        });
        await bus.flush();
        (globalThis as PageGlobals).__f = s;
        return bus.hub;
      },
      { bundleUrl: site.url(BUNDLE_PATH), a: hubA.url, b: hubB.url, secret: config.apps.test.secret, recoveryMs: RECOVERY_MS },
    );
    assert.equal(started, 'A');
    await pageUntil('both hubs healthy', (s) => s.bus.hubs().every((h) => h.state === 'healthy'));

    const { port, dataDir } = hubA;
    await hubA.stop('SIGKILL');
    await pageUntil('the page on B', (s) => s.bus.hub === 'B');
    assert.deepEqual(await pageState((s) => s.moves), ['A>B:failover']);
    const onB = await openBus(hubB.url);
    await page.evaluate(() => (globalThis as PageGlobals).__f.bus.flush());
    await onB.publish('web.x', 1);
    await pageUntil('the message from B', (s) => s.got.includes(1));

    hubA = await restartOnPort(port, ['--data', dataDir]);
    await pageUntil('the page back on A', (s) => s.bus.hub === 'A', 15_000);
    assert.deepEqual(await pageState((s) => s.moves), ['A>B:failover', 'B>A:return']);
    const onA = await openBus(hubA.url);
    await page.evaluate(() => (globalThis as PageGlobals).__f.bus.flush());
    await onA.publish('web.x', 2);
    await pageUntil('the message from A', (s) => s.got.includes(2));
  });
});
