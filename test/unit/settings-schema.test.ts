/**
 * The environment configuration's schema (seed 002 §4.3) and `defineSettings`: defaults for every
 * field, strict objects, the marks read back out of the schema, and the same machinery on another schema.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { isCrossbusError } from '../../src/core/errors/index.js';
import {
  ENVIRONMENT_SETTINGS,
  EnvironmentConfigSchema,
  checkLayer,
  defineSettings,
  flag,
  needsRestart,
  secret,
  section,
  switches,
  text,
  whole,
  type EnvironmentConfig,
} from '../../src/core/settings/index.js';
import { nodeAt } from '../../src/core/settings/settings-schema.js';

describe('EnvironmentConfig', () => {
  test('every field has a default', () => {
    const defaults: EnvironmentConfig = ENVIRONMENT_SETTINGS.defaults;
    assert.deepEqual(defaults, {
      environment: 'development',
      apiUrl: 'http://localhost:8080',
      syncInterval: 30_000,
      logLevel: 'info',
      features: {},
      limits: { maxFileSize: 10 * 1024 * 1024, maxConnections: 100, syncTimeout: 30_000 },
      security: { encryptionEnabled: true, authTimeout: 10_000, rateLimit: 100 },
      credentials: {},
    });
  });

  test('the marks are read out of the schema', () => {
    assert.deepEqual([...ENVIRONMENT_SETTINGS.secrets].sort(), ['apiKey', 'credentials.token']);
    assert.deepEqual([...ENVIRONMENT_SETTINGS.restart], ['limits.maxConnections']);
    assert.equal(nodeAt(ENVIRONMENT_SETTINGS, ['limits', 'maxConnections'])?.needsRestart, true);
    assert.equal(nodeAt(ENVIRONMENT_SETTINGS, ['limits', 'maxFileSize'])?.needsRestart, false);
  });

  test('a whole document: strict, with every problem at its path', () => {
    const result = v.safeParse(
      EnvironmentConfigSchema,
      { environment: 'prod', limits: { maxFileSize: 0, extra: 1 }, features: { beta: 'yes' }, apiUrl: 'ftp://x' },
      { abortEarly: false },
    );
    assert.equal(result.success, false);
    const issues = (result.issues ?? []).map((i) => [(i.path ?? []).map((p) => p.key).join('.'), i.message]);
    assert.deepEqual(issues, [
      ['environment', 'must be one of development, staging, testing, production, got "prod"'],
      ['apiUrl', 'must be an http:// or https:// URL'],
      ['features.beta', 'must be true or false, got a string'],
      ['limits.maxFileSize', 'must be an integer from 1 to 1099511627776, got 0'],
      ['limits.extra', 'is not a known setting (expected maxFileSize, maxConnections, syncTimeout)'],
    ]);
  });

  test('a layer is partial, each value checked at its path', () => {
    assert.deepEqual(checkLayer(ENVIRONMENT_SETTINGS, {}), []);
    assert.deepEqual(checkLayer(ENVIRONMENT_SETTINGS, { limits: { syncTimeout: 500 } }), []);
    assert.deepEqual(checkLayer(ENVIRONMENT_SETTINGS, { limits: { syncTimeout: 50 } }), [
      { path: 'limits.syncTimeout', message: 'must be an integer from 100 to 86400000, got 50' },
    ]);
    assert.deepEqual(checkLayer(ENVIRONMENT_SETTINGS, []), [{ path: '', message: 'must be an object, got an array' }]);
    assert.deepEqual(checkLayer(ENVIRONMENT_SETTINGS, { security: 'on' }), [
      { path: 'security', message: 'must be an object, got a string' },
    ]);
  });

  test('null is a value no setting takes (it never deletes)', () => {
    assert.deepEqual(checkLayer(ENVIRONMENT_SETTINGS, { logLevel: null, limits: null }), [
      { path: 'logLevel', message: 'must be one of debug, info, warn, error, got null' },
      { path: 'limits', message: 'must be an object, got null' },
    ]);
  });

  test('unknown keys, including JavaScript traps, are reported by path', () => {
    const layer = JSON.parse('{"__proto__": {"x": 1}, "constructor": 1, "features": {"__proto__": true, "ok": true}}');
    const paths = checkLayer(ENVIRONMENT_SETTINGS, layer).map((i) => i.path);
    assert.deepEqual(paths, ['__proto__', 'constructor', 'features.__proto__']);
  });

  test('a secret of the wrong type is reported without its value', () => {
    const issues = checkLayer(ENVIRONMENT_SETTINGS, { credentials: { token: 123456789 } });
    assert.deepEqual(issues, [{ path: 'credentials.token', message: 'is invalid, got a number' }]);
  });
});

describe('defineSettings', () => {
  test('serves another schema: marks on sections and on records', () => {
    const hub = defineSettings(
      section({
        rate: v.optional(section({ perSecond: v.optional(whole(1, 1000), 10) }), {}),
        keys: v.optional(secret(section({ primary: v.optional(text()) })), {}),
        tokens: v.optional(v.record(v.string(), secret(text())), {}),
        switches: v.optional(switches(), {}),
        port: v.optional(needsRestart(whole(1, 65535)), 4222),
        debug: v.optional(flag(), false),
      }),
    );
    assert.deepEqual(hub.defaults, { rate: { perSecond: 10 }, keys: {}, tokens: {}, switches: {}, port: 4222, debug: false });
    assert.deepEqual([...hub.secrets].sort(), ['keys', 'tokens.*']);
    assert.deepEqual([...hub.restart], ['port']);
    assert.equal(nodeAt(hub, ['keys', 'primary'])?.secret, true, 'below a secret is secret');
    assert.equal(nodeAt(hub, ['tokens', 'any'])?.secret, true);
  });

  test('refuses a schema that is not an object of settings, or lacks a default', () => {
    for (const schema of [v.string(), section({ required: whole(1, 2) })]) {
      assert.throws(
        () => defineSettings(schema),
        (e) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
      );
    }
  });
});
