import { correlationIdOf } from '../util/correlation.js';
import { CrossbusError, createError, type ErrorCode } from '../errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import type { HelloPayload, WelcomePayload } from '../protocol/handshake.js';
import type { AccessAction, AccessVerdict, BrokerSecurity } from '../security/broker-security.js';
import { HEADER_GRANTS, type GrantsSummary } from '../security/handshake-messages.js';
import { patternCovers } from '../security/policy.js';
import type { TypedEmitter } from '../util/emitter.js';
import { encodeJson } from '../util/json.js';
import type { HubCounters } from './counters.js';
import type { BrokerEvents } from './events.js';
import { GateAudit } from './gate-audit.js';
import { HandshakeGate } from './handshake-gate.js';
import type { OutboundQueues } from './outbound-queues.js';
import type { Router } from './router.js';
import { type AuthState, INBOX_ROOT, isInboxPattern } from './session-auth.js';
import type { SessionTable } from './session-table.js';
import type { Session } from './session.js';

/** Operations one connection may have waiting for consent. */
const MAX_HELD_PER_SESSION = 1_000;
/** Refusals that mean the peer sent something malformed (counted by abuse control). */
const INVALID_INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CB_ERR_TOPIC_INVALID',
  'CB_ERR_TOPIC_TOO_LONG',
  'CB_ERR_PROTOCOL',
  'CB_ERR_HEADER_INVALID',
  'CB_ERR_HEADERS_TOO_MANY',
  'CB_ERR_HEADERS_TOO_LARGE',
]);

/** A request on an open system topic (BrokerOptions.openSystemRequests): its responder checks the caller. */
const OPEN_SYSTEM_REQUEST: AccessVerdict = { allowed: true, ask: false, rule: 'open system request' };

/**
 * The broker's security: the authenticated handshake (HandshakeGate), and the questions asked
 * before anything is routed or subscribed (grants, inboxes, consent, rate limits), each refusal
 * answered with its code, audited and counted by abuse control. The broker stays a router; this
 * is its gate.
 */
export class AccessGate {
  readonly #sec: BrokerSecurity;
  readonly #sessions: SessionTable;
  readonly #queues: OutboundQueues;
  readonly #router: Router;
  readonly #audit: GateAudit;
  readonly #handshake: HandshakeGate;
  readonly #totals: HubCounters;
  /** An app's name as a metric label (see BrokerOptions.metricsAppLabel). */
  readonly #appLabel: (app: string) => string;
  /** System topics any authenticated app may request (their responders check the caller). */
  readonly #openSystem: ReadonlySet<string>;

  constructor(
    sec: BrokerSecurity,
    events: TypedEmitter<BrokerEvents>,
    sessions: SessionTable,
    queues: OutboundQueues,
    router: Router,
    totals: HubCounters,
    appLabel: (app: string) => string,
    openSystem: ReadonlySet<string>,
  ) {
    this.#openSystem = openSystem;
    this.#sec = sec;
    this.#totals = totals;
    this.#appLabel = appLabel;
    this.#sessions = sessions;
    this.#queues = queues;
    this.#router = router;
    this.#audit = new GateAudit(sec, events, sessions);
    this.#handshake = new HandshakeGate(sec, events, sessions, queues, this.#audit, (app) => this.#grantsFor(app));
  }

