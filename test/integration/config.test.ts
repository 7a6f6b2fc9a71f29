/**
 * Environment configuration against a REAL hub process: `crossbus config` end to end (layers,
 * precedence, validation with paths, history and rollback, explain, diff, layer files), secrets
 * sealed at rest and never in any output unless revealed to an app allowed to, and apps that
 * load their configuration live (updates, a rejected update, a restart-only change) or start
 * while the hub is down (cache, then defaults). Needs `npm run build` first.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSettingsCache, connect, loadSettings, type SyncingBus } from '../../src/node/index.js';
import { restartOnPort, runCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { secret as newSecret, testConfigDocument } from '../helpers/security.js';

const T = { timeout: 60_000 };
const hubs: HubProcess[] = [];
const buses: SyncingBus[] = [];
after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  for (const h of hubs) if (h.alive()) await h.stop();
});

/** `test` may do anything; `reader` may read settings but not reveal secrets nor write. */
function config() {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } }) as unknown as {
    apps: Record<string, { secret: string; roles: string[] }>;
    roles: Record<string, unknown>;
  };
  doc.apps.reader = { secret: newSecret(), roles: ['settings-reader'] };
  doc.roles['settings-reader'] = { publish: [], subscribe: [], request: ['$SYS.REQ.SETTINGS.GET', '$SYS.REQ.SETTINGS.WAIT'] };
  return doc as never;
}

/** The config of each hub by port (a hub restarted on its port reads the same file). */
const configs = new Map<number, HubProcess['config']>();

async function start(): Promise<HubProcess> {
  const hub = await startHubProcess([], { config: config() });
  hubs.push(hub);
  configs.set(hub.port, hub.config);
  return hub;
}

async function open(hub: HubProcess, app = 'test', options: Parameters<typeof connect>[1] = {}): Promise<SyncingBus> {
  const doc = (hub.config ?? configs.get(hub.port)) as unknown as { apps: Record<string, { secret: string }> };
  const bus = (await connect(hub.url, { timeoutMs: 5_000, name: app, secret: doc.apps[app]!.secret, ...options })) as SyncingBus;
  buses.push(bus);
  return bus;
}

function cliFor(hub: HubProcess) {
  const creds = ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];
  return (...args: string[]) => runCli(['config', ...args, ...creds], 20_000);
}

/** Every byte under `dir`, as text. */
function everything(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out += everything(p);
    else if (statSync(p).isFile()) out += readFileSync(p).toString('latin1');
  }
  return out;
}

