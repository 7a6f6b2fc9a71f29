/**
 * Authentication with an app secret: the mutual handshake (ECDHE + PSK through HKDF) and record
 * protection. The Bus reaches it through the small SecretAuth interface, so that a page client
 * that authenticates by its origin (`crossbus/page`) carries none of this code.
 */
import { ConfigError, type CrossbusError } from '../core/errors/index.js';
import type { FrameLimits } from '../core/limits.js';
import { encodeFrame } from '../core/protocol/codec.js';
import { Kind, envelope, type Envelope, type Headers } from '../core/protocol/envelope.js';
import { fromBase64 } from '../core/security/bytes.js';
import { ClientHandshake } from '../core/security/client-handshake.js';
import type { CryptoProvider, KeyExchangeGroup } from '../core/security/crypto.js';
import { HEADER_BINDER, HEADER_PROOF, type WelcomeAuth } from '../core/security/handshake-messages.js';
import { INTEGRITY_ALGORITHMS, type IntegrityAlgorithm, type ProtectionMode } from '../core/security/record.js';
import { SecureTransport } from '../core/security/secure-transport.js';
import { createWebCryptoProvider } from '../core/security/webcrypto-provider.js';
import { CLOSE_AUTH_FAILED, type Transport } from '../core/transport/transport.js';
import { encodeJson } from '../core/util/json.js';
import type { HelloPayload } from '../core/protocol/handshake.js';
import type { ConnectOptions } from './options.js';
import { DEFAULT_INTEGRITY_ALGORITHMS, DEFAULT_KEY_EXCHANGE_GROUP, DEFAULT_PROTECTION_MODE, MIN_SECRET_BYTES } from '../core/defaults.js';

/**
 * How a secret handshake awaits the hub's answer on the connection it authenticates (the
 * Connection gives it this): resolves with the hub's OK to the frame with operation id `id`, which
 * the handshake sends next; rejects with the attempt's error (closed, refused, timed out).
 */
export type HandshakeAnswer = (id: number) => Promise<Envelope>;

/** One connection attempt's handshake, over the transport it wraps. */
export interface SecretAuthAttempt {
  /** The wrapped transport: the Bus talks through it. */
  readonly transport: Transport;
  /** What HELLO carries: `hello` with the client's half of the key exchange, and its headers (the binder over those bytes). */
  hello(hello: HelloPayload): Promise<{ payload: Uint8Array; headers: Headers }>;
  /**
   * After WELCOME: checks the hub's proof, sends the client's (AUTH), switches record protection
   * on and waits for the hub's OK, the first protected record. Resolves with the grants and the
   * inbox the hub sent.
   */
  authenticate(welcome: Envelope, welcomeAuth: unknown, answer: HandshakeAnswer): Promise<Pick<WelcomeAuth, 'grants' | 'inbox'>>;
  /** The hub's limits from WELCOME. */
  setLimits(limits: FrameLimits): void;
}

export interface SecretAuth {
  /**
   * Wraps `transport` in the record layer (and closes it when that fails). A record that fails
   * later (integrity, replay, clock) is reported to `host` and closes the connection
   * (CLOSE_AUTH_FAILED).
   */
  begin(transport: Transport, limits: FrameLimits, host: SecretAuthHost): Promise<SecretAuthAttempt>;
}

/** What a secret handshake needs of the Bus it authenticates. */
export interface SecretAuthHost {
  /** A new operation id: the AUTH frame's. */
  opId(): number;
  /** A record failed after the handshake: the Bus's error event. */
  reportError(error: CrossbusError, context: Record<string, unknown>): void;
}

export interface ResolvedAuth {
  secret: Uint8Array;
  mode: ProtectionMode;
  /** What to offer for mode 'integrity'. */
  integrityAlgorithms: readonly IntegrityAlgorithm[];
  group: KeyExchangeGroup;
  crypto: CryptoProvider | undefined;
}

/**
 * The secret and security options, checked and copied; undefined without a secret. Only builds
 * with secret authentication carry it (through this plugin), so a page client does not carry
 * base64 parsing or the record layer's names.
 */
