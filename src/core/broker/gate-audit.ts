import { createError } from '../errors/index.js';
import type { AuditEvent } from '../security/audit.js';
import type { BrokerSecurity } from '../security/broker-security.js';
import { CLOSE_REVOKED } from '../transport/transport.js';
import type { TypedEmitter } from '../util/emitter.js';
import type { BrokerEvents } from './events.js';
import type { SessionTable } from './session-table.js';
import type { Session } from './session.js';

/**
 * The access gate's record of what it decided: every security event goes to the audit log and out
 * as a typed 'security' event, with the session as its actor; a revocation is recorded, then the
 * session is closed with its code.
 */
export class GateAudit {
  readonly #sec: BrokerSecurity;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #sessions: SessionTable;

  constructor(sec: BrokerSecurity, events: TypedEmitter<BrokerEvents>, sessions: SessionTable) {
    this.#sec = sec;
    this.#events = events;
    this.#sessions = sessions;
  }

  /** Records a security event in the audit log and emits it as a typed 'security' event. */
  record(event: AuditEvent): void {
    this.#sec.audit.record(event);
    this.#events.emit('security', event);
  }

  actor(s: Session): { app?: string; origin?: string; address: string; connectionId: string } {
    const a: { app?: string; origin?: string; address: string; connectionId: string } = {
      address: s.transport.peer,
      connectionId: s.connectionId,
    };
    if (s.auth.app !== '') a.app = s.auth.app;
    const inner = s.auth.secure?.inner ?? s.transport;
    const origin = inner.vouchedOrigin ?? inner.origin;
    if (origin !== undefined) a.origin = origin;
    return a;
  }

  /** Closes a session whose access ended (revoked app or key, expired key, abuse), with the code. */
  revoke(s: Session, code: 'CB_ERR_KEY_EXPIRED' | 'CB_ERR_REVOKED' | 'CB_ERR_ABUSIVE', message: string): void {
    if (s.state !== 'open' && s.state !== 'auth') return;
    this.record({
      actor: this.actor(s),
      action: code === 'CB_ERR_ABUSIVE' ? 'abuse' : 'revoke',
      outcome: 'denied',
      reason: `${code}: ${message}`,
    });
    this.#sessions.fail(s, createError(code, message), CLOSE_REVOKED);
  }
}