describe('crossbus config (real hub process)', () => {
  test('layers, precedence, validation, history, rollback, explain, diff, layer files', T, async () => {
    const hub = await start();
    const cfg = cliFor(hub);
    let r = await cfg('set', 'logLevel', 'warn', '--layer', 'global');
    assert.equal(r.code, 0, r.stderr);
    r = await cfg('set', 'logLevel', 'debug', '--env', 'development');
    assert.equal(r.code, 0, r.stderr);
    r = await cfg('set', 'limits.maxFileSize', '2048', '--env', 'production');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\+ limits.maxFileSize: - -> 2048/);
    r = await cfg('set', 'features.beta', 'true', '--env', 'production', '--layer', 'project', '--project', 'shop');
    assert.equal(r.code, 0, r.stderr);
    r = await cfg('set', 'logLevel', 'error', '--env', 'production', '--layer', 'user', '--user', 'ann');
    assert.equal(r.code, 0, r.stderr);

    // Precedence: global < environment < project < user.
    const get = async (...a: string[]) => JSON.parse((await cfg('get', ...a, '--json')).stdout);
    assert.equal(await get('logLevel', '--env', 'development'), 'debug');
    assert.equal(await get('logLevel', '--env', 'production'), 'warn', 'from global');
    assert.equal(await get('logLevel', '--env', 'production', '--project', 'shop', '--user', 'ann'), 'error');
    assert.equal(await get('features.beta', '--env', 'production', '--project', 'shop'), true);
    assert.deepEqual(await get('features', '--env', 'production'), {}, 'the project layer only with --project');
    assert.equal(await get('syncInterval', '--env', 'production'), 30_000, 'a default');
    r = await cfg('explain', 'logLevel', '--env', 'production', '--user', 'ann', '--json');
    const e = JSON.parse(r.stdout);
    assert.equal(e.source, 'user');
    assert.deepEqual(
      e.chain.filter((s: { set: boolean }) => s.set).map((s: { layer: string }) => s.layer),
      ['default', 'global', 'user'],
    );

    // Bad input: typed errors with the path; nothing stored.
    r = await cfg('set', 'limits.maxFileSize', '"big"', '--env', 'production');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /limits\.maxFileSize.*CB_ERR_CONFIG_INVALID/s);
    r = await cfg('set', 'limits.nope', '1', '--env', 'production');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"limits.nope" is not a known setting \(CB_ERR_CONFIG_INVALID\)/);
    r = await cfg('get', '--env', 'prod');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown environment "prod".*CB_ERR_CONFIG_INVALID/);
    assert.equal(await get('limits.maxFileSize', '--env', 'production'), 2048, 'the version in force stays');

    // A layer file: one that does not parse, one with errors (every path named), one that is good.
    const dir = mkdtempSync(join(tmpdir(), 'cb-config-'));
    writeFileSync(join(dir, 'broken.yaml'), 'logLevel: [debug\n');
    writeFileSync(join(dir, 'bad.yaml'), 'logLevel: loud\nlimits:\n  syncTimeout: -1\n  extra: 1\n');
    writeFileSync(join(dir, 'good.yaml'), 'logLevel: info\nlimits:\n  maxFileSize: 4096\n');
    r = await cfg('validate', '--file', join(dir, 'broken.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken.yaml does not parse/);
    r = await cfg('validate', '--file', join(dir, 'bad.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /logLevel: /);
    assert.match(r.stderr, /limits\.syncTimeout: /);
    assert.match(r.stderr, /limits\.extra: is not a known setting/);
    r = await cfg('set', '--file', join(dir, 'bad.yaml'), '--env', 'production');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /3 problems/);
    r = await cfg('set', '--file', join(dir, 'broken.yaml'), '--env', 'production');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not parse.*CB_ERR_CONFIG_INVALID/);
    r = await cfg('set', '--file', join(dir, 'good.yaml'), '--env', 'production');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await get('limits.maxFileSize', '--env', 'production'), 4096);
    r = await cfg('validate', '--env', 'production');
    assert.equal(r.code, 0, r.stderr);

    // History and rollback.
    r = await cfg('history', '--env', 'production', '--json');
    const versions = JSON.parse(r.stdout) as Array<{ version: number; author: string; diff: Array<{ path: string }>; note?: string }>;
    assert.equal(versions.length, 2);
    assert.deepEqual(
      versions.map((x) => x.author),
      ['test', 'test'],
    );
    assert.equal(versions[1]?.note, 'replaced');
    r = await cfg('rollback', String(versions[0]!.version), '--env', 'production');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await get('limits.maxFileSize', '--env', 'production'), 2048);
    assert.equal(await get('logLevel', '--env', 'production'), 'warn', 'the environment layer of version 1 set no logLevel');
    r = await cfg('rollback', '999', '--env', 'production');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no version 999/);
    r = await cfg('history', '--env', 'production', '--json');
    assert.equal(JSON.parse(r.stdout).at(-1).note, `rollback to ${versions[0]!.version}`);

    // Diff between environments.
    r = await cfg('diff', '--env', 'development', '--against', 'production', '--json');
    const diff = JSON.parse(r.stdout) as Array<{ path: string }>;
    assert.deepEqual(
      diff.map((d) => d.path),
      ['environment', 'limits.maxFileSize', 'logLevel'],
    );
    assert.equal(await get('environment', '--env', 'staging'), 'staging', 'each environment resolves with its own name');
  });

  test('secrets: sealed at rest, redacted everywhere, revealed only to an app allowed to', T, async () => {
    const hub = await start();
    const cfg = cliFor(hub);
    const SECRET = `s3cr3t-${newSecret().slice(0, 12)}`;
    const TOKEN = `tok-${newSecret().slice(0, 12)}`;
    let r = await cfg('set', 'apiKey', SECRET, '--env', 'staging');
    assert.equal(r.code, 0, r.stderr);
    const outputs = [r.stdout, r.stderr];
    r = await cfg('set', 'credentials.token', TOKEN, '--layer', 'global');
    outputs.push(r.stdout, r.stderr);
    r = await cfg('set', 'apiKey', '5', '--env', 'staging');
    assert.equal(r.code, 1, 'a secret of the wrong type is refused');
    outputs.push(r.stdout, r.stderr);
    for (const args of [
      ['get', '--env', 'staging'],
      ['get', 'apiKey', '--env', 'staging', '--json'],
      ['explain', 'apiKey', '--env', 'staging'],
      ['history', '--env', 'staging', '--json'],
      ['diff', '--env', 'staging', '--against', 'production'],
    ]) {
      r = await cfg(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      outputs.push(r.stdout, r.stderr);
    }
    assert.equal(JSON.parse((await cfg('get', 'apiKey', '--env', 'staging', '--json')).stdout), '[redacted]');
    // Revealed to an app allowed to (test: every grant)...
    r = await cfg('get', 'apiKey', '--env', 'staging', '--reveal', '--json');
    assert.equal(JSON.parse(r.stdout), SECRET);
    // ...and refused to one that is not.
    const reader = await open(hub, 'reader');
    const admin = new (await import('../../src/client/settings/admin.js')).SettingsAdmin(reader);
    const got = await admin.get({ env: 'staging' });
    assert.equal((got.layers.environment as { apiKey: string }).apiKey, '[redacted]');
    await rejectsWithCode(admin.get({ env: 'staging' }, { reveal: true }), 'CB_ERR_FORBIDDEN');
    await rejectsWithCode(admin.set({ layer: 'environment', env: 'staging' }, 'logLevel', 'debug'), 'CB_ERR_FORBIDDEN');
    const live = await loadSettings<{ apiKey?: string }>(reader, { env: 'staging', live: false });
    assert.equal(live.value.apiKey, '[redacted]');

    await hub.stop();
    // Nothing the test produced holds a secret: CLI output, the hub's logs, its data folder
    // (streams, audit log), anything the client was given redacted.
    const haystack = [...outputs, hub.stdout(), hub.stderr(), everything(hub.dataDir), JSON.stringify(got)].join('\n');
    for (const s of [SECRET, TOKEN]) assert.equal(haystack.includes(s), false, 'a secret leaked');
    assert.match(everything(hub.dataDir), /"\$sealed":"v1\./, 'stored sealed');
    assert.match(everything(hub.dataDir), /settings-set/, 'audited');
  });

  test('an app follows live updates: applied, rejected when invalid, restart-only reported', T, async () => {
    const hub = await start();
    const admin = new (await import('../../src/client/settings/admin.js')).SettingsAdmin(await open(hub));
    const scope = { layer: 'environment', env: 'testing' } as const;
    await admin.set(scope, 'syncInterval', 1000);
    const app = await open(hub);
    const settings = await loadSettings<{ syncInterval: number; logLevel: string; limits: { maxConnections: number } }>(app, {
      env: 'testing',
      envVars: { CROSSBUS_SETTINGS__LOG_LEVEL: 'warn' },
      waitMs: 2_000,
    });
    assert.equal(settings.origin, 'hub');
    assert.equal(settings.value.syncInterval, 1000);
    assert.equal(settings.value.logLevel, 'warn', 'the env var layer is on top');
    assert.equal(settings.explain('logLevel').source, 'env');

    const next = <K extends 'change' | 'restart' | 'rejected'>(name: K) =>
      new Promise<Parameters<Parameters<typeof settings.events.on<K>>[1]>[0]>((resolve) => {
        const off = settings.events.on(name, (e) => {
          off();
          resolve(e as never);
        });
      });
    let changed = next('change');
    await admin.set(scope, 'syncInterval', 2000);
    assert.deepEqual(
      (await changed).changes.map((c) => c.path),
      ['syncInterval'],
    );
    assert.equal(settings.value.syncInterval, 2000);

    const restart = next('restart');
    await admin.set(scope, 'limits.maxConnections', 7);
    assert.deepEqual((await restart).paths, ['limits.maxConnections']);
    assert.equal(settings.value.limits.maxConnections, 100, 'kept until a restart');
    assert.deepEqual(settings.restartPending, ['limits.maxConnections']);

    // A layer written past the service (straight into the bucket): the app checks it before it
    // applies anything, refuses it, and keeps what it has.
    const rejected = next('rejected');
    const kv = await (await open(hub)).kv.bucket('settings');
    await kv.put('layer.environment.testing', { layer: { syncInterval: 'fast' }, author: 'x', time: 0, diff: [], restart: [] });
    const { error } = await rejected;
    assert.equal(error.code, 'CB_ERR_CONFIG_INVALID');
    assert.match(error.message, /syncInterval/);
    assert.equal(settings.value.syncInterval, 2000);
    // And a good version after it is applied again.
    changed = next('change');
    await admin.set(scope, 'syncInterval', 3000);
    await changed;
    assert.equal(settings.value.syncInterval, 3000);
    settings.close();
  });

  test('an app started while the hub is down: the last good cache, else the defaults; then the hub', T, async () => {
    const hub = await start();
    const admin = new (await import('../../src/client/settings/admin.js')).SettingsAdmin(await open(hub));
    const SECRET = `k-${newSecret().slice(0, 12)}`;
    await admin.set({ layer: 'environment', env: 'production' }, 'syncInterval', 1234);
    await admin.set({ layer: 'environment', env: 'production' }, 'apiKey', SECRET);
    const dir = mkdtempSync(join(tmpdir(), 'cb-settings-cache-'));
    const cache = new FileSettingsCache(join(dir, 'settings.json'));
    const online = await loadSettings<{ syncInterval: number; apiKey?: string }>(await open(hub), {
      env: 'production',
      cache,
      reveal: true,
      live: false,
    });
    assert.equal(online.origin, 'hub');
    assert.equal(online.value.apiKey, SECRET, 'revealed to an app allowed to');
    assert.ok((await cache.load()) !== undefined, 'saved');
    assert.equal(readFileSync(cache.path, 'utf8').includes(SECRET), false, 'the cache never holds a secret');
    assert.equal(statSync(cache.path).mode & 0o777, 0o600);

    await hub.stop();
    const offline = async (withCache: boolean) => {
      const bus = await open(hub, 'test', { waitForHub: false, reconnect: { initialDelayMs: 100, maxDelayMs: 300, maxAttempts: 1000 } });
      return loadSettings<{ syncInterval: number; apiKey?: string }>(bus, {
        env: 'production',
        ...(withCache ? { cache } : {}),
        hubTimeoutMs: 300,
        retryMs: 100,
        waitMs: 2_000,
      });
    };
    const fromCache = await offline(true);
    assert.equal(fromCache.origin, 'cache');
    assert.equal(fromCache.value.syncInterval, 1234);
    assert.equal(fromCache.value.apiKey, '[redacted]');
    const fromDefaults = await offline(false);
    assert.equal(fromDefaults.origin, 'defaults');
    assert.equal(fromDefaults.value.syncInterval, 30_000);

    // The hub comes back: both move to its configuration by themselves.
    const changed = new Promise<void>((resolve) => fromDefaults.events.on('change', () => resolve()));
    const back = await restartOnPort(hub.port);
    hubs.push(back);
    await changed;
    assert.equal(fromDefaults.origin, 'hub');
    assert.equal(fromDefaults.value.syncInterval, 1234);
    fromCache.close();
    fromDefaults.close();
  });

  test(
    "the hub's own roles and limits from the bucket: applied without a restart, checked, kept over reloads and restarts",
    T,
    async () => {
      const hub = await start();
      const cfg = cliFor(hub);
      const billingMay = async (h: HubProcess, topic: string): Promise<boolean> => {
        const bus = await open(h, 'billing');
        try {
          await bus.publish(topic, 1, { ack: true });
          return true;
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'CB_ERR_FORBIDDEN');
          return false;
        } finally {
          await bus.close();
        }
      };
      assert.equal(await billingMay(hub, 'extra.x'), false);
      let r = await cfg('set', 'roles.billing', JSON.stringify({ publish: ['billing.>', 'extra.>'], subscribe: ['billing.>'] }), '--hub');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await billingMay(hub, 'extra.x'), true, 'a new connection has the new grant');
      r = await cfg('get', 'roles.billing.publish', '--hub', '--json');
      assert.deepEqual(JSON.parse(r.stdout), ['billing.>', 'extra.>']);
      r = await cfg('set', 'limits.rate.perSecond', '"fast"', '--hub');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /limits\.rate\.perSecond.*CB_ERR_CONFIG_INVALID/s);
      r = await cfg('set', 'apps.mallory.roles', '["all"]', '--hub');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /apps cannot be set in the settings bucket/);
      assert.equal(await billingMay(hub, 'extra.x'), true, 'the version in force stays');

      // A reload of the config file keeps the bucket's settings on top.
      r = await runCli(['reload', '--data', hub.dataDir], 20_000);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await billingMay(hub, 'extra.x'), true);
      // So does a restart.
      await hub.stop();
      const back = await restartOnPort(hub.port);
      hubs.push(back);
      assert.equal(await billingMay(back, 'extra.x'), true, 'restored at start');
      const cfg2 = cliFor(back);
      r = await cfg2('history', '--hub', '--json');
      const versions = JSON.parse(r.stdout) as Array<{ version: number; author: string; paths: string[] }>;
      assert.deepEqual(
        versions.map((x) => [x.author, x.paths]),
        [['test', ['roles.billing']]],
      );
      r = await cfg2('unset', 'roles.billing', '--hub');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await billingMay(back, 'extra.x'), false, 'back to the file');
      await back.stop();
      const audit = readFileSync(join(back.dataDir, 'audit.jsonl'), 'utf8');
      assert.match(audit, /"action":"config-reload".*"target":"settings:hub.overlay".*"outcome":"success"/);
      assert.match(audit, /"action":"config-reload".*"target":"settings:hub.overlay".*"outcome":"failure"/);
    },
  );
});
