/**
 * The app manifest schema: every field right, wrong, missing and at its bounds; each problem a
 * ConfigError CB_ERR_CONFIG_INVALID at its JSON path; the caller's object never touched.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppManifest } from '../../src/core/apps/manifest.js';
import {
  DEFAULT_APP_INSTANCES,
  DEFAULT_HEALTH_FAILURES,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  MAX_APP_ENV_VARS,
  MAX_APP_INSTANCES,
  MAX_HEALTH_MS,
  MIN_HEALTH_MS,
  MIN_OLD_SPACE_MB,
  MAX_OLD_SPACE_MB,
  MIN_RSS_MB,
} from '../../src/core/apps/defaults.js';
import { ConfigError } from '../../src/core/errors/index.js';

const BASE = { name: 'orders', version: '1.2.3', kind: 'node', entry: 'main.js' } as const;

/** The problems of a manifest, as `path: message`; none when it parses. */
function problems(raw: unknown): string[] {
  try {
    parseAppManifest(raw, 'crossbus.app.json');
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'CB_ERR_CONFIG_INVALID');
    return (err.details as { problems: { path: string; message: string }[] }).problems.map((p) => `${p.path}: ${p.message}`);
  }
}

function only(raw: unknown, path: string, message: RegExp): void {
  const found = problems(raw);
  assert.equal(found.length, 1, found.join('\n'));
  assert.ok(found[0]?.startsWith(`${path}: `), found[0]);
  assert.match(found[0] as string, message);
}

