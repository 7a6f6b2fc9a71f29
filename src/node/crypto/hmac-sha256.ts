/**
 * HMAC-SHA256 (RFC 2104) for a key used many times: the tag of every integrity-only record.
 *
 *   HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)),  K' = K padded to 64 bytes (hashed first if longer)
 *
 * The inner hash runs over the whole message and stays with OpenSSL (node:crypto, SHA-NI). The
 * outer hash always covers exactly two blocks, the key block and the inner digest with its
 * padding; the state after the key block is computed once per key, so what is left per tag is
 * one compression, done here in JavaScript.
 *
 * Why not createHmac: node:crypto's cost per call does not depend on the size. A createHmac sets
 * up an inner and an outer context before any byte is hashed and returns its tag as a new Buffer;
 * in the hub, where these paths are cold, profiles showed 15-20 µs per record for it. createHash
 * reuses Node's cached digest, and its 'binary' digest needs no new backing store; with the one
 * block here, the per-record part fell by about a quarter in the bench process's profile. The
 * Wycheproof HMAC vectors and a property test against createHmac check that the result is the same.
 */
import { createHash, type Hash } from 'node:crypto';
import { SHA256_IV, sha256Compress, sha256StateBytes } from './sha256-block.js';

const BLOCK = 64;
const DIGEST = 32;
/** Bit length of the outer message (key block + inner digest), big-endian in the last bytes of the padding. */
const OUTER_BITS = (BLOCK + DIGEST) * 8;

export class HmacSha256 {
  /** K' ^ ipad: the inner hash starts with it. */
  readonly #innerKeyBlock: Buffer;
  /** SHA-256 state after compressing K' ^ opad. */
  readonly #outerState: Uint32Array;
  /** Second outer block: inner digest, then the padding for a 96-byte message (fixed). */
  readonly #outerBlock = new Uint8Array(BLOCK);
  readonly #work = new Uint32Array(8);

  constructor(key: Uint8Array) {
    const k = key.length > BLOCK ? createHash('sha256').update(key).digest() : key;
    this.#innerKeyBlock = Buffer.alloc(BLOCK, 0x36);
    const outerKeyBlock = new Uint8Array(BLOCK).fill(0x5c);
    for (let i = 0; i < k.length; i++) {
      const b = k[i] as number;
      this.#innerKeyBlock[i] = 0x36 ^ b;
      outerKeyBlock[i] = 0x5c ^ b;
    }
    this.#outerState = SHA256_IV.slice();
    sha256Compress(this.#outerState, outerKeyBlock, 0);
    outerKeyBlock.fill(0);
    this.#outerBlock[DIGEST] = 0x80;
    this.#outerBlock[BLOCK - 2] = OUTER_BITS >>> 8;
    this.#outerBlock[BLOCK - 1] = OUTER_BITS & 0xff;
  }

  /** The 32-byte tag over the concatenation of `parts`. */
  sign(parts: readonly Uint8Array[]): Uint8Array {
    const inner: Hash = createHash('sha256').update(this.#innerKeyBlock);
    for (const p of parts) inner.update(p);
    // As a 'binary' (latin1) string, one char per byte: a Buffer result costs a new backing store per call,
    // two to three times the cost of the string.
    const digest = inner.digest('binary');
    const block = this.#outerBlock;
    for (let i = 0; i < DIGEST; i++) block[i] = digest.charCodeAt(i);
    const state = this.#work;
    state.set(this.#outerState);
    sha256Compress(state, block, 0);
    const tag = new Uint8Array(DIGEST);
    sha256StateBytes(state, tag);
    return tag;
  }
}
