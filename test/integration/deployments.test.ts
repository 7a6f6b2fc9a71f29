/**
 * Deployments against a real hub process (issue 21): versions of test/fixtures/apps/deploy-app
 * are packed, uploaded and run by the hub, each instance its own process, while a bounded,
 * steady request load runs on loopback. A blue-green switch and a rolling update lose no request;
 * a canary failing 20 % of its requests is rolled back by its analysis with failures bounded by its
 * share; a crash-looping or unhealthy version is rolled back while the running one keeps serving;
 * a hub killed mid-rollout rolls back (before the switch) or finishes (after it) when it restarts.
 * Needs a built dist (the instances import crossbus/runtime, linked to this package).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bus } from '../../src/node/index.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import {
  DEPLOY_ATTACH,
  DEPLOY_HISTORY,
  DEPLOY_PROMOTE,
  DEPLOY_ROLLBACK,
  DEPLOY_START,
  DEPLOY_STATUS,
  type AppDeployStatus,
  type DeploymentRecord,
} from '../../src/core/apps/deploy-topics.js';
import type { DeploymentConfigInput } from '../../src/core/apps/deploy-config.js';
import { packApp } from '../../src/node/apps/app-package.js';
import { closeAllBuses, closeBus, openBus } from '../helpers/buses.js';
import { restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_CONSENT_DECIDE, ADMIN_CONSENT_LIST } from '../../src/hub/admin-topics.js';
import { deployAppVersion } from '../helpers/deploy-app.js';

/** A folder holding version `v` of the deploy app, with `config` in its manifest. */
const version = (v: string, config: Record<string, unknown> = {}, instances = 2): string =>
  deployAppVersion(v, config, 'orders', instances);

async function deploy(bus: Bus, dir: string, config: DeploymentConfigInput): Promise<DeploymentRecord> {
  const r = await bus.request<{ deployment: DeploymentRecord }>(
    DEPLOY_START,
    { package: await packApp(dir), config },
    { timeoutMs: 15_000 },
  );
  return r.deployment;
}

async function status(bus: Bus): Promise<AppDeployStatus> {
  const r = await bus.request<{ apps: AppDeployStatus[] }>(DEPLOY_STATUS, { app: 'orders' });
  return r.apps[0]!;
}

/** The deployment `id` once it ended (from the history). */
async function ended(bus: Bus, id: string, timeoutMs = 60_000): Promise<DeploymentRecord> {
  let found: DeploymentRecord | undefined;
  await until(async () => {
    const { history } = await bus.request<{ history: DeploymentRecord[] }>(DEPLOY_HISTORY, { app: 'orders' });
    found = history.find((d) => d.id === id && d.outcome !== undefined);
    return found !== undefined;
  }, timeoutMs);
  return found!;
}

/** A steady, bounded request load: `concurrency` loops of requests to orders.get. */
function load(bus: Bus, concurrency = 4) {
  const versions = new Map<string, number>();
  const failures: string[] = [];
  let stopped = false;
  let total = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stopped && total < 200_000) {
      total++;
      try {
        const r = await bus.request<{ version: string }>('orders.get', null, { timeoutMs: 5_000 });
        versions.set(r.version, (versions.get(r.version) ?? 0) + 1);
      } catch (err) {
        failures.push(err instanceof CrossbusError ? `${err.code}: ${err.message}` : String(err));
      }
    }
  });
  return {
    versions,
    failures,
    get total() {
      return total;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

let hub: HubProcess;
let admin: Bus;

before(async () => {
  hub = await startHubProcess();
  admin = await openBus(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } as never });
});

after(async () => {
  await closeAllBuses();
  await hub?.stop();
});

