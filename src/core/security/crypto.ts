/**
 * The cryptographic primitives the security layer needs, behind one interface so that the same
 * handshake and channel code runs on Node's crypto (synchronous, fastest) and on WebCrypto
 * (asynchronous; browsers, extension service workers). Implementations:
 *   - `createWebCryptoProvider()` in ./webcrypto-provider.ts (isomorphic: globalThis.crypto.subtle)
 *   - `createNodeCryptoProvider()` in src/node/crypto/node-provider.ts (node:crypto)
 *
 * Methods return `Awaitable` values: the Node provider answers synchronously, which lets the
 * channel seal and open records without a promise per batch; callers must accept both.
 */
import { isThenable } from '../util/thenable.js';

export type Awaitable<T> = T | Promise<T>;

/** Ephemeral key-exchange groups, named as in TLS. */
export type KeyExchangeGroup = 'P-256' | 'X25519';
export const KEY_EXCHANGE_GROUPS: readonly KeyExchangeGroup[] = Object.freeze(['P-256', 'X25519']);

export interface EphemeralKeyPair {
  readonly group: KeyExchangeGroup;
  /** Raw public key: 65-byte uncompressed point (0x04 || X || Y) for P-256, 32 bytes for X25519. */
  readonly publicKey: Uint8Array;
  /** Opaque, provider-specific private key handle. Never serialized. */
  readonly privateKey: unknown;
}

/** AES-GCM output with the tag apart: a record carries the tag before the ciphertext. */
export interface SealedParts {
  /** As long as the plaintext. */
  readonly ciphertext: Uint8Array;
  /** 16 bytes. */
  readonly tag: Uint8Array;
}

/**
 * AES-256-GCM under one key: 12-byte nonces, 16-byte tags. Ciphertext and tag travel apart so
 * that the record layer writes each where it belongs instead of joining and splitting them.
 */
export interface Aead {
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Awaitable<SealedParts>;
  /** Returns the plaintext, or null when the tag does not verify (never throws for a bad tag). */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Awaitable<Uint8Array | null>;
}

/**
 * AES-256-GMAC under one key (NIST SP 800-38D): AES-GCM with the data as additional data and an
 * empty plaintext. 12-byte nonces, which must never repeat under the key; 16-byte tags.
 */
export interface Gmac {
  /** 16-byte tag over the concatenation of `parts`. */
  sign(nonce: Uint8Array, ...parts: Uint8Array[]): Awaitable<Uint8Array>;
  /** Checks a tag in constant time (a tag of any other length than 16 is false; never throws for a bad tag). */
  verify(nonce: Uint8Array, tag: Uint8Array, ...parts: Uint8Array[]): Awaitable<boolean>;
}

/** HMAC-SHA256 under one key. */
export interface Mac {
  /** 32-byte tag over the concatenation of `parts`. */
  sign(...parts: Uint8Array[]): Awaitable<Uint8Array>;
  /** Constant-time check of a tag (a tag of any other length than 32 is false). */
  verify(tag: Uint8Array, ...parts: Uint8Array[]): Awaitable<boolean>;
}

/**
 * A P-256 private key as a JWK (RFC 7517), the members `importPrivateKey` reads. Named here rather
 * than as WebCrypto's global `JsonWebKey`, so that the published declarations compile without the
 * DOM library (a DOM `JsonWebKey` is one).
 */
export interface EcPrivateKeyJwk {
  kty?: string;
  crv?: string;
  d?: string;
  x?: string;
  y?: string;
}

export interface CryptoProvider {
  /** 'node' or 'webcrypto', for diagnostics and tests. */
  readonly name: string;
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): Awaitable<Uint8Array>;
  hmacSha256(key: Uint8Array, data: Uint8Array): Awaitable<Uint8Array>;
  /** RFC 5869 HKDF-Extract with SHA-256 (an empty salt means 32 zero bytes). */
  hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Awaitable<Uint8Array>;
  /** RFC 5869 HKDF-Expand with SHA-256; length <= 255*32, else throws. */
  hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Awaitable<Uint8Array>;
  generateKeyPair(group: KeyExchangeGroup): Awaitable<EphemeralKeyPair>;
  /**
   * Imports a private key (for tests against published vectors): a JWK for P-256 (kty EC with
   * d, x, y), or the raw 32-byte scalar for X25519.
   */
  importPrivateKey(group: KeyExchangeGroup, key: EcPrivateKeyJwk | Uint8Array): Awaitable<EphemeralKeyPair>;
  /**
   * ECDH shared secret (32 bytes) with a peer's raw public key. Throws a CrossbusError with code
   * CB_ERR_AUTH_FAILED for a malformed public key, a point not on the curve, or (X25519) an
   * all-zero result from a low-order point.
   */
  deriveSharedSecret(own: EphemeralKeyPair, peerPublicKey: Uint8Array): Awaitable<Uint8Array>;
  aes256gcm(key: Uint8Array): Awaitable<Aead>;
  /** AES-256-GMAC: integrity-only records by default. */
  aes256gmac(key: Uint8Array): Awaitable<Gmac>;
  hmacKey(key: Uint8Array): Awaitable<Mac>;
}

/** Constant-time equality of two byte strings (length is not secret). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return isThenable(value);
}
