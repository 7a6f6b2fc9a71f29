/**
 * `crossbus deploy` end to end: the built CLI against a real hub process (deployments on: it has
 * a data folder) running the app's instances itself. A first version by a rolling update, a second
 * by blue-green with a config file, a third that fails its health check and is rolled back (exit
 * 1, the reason said); status and history as tables and JSON; rollback to the previous version;
 * each checked by its exit code, its output and which version answers on the bus. The staged app
 * (test/fixtures/apps/deploy-app/main.mjs) imports `crossbus/runtime`, which the hub links into
 * its folder. Needs `npm run build` first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bus } from '../../src/node/index.js';
import type { AppDeployStatus, DeploymentRecord } from '../../src/core/apps/deploy-topics.js';
import { runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { closeAllBuses, openBus } from '../helpers/buses.js';
import { until } from '../helpers/wait.js';
import { testConfigDocument } from '../helpers/security.js';
import { deployAppVersion } from '../helpers/deploy-app.js';

const APP_MAIN = fileURLToPath(new URL('../fixtures/apps/deploy-app/main.mjs', import.meta.url));
const T = { timeout: 90_000 };
/** No CROSSBUS_* from the environment the tests run in. */
const CLEAN = { CROSSBUS_URL: undefined, CROSSBUS_NAME: undefined, CROSSBUS_SECRET_FILE: undefined };

let hub: HubProcess;
let bus: Bus;
let secretFile: string;

const appVersion = deployAppVersion;

const deploy = (args: string[], timeoutMs = 60_000) =>
  runCli(['deploy', ...args, '--url', hub.url, '--name', 'test', '--secret-file', secretFile], timeoutMs, { env: CLEAN });

/** The version that answers `orders.get` (the group's instances, by weight). */
const serving = async (): Promise<string> => (await bus.request<{ version: string }>('orders.get', null, { timeoutMs: 5_000 })).version;

before(async () => {
  const config = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  hub = await startHubProcess([], { config });
  secretFile = join(hub.dataDir, 'test.secret');
  writeFileSync(secretFile, hub.credentials!.secret, { mode: 0o600 });
  bus = await openBus(hub.url);
});

after(async () => {
  await closeAllBuses();
  await hub?.stop();
});

