import { CrossbusError, ProtocolError, createError } from '../errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../protocol/envelope.js';
import type { HelloPayload, WelcomePayload } from '../protocol/handshake.js';
import type { BrokerSecurity } from '../security/broker-security.js';
import { HEADER_BINDER, HEADER_PROOF, ORIGIN_SCHEME, type OriginWelcomeAuth } from '../security/handshake-messages.js';
import { HandshakeRefused, HubHandshake } from '../security/hub-handshake.js';
import { CERTIFICATE_KEY_PREFIX, ORIGIN_KEY_PREFIX } from '../security/hub-security.js';
import { then } from '../security/maybe.js';
import type { SecureTransport } from '../security/secure-transport.js';
import { CLOSE_AUTH_FAILED } from '../transport/transport.js';
import type { GrantsSummary } from '../security/handshake-messages.js';
import type { TypedEmitter } from '../util/emitter.js';
import { encodeJson } from '../util/json.js';
import { randomHex } from '../util/random.js';
import { unrefTimer } from '../util/timers.js';
import type { BrokerEvents } from './events.js';
import type { GateAudit } from './gate-audit.js';
import type { OutboundQueues } from './outbound-queues.js';
import { type AuthState, INBOX_ROOT } from './session-auth.js';
import type { SessionTable } from './session-table.js';
import type { Session } from './session.js';

/**
 * The hub's side of authentication: HELLO checked (a secret's binder, or the origin a browser
 * transport vouches for), WELCOME with the hub's proof, the client's AUTH proof, then record
 * protection on; a key's expiry closes its sessions, and a record that fails closes its session.
 * Every refusal is audited with its private reason and answered with its public code.
 */
export class HandshakeGate {
  readonly #grantsFor: (app: string) => GrantsSummary;
  readonly #sec: BrokerSecurity;
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #sessions: SessionTable;
  readonly #queues: OutboundQueues;
  readonly #audit: GateAudit;

  constructor(
    sec: BrokerSecurity,
    events: TypedEmitter<BrokerEvents>,
    sessions: SessionTable,
    queues: OutboundQueues,
    audit: GateAudit,
    /** What an app is told it may do (its grants, plus the open system requests). */
    grantsFor: (app: string) => GrantsSummary,
  ) {
    this.#grantsFor = grantsFor;
    this.#sec = sec;
    this.#events = events;
    this.#sessions = sessions;
    this.#queues = queues;
    this.#audit = audit;
  }

  /** HELLO on a secure hub: validates it (app, key, binder, clock), answers WELCOME with the hub's proof. */
  onHello(s: Session, hello: HelloPayload, env: Envelope, welcome: WelcomePayload): void {
    const sec = this.#sec;
    if (hello.auth === undefined || hello.auth === null) {
      // A verified TLS client certificate mapped to an app identifies the client; else the origin.
      const a = s.auth as AuthState;
      const certificate = (a.secure?.inner ?? s.transport).peerCertificate;
      const byCertificate = certificate === undefined ? undefined : sec.identifyCertificate?.(certificate);
      if (byCertificate !== undefined) {
        const keyId = `${CERTIFICATE_KEY_PREFIX}${certificate}`;
        this.#openVouched(s, env.id, welcome, byCertificate.app, keyId, keyId, `certificate ${certificate}`);
        return;
      }
      if (sec.identify !== undefined) {
        this.#onOriginHello(s, env.id, welcome);
        return;
      }
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
        welcome.auth = hs.welcomeAuth({ inbox: a.inbox, grants: this.#grantsFor(hs.app) }) as unknown as Record<string, unknown>;
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
      this.#audit.record({
        actor: this.#audit.actor(s),
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
    this.#openVouched(s, helloId, welcome, id.app, `${ORIGIN_KEY_PREFIX}${origin}`, origin as string, `origin ${origin}`);
  }

  /**
   * Opens a session whose app the transport vouches for (an origin, a TLS client certificate):
   * WELCOME carries the app, its grants and its reply inbox (scheme `origin`; its `origin` is the
   * origin, or `cert:sha256/<hex>` for a certificate); no records, the channel is private to the
   * two ends already (a TLS connection's are the TLS layer's).
   */
  #openVouched(s: Session, helloId: number, welcome: WelcomePayload, app: string, keyId: string, vouched: string, identity: string): void {
    const a = s.auth as AuthState;
    a.app = app;
    a.keyId = keyId;
    a.inbox = `${INBOX_ROOT}${randomHex(12)}`;
    const auth: OriginWelcomeAuth = {
      scheme: ORIGIN_SCHEME,
      app,
      origin: vouched,
      inbox: a.inbox,
      grants: this.#grantsFor(app),
    };
    welcome.auth = auth as unknown as Record<string, unknown>;
    this.#sessions.open(s);
    this.#audit.record({
      actor: this.#audit.actor(s),
      action: 'auth',
      target: identity,
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
        this.#audit.record({
          actor: this.#audit.actor(s),
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
      this.#audit.record({
        actor: { ...this.#audit.actor(s), app: a.app || s.name },
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

  /** A record failed (integrity, replay, clock skew) or a plaintext frame came after the handshake. */
  securityFailure(s: Session, error: CrossbusError): void {
    const sec = this.#sec;
    this.#audit.record({
      actor: this.#audit.actor(s),
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
    a.keyTimer = setTimeout(
      () => this.#audit.revoke(s, 'CB_ERR_KEY_EXPIRED', `key ${a.keyId} of app ${a.app} expired`),
      Math.max(0, delay),
    );
    unrefTimer(a.keyTimer);
  }
}
