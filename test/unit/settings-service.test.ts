/**
 * The settings service through a hub (in process, memory transport): writes checked before they
 * are stored, versions with author and diff, compare-and-set on a layer's version, rollback, the
 * bounds of WAIT (count and time, each at its edge), and system requests answered asynchronously
 * with the asking app and typed errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SettingsAdmin } from '../../src/client/settings/admin.js';
import { SettingsKey } from '../../src/core/settings/settings-key.js';
import { SettingsService } from '../../src/core/settings/settings-service.js';
import type { AuditEvent } from '../../src/core/security/audit.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

async function hubWithSettings(options: { maxWaiters?: number; maxWaitMs?: number; mayReveal?: (app: string) => boolean } = {}) {
  const key = await SettingsKey.import(randomBytes(32));
  const audit: AuditEvent[] = [];
  let settings!: SettingsService;
  const hub = await startStreamHub({
    systemResponders: (service) => {
      settings = new SettingsService({
        key,
        bucket: () => service.bucket('settings', { history: 3 }),
        mayReveal: options.mayReveal ?? (() => true),
        audit: (e) => audit.push(e),
        ...(options.maxWaiters !== undefined ? { maxWaiters: options.maxWaiters } : {}),
        ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
      });
      return settings.responders();
    },
  });
  return { hub, settings, audit, admin: new SettingsAdmin(await hub.connect()) };
}

const prod = { layer: 'environment', env: 'production' } as const;

describe('settings service', () => {
  test('a write is checked before it is stored; versions keep author, diff and restart; history is bounded', async () => {
    const { hub, admin, audit, settings } = await hubWithSettings();
    try {
      const first = await admin.set(prod, 'limits.maxConnections', 10);
      assert.deepEqual(first.restart, ['limits.maxConnections']);
      const bad = await rejectsWithCode(admin.set(prod, 'limits.maxConnections', 'many'), 'CB_ERR_CONFIG_INVALID');
      assert.equal(bad.details?.path, 'limits.maxConnections');
      await rejectsWithCode(admin.set(prod, 'no.such', 1), 'CB_ERR_CONFIG_INVALID');
      await rejectsWithCode(admin.replace(prod, { logLevel: 'info', bogus: true } as never), 'CB_ERR_CONFIG_INVALID');
      await rejectsWithCode(admin.set({ layer: 'environment', env: 'moon' }, 'logLevel', 'info'), 'CB_ERR_CONFIG_INVALID');
      await rejectsWithCode(admin.set({ layer: 'user', user: 'a.b' }, 'logLevel', 'info'), 'CB_ERR_CONFIG_INVALID');
      const got = await admin.get({ env: 'production' });
      assert.deepEqual(got.layers.environment, { environment: 'production', limits: { maxConnections: 10 } }, 'nothing half-applied');
      // Unchanged is no new version.
      const again = await admin.set(prod, 'limits.maxConnections', 10);
      assert.equal(again.version, first.version);
      for (const level of ['debug', 'info', 'warn']) await admin.set(prod, 'logLevel', level);
      const history = await admin.history(prod);
      assert.equal(history.length, 3, 'the bucket keeps 3 versions per layer');
      assert.deepEqual(
        history.map((h) => h.diff.map((d) => `${d.op} ${d.path}`)),
        [['add logLevel'], ['change logLevel'], ['change logLevel']],
      );
      assert.ok(
        history.every((h) => h.author === ''),
        'an insecure hub: the app has no name',
      );
      assert.ok(audit.some((e) => e.action === 'settings-set' && e.outcome === 'failure' && e.reason === 'CB_ERR_CONFIG_INVALID'));
      assert.equal(JSON.stringify(audit).includes('many'), false, 'values are never audited');
      assert.equal(settings instanceof SettingsService, true);
    } finally {
      await hub.close();
    }
  });

  test('expect: a write names the version it replaces; a stale one changes nothing', async () => {
    const { hub, admin } = await hubWithSettings();
    try {
      const v1 = await admin.set(prod, 'syncInterval', 1000, { expect: 0 });
      await rejectsWithCode(admin.set(prod, 'syncInterval', 2000, { expect: 0 }), 'CB_ERR_SEQ_MISMATCH');
      const v2 = await admin.set(prod, 'syncInterval', 2000, { expect: v1.version });
      await rejectsWithCode(admin.unset(prod, 'syncInterval', { expect: v1.version }), 'CB_ERR_SEQ_MISMATCH');
      assert.equal((await admin.get({ env: 'production' })).layers.environment?.syncInterval, 2000);
      // Many writers without expect: every write lands, none lost to a race.
      await Promise.all(['a', 'b', 'c', 'd', 'e'].map((f) => admin.set(prod, `features.${f}`, true)));
      assert.deepEqual(Object.keys((await admin.get({ env: 'production' })).layers.environment?.features as object).sort(), [
        'a',
        'b',
        'c',
        'd',
        'e',
      ]);
      const back = await admin.rollback(prod, v2.version).catch((e: unknown) => e);
      // History is 3: v2 has left it, and the rollback says which are kept.
      assert.equal((back as { code?: string }).code, 'CB_ERR_CONFIG_INVALID');
      assert.match((back as Error).message, /has no version/);
    } finally {
      await hub.close();
    }
  });

  test('WAIT: answered on a write, at its timeout (0 allowed), and refused past maxWaiters', async () => {
    const { hub, admin, settings } = await hubWithSettings({ maxWaiters: 2, maxWaitMs: 60_000 });
    try {
      const key = 'layer.environment.production';
      assert.deepEqual(await admin.wait({ [key]: 0 }, 0), { changed: false }, 'timeoutMs 0: at once');
      const w1 = admin.wait({ [key]: 0 }, 30_000);
      const w2 = admin.wait({ [key]: 0, 'layer.global': 0 }, 30_000);
      // Both held: a third is one too many.
      await until(() => settings.waiting === 2);
      await rejectsWithCode(admin.wait({ [key]: 0 }, 30_000), 'CB_ERR_RATE_LIMITED');
      await admin.set(prod, 'logLevel', 'debug');
      assert.deepEqual(await w1, { changed: true });
      assert.deepEqual(await w2, { changed: true });
      assert.equal(settings.waiting, 0);
      // A version already behind (0: the layer was written since) is answered at once.
      assert.deepEqual(await admin.wait({ [key]: 0 }, 30_000), { changed: true });
      await rejectsWithCode(admin.wait({}, 10), 'CB_ERR_INVALID_OPTION');
      await rejectsWithCode(admin.wait({ [key]: 0 }, -1), 'CB_ERR_INVALID_OPTION');
    } finally {
      await hub.close();
    }
  });

  test('reveal: refused with CB_ERR_FORBIDDEN (audited) to an app that may not', async () => {
    const { hub, admin, audit } = await hubWithSettings({ mayReveal: () => false });
    try {
      await admin.set(prod, 'apiKey', 'top-s3cret');
      assert.equal((await admin.get({ env: 'production' })).layers.environment?.apiKey, '[redacted]');
      await rejectsWithCode(admin.get({ env: 'production' }, { reveal: true }), 'CB_ERR_FORBIDDEN');
      assert.ok(audit.some((e) => e.action === 'settings-reveal' && e.outcome === 'denied'));
      const history = await admin.history(prod);
      assert.deepEqual(history[0]?.diff, [{ path: 'apiKey', op: 'add', to: '[redacted]' }]);
      assert.equal(JSON.stringify([audit, history]).includes('top-s3cret'), false);
      // Requests without their fields are typed errors, not crashes.
      const bus = await hub.connect();
      await rejectsWithCode(bus.request('$SYS.REQ.SETTINGS.SET', { scope: prod }), 'CB_ERR_INVALID_OPTION');
      await rejectsWithCode(bus.request('$SYS.REQ.SETTINGS.GET', 'nonsense'), 'CB_ERR_INVALID_OPTION');
    } finally {
      await hub.close();
    }
  });

  test('maxWaitMs: a WAIT asking to be held longer is answered at the bound', async () => {
    const { hub, admin } = await hubWithSettings({ maxWaitMs: 50 });
    try {
      const started = Date.now();
      assert.deepEqual(await admin.wait({ 'layer.global': 0 }, 30_000), { changed: false });
      assert.ok(Date.now() - started < 20_000, 'not held for the 30 s asked');
    } finally {
      await hub.close();
    }
  });
});