describe('crossbus deploy against a real hub', () => {
  test('start: a first version (rolling), then a second (blue-green from a config file); each step printed, exit 0', T, async () => {
    const first = await deploy(['start', appVersion('1.0.0'), '--strategy', 'rolling']);
    assert.equal(first.code, 0, `stdout: ${first.stdout}\nstderr: ${first.stderr}`);
    const lines = first.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^prepared orders 1\.0\.0: 2 files, [\d.]+ (B|KiB), sha256 [0-9a-f]{12}$/);
    assert.match(lines[1]!, /^deployment [0-9a-f-]{36} started: orders 1\.0\.0-[0-9a-f]{12} \(rolling, development\): stage, weight 0%$/);
    // Each step: the time since the start, the phase, the new version's weight, what the hub said.
    const steps = lines.slice(2, -1);
    for (const l of steps) assert.match(l, /^\+[\d.]+s +(stage|validate|promote|cleanup|done) +\d+% {2}\S/, l);
    assert.deepEqual([...new Set(steps.map((l) => l.split(/ +/)[1]))], ['stage', 'validate', 'promote', 'cleanup', 'done']);
    assert.ok(
      steps.some((l) => / 100% {2}weight 0% -> 100%$/.test(l)),
      'the weight change has a line',
    );
    assert.match(lines.at(-1)!, /^orders 1\.0\.0-[0-9a-f]{12} succeeded in [\d.]+s$/);
    assert.equal(await serving(), '1.0.0');

    const dir = appVersion('1.1.0');
    // The config file says blue-green; --strategy repeating it is fine, --env adds to it.
    writeFileSync(join(dir, 'deploy.yaml'), 'strategy: blue-green\nblueGreen:\n  scaleDownDelayMs: 200\n');
    const second = await deploy(['start', dir, '--config', join(dir, 'deploy.yaml'), '--strategy', 'blue-green', '--env', 'staging']);
    assert.equal(second.code, 0, `stdout: ${second.stdout}\nstderr: ${second.stderr}`);
    assert.match(second.stdout, /started: orders 1\.0\.0-[0-9a-f]{12} -> 1\.1\.0-[0-9a-f]{12} \(blue-green, staging\)/);
    assert.match(second.stdout, /\n\+[\d.]+s +promote +100% {2}switched: 1\.1\.0 takes all traffic\n/);
    assert.match(second.stdout, /\n\+[\d.]+s +cleanup +100% {2}the old version keeps running 200 ms for an instant rollback\n/);
    assert.match(second.stdout, /succeeded in [\d.]+s\n$/);
    assert.equal(await serving(), '1.1.0');
  });

  test('a version that fails its health check is rolled back: exit 1 with the reason; the old one serves on', T, async () => {
    const bad = await deploy(['start', appVersion('1.2.0', { unhealthy: true }), '--strategy', 'rolling', '--json']);
    assert.equal(bad.code, 1, `stdout: ${bad.stdout}\nstderr: ${bad.stderr}`);
    // --json: stdout holds the final record alone; the steps and the outcome went to stderr.
    const record = JSON.parse(bad.stdout) as DeploymentRecord;
    assert.equal(record.outcome, 'rolled-back');
    assert.match(record.reason ?? '', /failed its check orders\.health: unhealthy on purpose/);
    assert.match(bad.stderr, /\n\+[\d.]+s +rollback +0% {2}rolling back: instance 0 of 1\.2\.0 failed its check orders\.health/);
    assert.match(bad.stderr, /orders 1\.1\.0-[0-9a-f]{12} -> 1\.2\.0-[0-9a-f]{12} rolled back after [\d.]+s: instance 0 of 1\.2\.0 failed/);
    assert.equal(await serving(), '1.1.0');
  });

  test('status and history: tables and JSON', T, async () => {
    const status = await deploy(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^ {2}APP +ACTIVE +PREVIOUS +DEPLOYMENT +INSTANCES\n {2}orders +1\.1\.0 +1\.0\.0 +- +2 \(2 running\)\n$/);
    const one = await deploy(['status', 'orders']);
    assert.match(one.stdout, /Active revision 1\.1\.0-[0-9a-f]{12}, staged \S+ by test\n/);
    assert.match(
      one.stdout,
      /Instances of orders \(2\):\n {2}REVISION +INSTANCE +STATE +PID +WEIGHT\n {2}1\.1\.0-[0-9a-f]{12} +\S+ +running +\d+ +1\n/,
    );
    const json = await deploy(['status', 'orders', '--json']);
    const apps = (JSON.parse(json.stdout) as { apps: AppDeployStatus[] }).apps;
    assert.equal(apps[0]?.active?.version, '1.1.0');
    assert.equal(apps[0]?.previous?.version, '1.0.0');

    const history = await deploy(['history', 'orders']);
    assert.equal(history.code, 0, history.stderr);
    const rows = history.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 4);
    assert.match(rows[1]!, / rolling +development +1\.1\.0-\S+ +1\.2\.0-\S+ +rolled back +\S+ +test +instance 0 of 1\.2\.0 failed/);
    assert.match(rows[2]!, / blue-green +staging +1\.0\.0-\S+ +1\.1\.0-\S+ +succeeded /);
    assert.match(rows[3]!, / rolling +development +- +1\.0\.0-\S+ +succeeded /);
    const limited = await deploy(['history', 'orders', '--limit', '1', '--json']);
    assert.deepEqual(
      (JSON.parse(limited.stdout) as { history: DeploymentRecord[] }).history.map((r) => r.outcome),
      ['rolled-back'],
    );
  });

  test('rollback: the previous version deployed again, followed to its end; then the hub says what is missing', T, async () => {
    // Its rollout's config (else the last successful deployment's strategy, with its 30 s scale-down delay).
    const config = join(mkdtempSync(join(tmpdir(), 'crossbus-rollback-')), 'rollback.json');
    writeFileSync(config, JSON.stringify({ strategy: 'blue-green', blueGreen: { scaleDownDelayMs: 200 } }));
    const back = await deploy(['rollback', 'orders', '--config', config, '--env', 'staging']);
    assert.equal(back.code, 0, `stdout: ${back.stdout}\nstderr: ${back.stderr}`);
    assert.match(back.stdout, /^rolling back: deployment \S+ started: orders 1\.1\.0-\S+ -> 1\.0\.0-\S+ \(blue-green, staging\)/);
    assert.match(back.stdout, /orders 1\.1\.0-\S+ -> 1\.0\.0-\S+ succeeded in [\d.]+s\n$/);
    await until(async () => (await serving()) === '1.0.0', 5_000, 'version 1.0.0 answering');

    // Refusals are the hub's, with their codes: exit 1.
    const unknown = await deploy(['rollback', 'nothing-here']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^crossbus: no app "nothing-here" was deployed to this hub \(CB_ERR_INVALID_OPTION\)\n$/);
    const promote = await deploy(['promote', 'orders']);
    assert.equal(promote.code, 1);
    assert.match(promote.stderr, /app "orders" has no deployment in progress \(CB_ERR_INVALID_OPTION\)/);
  });

  test('before anything is sent: a flag that contradicts the config file, an app the hub does not know', T, async () => {
    const dir = appVersion('2.0.0');
    writeFileSync(join(dir, 'deploy.json'), '{"strategy": "canary"}');
    const conflict = await deploy(['start', dir, '--config', join(dir, 'deploy.json'), '--strategy', 'rolling']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /--strategy rolling contradicts strategy: "canary" in .*deploy\.json.*\(CB_ERR_CONFLICTING_OPTIONS\)/);
    assert.equal(conflict.stdout, '');
    const stranger = mkdtempSync(join(tmpdir(), 'crossbus-deploy-stranger-'));
    copyFileSync(APP_MAIN, join(stranger, 'main.mjs'));
    writeFileSync(
      join(stranger, 'crossbus.app.json'),
      JSON.stringify({ name: 'stranger', version: '1.0.0', kind: 'node', entry: 'main.mjs' }),
    );
    const refused = await deploy(['start', stranger]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /app "stranger" is not in the hub's config: its instances could not authenticate/);
  });
});
