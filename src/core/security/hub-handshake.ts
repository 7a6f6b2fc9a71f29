import { SecurityError, type ErrorCode } from '../errors/index.js';
import type { HelloPayload } from '../protocol/handshake.js';
import { fromBase64, toBase64 } from './bytes.js';
import {
  KEY_EXCHANGE_GROUPS,
  type Awaitable,
  type CryptoProvider,
  type EphemeralKeyPair,
  type KeyExchangeGroup,
  type Mac,
} from './crypto.js';
import { AUTH_SCHEME, type HelloAuth, type WelcomeAuth } from './handshake-messages.js';
import { pskSecrets, sessionSecrets, transcriptHash, type PskSecrets, type SessionSecrets } from './key-schedule.js';
import { then } from './maybe.js';
import { RecordOpener, RecordSealer, recordSuite, type IntegrityAlgorithm, type ProtectionMode } from './record.js';
import { DEFAULT_REKEY_AFTER_BYTES } from '../defaults.js';

/** One of an app's secrets, with an optional validity window (ms since epoch). */
export interface AppKey {
  readonly id: string;
  readonly secret: Uint8Array;
  readonly notBefore?: number | undefined;
  readonly expiresAt?: number | undefined;
}

/**
 * A refused handshake. `message` and `code` go to the peer; `auditReason` (which may say "unknown
 * app" or "wrong secret") goes only to the audit log, so that a stranger learns nothing useful.
 */
export class HandshakeRefused extends SecurityError {
  override name = 'HandshakeRefused';
  constructor(
    code: ErrorCode,
    message: string,
    readonly auditReason: string,
    readonly app?: string,
  ) {
    super(code, message);
  }
}

/** The secrets' derived values are cached per key object (a reload brings new objects). */
export class KeyRing {
  private readonly cache = new WeakMap<AppKey, Awaitable<PskSecrets>>();
  /** The MAC that checks HELLO binders, per key: importing its key once, not once per handshake. */
  private readonly binderMacs = new WeakMap<AppKey, Awaitable<Mac>>();
  constructor(private readonly crypto: CryptoProvider) {}

  binderMac(key: AppKey, psk: PskSecrets): Awaitable<Mac> {
    let m = this.binderMacs.get(key);
    if (m === undefined) {
      m = this.crypto.hmacKey(psk.binderKey);
      this.binderMacs.set(key, m);
    }
    return m;
  }

  secrets(key: AppKey): Awaitable<PskSecrets> {
    let s = this.cache.get(key);
    if (s === undefined) {
      s = pskSecrets(this.crypto, key.secret);
      this.cache.set(key, s);
    }
    return s;
  }

  /** The key whose derived id is `keyId`, with its secrets, or undefined. */
  find(keys: readonly AppKey[], keyId: string): Awaitable<{ key: AppKey; psk: PskSecrets } | undefined> {
    const search = (i: number): Awaitable<{ key: AppKey; psk: PskSecrets } | undefined> => {
      const key = keys[i];
      if (key === undefined) return undefined;
      return then(this.secrets(key), (psk) => (psk.keyId === keyId ? { key, psk } : search(i + 1)));
    };
    return search(0);
  }
}

export interface HubHandshakeContext {
  readonly crypto: CryptoProvider;
  readonly keyRing: KeyRing;
  readonly now: () => number;
  readonly maxClockSkewMs: number;
  /** 'required' refuses integrity-only clients. */
  readonly encryption: 'required' | 'preferred';
  /** Integrity-only algorithms this hub accepts; it picks the first of the client's offer among them. */
  readonly integrityAlgorithms: readonly IntegrityAlgorithm[];
  readonly rekey: { afterRecords: number; afterMs: number };
  /** The app's keys, or undefined for an unknown app. */
  keysOf(app: string): readonly AppKey[] | undefined;
}

const GENERIC = 'authentication failed';
/** Integrity algorithms a HELLO may offer: more than there are is an attempt to make the hub work. */
const MAX_OFFERED = 8;

/**
 * The integrity algorithm for a session: the first the client offered that the hub accepts. A
 * client older than the negotiation offers nothing and knew HMAC-SHA256 only. Names the hub does
 * not know are skipped (a newer client may offer them).
 */
