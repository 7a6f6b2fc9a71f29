import type { ErrorCode } from '../errors/index.js';
import type { AuditSink } from './audit.js';
import type { GrantsSummary } from './handshake-messages.js';
import type { HubHandshakeContext } from './hub-handshake.js';

export type AccessAction = 'publish' | 'subscribe' | 'request';

export type AccessVerdict = { allowed: true; ask: boolean; rule: string } | { allowed: false; reason: string; rule?: string | undefined };

export type RateVerdict = { ok: true } | { ok: false; retryAfterMs: number; scope: string; rule?: string | undefined };

export type ViolationKind = 'rate' | 'invalid' | 'forbidden' | 'integrity';

/**
 * What the broker needs from the security layer. The broker stays a router: it asks these
 * questions at the right moments and acts on the answers. `HubSecurity` (./hub-security.ts)
 * implements it from a hub config; a browser hub can implement it from origins.
 */
export interface BrokerSecurity {
  readonly audit: AuditSink;
  handshakeContext(): HubHandshakeContext;
  grantsFor(app: string): GrantsSummary;
  check(app: string, action: AccessAction, topicOrPattern: string): AccessVerdict;
  rate(app: string, topic: string): RateVerdict;
  /** Records a violation; the answer says whether to disconnect the app's connection now. */
  violation(app: string, kind: ViolationKind): 'none' | 'slow' | 'disconnect';
  /** Whether a session on (app, key id) may stay open: undefined if yes, else the code to close it with. */
  sessionStanding(app: string, keyId: string, now: number): ErrorCode | undefined;
  /**
   * Holds an `ask` operation until a person decides. Resolves when granted; rejects with
   * CB_ERR_CONSENT_DENIED or CB_ERR_CONSENT_TIMEOUT. Undefined when consent is not available.
   */
  consent?(app: string, action: AccessAction, rule: string, target: string): Promise<void>;
  /** Whether an `ask` grant is currently granted (for re-checks after a revoke). */
  consentGranted?(app: string, action: AccessAction, rule: string): boolean;
  /**
   * On a hub whose transports vouch for their peer's origin (a browser hub): the app that
   * origin identifies, for a HELLO without `auth`. Undefined on a hub that only authenticates by
   * secret (the Node hub).
   */
  identify?(vouchedOrigin: string | undefined): { app: string } | { refused: string };
  /**
   * The app a verified TLS client certificate (`sha256/<hex>`) identifies, for a HELLO without
   * `auth` over a transport that vouches for one; undefined when none does (the client must then
   * authenticate with a secret).
   */
  identifyCertificate?(fingerprint: string): { app: string } | undefined;
}
