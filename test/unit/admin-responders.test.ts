/**
 * The hub's admin requests (`$SYS.REQ.ADMIN.*`) on a real hub with a data folder: only for apps
 * with a grant on them; consent decided over the bus through the hub's ConsentManager, beside the
 * CLI's file inbox, which keeps working; the audit log's tail and verification (audited); the
 * metrics with their histograms. Bad payloads get CB_ERR_PAYLOAD_INVALID.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCrossbusError } from '../../src/core/errors/index.js';
import type { ConsentDecision, ConsentState } from '../../src/core/security/consent-state.js';
import {
  ADMIN_AUDIT_TAIL,
  ADMIN_AUDIT_TAIL_MAX,
  ADMIN_AUDIT_VERIFY,
  ADMIN_CONSENT_DECIDE,
  ADMIN_CONSENT_LIST,
  ADMIN_METRICS,
  type AdminMetric,
} from '../../src/hub/admin-topics.js';
import { startHub, type Hub } from '../../src/hub/hub.js';
import type { AuditEntry } from '../../src/node/audit/audit-log.js';
import { appendConsentCommand } from '../../src/node/consent/consent-inbox.js';
import { connect, type Bus } from '../../src/node/index.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const code = (c: string) => (err: unknown) => isCrossbusError(err) && err.code === c;

const ASKER = randomBytes(32).toString('base64');
const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } }) as unknown as {
  apps: Record<string, { secret: string; roles: string[] }>;
  roles: Record<string, unknown>;
};
doc.apps.asker = { secret: ASKER, roles: ['asker'] };
doc.roles.asker = {
  publish: [],
  subscribe: [
    { pattern: 'private.>', ask: true },
    { pattern: 'secret.>', ask: true },
  ],
  request: [],
};

let hub: Hub;
let dataDir = '';
let admin: Bus;
let orders: Bus;
let asker: Bus;

describe('the admin requests', () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'crossbus-admin-'));
    hub = await startHub({ host: '127.0.0.1', port: 0, dataDir, config: doc });
    const open = (name: string, secret: string) => connect(hub.url, { name, secret, reconnect: false, timeoutMs: 5_000 });
    admin = await open('test', doc.apps.test!.secret);
    orders = await open('orders', doc.apps.orders!.secret);
    asker = await open('asker', ASKER);
  });
  after(async () => {
    await Promise.allSettled([admin.close(), orders.close(), asker.close()]);
    await hub.close();
  });

  it('are refused to an app without a grant on them', async () => {
    for (const topic of [ADMIN_CONSENT_LIST, ADMIN_CONSENT_DECIDE, ADMIN_AUDIT_TAIL, ADMIN_AUDIT_VERIFY, ADMIN_METRICS]) {
      await assert.rejects(orders.request(topic, {}), code('CB_ERR_FORBIDDEN'), topic);
    }
  });

  it('grant a consent request through the hub: the held subscription goes on, the decision names the admin', async () => {
    const held = asker.subscribe('private.inbox');
    let settled = false;
    void held.ready.then(() => (settled = true));
    let pending: ConsentState['pending'] = [];
    await until(async () => (pending = (await admin.request<ConsentState>(ADMIN_CONSENT_LIST)).pending).length === 1, 3_000, 'the request');
    assert.equal(pending[0]!.target, 'private.inbox');
    assert.equal(settled, false);
    const decision = await admin.request<ConsentDecision>(ADMIN_CONSENT_DECIDE, { id: pending[0]!.id, verdict: 'grant' });
    assert.equal(decision.decision, 'granted');
    assert.equal(decision.by, 'app:test');
    await held.ready;
    assert.equal(hub.consent?.isGranted('asker', 'subscribe', 'private.>'), true);
    const tail = await admin.request<{ entries: AuditEntry[] }>(ADMIN_AUDIT_TAIL, { n: ADMIN_AUDIT_TAIL_MAX });
    assert.ok(tail.entries.some((e) => e.action === 'consent' && e.outcome === 'success' && JSON.stringify(e).includes('app:test')));
  });

  it('leave the CLI file inbox working beside them', async () => {
    const held = asker.subscribe('secret.x');
    let pending: ConsentState['pending'] = [];
    await until(async () => (pending = (await admin.request<ConsentState>(ADMIN_CONSENT_LIST)).pending).length === 1, 3_000, 'the request');
    await appendConsentCommand(dataDir, { op: 'deny', id: pending[0]!.id, by: 'someone' });
    assert.equal(await hub.processConsentInbox(), 1);
    await assert.rejects(held.ready, code('CB_ERR_CONSENT_DENIED'));
    // Already decided: the dashboard's decision is refused, and that refusal audited.
    await assert.rejects(admin.request(ADMIN_CONSENT_DECIDE, { id: pending[0]!.id, verdict: 'grant' }), code('CB_ERR_PAYLOAD_INVALID'));
    const tail = await admin.request<{ entries: AuditEntry[] }>(ADMIN_AUDIT_TAIL, { n: 5 });
    assert.ok(tail.entries.some((e) => e.action === 'consent' && e.outcome === 'failure' && e.target === pending[0]!.id));
  });

  it('refuse a malformed decision', async () => {
    for (const data of [
      undefined,
      {},
      { id: 'abc' },
      { id: 'abc', verdict: 'maybe' },
      { id: '', verdict: 'grant' },
      { id: 1, verdict: 'deny' },
    ]) {
      await assert.rejects(admin.request(ADMIN_CONSENT_DECIDE, data), code('CB_ERR_PAYLOAD_INVALID'), JSON.stringify(data));
    }
  });

  it('tail the audit log, oldest first, at most ADMIN_AUDIT_TAIL_MAX', async () => {
    const one = await admin.request<{ entries: AuditEntry[] }>(ADMIN_AUDIT_TAIL, { n: 1 });
    assert.equal(one.entries.length, 1);
    const some = await admin.request<{ entries: AuditEntry[] }>(ADMIN_AUDIT_TAIL);
    assert.ok(some.entries.length > 1);
    const seqs = some.entries.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(seqs.at(-1)! >= one.entries[0]!.seq, true);
    for (const n of [0, ADMIN_AUDIT_TAIL_MAX + 1, 1.5, 'ten']) {
      await assert.rejects(admin.request(ADMIN_AUDIT_TAIL, { n }), code('CB_ERR_PAYLOAD_INVALID'), String(n));
    }
  });

  it('verify the audit log, and audit the verification', async () => {
    const r = await admin.request<{ ok: boolean; entries: number }>(ADMIN_AUDIT_VERIFY);
    assert.equal(r.ok, true);
    assert.ok(r.entries > 0);
    const tail = await admin.request<{ entries: AuditEntry[] }>(ADMIN_AUDIT_TAIL, { n: 1 });
    assert.equal(tail.entries[0]!.action, 'audit-verify');
    assert.equal(tail.entries[0]!.actor.app, 'test');
    assert.equal(tail.entries[0]!.outcome, 'success');
  });

  it('read the metrics, histograms with their buckets', async () => {
    const { metrics } = await admin.request<{ metrics: AdminMetric[] }>(ADMIN_METRICS);
    const handshakes = metrics.find((m) => m.name === 'crossbus_handshake_seconds');
    assert.equal(handshakes?.type, 'histogram');
    if (handshakes?.type !== 'histogram') return;
    assert.ok(handshakes.buckets.length > 0);
    assert.ok(handshakes.samples[0]!.count >= 3);
    assert.ok(metrics.some((m) => m.name === 'crossbus_messages_in_total' && m.type === 'counter'));
  });
});