function chooseIntegrity(ctx: HubHandshakeContext, offered: readonly string[] | undefined, app: string): IntegrityAlgorithm {
  // The hub's list holds known names only (its config is validated), so an unknown offer never matches.
  const accepted: readonly string[] = ctx.integrityAlgorithms;
  const chosen = (offered ?? ['hmac-sha256']).find((a): a is IntegrityAlgorithm => accepted.includes(a));
  if (chosen === undefined) {
    refuse(
      'CB_ERR_HANDSHAKE_FAILED',
      `no integrity algorithm in common: this hub accepts ${ctx.integrityAlgorithms.join(', ')}`,
      'no common integrity algorithm',
      app,
    );
  }
  return chosen;
}

function refuse(code: ErrorCode, message: string, auditReason: string, app?: string): never {
  throw new HandshakeRefused(code, message, auditReason, app);
}

/**
 * The hub's side of one handshake: HELLO (checked: app, key id, binder, validity, clock) ->
 * WELCOME with the hub's share and proof -> AUTH with the client's proof -> record keys.
 */
export class HubHandshake {
  private secrets: SessionSecrets | undefined;
  private th: Uint8Array | undefined;

  private constructor(
    private readonly ctx: HubHandshakeContext,
    readonly app: string,
    readonly key: AppKey,
    readonly mode: ProtectionMode,
    /** With mode 'integrity': the algorithm chosen from the client's offer. */
    readonly integrity: IntegrityAlgorithm | undefined,
    readonly group: KeyExchangeGroup,
    private readonly psk: PskSecrets,
    private readonly pair: EphemeralKeyPair,
    private readonly clientShare: Uint8Array,
    private readonly helloBytes: Uint8Array,
    private readonly nonce: Uint8Array,
  ) {}

  /** Validates a HELLO. Throws HandshakeRefused (synchronously or as a rejection). */
  static begin(ctx: HubHandshakeContext, hello: HelloPayload, helloBytes: Uint8Array, binder: string | undefined): Awaitable<HubHandshake> {
    const app = hello.name;
    const auth = hello.auth as Partial<HelloAuth> | null | undefined;
    if (auth === null || auth === undefined) {
      refuse('CB_ERR_AUTH_REQUIRED', 'this hub requires authentication: connect with { name, secret }', 'no credentials', app);
    }
    if (typeof auth !== 'object' || auth.scheme !== AUTH_SCHEME)
      refuse('CB_ERR_AUTH_FAILED', `unsupported auth scheme (this hub speaks ${AUTH_SCHEME})`, 'unsupported scheme', app);
    const group = auth.group as KeyExchangeGroup;
    if (!KEY_EXCHANGE_GROUPS.includes(group))
      refuse('CB_ERR_AUTH_FAILED', `unsupported key exchange group (use ${KEY_EXCHANGE_GROUPS.join(' or ')})`, 'bad group', app);
    const mode = auth.mode;
    if (mode !== 'encrypt' && mode !== 'integrity') refuse('CB_ERR_AUTH_FAILED', 'mode must be encrypt or integrity', 'bad mode', app);
    if (
      typeof auth.keyId !== 'string' ||
      typeof auth.share !== 'string' ||
      typeof auth.nonce !== 'string' ||
      typeof auth.time !== 'number' ||
      binder === undefined
    ) {
      refuse('CB_ERR_AUTH_FAILED', GENERIC, 'malformed hello auth', app);
    }
    const offered: unknown = auth.integrity;
    if (
      offered !== undefined &&
      (!Array.isArray(offered) || offered.length > MAX_OFFERED || !offered.every((a) => typeof a === 'string'))
    ) {
      refuse('CB_ERR_AUTH_FAILED', GENERIC, 'malformed integrity offer', app);
    }
    const share = fromBase64(auth.share);
    const binderBytes = fromBase64(binder);
    if (share === undefined || binderBytes === undefined) refuse('CB_ERR_AUTH_FAILED', GENERIC, 'malformed share or binder', app);
    const keys = ctx.keysOf(app);
    if (keys === undefined) refuse('CB_ERR_AUTH_FAILED', GENERIC, 'unknown app', app);
    const c = ctx.crypto;
    const keyId = auth.keyId;
    const time = auth.time;
    return then(ctx.keyRing.find(keys, keyId), (found) => {
      if (found === undefined) refuse('CB_ERR_AUTH_FAILED', GENERIC, `unknown key id ${keyId.slice(0, 16)}`, app);
      return then(c.sha256(helloBytes), (h) =>
        then(ctx.keyRing.binderMac(found.key, found.psk), (mac) =>
          then(mac.verify(binderBytes, h), (ok) => {
            if (!ok) refuse('CB_ERR_AUTH_FAILED', GENERIC, 'wrong secret (binder does not verify)', app);
            // From here on the client has shown it holds the secret: precise errors are safe.
            const now = ctx.now();
            const k = found.key;
            if ((k.notBefore !== undefined && now < k.notBefore) || (k.expiresAt !== undefined && now >= k.expiresAt)) {
              refuse('CB_ERR_KEY_EXPIRED', `key ${k.id} of app ${app} is not valid now`, `key ${k.id} outside its validity window`, app);
            }
            const skew = time - now;
            if (skew > ctx.maxClockSkewMs || skew < -ctx.maxClockSkewMs) {
              refuse(
                'CB_ERR_CLOCK_SKEW',
                `hello timestamp is ${Math.round(skew / 1000)} s off (window ±${ctx.maxClockSkewMs / 1000} s)`,
                `hello clock skew ${skew} ms`,
                app,
              );
            }
            if (ctx.encryption === 'required' && mode === 'integrity') {
              refuse(
                'CB_ERR_FORBIDDEN',
                'this hub requires encryption; integrity-only sessions are refused',
                'integrity-only refused',
                app,
              );
            }
            const integrity = mode === 'integrity' ? chooseIntegrity(ctx, offered as string[] | undefined, app) : undefined;
            return then(
              c.generateKeyPair(group),
              (pair) => new HubHandshake(ctx, app, k, mode, integrity, group, found.psk, pair, share, helloBytes, c.randomBytes(32)),
            );
          }),
        ),
      );
    });
  }

