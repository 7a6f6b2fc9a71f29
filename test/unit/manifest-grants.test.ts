/**
 * A manifest's grants against the app's roles (src/hub/deploy/manifest-grants.ts): covered by an
 * allow rule passes; covered only by an `ask` rule (or asked with `ask: true`) goes to a person
 * unless already granted; covered by nothing, or by a deny rule, refuses the deployment.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppManifest } from '../../src/core/apps/manifest.js';
import type { CrossbusError } from '../../src/core/errors/index.js';
import { grantsToAsk, type GrantPolicy } from '../../src/hub/deploy/manifest-grants.js';

const none = { publish: [], subscribe: [], request: [] };
const policy = (granted: string[] = []): GrantPolicy => ({
  grantsFor: () => ({
    publish: ['orders.>'],
    subscribe: ['orders.>'],
    request: [],
    deny: { ...none, publish: ['orders.admin.>'] },
    ask: { ...none, request: ['billing.*'] },
  }),
  consentGranted: (_app, action, rule) => granted.includes(`${action} ${rule}`),
});
const manifest = (grants: object) => parseAppManifest({ name: 'orders', version: '1.0.0', kind: 'node', entry: 'main.mjs', grants });

describe('manifest grants', () => {
  test('allowed, asked, already granted', () => {
    assert.deepEqual(grantsToAsk(manifest({ publish: ['orders.created'], subscribe: ['orders.*'] }), policy()), []);
    assert.deepEqual(grantsToAsk(manifest({ request: ['billing.charge'] }), policy()), [
      { action: 'request', pattern: 'billing.charge', rule: 'billing.*' },
    ]);
    assert.deepEqual(grantsToAsk(manifest({ request: ['billing.charge'] }), policy(['request billing.*'])), []);
    assert.deepEqual(grantsToAsk(manifest({ publish: [{ pattern: 'orders.x', ask: true }] }), policy()), [
      { action: 'publish', pattern: 'orders.x', rule: 'orders.>' },
    ]);
  });

  test('refused: wider than any rule, or denied', () => {
    const forbidden = (e: CrossbusError) => e.code === 'CB_ERR_FORBIDDEN';
    assert.throws(() => grantsToAsk(manifest({ publish: ['>'] }), policy()), forbidden);
    assert.throws(() => grantsToAsk(manifest({ request: ['billing.>'] }), policy()), forbidden);
    assert.throws(
      () => grantsToAsk(manifest({ publish: ['orders.admin.reset'] }), policy()),
      (e: CrossbusError) => /denied by "orders\.admin\.>"/.test(e.message),
    );
  });
});
