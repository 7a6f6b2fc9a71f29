import type { ErrorCode } from '../errors/index.js';
import type { HubConfig } from '../config/schema.js';
import type { AuditSink } from './audit.js';
import { nullAuditSink } from './audit.js';
import type { AccessAction, AccessVerdict, BrokerSecurity, RateVerdict, ViolationKind } from './broker-security.js';
import type { CryptoProvider } from './crypto.js';
import type { GrantsSummary } from './handshake-messages.js';
import { KeyRing, type HubHandshakeContext } from './hub-handshake.js';
import type { AppKey } from '../config/app-schema.js';
import { policyForApp } from './app-policy.js';
import type { AccessPolicy } from './policy.js';
import { coarseClock } from '../util/coarse-clock.js';
import { AbuseTracker, RateLimiter } from './rate-limit.js';
import type { ConsentManager } from './consent.js';

/** The key id of a session identified by its origin: `origin:<origin>`. */
export const ORIGIN_KEY_PREFIX = 'origin:';
/** The key id of a session opened by a TLS client certificate: this prefix and `sha256/<hex>`. */
export const CERTIFICATE_KEY_PREFIX = 'cert:';

export interface HubSecurityOptions {
  crypto: CryptoProvider;
  config: HubConfig;
  /** @default a sink that drops everything (the Node hub passes its AuditLog) */
  audit?: AuditSink;
  /** Needed for `ask` grants; without it they are refused. @default none */
  consent?: ConsentManager;
  /** @default Date.now */
  now?: () => number;
  /**
   * Identify apps by the origin their transport vouches for (apps' `origins` in the config), for
   * a HELLO without a secret. For hubs whose transports are postMessage or extension ports (a
   * browser hub); a WebSocket listener vouches for no origin unless its hub opts in
   * (HubOptions.identifyByOrigin, which explains the risk). @default false
   */
  identifyByOrigin?: boolean;
  /**
   * Keys an app holds besides its config's, looked up at each handshake and each standing check:
   * short-lived credentials the hub issues itself (a dashboard session's bus key), gone when their
   * issuer drops them. @default none
   */
  extraKeys?: (app: string) => readonly AppKey[] | undefined;
}

/**
 * The hub's security policy, built from its config: who may connect (keys), what each app may do
 * (roles), how fast (rate limits and abuse control), and what needs a person's consent. It answers
 * the broker's questions (BrokerSecurity) and is swapped wholesale on a config reload.
 */
export class HubSecurity implements BrokerSecurity {
  readonly audit: AuditSink;
  private config: HubConfig;
  private readonly crypto: CryptoProvider;
  private readonly keyRing: KeyRing;
  private readonly now: () => number;
  private readonly policies = new Map<string, AccessPolicy>();
  private ctx: HubHandshakeContext;
  private readonly abuse: AbuseTracker;
  private readonly limiter: RateLimiter;
  private readonly consentManager: ConsentManager | undefined;
  readonly #extraKeys: ((app: string) => readonly AppKey[] | undefined) | undefined;
  readonly identify: BrokerSecurity['identify'];

  constructor(options: HubSecurityOptions) {
    this.identify = options.identifyByOrigin === true ? (origin) => this.appOfOrigin(origin) : undefined;
    this.crypto = options.crypto;
    this.config = options.config;
    this.audit = options.audit ?? nullAuditSink;
    this.now = options.now ?? Date.now;
    this.keyRing = new KeyRing(this.crypto);
    this.consentManager = options.consent;
    this.#extraKeys = options.extraKeys;
    this.abuse = new AbuseTracker(this.abuseOptions(options.config), this.now);
    // Checked on every message: one clock read per batch, unless a test drives the clock.
    this.limiter = new RateLimiter(this.rateOptions(options.config), options.now ?? coarseClock());
    this.ctx = this.buildContext();
  }

  get current(): HubConfig {
    return this.config;
  }

  /** Applies a new config to everything that follows; the broker re-checks open sessions. */
  reload(config: HubConfig): void {
    this.config = config;
    this.policies.clear();
    this.abuse.reconfigure(this.abuseOptions(config));
    this.limiter.reconfigure(this.rateOptions(config));
    this.ctx = this.buildContext();
  }

