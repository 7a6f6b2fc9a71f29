import { CrossbusError, ProtocolError, createError, type ErrorCode } from '../errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import type { HelloPayload, WelcomePayload } from '../protocol/handshake.js';
import type { AuditEvent } from '../security/audit.js';
import type { AccessAction, BrokerSecurity } from '../security/broker-security.js';
import { HEADER_BINDER, HEADER_GRANTS, HEADER_PROOF, ORIGIN_SCHEME, type OriginWelcomeAuth } from '../security/handshake-messages.js';
import { ORIGIN_KEY_PREFIX } from '../security/hub-security.js';
import { HandshakeRefused, HubHandshake } from '../security/hub-handshake.js';
import { then } from '../security/maybe.js';
import { patternCovers } from '../security/policy.js';
import type { SecureTransport } from '../security/secure-transport.js';
import { CLOSE_AUTH_FAILED, CLOSE_REVOKED } from '../transport/transport.js';
import type { TypedEmitter } from '../util/emitter.js';
import { encodeJson } from '../util/json.js';
import { randomHex } from '../util/random.js';
import type { BrokerEvents } from './events.js';
import type { OutboundQueues } from './outbound-queues.js';
import type { Router } from './router.js';
import type { SessionTable } from './session-table.js';
import type { Session } from './session.js';
import { unrefTimer } from '../util/timers.js';

/**
 * A session's authentication and access state (`session.auth`): written by the access gate only
 * (and by grantReply, in this module), read-only elsewhere. On an insecure hub it keeps its
 * initial values.
 */
export interface SessionAuth {
  /** The record layer wrapping the session's transport, when the hub has security. */
  readonly secure: SecureTransport | undefined;
  readonly handshake: HubHandshake | undefined;
  /** True while a handshake step waits for asynchronous crypto: frames meanwhile are refused. */
  readonly busy: boolean;
  /** The authenticated app ('' before authentication or on an insecure hub). */
  readonly app: string;
  readonly keyId: string;
  /** Reply inbox prefix reserved for this connection ('_INBOX.<random>'). */
  readonly inbox: string;
  /** Reply topics this connection may answer once: it received a request naming them. */
  readonly replyPermits: ReadonlyMap<string, number>;
  /** Operations held for a person's consent. */
  readonly held: number;
  /** Closes the session when its key expires. */
  readonly keyTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The writable authentication state: only this module names this type. */
class AuthState implements SessionAuth {
  handshake: HubHandshake | undefined = undefined;
  busy = false;
  app = '';
  keyId = '';
  inbox = '';
  readonly replyPermits = new Map<string, number>();
  held = 0;
  keyTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(readonly secure: SecureTransport | undefined) {}
}

export function newSessionAuth(secure: SecureTransport | undefined): SessionAuth {
  return new AuthState(secure);
}

export const INBOX_ROOT = '_INBOX.';
/** Operations one connection may have waiting for consent. */
const MAX_HELD_PER_SESSION = 1_000;
/** Open reply permits per connection (oldest dropped first) and how long one lasts. */
const MAX_REPLY_PERMITS = 10_000;
const REPLY_PERMIT_MS = 10 * 60_000;
/** Refusals that mean the peer sent something malformed (counted by abuse control). */
const INVALID_INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CB_ERR_TOPIC_INVALID',
  'CB_ERR_TOPIC_TOO_LONG',
  'CB_ERR_PROTOCOL',
  'CB_ERR_HEADER_INVALID',
  'CB_ERR_HEADERS_TOO_MANY',
  'CB_ERR_HEADERS_TOO_LARGE',
]);

/**
 * The broker's security: the authenticated handshake, and the questions asked before anything
 * is routed or subscribed (grants, inboxes, consent, rate limits), each refusal answered with its
 * code, audited and counted by abuse control. The broker stays a router; this is its gate.
 */
export class AccessGate {
  readonly #sec: BrokerSecurity;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #sessions: SessionTable;
  readonly #queues: OutboundQueues;
  readonly #router: Router;

  constructor(sec: BrokerSecurity, events: TypedEmitter<BrokerEvents>, sessions: SessionTable, queues: OutboundQueues, router: Router) {
    this.#sec = sec;
    this.#events = events;
    this.#sessions = sessions;
    this.#queues = queues;
    this.#router = router;
  }