  /**
   * What an app is told it may do: its grants, plus the open system requests (so that its client,
   * which checks its own grants before sending, lets them through).
   */
  #grantsFor(app: string): GrantsSummary {
    const g = this.#sec.grantsFor(app);
    return this.#openSystem.size === 0 ? g : { ...g, request: [...g.request, ...this.#openSystem] };
  }

  /** HELLO on a secure hub: validates it (app, key, binder, clock), answers WELCOME with the hub's proof. */
  onHello(s: Session, hello: HelloPayload, env: Envelope, welcome: WelcomePayload): void {
    this.#handshake.onHello(s, hello, env, welcome);
  }

  /** The client's AUTH: its proof over the transcript. After it, every frame is a protected record. */
  onAuth(s: Session, env: Envelope): void {
    this.#handshake.onAuth(s, env);
  }

  /** A record failed (integrity, replay, clock skew) or a plaintext frame came after the handshake. */
  securityFailure(s: Session, error: CrossbusError): void {
    this.#handshake.securityFailure(s, error);
  }

  /**
   * Applies a changed security configuration to open connections at once: sessions whose app or
   * key is gone or expired are closed; subscriptions no longer allowed are ended with
   * CB_ERR_FORBIDDEN (an ERROR frame carrying their sid).
   */
  reapply(): { closed: number; endedSubscriptions: number } {
    const sec = this.#sec;
    let closed = 0;
    let ended = 0;
    if (sec === undefined) return { closed, endedSubscriptions: ended };
    const now = Date.now();
    for (const s of [...this.#sessions.values()]) {
      const { app, keyId } = s.auth;
      if (s.state !== 'open' || app === '') continue;
      const standing = sec.sessionStanding(app, keyId, now);
      if (standing !== undefined) {
        this.#audit.revoke(
          s,
          standing === 'CB_ERR_KEY_EXPIRED' ? 'CB_ERR_KEY_EXPIRED' : 'CB_ERR_REVOKED',
          `access of app ${app} (key ${keyId}) ended by a config change`,
        );
        closed++;
        continue;
      }
      // The client refuses locally by the grants it knows: tell it the new ones first.
      this.#queues.enqueueControl(
        s,
        envelope(Kind.OK, {
          payloadType: PayloadType.JSON,
          payload: encodeJson({ grants: this.#grantsFor(app) }),
          headers: { [HEADER_GRANTS]: 'update' },
        }),
      );
      for (const sub of [...s.routing.subscriptions.values()]) {
        const problem = this.#subscribeProblem(s, sub.pattern, true);
        if (problem === undefined) continue;
        // Removed and announced as a peer's unsubscribe is (no OK: the peer did not ask).
        this.#router.unsubscribe(s, sub, 0);
        ended++;
        this.#audit.record({
          actor: this.#audit.actor(s),
          action: 'subscribe',
          target: sub.pattern,
          outcome: 'denied',
          reason: `CB_ERR_FORBIDDEN: ${problem} (after a config change)`,
        });
        this.#replyError(s, 0, 'CB_ERR_FORBIDDEN', `subscription ${JSON.stringify(sub.pattern)} ended: ${problem}`, {
          sid: sub.sid,
          pattern: sub.pattern,
        });
      }
    }
    return { closed, endedSubscriptions: ended };
  }

  /**
   * Why `s` may not subscribe to `pattern` (undefined when it may). Inboxes are private to their
   * connection; everything else follows the app's grants. `recheck` treats a pending `ask` grant
   * as not granted (used after reloads and revocations).
   */
  #subscribeProblem(s: Session, pattern: string, recheck: boolean): string | undefined {
    const sec = this.#sec;
    if (sec === undefined) return undefined;
    const { app, inbox } = s.auth;
    // A pattern naming inboxes must stay inside this connection's own. A wider one ('>', '*.x')
    // is judged by the grants alone: the router never hands inbox messages to anyone but their owner.
    if (isInboxPattern(pattern)) {
      return patternCovers(`${inbox}.>`, pattern) ? undefined : `reply inboxes belong to their requester (yours is ${inbox}.>)`;
    }
    const verdict = sec.check(app, 'subscribe', pattern);
    if (!verdict.allowed) return verdict.reason;
    if (verdict.ask && recheck && sec.consentGranted?.(app, 'subscribe', verdict.rule) !== true)
      return `consent for ${verdict.rule} is no longer given`;
    return undefined;
  }

  /** Answers frame `id` with an error; malformed input also counts toward abuse control. */
  #replyError(s: Session, id: number, code: ErrorCode, message: string, details?: Record<string, unknown>): void {
    this.#queues.replyError(s, id, code, message, details);
    this.invalidInput(s, code);
  }

  /** Refuses an operation: error to the peer, entry in the audit log, a strike for abuse control. */
  #deny(s: Session, id: number, action: string, target: string, reason: string, extra?: Record<string, unknown>, env?: Envelope): void {
    const sec = this.#sec;
    this.#audit.record({
      actor: this.#audit.actor(s),
      action,
      target,
      outcome: 'denied',
      reason: `CB_ERR_FORBIDDEN: ${reason}`,
      ...correlationDetails(env),
    });
    this.#replyError(s, id, 'CB_ERR_FORBIDDEN', `${action} ${JSON.stringify(target)} is not allowed: ${reason}`, {
      action,
      target,
      ...extra,
    });
    if (sec.violation(s.auth.app, 'forbidden') === 'disconnect')
      this.#audit.revoke(s, 'CB_ERR_ABUSIVE', `app ${s.auth.app} kept violating its grants`);
  }

  /**
   * Access control, rate limit and consent for a PUBLISH, REQUEST or REPLY. Returns true when the
   * frame may be routed now; false when it was refused or is held for consent.
   */
  admitMessage(s: Session, env: Envelope, buf: Uint8Array, start: number, end: number): boolean {
    const sec = this.#sec;
    const a = s.auth as AuthState;
    const { app, inbox } = a;
    const topic = env.topic;
    const action: AccessAction = env.kind === Kind.REQUEST ? 'request' : 'publish';
    if (topic.startsWith(INBOX_ROOT)) {
      // Replies go to inboxes without grants, but only from a connection that received the request.
      const until = a.replyPermits.get(topic);
      if (env.kind !== Kind.REPLY || until === undefined || until < Date.now()) {
        this.#deny(
          s,
          env.id,
          env.kind === Kind.REPLY ? 'reply' : action,
          topic,
          'replies go only to the inbox of a request you received',
          undefined,
          env,
        );
        return false;
      }
      a.replyPermits.delete(topic);
    } else {
      if (env.kind === Kind.REQUEST && !env.replyTo.startsWith(`${inbox}.`)) {
        this.#deny(s, env.id, 'request', topic, `replyTo must be your own inbox (${inbox}.*)`, undefined, env);
        return false;
      }
      if (env.replyTo !== '' && env.kind !== Kind.REQUEST && !env.replyTo.startsWith(`${inbox}.`)) {
        this.#deny(s, env.id, action, topic, `replyTo must be your own inbox (${inbox}.*)`, undefined, env);
        return false;
      }
      const verdict = env.kind === Kind.REQUEST && this.#openSystem.has(topic) ? OPEN_SYSTEM_REQUEST : sec.check(app, action, topic);
      if (!verdict.allowed) {
        this.#deny(s, env.id, action, topic, verdict.reason, undefined, env);
        return false;
      }
      if (verdict.ask && sec.consentGranted?.(app, action, verdict.rule) !== true) {
        this.#holdForConsent(s, env, action, verdict.rule, buf.slice(start, end));
        return false;
      }
    }
    const rate = sec.rate(app, topic);
    if (!rate.ok) {
      this.#totals.countRateLimited(this.#appLabel(app), rate.scope === 'topic' ? 'topic' : 'app');
      this.#audit.record({
        actor: this.#audit.actor(s),
        action: 'rate-limit',
        target: topic,
        outcome: 'denied',
        reason: `CB_ERR_RATE_LIMITED: ${rate.scope}${rate.rule ? ` ${rate.rule}` : ''}`,
        ...correlationDetails(env),
      });
      this.#replyError(
        s,
        env.id,
        'CB_ERR_RATE_LIMITED',
        `rate limit for ${rate.scope === 'topic' ? `${JSON.stringify(topic)} (${rate.rule})` : `app ${app}`} exceeded; retry after ${rate.retryAfterMs} ms`,
        {
          retryAfterMs: rate.retryAfterMs,
          scope: rate.scope,
          topic,
        },
      );
      const verdict = sec.violation(app, 'rate');
      if (verdict === 'disconnect') this.#audit.revoke(s, 'CB_ERR_ABUSIVE', `app ${app} kept exceeding its rate limit`);
      return false;
    }
    return true;
  }

  /** Holds a message until a person decides about an `ask` grant; routes it if granted. */
  #holdForConsent(s: Session, env: Envelope, action: AccessAction, rule: string, frame: Uint8Array): void {
    const sec = this.#sec;
    const a = s.auth as AuthState;
    if (sec.consent === undefined || a.held >= MAX_HELD_PER_SESSION) {
      this.#deny(
        s,
        env.id,
        action,
        env.topic,
        sec.consent === undefined ? 'needs consent, and this hub has no consent service' : 'too many operations wait for consent',
      );
      return;
    }
    a.held++;
    const { id, topic } = env;
    // The frame may be read after this chunk's buffer is reused: keep copies.
    const heldEnv: Envelope = { ...env, headers: env.headers === undefined ? undefined : { ...env.headers }, payload: env.payload.slice() };
    sec.consent(a.app, action, rule, topic).then(
      () => {
        a.held--;
        if (s.state !== 'open') return;
        this.#router.publish(s, heldEnv, frame, 0, frame.length);
      },
      (err: unknown) => {
        a.held--;
        if (s.state !== 'open') return;
        const error = err instanceof CrossbusError ? err : createError('CB_ERR_CONSENT_DENIED', 'consent was not given');
        this.#replyError(s, id, error.code, `${action} ${JSON.stringify(topic)}: ${error.message}`, { action, topic, rule });
      },
    );
  }

  /**
   * Access to a stream operation: every pattern of the stream must be subscribable (reading a
   * stream means reading its topics; an `ask` grant counts only once consent is given). Refuses
   * like any other denial: error, audit entry, strike.
   */
  admitStream(s: Session, id: number, action: string, target: string, patterns: readonly string[]): boolean {
    for (const p of patterns) {
      const problem = this.#subscribeProblem(s, p, true);
      if (problem !== undefined) {
        this.#deny(s, id, action, target, `${p}: ${problem}`);
        return false;
      }
    }
    return true;
  }

  /** The same question, answered without refusing (listing streams shows only the visible ones). */
  allowsStream(s: Session, patterns: readonly string[]): boolean {
    return patterns.every((p) => this.#subscribeProblem(s, p, true) === undefined);
  }

  /** Access control (and consent) for a SUBSCRIBE; false when refused or held for consent. */
  admitSubscription(s: Session, env: Envelope): boolean {
    const sec = this.#sec;
    const a = s.auth as AuthState;
    const problem = this.#subscribeProblem(s, env.topic, false);
    if (problem !== undefined) {
      this.#deny(s, env.id, 'subscribe', env.topic, problem, { sid: env.sid });
      return false;
    }
    if (isInboxPattern(env.topic)) return true;
    const verdict = sec.check(a.app, 'subscribe', env.topic);
    if (!verdict.allowed || !verdict.ask || sec.consentGranted?.(a.app, 'subscribe', verdict.rule) === true) return true;
    if (sec.consent === undefined || a.held >= MAX_HELD_PER_SESSION) {
      this.#deny(
        s,
        env.id,
        'subscribe',
        env.topic,
        sec.consent === undefined ? 'needs consent, and this hub has no consent service' : 'too many operations wait for consent',
        { sid: env.sid },
      );
      return false;
    }
    a.held++;
    const copy = { ...env, payload: env.payload.slice() };
    sec.consent(a.app, 'subscribe', verdict.rule, env.topic).then(
      () => {
        a.held--;
        if (s.state !== 'open' || s.routing.subscriptions.has(copy.sid)) return;
        const refused = this.#router.subscribe(s, copy);
        if (refused !== undefined) this.#replyError(s, copy.id, 'CB_ERR_PROTOCOL', refused, { sid: copy.sid });
      },
      (err: unknown) => {
        a.held--;
        if (s.state !== 'open') return;
        const error = err instanceof CrossbusError ? err : createError('CB_ERR_CONSENT_DENIED', 'consent was not given');
        this.#replyError(s, copy.id, error.code, `subscribe ${JSON.stringify(copy.topic)}: ${error.message}`, {
          sid: copy.sid,
          rule: verdict.rule,
        });
      },
    );
    return false;
  }

  /** Invalid input from an authenticated app counts toward abuse control; past the threshold it is cut off. */
  invalidInput(s: Session, code: ErrorCode): void {
    const app = s.auth.app;
    if (app !== '' && INVALID_INPUT_CODES.has(code) && this.#sec.violation(app, 'invalid') === 'disconnect') {
      this.#audit.revoke(s, 'CB_ERR_ABUSIVE', `app ${app} kept sending invalid frames`);
    }
  }
}

/** The refused message's correlation id for its audit entry (and so the hub's log line), when it has one. */
function correlationDetails(env: Envelope | undefined): { details?: { correlationId: string } } {
  const correlationId = correlationIdOf(env?.headers);
  return correlationId === '' ? {} : { details: { correlationId } };
}
