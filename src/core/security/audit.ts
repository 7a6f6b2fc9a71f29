/**
 * What the hub records in its tamper-evident audit log. The core only describes events; the
 * Node hub writes them (src/node/audit/audit-log.ts) as hash-chained JSON lines. Secrets never
 * go into an event: callers pass names, key ids and reasons only.
 */
export interface AuditActor {
  /** The app as it authenticated (or as it claimed, for failures). */
  app?: string;
  /** Browser origin of the connection, when it had one. */
  origin?: string;
  /** Remote address (ip:port) or another transport-level identity. */
  address?: string;
  connectionId?: string;
}

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'info';

/** Action names are stable strings, e.g. 'auth', 'publish', 'subscribe', 'request', 'reply', 'integrity', 'replay', 'rate-limit', 'abuse', 'consent', 'key-rotate', 'config-reload', 'origin'. */
export interface AuditEvent {
  actor: AuditActor;
  action: string;
  /** What was acted on: a topic, pattern, app, key id, consent id. */
  target?: string;
  outcome: AuditOutcome;
  /** An error code or a short phrase. */
  reason?: string;
  details?: Record<string, unknown>;
}

export interface AuditSink {
  /** Records one event. Must not throw: failures are reported by the sink itself. */
  record(event: AuditEvent): void;
}

export const nullAuditSink: AuditSink = Object.freeze({ record: () => {} });
