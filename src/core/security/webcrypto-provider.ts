/**
 * CryptoProvider on WebCrypto (globalThis.crypto.subtle): Node 20+, browsers, workers and
 * extension service workers. Isomorphic: no Node built-ins, no Buffer. Every method except
 * randomBytes returns a promise.
 */
import { authFailed, checkNonce, invalidOption, jwkBytes } from './crypto-checks.js';
import {
  timingSafeEqual,
  type Aead,
  type CryptoProvider,
  type EcPrivateKeyJwk,
  type EphemeralKeyPair,
  type Gmac,
  type KeyExchangeGroup,
  type Mac,
} from './crypto.js';

const HASH_LEN = 32;
const MAX_HKDF_LENGTH = 255 * HASH_LEN;
const TAG_LEN = 16;
/** getRandomValues refuses more than 65536 bytes per call. */
const RANDOM_CHUNK = 65536;
/** PKCS#8 DER header of an X25519 private key; the 32-byte scalar follows. */
const X25519_PKCS8_PREFIX = hex('302e020100300506032b656e04220420');

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' } as const;
const X25519 = { name: 'X25519' } as const;
const HMAC_SHA256 = { name: 'HMAC', hash: 'SHA-256' } as const;

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * TypeScript's BufferSource excludes views over SharedArrayBuffer; our byte strings never are,
 * and WebCrypto itself rejects them if a caller passes one anyway.
 */
function bs(bytes: Uint8Array): BufferSource {
  return bytes as Uint8Array<ArrayBuffer>;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { name?: string }).name : undefined;
}

function defaultSubtle(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  // Browsers offer it only in secure contexts (https, or http on localhost/127.0.0.1).
  if (subtle === undefined)
    throw invalidOption(
      'WebCrypto (globalThis.crypto.subtle) is not available: browsers provide it only in secure contexts (https:// or localhost)',
    );
  return subtle;
}

/** Private key handle: the CryptoKey plus the group it belongs to (checked on use). */
interface WebPrivateKey {
  readonly kind: 'webcrypto';
  readonly key: CryptoKey;
}

type SubtleMethod = (...args: never[]) => Promise<unknown>;

/**
 * WebCrypto's `SubtleCrypto` (a browser's or Node's `crypto.subtle`), described by the methods
 * this provider calls rather than by the global type name, so that the published declarations
 * compile without the DOM library.
 */
export interface SubtleCryptoLike {
  readonly digest: SubtleMethod;
  readonly importKey: SubtleMethod;
  readonly exportKey: SubtleMethod;
  readonly generateKey: SubtleMethod;
  readonly sign: SubtleMethod;
  readonly encrypt: SubtleMethod;
  readonly decrypt: SubtleMethod;
  readonly deriveBits: SubtleMethod;
}