export function resolveAuth(o: ConnectOptions): ResolvedAuth | undefined {
  if (o.secret === undefined) return undefined; // `security` without a secret: refused by resolveConnectOptions
  if (o.name === undefined) throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'a secret needs the app name it belongs to (name)');
  // Copied, so that a caller wiping its buffer later does not change ours (and we never mutate theirs).
  const secret = typeof o.secret === 'string' ? fromBase64(o.secret.trim()) : o.secret instanceof Uint8Array ? o.secret.slice() : undefined;
  if (secret === undefined || secret.length < MIN_SECRET_BYTES) {
    // The message never repeats the secret.
    throw new ConfigError('CB_ERR_INVALID_OPTION', `secret must be base64 text or bytes of at least ${MIN_SECRET_BYTES} bytes`);
  }
  const s = o.security ?? {};
  const mode = s.mode ?? DEFAULT_PROTECTION_MODE;
  if (mode !== 'encrypt' && mode !== 'integrity')
    throw new ConfigError('CB_ERR_INVALID_OPTION', "security.mode must be 'encrypt' or 'integrity'");
  const group = s.group ?? DEFAULT_KEY_EXCHANGE_GROUP;
  if (group !== 'P-256' && group !== 'X25519') throw new ConfigError('CB_ERR_INVALID_OPTION', "security.group must be 'P-256' or 'X25519'");
  const offered = s.integrityAlgorithms;
  if (offered !== undefined) {
    if (mode !== 'integrity')
      throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', "security.integrityAlgorithms applies to mode 'integrity' only", {
        details: { option: 'integrityAlgorithms' },
      });
    const known = INTEGRITY_ALGORITHMS as readonly unknown[];
    if (
      !Array.isArray(offered) ||
      offered.length === 0 ||
      !offered.every((a) => known.includes(a)) ||
      new Set(offered).size !== offered.length
    ) {
      throw new ConfigError(
        'CB_ERR_INVALID_OPTION',
        `security.integrityAlgorithms must list distinct names from ${INTEGRITY_ALGORITHMS.join(', ')}`,
        { details: { option: 'integrityAlgorithms' } },
      );
    }
  }
  const integrityAlgorithms = Object.freeze([...(offered ?? DEFAULT_INTEGRITY_ALGORITHMS)]);
  return Object.freeze({ secret, mode, integrityAlgorithms, group, crypto: s.crypto });
}

/** The Bus plugin: secret authentication when `options` carry a secret (checked here), else none. */
export function secretAuthFromOptions(options: ConnectOptions): SecretAuth | undefined {
  const auth = resolveAuth(options);
  return auth === undefined ? undefined : createSecretAuth(auth);
}

/** The secret handshake for one Bus (its crypto provider is made once and reused). */
export function createSecretAuth(auth: ResolvedAuth): SecretAuth {
  let crypto: CryptoProvider | undefined;
  return {
    async begin(transport, limits, host) {
      let handshake: ClientHandshake;
      let secure: SecureTransport;
      try {
        crypto ??= auth.crypto ?? createWebCryptoProvider();
        handshake = await ClientHandshake.create({
          crypto,
          secret: auth.secret,
          group: auth.group,
          mode: auth.mode,
          integrity: auth.integrityAlgorithms,
        });
        secure = new SecureTransport(transport, limits, (error) => {
          host.reportError(error, {});
          secure.close(CLOSE_AUTH_FAILED, error.code);
        });
      } catch (err) {
        transport.close();
        throw err;
      }
      /** The HELLO as sent: the handshake binds it, and the hub proves it saw the same bytes. */
      let helloBytes: Uint8Array = new Uint8Array(0);
      return {
        transport: secure,
        async hello(hello) {
          helloBytes = encodeJson({ ...hello, auth: handshake.helloAuth() as unknown as Record<string, unknown> });
          return { payload: helloBytes, headers: { [HEADER_BINDER]: await handshake.binder(helloBytes) } };
        },
        async authenticate(welcome, welcomeAuth, answer) {
          const session = await handshake.finish(
            helloBytes,
            welcome.payload.slice(),
            welcomeAuth as WelcomeAuth | undefined,
            welcome.headers?.[HEADER_PROOF],
          );
          const id = host.opId();
          const answered = answer(id);
          // In clear: protection starts right after, and the hub's OK is its first protected record.
          secure.send(encodeFrame(envelope(Kind.AUTH, { id, headers: { [HEADER_PROOF]: session.proof } }), limits));
          secure.protectOutbound(session.sealer);
          secure.protectInbound(session.opener);
          await answered; // the hub's OK, the first protected record: both directions work
          return session.welcome;
        },
        setLimits: (l) => secure.setLimits(l),
      };
    },
  };
}