describe('deployments under load', () => {
  test('a first deployment, then a blue-green switch with zero failed requests', async () => {
    const first = await deploy(admin, version('1.0.0'), { strategy: 'rolling' });
    assert.equal((await ended(admin, first.id)).outcome, 'succeeded');
    assert.equal((await status(admin)).active?.version, '1.0.0');
    const l = load(admin);
    await until(() => (l.versions.get('1.0.0') ?? 0) > 50);
    const d = await deploy(admin, version('2.0.0'), { strategy: 'blue-green', blueGreen: { scaleDownDelayMs: 200 } });
    const done = await ended(admin, d.id);
    const before = l.total;
    await until(() => l.total > before + 50);
    await l.stop();
    assert.equal(done.outcome, 'succeeded', done.reason);
    assert.deepEqual(l.failures, [], 'no request failed during the switch');
    assert.ok((l.versions.get('2.0.0') ?? 0) > 0);
    const s = await status(admin);
    assert.equal(s.active?.version, '2.0.0');
    assert.equal(s.previous?.version, '1.0.0');
    assert.deepEqual(
      s.instances.map((i) => i.state),
      ['running', 'running'],
      'the old version was scaled down',
    );
    const phases = done.events.map((e) => e.phase);
    for (const p of ['stage', 'validate', 'promote', 'cleanup', 'done']) assert.ok(phases.includes(p as never), `phase ${p} in ${phases}`);
  });

  test('a rolling update (surge 1) with zero failed requests', async () => {
    const l = load(admin);
    await until(() => l.total > 50);
    const d = await deploy(admin, version('3.0.0', {}, 3), { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } });
    const done = await ended(admin, d.id);
    const before = l.total;
    await until(() => l.total > before + 50);
    await l.stop();
    assert.equal(done.outcome, 'succeeded', done.reason);
    assert.deepEqual(l.failures, []);
    const s = await status(admin);
    assert.equal(s.active?.version, '3.0.0');
    assert.equal(s.instances.length, 3);
  });

  test('a canary failing 20 % of its requests is rolled back by its analysis; failures stay within its share', async () => {
    const l = load(admin);
    await until(() => l.total > 50);
    const interval = 400;
    const d = await deploy(admin, version('4.0.0', { failEvery: 5 }), {
      strategy: 'canary',
      canary: { steps: [{ weight: 25, pauseMs: 60_000 }], analysis: { intervalMs: interval, minRequests: 10, maxErrorRate: 0.05 } },
    });
    const done = await ended(admin, d.id);
    await l.stop();
    assert.equal(done.outcome, 'rolled-back');
    assert.match(done.reason ?? '', /error rate/);
    // Judged at the end of each interval: it failed at the first or the second.
    const verdicts = done.events.filter((e) => e.message.startsWith('analysis:'));
    assert.ok(verdicts.length >= 1 && verdicts.length <= 2, `analyses before the rollback: ${verdicts.map((e) => e.message)}`);
    assert.equal(verdicts.at(-1)?.message.startsWith('analysis: fail'), true);
    // Only the canary failed requests, and it had a quarter of them.
    const failed = l.failures.length;
    assert.ok(failed > 0, 'the canary did fail some');
    assert.ok(failed <= 0.25 * l.total, `${failed} failures of ${l.total} requests`);
    assert.ok(
      l.failures.every((f) => /injected failure/.test(f)),
      l.failures.slice(0, 3).join('\n'),
    );
    const s = await status(admin);
    assert.equal(s.active?.version, '3.0.0', 'the running version keeps serving');
    assert.deepEqual(await admin.request('orders.get', null).then((r) => (r as { version: string }).version), '3.0.0');
  });

  test('a crash-looping version and an unhealthy one are rolled back; the running version keeps serving', async () => {
    const crash = await deploy(admin, version('5.0.0', { crash: true }), { strategy: 'blue-green' });
    const crashed = await ended(admin, crash.id);
    assert.equal(crashed.outcome, 'rolled-back');
    assert.match(crashed.reason ?? '', /crash loop/);
    // Long enough for its instances to start on a busy machine: the health check must be what fails.
    const sick = await deploy(admin, version('5.0.1', { unhealthy: true }), { strategy: 'rolling', readyTimeoutMs: 4_000 });
    const failed = await ended(admin, sick.id);
    assert.equal(failed.outcome, 'rolled-back');
    assert.match(failed.reason ?? '', /orders\.health/);
    assert.equal((await status(admin)).active?.version, '3.0.0');
    assert.equal(((await admin.request('orders.get', null)) as { version: string }).version, '3.0.0');
  });

  test('bad input: a second deployment at once, a broken package, a bad config, a foreign token, no previous version', async () => {
    const held = await deploy(admin, version('6.0.0'), {
      strategy: 'blue-green',
      blueGreen: { autoPromote: false, scaleDownDelayMs: 100 },
    });
    await assert.rejects(deploy(admin, version('6.0.1'), {}), (e: CrossbusError) => e.code === 'CB_ERR_CONFLICTING_OPTIONS');
    const pkg = await packApp(version('7.0.0'));
    await assert.rejects(
      admin.request(DEPLOY_START, { package: { ...pkg, checksum: '0'.repeat(64) } }),
      (e: CrossbusError) => e.code === 'CB_ERR_INTEGRITY',
    );
    await assert.rejects(
      admin.request(DEPLOY_START, { package: { files: [{ path: '../evil.js', data: '' }], checksum: 'x' } }),
      (e: CrossbusError) => e.code === 'CB_ERR_PAYLOAD_INVALID' && /\.\./.test(e.message),
    );
    await assert.rejects(
      deploy(admin, version('7.0.1'), { strategy: 'sideways' as never }),
      (e: CrossbusError) => e.code === 'CB_ERR_CONFIG_INVALID',
    );
    await assert.rejects(admin.request(DEPLOY_ATTACH, { token: 'forged' }), (e: CrossbusError) => e.code === 'CB_ERR_FORBIDDEN');
    // A manifest never widens an app's grants: one its roles do not allow refuses the deployment.
    const greedy = version('7.0.2');
    const manifestFile = join(greedy, 'crossbus.app.json');
    writeFileSync(
      manifestFile,
      JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), grants: { publish: ['orders.>', 'billing.>'] } }),
    );
    await assert.rejects(
      deploy(admin, greedy, {}),
      (e: CrossbusError) => e.code === 'CB_ERR_FORBIDDEN' && /publish "billing\.>"/.test(e.message),
    );
    await assert.rejects(admin.request(DEPLOY_ROLLBACK, { app: 'billing' }), (e: CrossbusError) => e.code === 'CB_ERR_INVALID_OPTION');
    // The preview waits for a promote; promote it, then roll back to the version before.
    await until(async () => (await status(admin)).deployment?.waiting === true, 30_000);
    await admin.request(DEPLOY_PROMOTE, { app: 'orders' });
    assert.equal((await ended(admin, held.id)).outcome, 'succeeded');
    const back = await admin.request<{ deployment: DeploymentRecord }>(DEPLOY_ROLLBACK, { app: 'orders', config: { strategy: 'rolling' } });
    assert.equal((await ended(admin, back.deployment.id)).outcome, 'succeeded');
    assert.equal((await status(admin)).active?.version, '3.0.0');
  });

  test('a SIGKILLed instance of a deployed version is replaced and serves again', async () => {
    const s = await status(admin);
    const victim = s.instances.find((i) => i.pid !== null)!;
    process.kill(victim.pid!, 'SIGKILL');
    await until(async () => {
      const now = (await status(admin)).instances.find((i) => i.instanceId === victim.instanceId);
      return now?.state === 'running' && now.pid !== victim.pid && now.weight > 0;
    }, 10_000);
    const answered = new Set<string>();
    await until(async () => {
      answered.add(((await admin.request('orders.get', null)) as { instance: string }).instance);
      return answered.has(victim.instanceId);
    });
  });
});

