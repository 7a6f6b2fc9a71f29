import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, isCrossbusError } from '../../src/core/errors/index.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { policyForApp } from '../../src/core/security/app-policy.js';
import type { Logger } from '../../src/core/util/logger.js';
import { CONFIG_FILE_NAME, createDefaultConfig, ensureConfigFile, loadConfigFile, rotateKey } from '../../src/node/config/config-file.js';
import { DEFAULT_ROTATION_GRACE_MS } from '../../src/node/defaults.js';

const SECRET_A = Buffer.alloc(32, 1).toString('base64');
const SECRET_B = Buffer.alloc(32, 2).toString('base64');
const NOW = Date.UTC(2026, 5, 1);

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'crossbus-config-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const JSON_CONFIG = {
  apps: { orders: { secret: SECRET_A, roles: ['orders-service'] }, billing: { secret: SECRET_B } },
  roles: { 'orders-service': { publish: ['orders.>'], subscribe: ['apps.{app}.>'] } },
  origins: ['http://localhost:7071'],
};
const YAML_CONFIG = `# the hub's apps
apps:
  orders:
    # rotated by the CLI
    secret: ${SECRET_A}
    roles: [orders-service]
  billing:
    secret: ${SECRET_B}
roles:
  orders-service:
    publish: ["orders.>"]
    subscribe: ["apps.{app}.>"]
origins:
  - http://localhost:7071 # the dev server
`;

async function write(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

function configError(path: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ConfigError && isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'), String(e));
    assert.ok(e.message.startsWith(path), `${e.message} should name ${path}`);
    assert.match(e.message, pattern);
    return true;
  };
}

function recordingLoggerTuples(): Logger & { records: Array<[string, string, Record<string, unknown> | undefined]> } {
  const { logger, records } = recordingLogger();
  return {
    ...logger,
    get records() {
      return records.map((r): [string, string, Record<string, unknown> | undefined] => [r.level, r.message, r.fields]);
    },
  };
}

describe('loadConfigFile', () => {
  test('loads JSON, .yaml and .yml to the same config', async () => {
    const fromJson = await loadConfigFile(await write('hub.json', JSON.stringify(JSON_CONFIG)));
    const fromYaml = await loadConfigFile(await write('hub.yaml', YAML_CONFIG));
    const fromYml = await loadConfigFile(await write('hub.yml', YAML_CONFIG));
    assert.deepEqual(fromYaml, fromJson);
    assert.deepEqual(fromYml, fromJson);
    assert.deepEqual([...fromJson.apps.keys()], ['orders', 'billing']);
    assert.deepEqual(fromJson.origins, ['http://localhost:7071']);
  });

  test('a BOM is ignored', async () => {
    const cfg = await loadConfigFile(await write('bom.json', `\uFEFF${JSON.stringify(JSON_CONFIG)}`));
    assert.equal(cfg.apps.size, 2);
  });

  test('JSON syntax errors name the file and the line, and never quote the content', async () => {
    const path = await write('broken.json', '{\n  "apps": {\n    "a": 1,\n  }\n}\n');
    await assert.rejects(loadConfigFile(path), configError(`${path}:4:3: invalid JSON`, /Expected double-quoted property name/));
    const leaky = await write('leaky.json', `{"apps": {"a": {"secret": ${SECRET_A}}}}`);
    await assert.rejects(loadConfigFile(leaky), (e: unknown) => {
      assert.match((e as Error).message, new RegExp(`^${leaky}: invalid JSON: Unexpected token`));
      assert.ok(!(e as Error).message.includes(SECRET_A.slice(0, 10)), (e as Error).message);
      assert.equal((e as Error).cause, undefined); // the parser's own error quotes the file
      return true;
    });
  });

  test('YAML syntax errors name the file and the line, and never quote the content', async () => {
    const path = await write('broken.yaml', `apps:\n  a:\n    secret: ${SECRET_A}\n    roles: [x\nroles: {}\n`);
    await assert.rejects(loadConfigFile(path), (e: unknown) => {
      configError(`${path}:5:1: invalid YAML`, /invalid YAML/)(e);
      assert.ok(!(e as Error).message.includes(SECRET_A.slice(0, 10)));
      assert.equal((e as Error).cause, undefined);
      return true;
    });
    const dup = await write('dup.yml', 'apps: {}\napps: {}\n');
    await assert.rejects(loadConfigFile(dup), configError(`${dup}:2:1: invalid YAML`, /unique/));
  });

  test('schema errors name the file and the JSON path', async () => {
    const path = await write('weak.json', JSON.stringify({ apps: { orders: { secret: 'c2hvcnQ=' } } }));
    await assert.rejects(
      loadConfigFile(path),
      configError(`${path}: apps.orders.secret: must be base64 of at least 32 bytes`, /decodes to 5 bytes/),
    );
    const empty = await write('empty.yaml', '');
    await assert.rejects(loadConfigFile(empty), configError(`${empty}: (config): must be an object, got null`, /null/));
  });

  test('missing files and unknown extensions', async () => {
    const dir = await tempDir();
    await assert.rejects(
      loadConfigFile(join(dir, 'nope.json')),
      configError(join(dir, 'nope.json'), /cannot read the config file: ENOENT/),
    );
    await assert.rejects(
      loadConfigFile(join(dir, 'hub.toml')),
      configError(join(dir, 'hub.toml'), /unsupported config file type "\.toml"/),
    );
  });
});

