/** diffSettings: changes by path, sorted, with secrets redacted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENVIRONMENT_SETTINGS as S, diffSettings, restartNeeded, type SettingsVersion } from '../../src/core/settings/index.js';

test('add, remove and change, sorted by path', () => {
  const a = { logLevel: 'info', limits: { maxFileSize: 1, syncTimeout: 200 }, features: { a: true, b: true } };
  const b = { logLevel: 'warn', limits: { maxFileSize: 1, maxConnections: 3 }, features: { b: false }, security: { rateLimit: 5 } };
  assert.deepEqual(diffSettings(a, b, S), [
    { path: 'features.a', op: 'remove', from: true },
    { path: 'features.b', op: 'change', from: true, to: false },
    { path: 'limits.maxConnections', op: 'add', to: 3 },
    { path: 'limits.syncTimeout', op: 'remove', from: 200 },
    { path: 'logLevel', op: 'change', from: 'info', to: 'warn' },
    { path: 'security.rateLimit', op: 'add', to: 5 },
  ]);
});

test('equal values, arrays compared whole, type changes', () => {
  assert.deepEqual(diffSettings({ x: [1, 2], y: { z: 1 } }, { x: [1, 2], y: { z: 1 } }, S), []);
  assert.deepEqual(diffSettings({ x: [1, 2] }, { x: [1, 3] }, S), [{ path: 'x', op: 'change', from: [1, 2], to: [1, 3] }]);
  assert.deepEqual(diffSettings({ limits: 5 }, { limits: { a: 1 } }, S), [{ path: 'limits', op: 'change', from: 5, to: { a: 1 } }]);
});

test('secrets redacted: plain or sealed, set, changed, removed, inside an added object', () => {
  const diff = diffSettings(
    { apiKey: 'old-s3cret', credentials: { token: { $sealed: 'v1.aaa.bbb' } } },
    { apiKey: 'new-s3cret', credentials: { token: { $sealed: 'v1.ccc.ddd' } } },
    S,
  );
  assert.deepEqual(diff, [
    { path: 'apiKey', op: 'change', from: '[redacted]', to: '[redacted]' },
    { path: 'credentials.token', op: 'change', from: '[redacted]', to: '[redacted]' },
  ]);
  assert.deepEqual(diffSettings({}, { credentials: { token: 's3cret' } }, S), [{ path: 'credentials.token', op: 'add', to: '[redacted]' }]);
  assert.deepEqual(diffSettings({ apiKey: 's3cret' }, {}, S), [{ path: 'apiKey', op: 'remove', from: '[redacted]' }]);
  assert.deepEqual(diffSettings({ apiKey: 's3cret' }, { apiKey: 's3cret' }, S), []);
});

test('a version record carries its diff', () => {
  const version: SettingsVersion = {
    version: 3,
    author: 'billing',
    time: 1_700_000_000_000,
    layer: 'project',
    diff: diffSettings({}, { logLevel: 'debug' }, S),
  };
  assert.deepEqual(version.diff, [{ path: 'logLevel', op: 'add', to: 'debug' }]);
});

test('restartNeeded: the changes to fields read only at start', () => {
  const diff = diffSettings(
    { limits: { maxConnections: 1, maxFileSize: 1 } },
    { limits: { maxConnections: 2, maxFileSize: 2 }, security: {} },
    S,
  );
  assert.deepEqual(restartNeeded(diff, S), ['limits.maxConnections']);
  assert.deepEqual(restartNeeded(diffSettings({}, { limits: { maxConnections: 2 } }, S), S), ['limits.maxConnections']);
  // An object added is its settings added: only those read at start need a restart.
  assert.deepEqual(restartNeeded(diffSettings({}, { limits: { maxFileSize: 2 } }, S), S), []);
  assert.deepEqual(restartNeeded(diffSettings({ logLevel: 'info' }, { logLevel: 'warn' }, S), S), []);
});