describe('environments', () => {
  test('production waits for a person: denied, nothing changes; granted, it deploys', async () => {
    const pending = async (): Promise<Array<{ id: string; target: string }>> =>
      (await admin.request<{ pending: Array<{ id: string; target: string }> }>(ADMIN_CONSENT_LIST)).pending.filter((p) =>
        p.target.startsWith('deploy orders'),
      );
    const activeBefore = (await status(admin)).active?.version;
    const denied = await deploy(admin, version('8.0.0'), { targetEnvironment: 'production' });
    await until(async () => (await pending()).length === 1, 10_000);
    assert.equal((await status(admin)).deployment?.phase, 'approval');
    const waiting = (await status(admin)).instances.filter((i) => i.revision.startsWith('8.0.0-'));
    assert.equal(waiting.length, 2);
    assert.ok(
      waiting.every((i) => i.state === 'stopped' && i.pid === null),
      'nothing of 8.0.0 started before the approval',
    );
    await admin.request(ADMIN_CONSENT_DECIDE, { id: (await pending())[0]!.id, verdict: 'deny' });
    const refused = await ended(admin, denied.id);
    assert.equal(refused.outcome, 'aborted');
    assert.match(refused.reason ?? '', /denied/i);
    assert.equal((await status(admin)).active?.version, activeBefore);
    const granted = await deploy(admin, version('8.0.0'), { targetEnvironment: 'production' });
    await until(async () => (await pending()).length === 1, 10_000);
    await admin.request(ADMIN_CONSENT_DECIDE, { id: (await pending())[0]!.id, verdict: 'grant' });
    const done = await ended(admin, granted.id);
    assert.equal(done.outcome, 'succeeded', done.reason);
    assert.equal((await status(admin)).active?.version, '8.0.0');
  });
});

describe('a hub restart in the middle of a deployment', () => {
  test('before the switch: rolled back; after the switch: finished; the active version serves again', async () => {
    const h = await startHubProcess();
    const bus = await openBus(h.url, { reconnect: false });
    const first = await deploy(bus, version('1.0.0'), {});
    assert.equal((await ended(bus, first.id)).outcome, 'succeeded');
    const held = await deploy(bus, version('2.0.0'), { strategy: 'blue-green', blueGreen: { autoPromote: false } });
    await until(async () => (await status(bus)).deployment?.waiting === true, 30_000);
    h.kill();
    await h.exited;
    await closeBus(bus);
    const h2 = await restartOnPort(h.port);
    const bus2 = await openBus(h2.url, { reconnect: false });
    const rolled = await ended(bus2, held.id);
    assert.equal(rolled.outcome, 'rolled-back');
    assert.match(rolled.reason ?? '', /the hub restarted during (validate|promote)/);
    await until(
      async () => ((await bus2.request('orders.get', null).catch(() => ({}))) as { version?: string }).version === '1.0.0',
      15_000,
    );
    // Past the switch (in the scale-down delay): the new version stays.
    const switching = await deploy(bus2, version('2.0.0'), { strategy: 'blue-green', blueGreen: { scaleDownDelayMs: 60_000 } });
    await until(async () => (await status(bus2)).deployment?.phase === 'cleanup', 30_000);
    h2.kill();
    await h2.exited;
    await closeBus(bus2);
    const h3 = await restartOnPort(h.port);
    const bus3 = await openBus(h3.url, { reconnect: false });
    const finished = await ended(bus3, switching.id);
    assert.equal(finished.outcome, 'succeeded');
    assert.equal((await status(bus3)).active?.version, '2.0.0');
    await until(
      async () => ((await bus3.request('orders.get', null).catch(() => ({}))) as { version?: string }).version === '2.0.0',
      15_000,
    );
    await closeBus(bus3);
    await h3.stop();
  });
});
