/**
 * CryptoProvider on node:crypto. Fully synchronous (plain values, never promises), so the secure
 * channel seals and opens records without a promise per batch. Outputs are plain Uint8Arrays
 * (not Buffers) so that they compare equal to the WebCrypto provider's in deep-equality checks.
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  timingSafeEqual,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import type { Aead, CryptoProvider, EcPrivateKeyJwk, EphemeralKeyPair, Gmac, KeyExchangeGroup, Mac } from '../../core/security/crypto.js';
import { authFailed, checkNonce, invalidOption, jwkBytes as jwkUint8 } from '../../core/security/crypto-checks.js';

/** JWK bytes as a Buffer (Node's key APIs want them so). */
const jwkBytes = (value: unknown, length: number, what: string): Buffer => Buffer.from(jwkUint8(value, length, what));

const HASH_LEN = 32;
const MAX_HKDF_LENGTH = 255 * HASH_LEN;
const TAG_LEN = 16;
/** DER headers of X25519 SubjectPublicKeyInfo and PKCS#8 keys; the 32 raw bytes follow. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Private key handles: an ECDH object for P-256 (fast computeSecret), a KeyObject for X25519. */
type NodePrivateKey = { readonly kind: 'node-p256'; readonly ecdh: ECDH } | { readonly kind: 'node-x25519'; readonly key: KeyObject };

/** A plain Uint8Array over a Buffer's bytes (no copy). */
function view(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function x25519PublicRaw(key: KeyObject): Uint8Array {
  return view(key.export({ type: 'spki', format: 'der' }).subarray(X25519_SPKI_PREFIX.length));
}

function pair(group: KeyExchangeGroup, publicKey: Uint8Array, privateKey: NodePrivateKey): EphemeralKeyPair {
  return Object.freeze({ group, publicKey, privateKey });
}

function ownKey(own: EphemeralKeyPair): NodePrivateKey {
  const handle = own.privateKey as Partial<NodePrivateKey> | null;
  const expected = own.group === 'P-256' ? 'node-p256' : 'node-x25519';
  if (handle?.kind !== expected) throw invalidOption('private key does not come from the Node crypto provider');
  return handle as NodePrivateKey;
}

function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_HKDF_LENGTH) {
    throw invalidOption(`HKDF-Expand length must be an integer in 0..${MAX_HKDF_LENGTH}, got ${length}`);
  }
  const okm = new Uint8Array(length);
  // T(i) = HMAC(PRK, T(i-1) || info || i), T(0) = empty. One buffer holds T(i-1) || info || i, so
  // each block is one HMAC update; the key goes in as bytes, as a KeyObject per call costs more
  // than the HMAC itself (every handshake expands a dozen keys).
  const input = new Uint8Array(HASH_LEN + info.length + 1);
  input.set(info, HASH_LEN);
  for (let i = 1, offset = 0; offset < length; i++, offset += HASH_LEN) {
    input[input.length - 1] = i;
    const block = createHmac('sha256', prk)
      .update(i === 1 ? input.subarray(HASH_LEN) : input)
      .digest();
    okm.set(block.subarray(0, Math.min(HASH_LEN, length - offset)), offset);
    input.set(block, 0);
  }
  return okm;
}

function aes256gcm(rawKey: Uint8Array): Aead {
  if (rawKey.length !== 32) throw invalidOption(`AES-256-GCM key must be 32 bytes, got ${rawKey.length}`);
  const key = createSecretKey(rawKey);
  return {
    seal(nonce, aad, plaintext) {
      checkNonce(nonce);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
      cipher.setAAD(aad);
      const ciphertext = view(cipher.update(plaintext));
      cipher.final(); // GCM is a stream mode: final() emits nothing but computes the tag
      return { ciphertext, tag: view(cipher.getAuthTag()) };
    },
    open(nonce, aad, ciphertext, tag) {
      checkNonce(nonce);
      if (tag.length !== TAG_LEN) return null;
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const plaintext = decipher.update(ciphertext);
      try {
        decipher.final(); // throws when the tag does not verify; plaintext is released only after
      } catch {
        return null;
      }
      return view(plaintext);
    },
  };
}

function aes256gmac(rawKey: Uint8Array): Gmac {
  if (rawKey.length !== 32) throw invalidOption(`AES-256-GMAC key must be 32 bytes, got ${rawKey.length}`);
  const key = createSecretKey(rawKey);
  return {
    sign(nonce, ...parts) {
      checkNonce(nonce);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
      // GCM takes its additional data in pieces: the parts need not be joined first.
      for (const p of parts) cipher.setAAD(p);
      cipher.final();
      return view(cipher.getAuthTag());
    },
    verify(nonce, tag, ...parts) {
      checkNonce(nonce);
      if (tag.length !== TAG_LEN) return false;
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
      decipher.setAuthTag(tag);
      for (const p of parts) decipher.setAAD(p);
      try {
        decipher.final(); // OpenSSL compares the tags in constant time and throws on a mismatch
        return true;
      } catch {
        return false;
      }
    },
  };
}

