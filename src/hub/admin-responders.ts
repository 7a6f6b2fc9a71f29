/**
 * The hub's answers to the admin requests (admin-topics.ts): consent requests listed and decided
 * through the hub's ConsentManager (so `crossbus consent` and its file inbox keep working beside
 * them), the audit log's tail and verification, and the hub's metrics (counters, gauges, histograms). The router lets a
 * request through only with a request grant on its topic; decisions and verifications are audited
 * with the app that asked.
 */
import { open, stat } from 'node:fs/promises';
import { createError } from '../core/errors/index.js';
import type { Metric } from '../core/metrics/metric.js';
import type { SystemRequest, SystemResponders } from '../core/broker/system-requests.js';
import type { AuditSink } from '../core/security/audit.js';
import type { ConsentManager } from '../core/security/consent.js';
import { linesFromEnd, parseAuditEntry, type AuditEntry } from '../node/audit/audit-log.js';
import { verifyAuditLog } from '../node/audit/verify.js';
import {
  ADMIN_AUDIT_TAIL,
  ADMIN_AUDIT_TAIL_DEFAULT,
  ADMIN_AUDIT_TAIL_MAX,
  ADMIN_AUDIT_VERIFY,
  ADMIN_CONSENT_DECIDE,
  ADMIN_CONSENT_LIST,
  ADMIN_METRICS,
  type AdminMetric,
} from './admin-topics.js';

export { ADMIN_TOPIC_PREFIX } from './admin-topics.js';

export interface AdminRespondersOptions {
  consent: ConsentManager | undefined;
  audit: AuditSink;
  auditFile: string | undefined;
  metrics: () => readonly Metric[];
}

const payloadInvalid = (message: string): Error => createError('CB_ERR_PAYLOAD_INVALID', message);
const obj = (data: unknown): Record<string, unknown> =>
  typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};

export function adminResponders(o: AdminRespondersOptions): SystemResponders {
  const consent = (): ConsentManager => {
    if (o.consent === undefined) throw createError('CB_ERR_INVALID_OPTION', 'this hub has no consent service (started --insecure)');
    return o.consent;
  };
  const auditFile = (): string => {
    if (o.auditFile === undefined) throw createError('CB_ERR_AUDIT', 'this hub keeps no audit log');
    return o.auditFile;
  };
  return {
    [ADMIN_CONSENT_LIST]: () => consent().list(),
    [ADMIN_CONSENT_DECIDE]: (r) => decide(consent(), o.audit, r),
    [ADMIN_AUDIT_TAIL]: (r) => tail(auditFile(), r),
    [ADMIN_AUDIT_VERIFY]: async (r) => {
      const result = await verifyAuditLog(auditFile());
      o.audit.record({
        actor: { app: r.app },
        action: 'audit-verify',
        outcome: result.ok ? 'success' : 'failure',
        ...(result.ok ? {} : { reason: result.reason }),
        details: { entries: result.entries },
      });
      return result;
    },
    [ADMIN_METRICS]: () => ({ metrics: o.metrics().map(adminMetric) }),
  };
}

async function decide(consent: ConsentManager, audit: AuditSink, r: SystemRequest): Promise<unknown> {
  const { id, verdict } = obj(r.data);
  if (typeof id !== 'string' || id === '' || (verdict !== 'grant' && verdict !== 'deny')) {
    throw payloadInvalid(`${ADMIN_CONSENT_DECIDE} takes { id: string, verdict: "grant" | "deny" }`);
  }
  // The decision's own audit entry (consentAuditEvent) names who decided: `app:<admin app>`.
  const decision = await consent.decide(id, verdict, `app:${r.app}`);
  if (decision === undefined) {
    audit.record({ actor: { app: r.app }, action: 'consent', target: id, outcome: 'failure', reason: 'no such pending request' });
    throw createError('CB_ERR_PAYLOAD_INVALID', `no consent request ${JSON.stringify(id)} is pending (answered, expired or unknown)`, {
      details: { id },
    });
  }
  return decision;
}

async function tail(file: string, r: SystemRequest): Promise<{ entries: AuditEntry[] }> {
  const { n = ADMIN_AUDIT_TAIL_DEFAULT } = obj(r.data);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > ADMIN_AUDIT_TAIL_MAX) {
    throw payloadInvalid(`n must be a whole number from 1 to ${ADMIN_AUDIT_TAIL_MAX}`);
  }
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (cause) {
    throw createError('CB_ERR_AUDIT', 'the audit log cannot be read', { cause });
  }
  const handle = await open(file, 'r');
  const entries: AuditEntry[] = [];
  try {
    // Backwards from the end: the log can be large, the tail is small.
    for await (const line of linesFromEnd(handle, size)) {
      if (line.length === 0) continue;
      const parsed = parseAuditEntry(line.toString('utf8'));
      if (parsed.ok) entries.push(parsed.entry);
      if (entries.length >= n) break;
    }
  } finally {
    await handle.close();
  }
  return { entries: entries.reverse() };
}

function adminMetric(m: Metric): AdminMetric {
  const { name, help } = m;
  if (m.type !== 'histogram')
    return { type: m.type, name, help, samples: m.read().map((s) => ({ labels: { ...s.labels }, value: s.value })) };
  return {
    type: 'histogram',
    name,
    help,
    buckets: [...m.buckets],
    samples: m.read().map((s) => ({ labels: { ...s.labels }, cumulative: [...s.cumulative], count: s.count, sum: s.sum })),
  };
}