describe('app manifest', () => {
  test('the least manifest gets every default', () => {
    const m = parseAppManifest({ ...BASE });
    assert.equal(m.instances, DEFAULT_APP_INSTANCES);
    assert.deepEqual(m.grants, { publish: [], subscribe: [], request: [] });
    assert.deepEqual(m.healthCheck, {
      intervalMs: DEFAULT_HEALTH_INTERVAL_MS,
      timeoutMs: DEFAULT_HEALTH_TIMEOUT_MS,
      failuresBeforeRestart: DEFAULT_HEALTH_FAILURES,
    });
    assert.deepEqual({ ...m.resources }, { maxOldSpaceMb: undefined, maxRssMb: undefined, maxCpuPercent: undefined });
    assert.deepEqual({ ...m.env }, {});
    assert.deepEqual(m.config, {});
  });

  test('a full manifest is kept, and the input is not touched', () => {
    const raw = {
      ...BASE,
      version: '2.0.0-rc.1+build.5',
      kind: 'static',
      entry: 'public/site',
      instances: 3,
      grants: { publish: ['orders.>'], subscribe: [{ pattern: 'apps.{app}.>', ask: true }], request: ['billing.*'] },
      healthCheck: { intervalMs: 200, timeoutMs: 200, failuresBeforeRestart: 1 },
      resources: { maxOldSpaceMb: 256, maxRssMb: 512, maxCpuPercent: 150 },
      env: { LOG_LEVEL: 'debug', __proto__x: 'y' },
      config: { nested: [1, { a: null }] },
    };
    const copy = structuredClone(raw);
    const m = parseAppManifest(raw);
    assert.deepEqual(raw, copy);
    assert.equal(m.instances, 3);
    assert.deepEqual(m.grants.subscribe, [{ pattern: 'apps.{app}.>', ask: true }]);
    assert.deepEqual(m.grants.publish, [{ pattern: 'orders.>', ask: false }]);
    assert.equal(m.resources.maxRssMb, 512);
    assert.equal(m.env.LOG_LEVEL, 'debug');
    assert.deepEqual(m.config, { nested: [1, { a: null }] });
  });

  test('each required field missing is named', () => {
    for (const key of ['name', 'version', 'kind', 'entry'] as const) {
      const { [key]: _, ...rest } = BASE;
      only(rest, key, /must be/);
    }
    assert.deepEqual(problems({}).length, 4);
    only(null, '(config)', /must be an object, got null/);
  });

  test('name follows the hub config app name rules', () => {
    only({ ...BASE, name: 'a b' }, 'name', /app name must be 1 to 64 characters/);
    only({ ...BASE, name: 'x'.repeat(65) }, 'name', /1 to 64/);
    only({ ...BASE, name: 'constructor' }, 'name', /reserved/);
    assert.deepEqual(problems({ ...BASE, name: 'x'.repeat(64) }), []);
  });

  test('version is a semantic version', () => {
    for (const bad of ['1', '1.2', 'v1.2.3', '01.2.3', '1.2.3-', '1.2.3+']) only({ ...BASE, version: bad }, 'version', /semantic version/);
    for (const good of ['0.0.0', '1.2.3-alpha.1', '1.2.3+sha.abc']) assert.deepEqual(problems({ ...BASE, version: good }), []);
    only({ ...BASE, version: 1 }, 'version', /must be a string, got a number/);
  });

  test('kind is node or static; entry is a relative path inside the folder', () => {
    only({ ...BASE, kind: 'python' }, 'kind', /must be "node" or "static", got "python"/);
    only({ ...BASE, entry: '' }, 'entry', /is empty/);
    only({ ...BASE, entry: '/srv/main.js' }, 'entry', /relative/);
    only({ ...BASE, entry: 'C:\\main.js' }, 'entry', /relative/);
    only({ ...BASE, entry: 'lib/../../main.js' }, 'entry', /no "\.\."/);
    assert.deepEqual(problems({ ...BASE, entry: './lib/main.js' }), []);
  });

  test('instances: 1 to the maximum, integers only', () => {
    assert.deepEqual(problems({ ...BASE, instances: 1 }), []);
    assert.deepEqual(problems({ ...BASE, instances: MAX_APP_INSTANCES }), []);
    only({ ...BASE, instances: 0 }, 'instances', new RegExp(`from 1 to ${MAX_APP_INSTANCES}, got 0`));
    only({ ...BASE, instances: MAX_APP_INSTANCES + 1 }, 'instances', /got 65/);
    only({ ...BASE, instances: 1.5 }, 'instances', /got 1\.5/);
    only({ ...BASE, instances: null }, 'instances', /got null/);
  });

  test('grants: patterns checked as the hub config roles, unknown actions refused', () => {
    only({ ...BASE, grants: { publish: ['orders..x'] } }, 'grants.publish[0]', /pattern "orders\.\.x"/);
    only({ ...BASE, grants: { subscribe: ['{App}.x'] } }, 'grants.subscribe[0]', /"\{app\}"/);
    only({ ...BASE, grants: { request: [{ pattern: 'a', ask: 'yes' }] } }, 'grants.request[0].ask', /true or false/);
    only({ ...BASE, grants: { deny: { publish: ['x'] } } }, 'grants.deny', /not a known setting/);
    only({ ...BASE, grants: ['x'] }, 'grants', /must be an object, got an array/);
  });

  test('healthCheck: bounds, and a timeout no shorter than the interval', () => {
    const hc = (o: object) => ({ ...BASE, healthCheck: o });
    assert.deepEqual(problems(hc({ intervalMs: MIN_HEALTH_MS, timeoutMs: MAX_HEALTH_MS, failuresBeforeRestart: 100 })), []);
    only(hc({ intervalMs: MIN_HEALTH_MS - 1 }), 'healthCheck.intervalMs', /from 10 to 600000/);
    only(hc({ timeoutMs: MAX_HEALTH_MS + 1 }), 'healthCheck.timeoutMs', /from 10 to 600000/);
    only(hc({ failuresBeforeRestart: 0 }), 'healthCheck.failuresBeforeRestart', /from 1 to 100/);
    only(hc({ intervalMs: 5000 }), 'healthCheck.timeoutMs', /at least intervalMs \(5000\), got 3000/);
    assert.deepEqual(problems(hc({ topic: 'orders.health' })), []);
    only(hc({ topic: 'orders..health' }), 'healthCheck.topic', /empty/);
    only(hc({ topic: 7 }), 'healthCheck.topic', /string/);
  });

  test('resources: each limit bounded', () => {
    const r = (o: object) => ({ ...BASE, resources: o });
    assert.deepEqual(problems(r({ maxOldSpaceMb: MIN_OLD_SPACE_MB, maxRssMb: MIN_RSS_MB, maxCpuPercent: 1 })), []);
    only(r({ maxOldSpaceMb: MIN_OLD_SPACE_MB - 1 }), 'resources.maxOldSpaceMb', /from 16/);
    only(r({ maxOldSpaceMb: MAX_OLD_SPACE_MB + 1 }), 'resources.maxOldSpaceMb', /to 65536/);
    only(r({ maxRssMb: '512' }), 'resources.maxRssMb', /got a string/);
    only(r({ maxCpuPercent: 0 }), 'resources.maxCpuPercent', /from 1/);
    only(r({ maxMemory: 1 }), 'resources.maxMemory', /not a known setting/);
  });

  test('env: strings by name; secrets and CROSSBUS_* refused', () => {
    const e = (o: object) => ({ ...BASE, env: o });
    only(e({ DB_PASSWORD: 'x' }), 'env.DB_PASSWORD', /looks like a secret/);
    only(e({ GITHUB_TOKEN: 'x' }), 'env.GITHUB_TOKEN', /looks like a secret/);
    only(e({ api_key: 'x' }), 'env.api_key', /looks like a secret/);
    only(e({ CROSSBUS_URL: 'ws://x' }), 'env.CROSSBUS_URL', /reserved/);
    only(e({ crossbus_name: 'x' }), 'env.crossbus_name', /reserved/);
    only(e({ '1X': 'x' }), 'env.1X', /not a variable name/);
    only(e({ PORT: 8080 }), 'env.PORT', /must be a string, got a number/);
    only(e({ BIG: 'x'.repeat(32_769) }), 'env.BIG', /at most 32768/);
    only(e(['A=1']), 'env', /got an array/);
    const many = Object.fromEntries(Array.from({ length: MAX_APP_ENV_VARS + 1 }, (_, i) => [`V${i}`, '1']));
    only(e(many), 'env', /at most 256 variables/);
    // A secret's value never appears in the message.
    assert.ok(
      !problems(e({ SECRET: 'hunter2' }))
        .join()
        .includes('hunter2'),
    );
  });

  test('unknown top-level keys are refused by name, with every other problem', () => {
    const found = problems({ ...BASE, instance: 2, version: 'x' });
    assert.deepEqual(
      found.map((p) => p.split(':')[0]),
      ['version', 'instance'],
    );
  });

  test('the message names the file and each path', () => {
    assert.throws(
      () => parseAppManifest({ ...BASE, instances: 0 }, 'app/crossbus.app.json'),
      (err: ConfigError) =>
        err.message.startsWith('app/crossbus.app.json: instances: must be an integer') &&
        (err.details as { path: string }).path === 'instances',
    );
  });
});
