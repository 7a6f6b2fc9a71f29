/**
 * The hub's admin requests (`$SYS.REQ.ADMIN.*`), answered by the hub itself (admin-responders.ts)
 * for any app holding a request grant on them (an admin role's `>` covers them; `$SYS.REQ.ADMIN.>`
 * is the grant the dashboard's login requires). Topics and answer shapes only, no Node imports:
 * the dashboard page reads this file too.
 */

/** Every admin topic starts with this. */
export const ADMIN_TOPIC_PREFIX = '$SYS.REQ.ADMIN.';
/** → `{ pending: ConsentRequest[], decisions: ConsentDecision[] }`. */
export const ADMIN_CONSENT_LIST = `${ADMIN_TOPIC_PREFIX}CONSENT.LIST`;
/** `{ id, verdict: 'grant' | 'deny' }` → the ConsentDecision; CB_ERR_PAYLOAD_INVALID for an id not pending. */
export const ADMIN_CONSENT_DECIDE = `${ADMIN_TOPIC_PREFIX}CONSENT.DECIDE`;
/** `{ n? }` → `{ entries: AuditEntry[] }`, the last n (at most ADMIN_AUDIT_TAIL_MAX), oldest first. */
export const ADMIN_AUDIT_TAIL = `${ADMIN_TOPIC_PREFIX}AUDIT.TAIL`;
/** → the audit log's verification: `{ ok: true, entries, lastHash }` or `{ ok: false, entries, brokenAt, seq?, reason }`. */
export const ADMIN_AUDIT_VERIFY = `${ADMIN_TOPIC_PREFIX}AUDIT.VERIFY`;
/** → `{ metrics: AdminMetric[] }`: every counter, gauge and histogram the hub keeps (what /metrics renders). */
export const ADMIN_METRICS = `${ADMIN_TOPIC_PREFIX}METRICS`;
/** Answered by the alert engine when the hub runs one (not by the admin responders). */
export const ALERTS_TOPIC = '$SYS.REQ.ALERTS';

/** Audit entries one tail request returns at most. @default 200 */
export const ADMIN_AUDIT_TAIL_MAX = 200;
/** Audit entries a tail request without `n` returns. @default 50 */
export const ADMIN_AUDIT_TAIL_DEFAULT = 50;

export type AdminMetric =
  | { type: 'counter' | 'gauge'; name: string; help: string; samples: Array<{ labels: Record<string, string>; value: number }> }
  | {
      type: 'histogram';
      name: string;
      help: string;
      /** Upper bounds, ascending. */
      buckets: number[];
      samples: Array<{ labels: Record<string, string>; cumulative: number[]; count: number; sum: number }>;
    };
