/** The `env` and `flags` layers: names mapped by the schema's paths, values read by its types. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossbusError, type CrossbusError } from '../../src/core/errors/index.js';
import {
  ENVIRONMENT_SETTINGS as S,
  resolveSettings,
  settingsFromEnv,
  settingsFromFlags,
  toScreamingSnake,
} from '../../src/core/settings/index.js';

const invalid = (layer: string, issues: { path: string; message: string }[]) => (e: unknown) => {
  assert.ok(isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'), String(e));
  assert.equal((e as CrossbusError).details?.layer, layer);
  assert.deepEqual((e as CrossbusError).details?.issues, issues);
  return true;
};

describe('settingsFromEnv', () => {
  test('camelCase ↔ SCREAMING_SNAKE', () => {
    assert.equal(toScreamingSnake('maxFileSize'), 'MAX_FILE_SIZE');
    assert.equal(toScreamingSnake('apiUrl'), 'API_URL');
    assert.equal(toScreamingSnake('limits'), 'LIMITS');
  });

  test('every type read by the schema at its path', () => {
    const layer = settingsFromEnv(S, {
      CROSSBUS_SETTINGS__LIMITS__MAX_FILE_SIZE: '5',
      CROSSBUS_SETTINGS__SECURITY__ENCRYPTION_ENABLED: 'false',
      CROSSBUS_SETTINGS__LOG_LEVEL: 'debug',
      CROSSBUS_SETTINGS__API_URL: 'https://api.example.com',
      CROSSBUS_SETTINGS__FEATURES: '{"beta":true}',
      CROSSBUS_SETTINGS__ENVIRONMENT: 'staging',
      PATH: '/usr/bin',
      CROSSBUS_URL: 'ws://x',
    });
    assert.deepEqual(layer, {
      apiUrl: 'https://api.example.com',
      environment: 'staging',
      features: { beta: true },
      limits: { maxFileSize: 5 },
      logLevel: 'debug',
      security: { encryptionEnabled: false },
    });
    const r = resolveSettings(S, { env: layer });
    assert.equal(r.value.limits.maxFileSize, 5);
    assert.equal(r.sources.get('features.beta'), 'env');
  });

  test('booleans: true, false, 1, 0', () => {
    for (const [text, value] of [
      ['1', true],
      ['0', false],
      ['true', true],
    ] as const) {
      assert.deepEqual(settingsFromEnv(S, { CROSSBUS_SETTINGS__SECURITY__ENCRYPTION_ENABLED: text }), {
        security: { encryptionEnabled: value },
      });
    }
  });

  test('bad values and unknown names: every one, by variable', () => {
    assert.throws(
      () =>
        settingsFromEnv(S, {
          CROSSBUS_SETTINGS__SYNC_INTERVAL: 'soon',
          CROSSBUS_SETTINGS__LIMITS__MAX_FILESIZE: '5',
          CROSSBUS_SETTINGS__SECURITY__ENCRYPTION_ENABLED: 'yes',
          CROSSBUS_SETTINGS__FEATURES: '{beta}',
          CROSSBUS_SETTINGS__LIMITS__SYNC_TIMEOUT: '',
        }),
      invalid('env', [
        { path: 'CROSSBUS_SETTINGS__FEATURES', message: 'features must be JSON, got text that does not parse' },
        { path: 'CROSSBUS_SETTINGS__LIMITS__MAX_FILESIZE', message: 'names no setting' },
        { path: 'CROSSBUS_SETTINGS__LIMITS__SYNC_TIMEOUT', message: 'limits.syncTimeout must be a number, got ""' },
        {
          path: 'CROSSBUS_SETTINGS__SECURITY__ENCRYPTION_ENABLED',
          message: 'security.encryptionEnabled must be true, false, 1 or 0, got "yes"',
        },
        { path: 'CROSSBUS_SETTINGS__SYNC_INTERVAL', message: 'syncInterval must be a number, got "soon"' },
      ]),
    );
  });

  test('an enum value that is not a choice fails when the layer is checked, as env', () => {
    const layer = settingsFromEnv(S, { CROSSBUS_SETTINGS__ENVIRONMENT: 'prod' });
    assert.throws(
      () => resolveSettings(S, { env: layer }),
      invalid('env', [{ path: 'environment', message: 'must be one of development, staging, testing, production, got "prod"' }]),
    );
  });

  test('a prefix of our own; secrets read but never quoted', () => {
    assert.deepEqual(settingsFromEnv(S, { APP__API_KEY: 'k1', APP__CREDENTIALS__TOKEN: 't1' }, { prefix: 'APP__' }), {
      apiKey: 'k1',
      credentials: { token: 't1' },
    });
  });
});

describe('settingsFromFlags', () => {
  test('path=value, read by type; the last flag for a path wins', () => {
    assert.deepEqual(
      settingsFromFlags(S, ['limits.maxFileSize=5', 'features.beta=true', 'logLevel=warn', 'limits.maxFileSize=6', 'apiUrl=http://a/?x=1']),
      { limits: { maxFileSize: 6 }, features: { beta: true }, logLevel: 'warn', apiUrl: 'http://a/?x=1' },
    );
    assert.deepEqual(settingsFromFlags(S, ['security={"rateLimit":7}']), { security: { rateLimit: 7 } });
  });

  test('bad flags: every one, by path; a malformed flag is not quoted', () => {
    assert.throws(
      () =>
        settingsFromFlags(S, ['limits.maxFileSize=big', 'limits.maxFiles=1', 'apiKey', 'features.beta=maybe', '=1', 'features.a.b=true']),
      invalid('flags', [
        { path: 'limits.maxFileSize', message: 'must be a number, got "big"' },
        { path: 'limits.maxFiles', message: 'is not a known setting' },
        { path: '', message: 'flag 3 must be path=value' },
        { path: 'features.beta', message: 'must be true, false, 1 or 0, got "maybe"' },
        { path: '', message: 'is not a known setting' },
        { path: 'features.a.b', message: 'is not a known setting' },
      ]),
    );
  });
});
