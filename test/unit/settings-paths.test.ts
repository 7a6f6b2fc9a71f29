/** get, set and unset by dotted path: new objects every time, known paths and right types only. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossbusError, type CrossbusError } from '../../src/core/errors/index.js';
import { ENVIRONMENT_SETTINGS as S, getSetting, setSetting, unsetSetting } from '../../src/core/settings/index.js';

const frozen = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) frozen(v);
  return Object.freeze(value);
};

describe('paths', () => {
  const layer = frozen({ limits: { maxFileSize: 5, syncTimeout: 200 }, features: { beta: true }, logLevel: 'warn' });

  test('get', () => {
    assert.equal(getSetting(layer, 'limits.maxFileSize'), 5);
    assert.deepEqual(getSetting(layer, 'features'), { beta: true });
    assert.equal(getSetting(layer, 'limits.maxConnections'), undefined);
    assert.equal(getSetting(layer, 'logLevel.x'), undefined);
    assert.equal(getSetting(layer, 'constructor'), undefined);
  });

  test('set returns a new layer, sharing what it did not change, and never mutates its input', () => {
    const next = setSetting(S, layer, 'limits.maxConnections', 7);
    assert.deepEqual(next, { limits: { maxFileSize: 5, syncTimeout: 200, maxConnections: 7 }, features: { beta: true }, logLevel: 'warn' });
    assert.notEqual(next, layer);
    assert.equal(next.features, layer.features);
    assert.equal(layer.limits.maxFileSize, 5);
    assert.deepEqual(setSetting(S, {}, 'features.gamma', false), { features: { gamma: false } });
    assert.deepEqual(setSetting(S, layer, 'features', {}), { ...layer, features: {} });
  });

  test('set: an unknown path names it', () => {
    for (const path of ['limits.maxFiles', 'nope', '', 'logLevel.deep', 'features.bad name']) {
      assert.throws(
        () => setSetting(S, layer, path, 1),
        (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID') && (e as CrossbusError).details?.path === path,
        path,
      );
    }
  });

  test("set: a value of the wrong type, with the schema's message", () => {
    assert.throws(
      () => setSetting(S, layer, 'limits.maxConnections', '7'),
      (e) =>
        isCrossbusError(e, 'CB_ERR_CONFIG_INVALID') &&
        e.message === 'limits.maxConnections: must be an integer from 1 to 100000, got a string' &&
        e.details?.path === 'limits.maxConnections',
    );
    assert.throws(
      () => setSetting(S, layer, 'limits', { maxFileSize: 1, extra: 2 }),
      (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID') && e.details?.path === 'limits.extra',
    );
    assert.throws(
      () => setSetting(S, layer, 'logLevel', null),
      (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'),
    );
    assert.throws(
      () => setSetting(S, layer, 'logLevel', undefined),
      (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'),
    );
  });

  test('set: a secret of the wrong type is not quoted back', () => {
    try {
      setSetting(S, {}, 'credentials.token', { value: 'hunter2' });
      assert.fail('set');
    } catch (e) {
      assert.ok(isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'));
      assert.ok(!`${e.message}${JSON.stringify(e.details)}`.includes('hunter2'));
    }
  });

  test('unset removes the key, and objects it leaves empty; never mutates its input', () => {
    assert.deepEqual(unsetSetting(S, layer, 'limits.maxFileSize'), {
      limits: { syncTimeout: 200 },
      features: { beta: true },
      logLevel: 'warn',
    });
    assert.deepEqual(unsetSetting(S, layer, 'features.beta'), { limits: { maxFileSize: 5, syncTimeout: 200 }, logLevel: 'warn' });
    assert.deepEqual(unsetSetting(S, layer, 'limits'), { features: { beta: true }, logLevel: 'warn' });
    const same = unsetSetting(S, layer, 'limits.maxConnections');
    assert.deepEqual(same, layer);
    assert.notEqual(same, layer);
    assert.throws(
      () => unsetSetting(S, layer, 'limits.nope'),
      (e) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID') && (e as CrossbusError).details?.path === 'limits.nope',
    );
  });

  test('__proto__ in a layer stays an own key', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "features": {}}');
    const next = setSetting(S, parsed, 'features.beta', true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(next, '__proto__'));
    assert.equal(Object.getPrototypeOf(next), Object.prototype);
  });
});