  /** HELLO on a secure hub: validates it (app, key, binder, clock), answers WELCOME with the hub's proof. */
  onHello(s: Session, hello: HelloPayload, env: Envelope, welcome: WelcomePayload): void {
    const sec = this.#sec;
    if ((hello.auth === undefined || hello.auth === null) && sec.identify !== undefined) {
      this.#onOriginHello(s, env.id, welcome);
      return;
    }
    const helloBytes = env.payload.slice();
    const helloId = env.id;
    const a = s.auth as AuthState;
    this.#step(s, () =>
      then(HubHandshake.begin(sec.handshakeContext(), hello, helloBytes, env.headers?.[HEADER_BINDER]), (hs) => {
        a.handshake = hs;
        a.app = hs.app;
        a.keyId = hs.key.id;
        a.inbox = `${INBOX_ROOT}${randomHex(12)}`;
        welcome.auth = hs.welcomeAuth({ inbox: a.inbox, grants: sec.grantsFor(hs.app) }) as unknown as Record<string, unknown>;
        const welcomeBytes = encodeJson(welcome);
        return then(hs.prove(welcomeBytes), (proof) => {
          this.#sessions.awaitAuth(s);
          this.#queues.enqueueControl(
            s,
            envelope(Kind.WELCOME, {
              id: helloId,
              payloadType: PayloadType.JSON,
              payload: welcomeBytes,
              headers: { [HEADER_PROOF]: proof },
            }),
          );
        });
      }),
    );
  }

  /**
   * HELLO without a secret on a browser hub: the app is the one the transport's vouched origin
   * identifies (the browser guarantees postMessage and extension origins). The session opens at
   * once; WELCOME carries the app, its grants and its private reply inbox. No records: the
   * channel (a MessagePort, an extension port) is private to the two ends already.
   */
  #onOriginHello(s: Session, helloId: number, welcome: WelcomePayload): void {
    const sec = this.#sec;
    const a = s.auth as AuthState;
    const origin = (a.secure?.inner ?? s.transport).vouchedOrigin;
    const id = sec.identify?.(origin) ?? { refused: 'no identity' };
    if ('refused' in id) {
      this.#auditEvent({
        actor: this.#actor(s),
        action: 'auth',
        target: origin ?? '',
        outcome: 'failure',
        reason: `CB_ERR_ORIGIN_REFUSED: ${id.refused}`,
      });
      this.#events.emit('protocol-error', {
        connectionId: s.connectionId,
        name: s.name,
        code: 'CB_ERR_ORIGIN_REFUSED',
        message: id.refused,
      });
      this.#sessions.fail(
        s,
        createError(
          'CB_ERR_ORIGIN_REFUSED',
          origin === undefined
            ? 'this hub identifies apps by origin, and the connection has none'
            : `origin ${origin} is not allowed on this hub`,
        ),
        CLOSE_AUTH_FAILED,
      );
      return;
    }
    a.app = id.app;
    a.keyId = `${ORIGIN_KEY_PREFIX}${origin}`;
    a.inbox = `${INBOX_ROOT}${randomHex(12)}`;
    const auth: OriginWelcomeAuth = {
      scheme: ORIGIN_SCHEME,
      app: id.app,
      origin: origin as string,
      inbox: a.inbox,
      grants: sec.grantsFor(id.app),
    };
    welcome.auth = auth as unknown as Record<string, unknown>;
    this.#sessions.open(s);
    this.#auditEvent({
      actor: this.#actor(s),
      action: 'auth',
      target: `origin ${origin}`,
      outcome: 'success',
      details: { scheme: ORIGIN_SCHEME },
    });
    this.#queues.enqueueControl(s, envelope(Kind.WELCOME, { id: helloId, payloadType: PayloadType.JSON, payload: encodeJson(welcome) }));
    this.#events.emit('connection', { connectionId: s.connectionId, name: s.name, peer: s.transport.peer, transport: s.transport.kind });
  }

  /** The client's AUTH: its proof over the transcript. After it, every frame is a protected record. */
  onAuth(s: Session, env: Envelope): void {
    if (env.kind !== Kind.AUTH)
      throw new ProtocolError('CB_ERR_HANDSHAKE_REQUIRED', 'expected AUTH after WELCOME', { details: { kind: env.kind } });
    const a = s.auth as AuthState;
    const hs = a.handshake as HubHandshake;
    const authId = env.id;
    this.#step(s, () =>
      then(hs.verifyClient(env.headers?.[HEADER_PROOF]), ({ sealer, opener }) => {
        const secure = a.secure as SecureTransport;
        // WELCOME went out in plaintext; make sure nothing plain is still queued behind it.
        if (s.queue.out.length > 0) secure.send(this.#queues.takeOut(s));
        secure.protectOutbound(sealer);
        secure.protectInbound(opener);
        a.handshake = undefined;
        this.#sessions.open(s);
        this.#armKeyExpiry(s, hs.key.expiresAt);
        this.#auditEvent({
          actor: this.#actor(s),
          action: 'auth',
          target: `key ${hs.key.id}`,
          outcome: 'success',
          details: { mode: hs.mode, group: hs.group, ...(hs.integrity === undefined ? {} : { integrity: hs.integrity }) },
        });
        this.#queues.enqueueControl(s, envelope(Kind.OK, { id: authId }));
        this.#events.emit('connection', {
          connectionId: s.connectionId,
          name: s.name,
          peer: s.transport.peer,
          transport: s.transport.kind,
        });
      }),
    );
  }

  /**
   * Runs one handshake step that may finish synchronously (Node crypto) or later (WebCrypto).
   * A refusal is audited with its private reason and answered with its public code.
   */
  #step(s: Session, fn: () => unknown): void {
    const a = s.auth as AuthState;
    const refused = (err: unknown): void => {
      a.busy = false;
      if (s.state === 'closed' || s.state === 'closing') return;
      const error = err instanceof CrossbusError ? err : createError('CB_ERR_AUTH_FAILED', 'authentication failed', { cause: err });
      const reason = err instanceof HandshakeRefused ? err.auditReason : error.message;
      this.#auditEvent({
        actor: { ...this.#actor(s), app: a.app || s.name },
        action: 'auth',
        outcome: 'failure',
        reason: `${error.code}: ${reason}`,
      });
      this.#events.emit('protocol-error', { connectionId: s.connectionId, name: s.name, code: error.code, message: reason });
      this.#sessions.fail(s, error, CLOSE_AUTH_FAILED);
    };
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      refused(err);
      return;
    }
    if (result instanceof Promise) {
      a.busy = true;
      result.then(() => {
        a.busy = false;
        if (s.queue.out.length > 0) this.#queues.markDirty(s);
      }, refused);
    }
  }

  /** Records a security event in the audit log and emits it as a typed 'security' event. */
  #auditEvent(event: AuditEvent): void {
    this.#sec.audit.record(event);
    this.#events.emit('security', event);
  }

  #actor(s: Session): { app?: string; origin?: string; address: string; connectionId: string } {
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

  /** A record failed (integrity, replay, clock skew) or a plaintext frame came after the handshake. */
  securityFailure(s: Session, error: CrossbusError): void {
    const sec = this.#sec;
    this.#auditEvent({
      actor: this.#actor(s),
      action: error.code === 'CB_ERR_REPLAY' ? 'replay' : error.code === 'CB_ERR_CLOCK_SKEW' ? 'clock-skew' : 'integrity',
      outcome: 'failure',
      reason: `${error.code}: ${error.message}`,
    });
    if (s.auth.app !== '') sec?.violation(s.auth.app, 'integrity');
    this.#events.emit('protocol-error', { connectionId: s.connectionId, name: s.name, code: error.code, message: error.message });
    this.#sessions.fail(s, error, CLOSE_AUTH_FAILED);
  }

  #armKeyExpiry(s: Session, expiresAt: number | undefined): void {
    const a = s.auth as AuthState;
    if (a.keyTimer !== undefined) clearTimeout(a.keyTimer);
    a.keyTimer = undefined;
    if (expiresAt === undefined) return;
    const delay = expiresAt - Date.now();
    if (delay > 0x7fff_ffff) return; // re-armed on reload; no session lives that long unreloaded
    a.keyTimer = setTimeout(() => this.revoke(s, 'CB_ERR_KEY_EXPIRED', `key ${a.keyId} of app ${a.app} expired`), Math.max(0, delay));
    unrefTimer(a.keyTimer);
  }

  /** Closes a session whose access ended (revoked app or key, expired key, abuse), with the code. */
  revoke(s: Session, code: 'CB_ERR_KEY_EXPIRED' | 'CB_ERR_REVOKED' | 'CB_ERR_ABUSIVE', message: string): void {
    if (s.state !== 'open' && s.state !== 'auth') return;
    this.#auditEvent({
      actor: this.#actor(s),
      action: code === 'CB_ERR_ABUSIVE' ? 'abuse' : 'revoke',
      outcome: 'denied',
      reason: `${code}: ${message}`,
    });
    this.#sessions.fail(s, createError(code, message), CLOSE_REVOKED);
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
        this.revoke(
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
          payload: encodeJson({ grants: sec.grantsFor(app) }),
          headers: { [HEADER_GRANTS]: 'update' },
        }),
      );
      for (const sub of [...s.routing.subscriptions.values()]) {
        const problem = this.#subscribeProblem(s, sub.pattern, true);
        if (problem === undefined) continue;
        this.#router.remove(s, sub);
        ended++;
        this.#auditEvent({
          actor: this.#actor(s),
          action: 'subscribe',
          target: sub.pattern,
          outcome: 'denied',
          reason: `CB_ERR_FORBIDDEN: ${problem} (after a config change)`,
        });
        this.#replyError(s, 0, 'CB_ERR_FORBIDDEN', `subscription ${JSON.stringify(sub.pattern)} ended: ${problem}`, {
          sid: sub.sid,
          pattern: sub.pattern,
        });
        this.#events.emit('unsubscription', {
          connectionId: s.connectionId,
          name: s.name,
          sid: sub.sid,
          pattern: sub.pattern,
          group: sub.group,
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
  #deny(s: Session, id: number, action: string, target: string, reason: string, extra?: Record<string, unknown>): void {
    const sec = this.#sec;
    this.#auditEvent({ actor: this.#actor(s), action, target, outcome: 'denied', reason: `CB_ERR_FORBIDDEN: ${reason}` });
    this.#replyError(s, id, 'CB_ERR_FORBIDDEN', `${action} ${JSON.stringify(target)} is not allowed: ${reason}`, {
      action,
      target,
      ...extra,
    });
    if (sec.violation(s.auth.app, 'forbidden') === 'disconnect')
      this.revoke(s, 'CB_ERR_ABUSIVE', `app ${s.auth.app} kept violating its grants`);
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
        this.#deny(s, env.id, env.kind === Kind.REPLY ? 'reply' : action, topic, 'replies go only to the inbox of a request you received');
        return false;
      }
      a.replyPermits.delete(topic);
    } else {
      if (env.kind === Kind.REQUEST && !env.replyTo.startsWith(`${inbox}.`)) {
        this.#deny(s, env.id, 'request', topic, `replyTo must be your own inbox (${inbox}.*)`);
        return false;
      }
      if (env.replyTo !== '' && env.kind !== Kind.REQUEST && !env.replyTo.startsWith(`${inbox}.`)) {
        this.#deny(s, env.id, action, topic, `replyTo must be your own inbox (${inbox}.*)`);
        return false;
      }
      const verdict = sec.check(app, action, topic);
      if (!verdict.allowed) {
        this.#deny(s, env.id, action, topic, verdict.reason);
        return false;
      }
      if (verdict.ask && sec.consentGranted?.(app, action, verdict.rule) !== true) {
        this.#holdForConsent(s, env, action, verdict.rule, buf.slice(start, end));
        return false;
      }
    }
    const rate = sec.rate(app, topic);
    if (!rate.ok) {
      this.#auditEvent({
        actor: this.#actor(s),
        action: 'rate-limit',
        target: topic,
        outcome: 'denied',
        reason: `CB_ERR_RATE_LIMITED: ${rate.scope}${rate.rule ? ` ${rate.rule}` : ''}`,
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
      if (verdict === 'disconnect') this.revoke(s, 'CB_ERR_ABUSIVE', `app ${app} kept exceeding its rate limit`);
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
      this.revoke(s, 'CB_ERR_ABUSIVE', `app ${app} kept sending invalid frames`);
    }
  }
}

export function isInboxPattern(pattern: string): boolean {
  return pattern === INBOX_ROOT.slice(0, -1) || pattern.startsWith(INBOX_ROOT);
}

/** '_INBOX.<token>' of an inbox topic. */
export function inboxOf(topic: string): string {
  const dot = topic.indexOf('.', INBOX_ROOT.length);
  return dot < 0 ? topic : topic.slice(0, dot);
}

/** Lets a connection that received a request answer its replyTo, once. */
export function grantReply(s: Session, replyTo: string): void {
  const permits = (s.auth as AuthState).replyPermits;
  if (permits.size >= MAX_REPLY_PERMITS) {
    const oldest = permits.keys().next().value;
    if (oldest !== undefined) permits.delete(oldest);
  }
  permits.set(replyTo, Date.now() + REPLY_PERMIT_MS);
}