  handshakeContext(): HubHandshakeContext {
    return this.ctx;
  }

  grantsFor(app: string): GrantsSummary {
    return this.policy(app).grants();
  }

  check(app: string, action: AccessAction, topicOrPattern: string): AccessVerdict {
    const d = this.policy(app).check(action, topicOrPattern);
    return d.allowed ? d : { allowed: false, reason: d.reason, rule: d.rule };
  }

  rate(app: string, topic: string): RateVerdict {
    return this.limiter.check(app, topic);
  }

  violation(app: string, kind: ViolationKind): 'none' | 'slow' | 'disconnect' {
    return this.abuse.violation(app, kind).action;
  }

  sessionStanding(app: string, keyId: string, now: number): ErrorCode | undefined {
    const a = this.config.apps.get(app);
    if (a === undefined) return 'CB_ERR_REVOKED';
    if (keyId.startsWith(CERTIFICATE_KEY_PREFIX))
      return a.certificates.includes(keyId.slice(CERTIFICATE_KEY_PREFIX.length)) ? undefined : 'CB_ERR_REVOKED';
    if (keyId.startsWith(ORIGIN_KEY_PREFIX))
      return a.origins.includes(keyId.slice(ORIGIN_KEY_PREFIX.length)) ? undefined : 'CB_ERR_REVOKED';
    const key = a.keys.find((k) => k.id === keyId) ?? this.#extraKeys?.(app)?.find((k) => k.id === keyId);
    if (key === undefined) return 'CB_ERR_REVOKED';
    if ((key.notBefore !== undefined && now < key.notBefore) || (key.expiresAt !== undefined && now >= key.expiresAt))
      return 'CB_ERR_KEY_EXPIRED';
    return undefined;
  }

  consent = (app: string, action: AccessAction, rule: string, target: string): Promise<void> => {
    const m = this.consentManager;
    if (m === undefined) return Promise.reject(new Error('no consent service'));
    return m.request(app, action, rule, target).then(() => undefined);
  };

  consentGranted(app: string, action: AccessAction, rule: string): boolean {
    return this.consentManager?.isGranted(app, action, rule) ?? false;
  }

  identifyCertificate(fingerprint: string): { app: string } | undefined {
    for (const a of this.config.apps.values()) if (a.certificates.includes(fingerprint)) return { app: a.name };
    return undefined;
  }

  private appOfOrigin(origin: string | undefined): { app: string } | { refused: string } {
    if (origin === undefined) return { refused: 'the transport vouches for no origin' };
    // Exact: the apps' origins are normalized (parseHubConfig), as browsers report them.
    for (const a of this.config.apps.values()) if (a.origins.includes(origin)) return { app: a.name };
    return { refused: `origin ${JSON.stringify(origin)} identifies no app` };
  }

  private policy(app: string): AccessPolicy {
    let p = this.policies.get(app);
    if (p === undefined) {
      p = policyForApp(this.config, app);
      this.policies.set(app, p);
    }
    return p;
  }

  private buildContext(): HubHandshakeContext {
    const cfg = this.config;
    const s = cfg.security;
    return {
      crypto: this.crypto,
      keyRing: this.keyRing,
      now: this.now,
      maxClockSkewMs: s.maxClockSkewMs,
      encryption: s.encryption,
      integrityAlgorithms: s.integrityAlgorithms,
      rekey: { afterRecords: s.rekeyAfterMessages, afterMs: s.rekeyAfterMs },
      keysOf: (app) => {
        const keys = cfg.apps.get(app)?.keys;
        const extra = keys === undefined ? undefined : this.#extraKeys?.(app);
        return extra === undefined || extra.length === 0 ? keys : [...(keys ?? []), ...extra];
      },
    };
  }

  private abuseOptions(config: HubConfig) {
    return { violationsPerWindow: config.security.abuse.violationsPerWindow, windowMs: config.security.abuse.windowMs };
  }

  private rateOptions(config: HubConfig) {
    return { rate: config.limits.rate, apps: config.apps, topicRates: config.limits.topicRates, abuse: this.abuse };
  }
}
