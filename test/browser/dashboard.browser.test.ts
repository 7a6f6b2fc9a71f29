/**
 * The dashboard (`crossbus hub --dashboard`) in a real Chromium against a real hub process:
 * refused without a login (API, page, forged CSRF token, foreign Origin), a non-admin app refused,
 * then every view driven as an admin, with its actions: a consent request granted (the waiting
 * client's subscription goes through, the decision is the hub's), a dead letter replayed (its
 * subscriber receives it again, the dead-letter stream is emptied), the audit log verified, an
 * app deployed through the bus shown live, promoted and rolled back from the page.
 * Screenshots of every view at 1280 px and at a 390 px phone width go to test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Bus, Message } from '../../src/node/index.js';
import { ADMIN_CONSENT_LIST } from '../../src/hub/admin-topics.js';
import { DEPLOY_HISTORY, DEPLOY_START, type DeploymentRecord } from '../../src/core/apps/deploy-topics.js';
import { packApp } from '../../src/node/apps/app-package.js';
import type { ConsentState } from '../../src/core/security/consent-state.js';
import { launchChromium } from '../helpers/browser.js';
import { openBus } from '../helpers/buses.js';
import { REPO_ROOT, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { testConfigDocument } from '../helpers/security.js';
import { deployAppVersion } from '../helpers/deploy-app.js';
import { until } from '../helpers/wait.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
const ASKER_SECRET = randomBytes(32).toString('base64');

let hub: HubProcess;
let http = '';
let admin: Bus;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

async function shoot(name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 1280 ? 800 : 844 });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function open(view: string): Promise<void> {
  await page.click(`nav a[data-nav="${view}"]`);
  await page.waitForSelector(`section[data-view="${view}"]`);
}

/** A POST to the dashboard's API from Node, with the browser's session cookie unless told otherwise. */
async function post(route: string, headers: Record<string, string>, body: unknown = {}): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${http}/dashboard/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: { code: string } };
  return { status: res.status, ...(json.error ? { code: json.error.code } : {}) };
}

async function sessionCookie(): Promise<string> {
  const c = (await context.cookies(`${http}/dashboard/`)).find((k) => k.name === 'cb_dashboard');
  assert.ok(c, 'the session cookie');
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(c.path, '/dashboard');
  return `cb_dashboard=${c.value}`;
}