  welcomeAuth(fields: Pick<WelcomeAuth, 'inbox' | 'grants'>): WelcomeAuth {
    const out: WelcomeAuth = {
      scheme: AUTH_SCHEME,
      group: this.group,
      share: toBase64(this.pair.publicKey),
      nonce: toBase64(this.nonce),
      mode: this.mode,
      app: this.app,
      inbox: fields.inbox,
      grants: fields.grants,
      rekey: { ...this.ctx.rekey },
      maxClockSkewMs: this.ctx.maxClockSkewMs,
    };
    if (this.integrity !== undefined) out.integrity = this.integrity;
    if (this.key.expiresAt !== undefined) out.keyExpiresAt = this.key.expiresAt;
    return out;
  }

  /** The hub's proof over the transcript, for the WELCOME header. */
  prove(welcomeBytes: Uint8Array): Awaitable<string> {
    const c = this.ctx.crypto;
    return then(transcriptHash(c, this.helloBytes, welcomeBytes), (th) =>
      then(c.deriveSharedSecret(this.pair, this.clientShare), (shared) =>
        then(sessionSecrets(c, this.psk, shared, th), (secrets) => {
          this.secrets = secrets;
          this.th = th;
          return then(c.hmacSha256(secrets.hubProofKey, th), toBase64);
        }),
      ),
    );
  }

  /** Checks the client's AUTH proof; returns the record keys. Throws HandshakeRefused. */
  verifyClient(proof: string | undefined): Awaitable<{ sealer: RecordSealer; opener: RecordOpener }> {
    const secrets = this.secrets;
    const th = this.th;
    const bytes = proof === undefined ? undefined : fromBase64(proof);
    if (secrets === undefined || th === undefined || bytes === undefined)
      refuse('CB_ERR_AUTH_FAILED', GENERIC, 'AUTH without a proof', this.app);
    const c = this.ctx.crypto;
    return then(c.hmacKey(secrets.clientProofKey), (mac) =>
      then(mac.verify(bytes, th), (ok) => {
        if (!ok) refuse('CB_ERR_AUTH_FAILED', GENERIC, 'client proof does not verify (replayed hello or wrong ephemeral key)', this.app);
        const rekey = { ...this.ctx.rekey, afterBytes: DEFAULT_REKEY_AFTER_BYTES };
        const suite = recordSuite(this.mode, this.integrity);
        return {
          sealer: new RecordSealer(c, suite, secrets.h2c, rekey, this.ctx.now),
          opener: new RecordOpener(c, suite, secrets.c2h, this.ctx.maxClockSkewMs, this.ctx.now),
        };
      }),
    );
  }
}
