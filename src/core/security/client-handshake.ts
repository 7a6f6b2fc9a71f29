import { createError } from '../errors/index.js';
import { fromBase64, toBase64 } from './bytes.js';
import type { Awaitable, CryptoProvider, EphemeralKeyPair, KeyExchangeGroup } from './crypto.js';
import { AUTH_SCHEME, type HelloAuth, type WelcomeAuth } from './handshake-messages.js';
import { pskSecrets, sessionSecrets, transcriptHash, type PskSecrets } from './key-schedule.js';
import { then } from './maybe.js';
import { RecordOpener, RecordSealer, recordSuite, type IntegrityAlgorithm, type ProtectionMode } from './record.js';
import { DEFAULT_INTEGRITY_ALGORITHMS, DEFAULT_REKEY_AFTER_BYTES } from '../defaults.js';

export interface ClientHandshakeOptions {
  crypto: CryptoProvider;
  secret: Uint8Array;
  group: KeyExchangeGroup;
  mode: ProtectionMode;
  /** With mode 'integrity': the algorithms to offer, in order of preference. @default DEFAULT_INTEGRITY_ALGORITHMS */
  integrity?: readonly IntegrityAlgorithm[];
  now?: () => number;
}

export interface ClientSession {
  /** AUTH frame proof (base64). */
  proof: string;
  sealer: RecordSealer;
  opener: RecordOpener;
  welcome: WelcomeAuth;
}

function hubAuthFailed(message: string) {
  return createError('CB_ERR_HUB_AUTH_FAILED', message);
}

/**
 * The client's side of the handshake. One instance per connection attempt: its ephemeral key is
 * used once and dropped with it.
 */
export class ClientHandshake {
  private constructor(
    private readonly o: ClientHandshakeOptions,
    private readonly psk: PskSecrets,
    private readonly pair: EphemeralKeyPair,
    private readonly nonce: Uint8Array,
  ) {}

  static create(o: ClientHandshakeOptions): Awaitable<ClientHandshake> {
    return then(pskSecrets(o.crypto, o.secret), (psk) =>
      then(o.crypto.generateKeyPair(o.group), (pair) => new ClientHandshake(o, psk, pair, o.crypto.randomBytes(32))),
    );
  }

  helloAuth(): HelloAuth {
    const auth: HelloAuth = {
      scheme: AUTH_SCHEME,
      keyId: this.psk.keyId,
      group: this.o.group,
      share: toBase64(this.pair.publicKey),
      nonce: toBase64(this.nonce),
      time: (this.o.now ?? Date.now)(),
      mode: this.o.mode,
    };
    if (this.o.mode === 'integrity') auth.integrity = [...this.offered()];
    return auth;
  }

  private offered(): readonly IntegrityAlgorithm[] {
    return this.o.integrity ?? DEFAULT_INTEGRITY_ALGORITHMS;
  }

  /** HMAC over the exact HELLO payload bytes, keyed from the secret. */
  binder(helloPayload: Uint8Array): Awaitable<string> {
    const c = this.o.crypto;
    return then(c.sha256(helloPayload), (h) => then(c.hmacSha256(this.psk.binderKey, h), toBase64));
  }

  /**
   * Checks the hub's proof over the transcript (a hub that does not know the secret cannot make it)
   * and derives the session's record keys. Throws CB_ERR_HUB_AUTH_FAILED.
   */
  finish(
    helloPayload: Uint8Array,
    welcomePayload: Uint8Array,
    auth: WelcomeAuth | null | undefined,
    hubProof: string | undefined,
  ): Awaitable<ClientSession> {
    if (auth === null || auth === undefined || typeof auth !== 'object' || hubProof === undefined) {
      throw hubAuthFailed('the hub did not authenticate itself (a hub started with --insecure, or not the hub you think)');
    }
    // The hub's choice must be one we offered: anything else is a downgrade or a confused hub. A
    // hub older than the negotiation names none and speaks HMAC-SHA256 only; its WELCOME is under
    // its proof like any other, so taking that as its answer gives nobody in between a choice.
    const integrity = this.o.mode === 'integrity' ? (auth.integrity ?? 'hmac-sha256') : auth.integrity;
    const integrityOk = this.o.mode === 'integrity' ? this.offered().includes(integrity as IntegrityAlgorithm) : integrity === undefined;
    if (
      auth.scheme !== AUTH_SCHEME ||
      auth.group !== this.o.group ||
      auth.mode !== this.o.mode ||
      !integrityOk ||
      typeof auth.share !== 'string'
    ) {
      throw hubAuthFailed('the hub answered with different security parameters than offered');
    }
    const share = fromBase64(auth.share);
    const proof = fromBase64(hubProof);
    if (share === undefined || proof === undefined) throw hubAuthFailed('the hub sent a malformed key share or proof');
    const c = this.o.crypto;
    return then(transcriptHash(c, helloPayload, welcomePayload), (th) =>
      then(c.deriveSharedSecret(this.pair, share), (shared) =>
        then(sessionSecrets(c, this.psk, shared, th), (keys) =>
          then(c.hmacKey(keys.hubProofKey), (mac) =>
            then(mac.verify(proof, th), (ok) => {
              if (!ok) throw hubAuthFailed('the hub could not prove it knows the secret (a fake hub, or a different secret)');
              return then(c.hmacSha256(keys.clientProofKey, th), (clientProof) => {
                const rekey = { afterRecords: auth.rekey.afterRecords, afterMs: auth.rekey.afterMs, afterBytes: DEFAULT_REKEY_AFTER_BYTES };
                const suite = recordSuite(this.o.mode, integrity);
                return {
                  proof: toBase64(clientProof),
                  sealer: new RecordSealer(c, suite, keys.c2h, rekey, this.o.now),
                  opener: new RecordOpener(c, suite, keys.h2c, auth.maxClockSkewMs, this.o.now),
                  welcome: auth,
                };
              });
            }),
          ),
        ),
      ),
    );
  }
}