function hmacKey(rawKey: Uint8Array): Mac {
  const key = createSecretKey(rawKey);
  const sign = (parts: readonly Uint8Array[]): Buffer => {
    const h = createHmac('sha256', key);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  return {
    sign: (...parts) => view(sign(parts)),
    verify(tag, ...parts) {
      // crypto.timingSafeEqual throws on a length mismatch; a truncated tag is simply wrong.
      if (tag.length !== HASH_LEN) return false;
      return timingSafeEqual(sign(parts), tag);
    },
  };
}

function importPrivateKey(group: KeyExchangeGroup, key: EcPrivateKeyJwk | Uint8Array): EphemeralKeyPair {
  if (group === 'P-256') {
    const jwk = key as EcPrivateKeyJwk;
    if (key instanceof Uint8Array || jwk.kty !== 'EC' || jwk.crv !== 'P-256') {
      throw invalidOption('a P-256 private key must be a JWK with kty EC and crv P-256');
    }
    const ecdh = createECDH('prime256v1');
    try {
      ecdh.setPrivateKey(jwkBytes(jwk.d, 32, 'd')); // rejects 0 and scalars >= the group order
    } catch (err) {
      throw invalidOption('invalid P-256 private key', err);
    }
    const publicKey = ecdh.getPublicKey();
    // The public half is derived from d; x and y, when given, must agree with it.
    if (jwk.x !== undefined || jwk.y !== undefined) {
      const given = Buffer.concat([Buffer.of(4), jwkBytes(jwk.x, 32, 'x'), jwkBytes(jwk.y, 32, 'y')]);
      if (!given.equals(publicKey)) throw invalidOption('P-256 JWK x/y do not match d');
    }
    return pair(group, view(publicKey), { kind: 'node-p256', ecdh });
  }
  if (group === 'X25519') {
    if (!(key instanceof Uint8Array) || key.length !== 32) throw invalidOption('an X25519 private key must be 32 raw bytes');
    const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, key]), format: 'der', type: 'pkcs8' });
    return pair(group, x25519PublicRaw(createPublicKey(privateKey)), { kind: 'node-x25519', key: privateKey });
  }
  throw invalidOption(`unknown key exchange group ${String(group)}`);
}

function deriveSharedSecret(own: EphemeralKeyPair, peerPublicKey: Uint8Array): Uint8Array {
  const handle = ownKey(own);
  if (handle.kind === 'node-p256') {
    // computeSecret would also take compressed points; the interface promises uncompressed only.
    if (peerPublicKey.length !== 65 || peerPublicKey[0] !== 4) throw authFailed('malformed P-256 public key');
    try {
      return view(handle.ecdh.computeSecret(peerPublicKey)); // validates that the point is on the curve
    } catch (err) {
      throw authFailed('invalid P-256 public key', err);
    }
  }
  if (peerPublicKey.length !== 32) throw authFailed('malformed X25519 public key');
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublicKey]), format: 'der', type: 'spki' });
    // OpenSSL fails the derivation itself when the result is all zero (low-order point).
    shared = diffieHellman({ privateKey: handle.key, publicKey });
  } catch (err) {
    throw authFailed('invalid X25519 public key', err);
  }
  // RFC 7748 §6.1: reject the all-zero output, whatever the OpenSSL build does.
  if (shared.every((b) => b === 0)) throw authFailed('X25519 shared secret is all zero');
  return view(shared);
}

export function createNodeCryptoProvider(): CryptoProvider {
  return {
    name: 'node',
    randomBytes: (length) => view(randomBytes(length)),
    sha256: (data) => view(createHash('sha256').update(data).digest()),
    hmacSha256: (key, data) => view(createHmac('sha256', key).update(data).digest()),
    // PRK = HMAC(salt, IKM). An empty salt needs no special case: HMAC zero-pads its key, so
    // an empty key and RFC 5869's HashLen zero bytes give the same result.
    hkdfExtract: (salt, ikm) => view(createHmac('sha256', salt).update(ikm).digest()),
    hkdfExpand,
    generateKeyPair(group) {
      if (group === 'P-256') {
        const ecdh = createECDH('prime256v1');
        return pair(group, view(ecdh.generateKeys()), { kind: 'node-p256', ecdh });
      }
      if (group === 'X25519') {
        const { publicKey, privateKey } = generateKeyPairSync('x25519');
        return pair(group, x25519PublicRaw(publicKey), { kind: 'node-x25519', key: privateKey });
      }
      throw invalidOption(`unknown key exchange group ${String(group)}`);
    },
    importPrivateKey,
    deriveSharedSecret,
    aes256gcm,
    aes256gmac,
    hmacKey,
  };
}