describe('the dashboard (crossbus hub --dashboard, Chromium)', { timeout: 60_000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } }) as unknown as {
      apps: Record<string, unknown>;
      roles: Record<string, unknown>;
    };
    config.apps.asker = { secret: ASKER_SECRET, roles: ['asker'] };
    config.roles.asker = { publish: [], subscribe: [{ pattern: 'private.>', ask: true }], request: [] };
    // A rule that fires at the first evaluation: the alerts view shows a real alert from the engine.
    (config as unknown as { alerts: unknown }).alerts = {
      intervalMs: 200,
      rules: [
        {
          name: 'DashboardOpen',
          metric: 'crossbus_connections',
          fn: 'value',
          op: '>',
          threshold: 0,
          severity: 'info',
          annotations: { summary: 'the hub holds {{ $value }} connections' },
        },
      ],
    };
    hub = await startHubProcess(['--dashboard'], { config: config as never });
    http = hub.url.replace(/^ws/, 'http');
    // Printed right after the ready line the helper waits for.
    await until(() => hub.stdout().includes(`crossbus hub dashboard: ${http}/dashboard/`), 5_000, 'the dashboard URL');
    admin = await openBus(hub.url);
    // A stream with a durable consumer (lag) and one dead letter.
    await admin.streams.create({ name: 'ORDERS', topics: ['orders.>'] });
    await admin.streams.addConsumer('ORDERS', { durable: 'billing' });
    await admin.publish('orders.new', { order: 1 }, { durable: true, msgId: 'o-1', headers: { 'x-order': '1' } });
    const failing = admin.consume('ORDERS', { maxDeliver: 1 });
    await failing.ready;
    for await (const m of failing) {
      await m.nak();
      break;
    }
    failing.close();
    await until(async () => (await admin.streams.info('ORDERS.DLQ')).state.messages === 1, 5_000, 'the dead letter');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
  });

  it('is refused without a login: the API, the page, a forged CSRF token, a foreign Origin', async () => {
    const session = await fetch(`${http}/dashboard/api/session`);
    assert.equal(session.status, 401);
    assert.equal(((await session.json()) as { error: { code: string } }).error.code, 'CB_ERR_AUTH_REQUIRED');
    assert.deepEqual(await post('bus-key', { origin: http }, { secret: randomBytes(32).toString('base64') }), {
      status: 401,
      code: 'CB_ERR_AUTH_REQUIRED',
    });
    const index = await fetch(`${http}/dashboard/`);
    const csp = index.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
    await page.goto(`${http}/dashboard/`);
    await page.waitForSelector('form[data-form="login"]');
    assert.equal(await page.locator('section[data-view]').count(), 0);
    await shoot('login');
  });

  it('refuses a wrong secret and an app that is not an admin', async () => {
    await page.fill('input[name="app"]', 'test');
    await page.fill('input[name="secret"]', randomBytes(32).toString('base64'));
    await page.click('button[type="submit"]');
    await page.waitForSelector('[role="alert"]:has-text("CB_ERR_AUTH_FAILED")');
    await page.fill('input[name="app"]', 'asker');
    await page.fill('input[name="secret"]', ASKER_SECRET);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[role="alert"]:has-text("CB_ERR_FORBIDDEN")');
    assert.equal(await page.locator('input[name="secret"]').inputValue(), '', 'the secret is not left in the form');
  });

  it('logs in as an admin; the session refuses a forged CSRF token and a foreign Origin', async () => {
    await page.fill('input[name="app"]', 'test');
    await page.fill('input[name="secret"]', hub.credentials!.secret);
    await page.click('button[type="submit"]');
    await page.waitForSelector('section[data-view="overview"] table[data-table="connections"]');
    const cookie = await sessionCookie();
    const secret = randomBytes(32).toString('base64');
    assert.deepEqual(await post('bus-key', { origin: http, cookie, 'x-csrf-token': 'f'.repeat(64) }, { secret }), {
      status: 403,
      code: 'CB_ERR_FORBIDDEN',
    });
    assert.deepEqual(await post('bus-key', { origin: http, cookie }, { secret }), { status: 403, code: 'CB_ERR_FORBIDDEN' });
    assert.deepEqual(await post('logout', { origin: 'http://evil.example', cookie }), { status: 403, code: 'CB_ERR_ORIGIN_REFUSED' });
    // Nothing of the secret is kept by the page.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href);
    assert.ok(!stored.includes(hub.credentials!.secret));
  });

  it('overview: connections, apps and rates', async () => {
    await page.waitForSelector('table[data-table="apps"] td:has-text("test")');
    await page.waitForSelector('.card-sub:has-text("/s")');
    await page.waitForSelector('table[data-table="topics"] td:has-text("stream ORDERS · stored")');
    await shoot('overview');
  });

  it('latency: the histograms as charts', async () => {
    await open('latency');
    const chart = page.locator('[data-histogram="crossbus_handshake_seconds"] svg.chart');
    await chart.waitFor();
    // The dashboard's own handshake, at least, is in one bucket.
    const heights = await chart.locator('rect.bar').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('height'))));
    assert.ok(heights.some((h) => h > 0));
    await shoot('latency');
  });

  it('streams: consumers with their lag', async () => {
    await open('streams');
    const lag = page.locator('[data-stream="ORDERS"] td[data-lag="billing"]');
    await lag.waitFor();
    assert.ok(Number(await lag.textContent()) >= 1);
    await shoot('streams');
  });

  it('dead letters: replay one, delivered again and gone from the dead-letter stream', async () => {
    const replayed: Message[] = [];
    const sub = admin.subscribe('orders.>', (m) => void replayed.push(m));
    await sub.ready;
    await open('dead-letters');
    await page.waitForSelector('tr[data-dead-letter="1"]');
    await shoot('dead-letters');
    await page.click('tr[data-dead-letter="1"] button:has-text("Replay")');
    await page.waitForSelector('[role="status"]:has-text("replayed to orders.new")');
    await until(() => replayed.length === 1, 5_000, 'the replayed message');
    assert.deepEqual(replayed[0]!.data, { order: 1 });
    assert.equal(replayed[0]!.headers?.['x-order'], '1');
    assert.equal((await admin.streams.info('ORDERS.DLQ')).state.messages, 0);
    const last = await admin.streams.last('ORDERS', 'orders.new');
    assert.equal(last?.msgId, 'dlq-ORDERS-1');
    sub.unsubscribe();
  });

  it('consent: granted from the dashboard, the waiting client proceeds', async () => {
    const asker = await openBus(hub.url, { name: 'asker', secret: ASKER_SECRET });
    const held = asker.subscribe('private.inbox');
    let settled = false;
    void held.ready.then(() => (settled = true));
    await open('consent');
    await page.waitForSelector('[data-consent] :text("private.inbox")');
    assert.equal(settled, false, 'held until a person decides');
    await shoot('consent');
    await page.click('[data-consent] button:has-text("Grant")');
    await held.ready;
    const state = await admin.request<ConsentState>(ADMIN_CONSENT_LIST);
    assert.equal(state.pending.length, 0);
    assert.equal(state.decisions[0]?.decision, 'granted');
    assert.equal(state.decisions[0]?.by, 'app:test');
    await page.waitForSelector('table[data-table="decisions"] td:has-text("granted")');
    await asker.close();
  });

  it('audit log: the tail, and its verification', async () => {
    await open('audit');
    await page.waitForSelector('table[data-table="audit"] td:has-text("dashboard-login")');
    await page.click('button:has-text("Verify")');
    await page.waitForSelector('[data-verify="ok"]');
    await shoot('audit');
  });

  it("alerts: the engine's firing alerts", async () => {
    await open('alerts');
    await page.waitForSelector('[data-alert="DashboardOpen"]:has-text("firing")');
    assert.match((await page.textContent('[data-alert="DashboardOpen"] [data-alert-summary]')) ?? '', /the hub holds \d+ connections/);
    await shoot('alerts');
  });

  it('deployments: live from the bus, promoted and rolled back from the page', async () => {
    const deployOrders = async (version: string, config: Record<string, unknown>): Promise<DeploymentRecord> =>
      (
        await admin.request<{ deployment: DeploymentRecord }>(
          DEPLOY_START,
          { package: await packApp(deployAppVersion(version)), config },
          {
            timeoutMs: 30_000,
          },
        )
      ).deployment;
    const ended = async (id: string): Promise<DeploymentRecord | undefined> =>
      (await admin.request<{ history: DeploymentRecord[] }>(DEPLOY_HISTORY, { app: 'orders' })).history.find(
        (r) => r.id === id && r.outcome !== undefined,
      );
    const serving = async (): Promise<string> =>
      (await admin.request<{ version: string }>('orders.get', null, { timeoutMs: 5_000 })).version;
    await open('deployments');
    await page.waitForSelector('section[data-view="deployments"] :text("No app has been deployed yet")');

    // The first version, deployed through the bus while the view is open: it appears with it.
    const first = await deployOrders('1.0.0', { strategy: 'rolling' });
    await page.waitForSelector('[data-app="orders"] [data-deploy-active]:text-is("1.0.0")');
    assert.equal((await ended(first.id))?.outcome, 'succeeded');

    // The second waits for a person: the view shows it in progress, live, and promotes it.
    const second = await deployOrders('1.1.0', { strategy: 'blue-green', blueGreen: { autoPromote: false, scaleDownDelayMs: 200 } });
    const panel = page.locator('[data-app="orders"]');
    await panel.locator(`[data-deploy-progress="${second.id}"] [data-deploy-phase]:text-is("promote")`).waitFor();
    await panel.locator('.badge:text-is("waiting for promote")').waitFor();
    assert.equal(await panel.locator('svg.weight-bar').getAttribute('data-weight'), '0');
    await shoot('deployments');
    await panel.locator('button[data-action="promote"]').click();
    await panel.locator('[data-deploy-active]:text-is("1.1.0")').waitFor();
    await panel.locator('[data-deploy-previous]:text-is("1.0.0")').waitFor();
    await until(async () => (await ended(second.id))?.outcome === 'succeeded', 10_000, 'the second deployment to succeed');
    assert.equal(await serving(), '1.1.0');
    await panel.locator(`table[data-table="deploy-history"] tr[data-deployment="${second.id}"] td:text-is("succeeded")`).waitFor();

    // Rollback asks first; confirmed, the previous version serves again.
    await panel.locator('button[data-action="rollback"]').click();
    await panel.locator('[role="alertdialog"]:has-text("Roll orders back to 1.0.0?")').waitFor();
    await panel.locator('button[data-confirm="rollback"]').click();
    await panel.locator('[role="status"]:has-text("Rolling back: deployment")').waitFor();
    await until(async () => (await serving()) === '1.0.0', 15_000, 'version 1.0.0 serving again');
    await panel.locator('[data-deploy-active]:text-is("1.0.0")').waitFor();
    await shoot('deployments-rolled-back');
  });

  it('logs out: the session and its bus connection end', async () => {
    const cookie = await sessionCookie();
    const dashboardConnections = async (): Promise<number> =>
      ((await admin.request('$SYS.REQ.STATS')) as { connectionList: Array<{ name: string }> }).connectionList.filter(
        (c) => c.name === 'test',
      ).length;
    const before = await dashboardConnections();
    await page.click('button:has-text("Log out")');
    await page.waitForSelector('form[data-form="login"]');
    const res = await fetch(`${http}/dashboard/api/session`, { headers: { cookie } });
    assert.equal(res.status, 401);
    await until(async () => (await dashboardConnections()) === before - 1, 5_000, 'the dashboard connection to close');
    assert.deepEqual(pageErrors, []);
    // No secret, session id or CSRF token in the hub's output.
    const logs = hub.stdout() + hub.stderr();
    for (const secret of [hub.credentials!.secret, ASKER_SECRET, cookie.split('=')[1]!]) assert.ok(!logs.includes(secret));
  });
});
