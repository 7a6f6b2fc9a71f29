/**
 * Resolution: the precedence of every pair of layers, sources, invalid layers (never applied:
 * fail, or skip and report), merging rules, explain.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossbusError, type CrossbusError } from '../../src/core/errors/index.js';
import {
  ENVIRONMENT_SETTINGS as S,
  LAYER_NAMES,
  explainSetting,
  resolveSettings,
  type LayerName,
  type SettingsLayers,
} from '../../src/core/settings/index.js';

const invalid = (layer: string, issues: { path: string; message: string }[]) => (e: unknown) => {
  assert.ok(isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'), String(e));
  assert.equal((e as CrossbusError).details?.layer, layer);
  assert.deepEqual((e as CrossbusError).details?.issues, issues);
  return true;
};

describe('precedence', () => {
  test('global < environment < project < user < env < flags', () => {
    assert.deepEqual(LAYER_NAMES, ['global', 'environment', 'project', 'user', 'env', 'flags']);
  });

  for (let lo = 0; lo < LAYER_NAMES.length; lo++) {
    for (let hi = lo + 1; hi < LAYER_NAMES.length; hi++) {
      const low = LAYER_NAMES[lo] as LayerName;
      const high = LAYER_NAMES[hi] as LayerName;
      test(`${high} wins over ${low}, whichever order they are given in`, () => {
        const layers = {
          [high]: { syncInterval: 2000 + hi, limits: { syncTimeout: 9000 } },
          [low]: { syncInterval: 1000 + lo, logLevel: 'warn' },
        };
        const r = resolveSettings(S, layers);
        assert.equal(r.value.syncInterval, 2000 + hi);
        assert.equal(r.sources.get('syncInterval'), high);
        assert.equal(r.value.logLevel, 'warn', 'what only the lower layer sets stays');
        assert.equal(r.sources.get('logLevel'), low);
        assert.equal(r.sources.get('limits.syncTimeout'), high);
        assert.equal(r.sources.get('limits.maxFileSize'), 'default');
        assert.equal(explainSetting(r, 'syncInterval').source, high);
      });
    }
  }

  test('every resolved leaf has a source', () => {
    const r = resolveSettings(S, { user: { features: { beta: true }, apiKey: 'k' } });
    assert.deepEqual([...r.sources.keys()].sort(), [
      'apiKey',
      'apiUrl',
      'environment',
      'features.beta',
      'limits.maxConnections',
      'limits.maxFileSize',
      'limits.syncTimeout',
      'logLevel',
      'security.authTimeout',
      'security.encryptionEnabled',
      'security.rateLimit',
      'syncInterval',
    ]);
  });
});

describe('merging', () => {
  test('objects and records key by key; the layers are not touched', () => {
    const layers: SettingsLayers = {
      global: { features: { a: true, b: true }, limits: { maxFileSize: 10 } },
      project: { features: { b: false, c: true }, limits: { syncTimeout: 200 } },
    };
    const before = structuredClone(layers);
    const r = resolveSettings(S, layers);
    assert.deepEqual(r.value.features, { a: true, b: false, c: true });
    assert.deepEqual(r.value.limits, { maxFileSize: 10, maxConnections: 100, syncTimeout: 200 });
    assert.equal(r.sources.get('features.a'), 'global');
    assert.equal(r.sources.get('features.b'), 'project');
    assert.deepEqual(layers, before);
    assert.notEqual(r.value.features, (layers.global as { features: unknown }).features);
  });

  test('a key left out, or undefined, sets nothing', () => {
    const r = resolveSettings(S, { global: { logLevel: 'error' }, user: { logLevel: undefined } });
    assert.equal(r.value.logLevel, 'error');
    assert.equal(r.sources.get('logLevel'), 'global');
  });

  test('null does not delete: it is an invalid value', () => {
    assert.throws(
      () => resolveSettings(S, { global: { logLevel: 'error' }, user: { logLevel: null } }),
      invalid('user', [{ path: 'logLevel', message: 'must be one of debug, info, warn, error, got null' }]),
    );
  });

  test('deterministic: the same layers give the same value and sources', () => {
    const layers = { project: { features: { z: true, a: false } }, global: { features: { m: true } } };
    const a = resolveSettings(S, layers);
    const b = resolveSettings(S, { global: layers.global, project: layers.project });
    assert.deepEqual(a.value, b.value);
    assert.deepEqual([...a.sources], [...b.sources]);
  });
});

describe('invalid layers', () => {
  test('fail by default, naming the layer and every issue with its path', () => {
    assert.throws(
      () => resolveSettings(S, { global: { logLevel: 'debug' }, project: { limits: { maxFileSize: -1, maxFiles: 3 }, colour: 'red' } }),
      invalid('project', [
        { path: 'limits.maxFileSize', message: 'must be an integer from 1 to 1099511627776, got -1' },
        { path: 'limits.maxFiles', message: 'is not a known setting (expected maxFileSize, maxConnections, syncTimeout)' },
        {
          path: 'colour',
          message:
            'is not a known setting (expected environment, apiUrl, syncInterval, logLevel, features, apiKey, limits, security, credentials)',
        },
      ]),
    );
  });

  test('a layer that is not an object', () => {
    assert.throws(() => resolveSettings(S, { env: 'x' }), invalid('env', [{ path: '', message: 'must be an object, got a string' }]));
  });

  test('skip: the bad layer is never applied, not even its valid part, and it is reported', () => {
    const r = resolveSettings(
      S,
      { global: { logLevel: 'warn' }, project: { logLevel: 'debug', syncInterval: 'fast' }, user: { syncInterval: 500 } },
      { invalidLayer: 'skip' },
    );
    assert.equal(r.value.logLevel, 'warn', "the bad layer's valid setting is not applied");
    assert.equal(r.value.syncInterval, 500);
    assert.deepEqual(r.problems, [
      { layer: 'project', issues: [{ path: 'syncInterval', message: 'must be an integer from 100 to 86400000, got a string' }] },
    ]);
    assert.deepEqual(
      r.applied.map((a) => a.layer),
      ['global', 'user'],
    );
  });

  test('an unknown layer name is a bad option', () => {
    assert.throws(
      () => resolveSettings(S, { team: {} } as SettingsLayers),
      (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION') && (e as CrossbusError).details?.layer === 'team',
    );
  });

  test('an invalid secret is reported without its value', () => {
    try {
      resolveSettings(S, { user: { apiKey: ['s3cr3t-value'] } });
      assert.fail('resolved');
    } catch (e) {
      assert.ok(isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'));
      assert.ok(!`${e.message}${JSON.stringify(e.details)}`.includes('s3cr3t'));
    }
  });
});

describe('explainSetting', () => {
  const r = resolveSettings(S, {
    global: { limits: { maxFileSize: 100 } },
    project: { limits: { maxFileSize: 200 } },
    user: { apiKey: 'hunter2' },
    flags: { limits: { syncTimeout: 1000 } },
  });

  test('every layer, and the winner', () => {
    assert.deepEqual(explainSetting(r, 'limits.maxFileSize'), {
      path: 'limits.maxFileSize',
      value: 200,
      source: 'project',
      chain: [
        { layer: 'default', set: true, value: 10 * 1024 * 1024 },
        { layer: 'global', set: true, value: 100 },
        { layer: 'project', set: true, value: 200 },
        { layer: 'user', set: false },
        { layer: 'flags', set: false },
      ],
    });
    assert.equal(explainSetting(r, 'logLevel').source, 'default');
    assert.equal(explainSetting(r, 'limits').source, 'flags');
  });

  test('secrets redacted unless revealed', () => {
    const e = explainSetting(r, 'apiKey');
    assert.equal(e.value, '[redacted]');
    assert.ok(!JSON.stringify(e).includes('hunter2'));
    assert.equal(explainSetting(r, 'apiKey', { reveal: true }).value, 'hunter2');
  });

  test('an unknown path is an error naming it', () => {
    for (const path of ['limits.maxFileSiz', '', 'limits..x', 'logLevel.x']) {
      assert.throws(
        () => explainSetting(r, path),
        (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID') && (e as CrossbusError).details?.path === path,
      );
    }
  });
});
