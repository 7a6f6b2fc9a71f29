/** Key rotation as the hub audits it on reload: ids and dates only, never secrets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { keyChanges } from '../../src/hub/security-setup.js';
import { secret } from '../helpers/security.js';

test('added, re-dated and removed keys are reported by app and key id', () => {
  const k1 = secret();
  const k2 = secret();
  const roles = { r: { publish: ['a.>'] } };
  const before = parseHubConfig({
    apps: { a: { secrets: [{ id: 'k1', secret: k1 }], roles: ['r'] }, gone: { secret: secret(), roles: ['r'] } },
    roles,
  });
  const after = parseHubConfig({
    apps: {
      a: {
        secrets: [
          { id: 'k1', secret: k1, expiresAt: '2030-01-01T00:00:00Z' },
          { id: 'k2', secret: k2 },
        ],
        roles: ['r'],
      },
    },
    roles,
  });
  const changes = keyChanges(before, after);
  assert.deepEqual(changes, [
    { app: 'a', keyId: 'k1', what: 'validity changed: expires 2030-01-01T00:00:00.000Z' },
    { app: 'a', keyId: 'k2', what: 'key added' },
    { app: 'gone', keyId: 'k1', what: 'key removed' },
  ]);
  assert.ok(!JSON.stringify(changes).includes(k2), 'no secret in what is audited');
  assert.deepEqual(keyChanges(after, after), []);
});