describe('createDefaultConfig and ensureConfigFile', () => {
  test('the default config: fresh 32-byte secrets, admin may do anything, app stays in its lane', async () => {
    const a = createDefaultConfig();
    const b = createDefaultConfig();
    assert.notEqual(a.apps.admin!.secret, b.apps.admin!.secret);
    assert.notEqual(a.apps.admin!.secret, a.apps.app!.secret);
    assert.equal(Buffer.from(a.apps.app!.secret!, 'base64').length, 32);
    assert.deepEqual(a.origins, []);
    assert.deepEqual(a.limits, { rate: { perSecond: 1000, burst: 2000 }, topicRates: [] });
    const dir = await tempDir();
    const { config } = await ensureConfigFile(dir);
    const admin = policyForApp(config, 'admin');
    const app = policyForApp(config, 'app');
    assert.equal(admin.check('subscribe', '>').allowed, true);
    assert.equal(admin.check('request', 'anything.at.all').allowed, true);
    assert.equal(app.check('publish', 'app.x').allowed, true);
    assert.equal(app.check('request', 'app.rpc').allowed, true);
    assert.equal(app.check('subscribe', 'apps.app.>').allowed, true);
    assert.equal(app.check('subscribe', 'apps.admin.>').allowed, false);
    assert.equal(app.check('publish', 'admin.x').allowed, false);
  });

  test('creates <dataDir>/crossbus.config.json once, mode 0600, and never logs a secret', async () => {
    const dir = join(await tempDir(), 'nested', 'data');
    const logger = recordingLoggerTuples();
    const first = await ensureConfigFile(dir, logger);
    assert.equal(first.path, join(dir, CONFIG_FILE_NAME));
    assert.equal(first.created, true);
    assert.equal((await stat(first.path)).mode & 0o777, 0o600);
    const text = await readFile(first.path, 'utf8');
    const doc = JSON.parse(text);
    assert.deepEqual(Object.keys(doc), ['apps', 'roles', 'origins', 'limits']);
    assert.deepEqual(await loadConfigFile(first.path), first.config);

    const second = await ensureConfigFile(dir, logger);
    assert.equal(second.created, false);
    assert.deepEqual(second.config, first.config);
    assert.equal(await readFile(first.path, 'utf8'), text);
    assert.deepEqual(await readdir(dir), [CONFIG_FILE_NAME]); // no temp files left behind

    assert.equal(logger.records.length, 1);
    assert.deepEqual(logger.records[0]![2], { path: first.path, apps: ['admin', 'app'] });
    const logged = JSON.stringify(logger.records);
    for (const app of Object.values(doc.apps) as Array<{ secret: string }>) assert.ok(!logged.includes(app.secret));
  });

  test('concurrent first starts agree on one file', async () => {
    const dir = await tempDir();
    const results = await Promise.all([ensureConfigFile(dir), ensureConfigFile(dir), ensureConfigFile(dir)]);
    assert.ok(results.filter((r) => r.created).length <= 1);
    const onDisk = await loadConfigFile(join(dir, CONFIG_FILE_NAME));
    for (const r of results) assert.deepEqual(r.config, onDisk);
    assert.deepEqual(await readdir(dir), [CONFIG_FILE_NAME]);
  });
});