/** `subtle`: the WebCrypto to use. @default globalThis.crypto.subtle */
export function createWebCryptoProvider(subtle?: SubtleCryptoLike): CryptoProvider {
  const s = (subtle as SubtleCrypto | undefined) ?? defaultSubtle();

  /**
   * HMAC with an empty key equals HMAC with an all-zero key (keys are zero-padded to the block
   * size), and WebCrypto refuses zero-length HMAC keys; RFC 5869's empty salt needs this.
   */
  function importHmac(key: Uint8Array): Promise<CryptoKey> {
    return s.importKey('raw', bs(key.length === 0 ? new Uint8Array(HASH_LEN) : key), HMAC_SHA256, false, ['sign']);
  }

  async function hmacWith(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await s.sign('HMAC', key, bs(data)));
  }

  /** Maps "this runtime has no X25519" to a configuration error, the rest passes through. */
  async function x25519<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (errorName(err) === 'NotSupportedError') throw invalidOption('X25519 is not supported by this WebCrypto', err);
      throw err;
    }
  }

  function ownKey(own: EphemeralKeyPair): CryptoKey {
    const handle = own.privateKey as Partial<WebPrivateKey> | null;
    const algorithm = own.group === 'P-256' ? 'ECDH' : 'X25519';
    if (handle?.kind !== 'webcrypto' || handle.key?.algorithm.name !== algorithm) {
      throw invalidOption('private key does not come from the WebCrypto provider');
    }
    return handle.key;
  }

  function pair(group: KeyExchangeGroup, publicKey: Uint8Array, key: CryptoKey): EphemeralKeyPair {
    const privateKey: WebPrivateKey = { kind: 'webcrypto', key };
    return Object.freeze({ group, publicKey, privateKey });
  }

  const provider: CryptoProvider = {
    name: 'webcrypto',

    randomBytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += RANDOM_CHUNK) globalThis.crypto.getRandomValues(out.subarray(i, i + RANDOM_CHUNK));
      return out;
    },

    async sha256(data) {
      return new Uint8Array(await s.digest('SHA-256', bs(data)));
    },

    async hmacSha256(key, data) {
      return hmacWith(await importHmac(key), data);
    },

    async hkdfExtract(salt, ikm) {
      // PRK = HMAC(salt, IKM); importHmac turns an empty salt into HashLen zero bytes.
      return hmacWith(await importHmac(salt), ikm);
    },

    async hkdfExpand(prk, info, length) {
      if (!Number.isInteger(length) || length < 0 || length > MAX_HKDF_LENGTH) {
        throw invalidOption(`HKDF-Expand length must be an integer in 0..${MAX_HKDF_LENGTH}, got ${length}`);
      }
      const key = await importHmac(prk);
      const okm = new Uint8Array(length);
      // T(i) = HMAC(PRK, T(i-1) || info || i), T(0) = empty.
      let previous: Uint8Array = new Uint8Array(0);
      for (let i = 1, offset = 0; offset < length; i++, offset += HASH_LEN) {
        previous = await hmacWith(key, concat([previous, info, Uint8Array.of(i)]));
        okm.set(previous.subarray(0, Math.min(HASH_LEN, length - offset)), offset);
      }
      return okm;
    },

    async generateKeyPair(group) {
      if (group === 'P-256') {
        const kp = await s.generateKey(ECDH_P256, false, ['deriveBits']);
        return pair(group, new Uint8Array(await s.exportKey('raw', kp.publicKey)), kp.privateKey);
      }
      if (group === 'X25519') {
        const kp = (await x25519(() => s.generateKey(X25519, false, ['deriveBits']))) as CryptoKeyPair;
        return pair(group, new Uint8Array(await s.exportKey('raw', kp.publicKey)), kp.privateKey);
      }
      throw invalidOption(`unknown key exchange group ${String(group)}`);
    },

    async importPrivateKey(group, key) {
      if (group === 'P-256') {
        const jwk = key as EcPrivateKeyJwk;
        if (key instanceof Uint8Array || jwk.kty !== 'EC' || jwk.crv !== 'P-256') {
          throw invalidOption('a P-256 private key must be a JWK with kty EC and crv P-256');
        }
        jwkBytes(jwk.d, 32, 'd');
        const x = jwkBytes(jwk.x, 32, 'x');
        const y = jwkBytes(jwk.y, 32, 'y');
        const publicKey = concat([Uint8Array.of(4), x, y]);
        try {
          // Importing the public half checks that (x, y) is on the curve.
          await s.importKey('raw', bs(publicKey), ECDH_P256, true, []);
          const priv = await s.importKey('jwk', { kty: 'EC', crv: 'P-256', d: jwk.d, x: jwk.x, y: jwk.y }, ECDH_P256, false, [
            'deriveBits',
          ]);
          return pair(group, publicKey, priv);
        } catch (err) {
          throw invalidOption('invalid P-256 private key', err);
        }
      }
      if (group === 'X25519') {
        if (!(key instanceof Uint8Array) || key.length !== 32) throw invalidOption('an X25519 private key must be 32 raw bytes');
        const der = bs(concat([X25519_PKCS8_PREFIX, key]));
        // Only an extractable key exports its public half (JWK "x"); the kept handle is not extractable.
        const exportable = await x25519(() => s.importKey('pkcs8', der, X25519, true, ['deriveBits']));
        const { x } = await s.exportKey('jwk', exportable);
        const priv = await s.importKey('pkcs8', der, X25519, false, ['deriveBits']);
        return pair(group, jwkBytes(x, 32, 'x'), priv);
      }
      throw invalidOption(`unknown key exchange group ${String(group)}`);
    },

    async deriveSharedSecret(own, peerPublicKey) {
      const priv = ownKey(own);
      const p256 = own.group === 'P-256';
      // Only uncompressed points (0x04 || X || Y) for P-256, as the interface promises.
      const wellFormed = p256 ? peerPublicKey.length === 65 && peerPublicKey[0] === 4 : peerPublicKey.length === 32;
      if (!wellFormed) throw authFailed(`malformed ${own.group} public key`);
      let shared: Uint8Array;
      try {
        const algorithm = p256 ? ECDH_P256 : X25519;
        // WebCrypto validates the point on import (DataError when off the curve).
        const peer = await s.importKey('raw', bs(peerPublicKey), algorithm, true, []);
        shared = new Uint8Array(await s.deriveBits({ name: algorithm.name, public: peer }, priv, 256));
      } catch (err) {
        // Includes X25519 low-order points, for which deriveBits fails on the all-zero result.
        throw authFailed(`invalid ${own.group} public key`, err);
      }
      // Some implementations return the all-zero X25519 output instead of failing (RFC 7748 §6.1).
      if (!p256 && shared.every((b) => b === 0)) throw authFailed('X25519 shared secret is all zero');
      return shared;
    },

    async aes256gcm(key) {
      if (key.length !== 32) throw invalidOption(`AES-256-GCM key must be 32 bytes, got ${key.length}`);
      const cryptoKey = await s.importKey('raw', bs(key), 'AES-GCM', false, ['encrypt', 'decrypt']);
      const aead: Aead = {
        async seal(nonce, aad, plaintext) {
          checkNonce(nonce);
          const params = { name: 'AES-GCM', iv: bs(nonce), additionalData: bs(aad), tagLength: 128 };
          const sealed = new Uint8Array(await s.encrypt(params, cryptoKey, bs(plaintext)));
          const split = sealed.length - TAG_LEN;
          return { ciphertext: sealed.subarray(0, split), tag: sealed.subarray(split) };
        },
        async open(nonce, aad, ciphertext, tag) {
          checkNonce(nonce);
          if (tag.length !== TAG_LEN) return null;
          const params = { name: 'AES-GCM', iv: bs(nonce), additionalData: bs(aad), tagLength: 128 };
          // WebCrypto wants ciphertext || tag in one buffer.
          const joined = new Uint8Array(ciphertext.length + TAG_LEN);
          joined.set(ciphertext);
          joined.set(tag, ciphertext.length);
          try {
            return new Uint8Array(await s.decrypt(params, cryptoKey, joined));
          } catch (err) {
            if (errorName(err) === 'OperationError') return null; // the tag did not verify
            throw err;
          }
        },
      };
      return aead;
    },

    async aes256gmac(key) {
      if (key.length !== 32) throw invalidOption(`AES-256-GMAC key must be 32 bytes, got ${key.length}`);
      const cryptoKey = await s.importKey('raw', bs(key), 'AES-GCM', false, ['encrypt', 'decrypt']);
      const params = (nonce: Uint8Array, parts: readonly Uint8Array[]) => ({
        name: 'AES-GCM',
        iv: bs(nonce),
        additionalData: bs(concat(parts)),
        tagLength: 128,
      });
      const gmac: Gmac = {
        async sign(nonce, ...parts) {
          checkNonce(nonce);
          // An empty plaintext: the output is the tag alone.
          return new Uint8Array(await s.encrypt(params(nonce, parts), cryptoKey, new Uint8Array(0)));
        },
        async verify(nonce, tag, ...parts) {
          checkNonce(nonce);
          if (tag.length !== TAG_LEN) return false;
          try {
            await s.decrypt(params(nonce, parts), cryptoKey, bs(tag));
            return true;
          } catch (err) {
            if (errorName(err) === 'OperationError') return false; // the tag did not verify
            throw err;
          }
        },
      };
      return gmac;
    },

    async hmacKey(key) {
      const cryptoKey = await importHmac(key);
      const mac: Mac = {
        sign(...parts) {
          return hmacWith(cryptoKey, concat(parts));
        },
        async verify(tag, ...parts) {
          if (tag.length !== HASH_LEN) return false;
          // Not subtle.verify: its comparison is not specified to be constant-time.
          return timingSafeEqual(await hmacWith(cryptoKey, concat(parts)), tag);
        },
      };
      return mac;
    },
  };
  return provider;
}
