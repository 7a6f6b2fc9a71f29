/**
 * Authentication with an app secret: the mutual handshake (ECDHE + PSK through HKDF) and record
 * protection. The Bus reaches it through the small SecretAuth interface, so that a page client
 * that authenticates by its origin (`crossbus/page`) carries none of this code.
 */
import type { CrossbusError } from '../core/errors/index.js';
import type { FrameLimits } from '../core/limits.js';
import { ClientHandshake } from '../core/security/client-handshake.js';
import type { CryptoProvider } from '../core/security/crypto.js';
import type { WelcomeAuth } from '../core/security/handshake-messages.js';
import { SecureTransport } from '../core/security/secure-transport.js';
import { createWebCryptoProvider } from '../core/security/webcrypto-provider.js';
import type { Transport } from '../core/transport/transport.js';
import { resolveAuth, type ConnectOptions, type ResolvedAuth } from './options.js';

/** One connection attempt's handshake, over the transport it wraps. */
export interface SecretAuthAttempt {
  /** The wrapped transport: the Bus talks through it. */
  readonly transport: Transport;
  helloAuth(): Record<string, unknown>;
  /** The HELLO's binder header. */
  binder(helloBytes: Uint8Array): Promise<string>;
  /** Checks the hub's proof; resolves with the client's proof and the grants the hub sent. */
  finish(helloBytes: Uint8Array, welcomeBytes: Uint8Array, welcomeAuth: unknown, hubProof: string | undefined): Promise<{
    proof: string;
    welcome: Pick<WelcomeAuth, 'grants' | 'inbox'>;
    /** Switches record protection on, right after the AUTH frame was sent. */
    activate(): void;
  }>;
  /** The hub's limits from WELCOME. */
  setLimits(limits: FrameLimits): void;
}

export interface SecretAuth {
  begin(transport: Transport, limits: FrameLimits, onError: (error: CrossbusError) => void): Promise<SecretAuthAttempt>;
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
    async begin(transport, limits, onError) {
      crypto ??= auth.crypto ?? createWebCryptoProvider();
      const handshake = await ClientHandshake.create({ crypto, secret: auth.secret, group: auth.group, mode: auth.mode });
      const secure: SecureTransport = new SecureTransport(transport, limits, onError);
      return {
        transport: secure,
        helloAuth: () => handshake.helloAuth() as unknown as Record<string, unknown>,
        binder: async (helloBytes) => handshake.binder(helloBytes),
        async finish(helloBytes, welcomeBytes, welcomeAuth, hubProof) {
          const session = await handshake.finish(helloBytes, welcomeBytes, welcomeAuth as WelcomeAuth | undefined, hubProof);
          return {
            proof: session.proof,
            welcome: session.welcome,
            activate: () => {
              secure.protectOutbound(session.sealer);
              secure.protectInbound(session.opener);
            },
          };
        },
        setLimits: (l) => secure.setLimits(l),
      };
    },
  };
}