describe('rotateKey', () => {
  test('JSON: adds k2, expires k1 after the grace period, keeps the rest of the file and mode 0600', async () => {
    const path = await write('hub.json', JSON.stringify(JSON_CONFIG, null, 4));
    const r = await rotateKey(path, 'orders', { now: NOW, graceMs: 60_000 });
    assert.equal(r.keyId, 'k2');
    assert.equal(Buffer.from(r.secret, 'base64').length, 32);
    assert.equal(r.previousExpiresAt, NOW + 60_000);
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    const text = await readFile(path, 'utf8');
    assert.match(text, /^\{\n {4}"apps"/); // the file's own indentation
    const doc = JSON.parse(text);
    assert.deepEqual(doc.apps.orders, {
      secrets: [
        { id: 'k1', secret: SECRET_A, expiresAt: new Date(NOW + 60_000).toISOString() },
        { id: 'k2', secret: r.secret },
      ],
      roles: ['orders-service'],
    });
    assert.deepEqual(doc.apps.billing, JSON_CONFIG.apps.billing);
    assert.deepEqual({ ...doc, apps: undefined }, { ...JSON_CONFIG, apps: undefined });
    assert.deepEqual(await readdir(join(path, '..')), ['hub.json']);

    const cfg = await loadConfigFile(path);
    assert.deepEqual(
      cfg.apps.get('orders')!.keys.map((k) => [k.id, k.expiresAt]),
      [
        ['k1', NOW + 60_000],
        ['k2', undefined],
      ],
    );
  });

  test('a second rotation keeps earlier expiries, leaves expired keys alone, numbers on', async () => {
    const path = await write(
      'hub.json',
      JSON.stringify({
        apps: {
          orders: {
            secrets: [
              { id: 'k1', secret: Buffer.alloc(32, 5).toString('base64'), expiresAt: new Date(NOW - 1000).toISOString() },
              { id: 'k7', secret: SECRET_A, expiresAt: new Date(NOW + 1000).toISOString() },
              { id: 'k8', secret: SECRET_B },
            ],
          },
        },
      }),
    );
    const r = await rotateKey(path, 'orders', { now: NOW });
    assert.equal(r.keyId, 'k9');
    assert.equal(r.previousExpiresAt, NOW + DEFAULT_ROTATION_GRACE_MS);
    const keys = (await loadConfigFile(path)).apps.get('orders')!.keys;
    assert.deepEqual(
      keys.map((k) => [k.id, k.expiresAt]),
      [
        ['k1', NOW - 1000],
        ['k7', NOW + 1000],
        ['k8', NOW + DEFAULT_ROTATION_GRACE_MS],
        ['k9', undefined],
      ],
    );
  });

  test('the rewritten file is 0600 even if it was readable by others', async () => {
    const path = await write('hub.json', JSON.stringify(JSON_CONFIG), 0o644);
    await rotateKey(path, 'billing', { now: NOW });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  test('YAML: writes YAML back, keeps comments elsewhere', async () => {
    const path = await write('hub.yaml', YAML_CONFIG);
    const r = await rotateKey(path, 'orders', { now: NOW, graceMs: 5000 });
    const text = await readFile(path, 'utf8');
    assert.ok(!text.trimStart().startsWith('{'));
    for (const comment of ["# the hub's apps", '# rotated by the CLI', '# the dev server']) assert.ok(text.includes(comment), comment);
    const doc = parseYaml(text);
    assert.deepEqual(doc.apps.orders.secrets, [
      { id: 'k1', secret: SECRET_A, expiresAt: new Date(NOW + 5000).toISOString() },
      { id: 'k2', secret: r.secret },
    ]);
    assert.equal(doc.apps.orders.secret, undefined);
    assert.deepEqual(Object.keys(doc.apps.orders), ['secrets', 'roles']);
    assert.equal(doc.apps.billing.secret, SECRET_B);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await loadConfigFile(path)).apps.get('orders')!.keys.map((k) => k.id),
      ['k1', 'k2'],
    );
  });

  test('an unknown app or a bad option changes nothing', async () => {
    const path = await write('hub.json', JSON.stringify(JSON_CONFIG));
    const before = await readFile(path, 'utf8');
    await assert.rejects(
      rotateKey(path, 'ghost'),
      (e: unknown) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION') && /no app "ghost"/.test((e as Error).message),
    );
    await assert.rejects(rotateKey(path, 'orders', { graceMs: -1 }), (e: unknown) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'));
    assert.equal(await readFile(path, 'utf8'), before);
  });
});
