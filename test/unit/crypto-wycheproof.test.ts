/**
 * Both CryptoProviders (node:crypto and WebCrypto) against Project Wycheproof vectors, plus
 * cross-provider interoperability checks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isCrossbusError } from '../../src/core/errors/index.js';
import type { Aead, Awaitable, CryptoProvider, KeyExchangeGroup } from '../../src/core/security/crypto.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';

/** ciphertext || tag, the form Wycheproof lists AES-GCM results in. */
async function sealJoined(aead: Aead, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const { ciphertext, tag } = await aead.seal(nonce, aad, plaintext);
  const out = new Uint8Array(ciphertext.length + tag.length);
  out.set(ciphertext);
  out.set(tag, ciphertext.length);
  return out;
}

/** Opens ciphertext || tag (anything shorter than a tag is all tag, and too short). */
function openJoined(aead: Aead, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Awaitable<Uint8Array | null> {
  const split = Math.max(0, sealed.length - 16);
  return aead.open(nonce, aad, sealed.subarray(0, split), sealed.subarray(split));
}

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/wycheproof/', import.meta.url));
assert.ok(existsSync(VECTORS), `Wycheproof vectors not found at ${VECTORS}`);

const node = createNodeCryptoProvider();
const web = createWebCryptoProvider();
const PROVIDERS: CryptoProvider[] = [node, web];

// --- helpers -------------------------------------------------------------------------------

function fromHex(hex: string): Uint8Array {
  assert.ok(hex.length % 2 === 0 && /^[0-9a-f]*$/i.test(hex), `bad hex ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

interface Vector {
  tcId: number;
  comment: string;
  flags: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}
interface Group {
  tests: Vector[];
  [field: string]: unknown;
}

function groups(file: string): Group[] {
  return (JSON.parse(readFileSync(VECTORS + file, 'utf8')) as { testGroups: Group[] }).testGroups;
}

function vectors(file: string, keep: (g: Group) => boolean = () => true): Array<Vector & { group: Group }> {
  return groups(file)
    .filter(keep)
    .flatMap((group) => group.tests.map((t) => ({ ...t, group })));
}

const str = (v: Vector, field: string): string => v[field] as string;
const label = (v: Vector): string => `tcId ${v.tcId} (${v.comment || v.flags.join(',')})`;

/** Runs `fn` (sync or async) and returns what it threw, or undefined. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (err) {
    return err ?? new Error('threw a nullish value');
  }
}

async function assertAuthFailed(fn: () => unknown, what: string): Promise<void> {
  const err = await thrown(fn);
  assert.ok(err !== undefined, `${what}: expected a rejection`);
  assert.ok(isCrossbusError(err, 'CB_ERR_AUTH_FAILED'), `${what}: expected CB_ERR_AUTH_FAILED, got ${String(err)}`);
}

/** base64url → bytes, strictly (Buffer's decoder silently skips bad characters). */
function b64url(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) return undefined;
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

/** A public JWK as a raw uncompressed P-256 point, or undefined when it is not a P-256 point. */
function jwkToRawP256(jwk: JsonWebKey): Uint8Array | undefined {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') return undefined;
  const x = b64url(jwk.x);
  const y = b64url(jwk.y);
  if (x?.length !== 32 || y?.length !== 32) return undefined;
  return Uint8Array.from([4, ...x, ...y]);
}

// --- vector selections (computed up front so the counts can go into test names) ------------

const AES = vectors('aes_gcm_test.json', (g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128);
/** AES-GMAC is AES-GCM with an empty message: Wycheproof's empty-message cases are GMAC vectors. */
const GMAC = AES.filter((v) => str(v, 'msg') === '');
const HMAC = vectors('hmac_sha256_test.json');
const HKDF = vectors('hkdf_sha256_test.json');
const ECDH = vectors('ecdh_secp256r1_webcrypto_test.json');
const X25519 = vectors('x25519_test.json');

for (const provider of PROVIDERS) {
  describe(`Wycheproof vectors, ${provider.name} provider`, () => {
    test(`aes_gcm_test.json: AES-256-GCM, 96-bit IV, 128-bit tag (${AES.length} vectors)`, async () => {
      let exercised = 0;
      for (const v of AES) {
        const aead = await provider.aes256gcm(fromHex(str(v, 'key')));
        const [iv, aad, msg] = [fromHex(str(v, 'iv')), fromHex(str(v, 'aad')), fromHex(str(v, 'msg'))];
        const sealed = str(v, 'ct') + str(v, 'tag');
        const opened = await openJoined(aead, iv, aad, fromHex(sealed));
        if (v.result === 'valid') {
          assert.equal(toHex(await sealJoined(aead, iv, aad, msg)), sealed, label(v));
          assert.equal(opened && toHex(opened), str(v, 'msg'), label(v));
        } else {
          // An invalid vector is a forged ciphertext (modified tag): sealing msg cannot produce
          // it, and it must not open.
          assert.notEqual(toHex(await sealJoined(aead, iv, aad, msg)), sealed, label(v));
          assert.equal(opened, null, `${label(v)}: a forged ciphertext must not open`);
        }
        exercised++;
      }
      assert.ok(exercised > 0 && exercised === AES.length);
    });

    test(`aes_gcm_test.json, empty messages: AES-256-GMAC (${GMAC.length} vectors, every tag bit flipped)`, async () => {
      assert.ok(GMAC.length >= 2, 'the vector file has empty-message cases');
      for (const v of GMAC) {
        const gmac = await provider.aes256gmac(fromHex(str(v, 'key')));
        const [iv, aad, tag] = [fromHex(str(v, 'iv')), fromHex(str(v, 'aad')), fromHex(str(v, 'tag'))];
        assert.equal(str(v, 'ct'), '', label(v));
        if (v.result === 'valid') assert.equal(toHex(await gmac.sign(iv, aad)), str(v, 'tag'), label(v));
        assert.equal(await gmac.verify(iv, tag, aad), v.result === 'valid', label(v));
        // Any change to the tag, and a tag of the wrong length, is refused.
        for (let bit = 0; bit < tag.length * 8; bit++) {
          const bad = tag.slice();
          bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
          assert.equal(await gmac.verify(iv, bad, aad), false, `${label(v)} bit ${bit}`);
        }
        assert.equal(await gmac.verify(iv, tag.subarray(0, 15), aad), false);
        // The data may come in parts: the tag is over their concatenation.
        if (aad.length > 1) assert.equal(toHex(await gmac.sign(iv, aad.subarray(0, 1), aad.subarray(1))), str(v, 'tag'), label(v));
      }
    });

    test(`hmac_sha256_test.json: HMAC-SHA256 (${HMAC.length} vectors)`, async () => {
      let exercised = 0;
      for (const v of HMAC) {
        const mac = await provider.hmacKey(fromHex(str(v, 'key')));
        const [msg, tag] = [fromHex(str(v, 'msg')), fromHex(str(v, 'tag'))];
        const full = await mac.sign(msg);
        assert.equal(full.length, 32);
        if (v.group.tagSize === 256) {
          if (v.result === 'valid') assert.equal(toHex(full), str(v, 'tag'), label(v));
          assert.equal(await mac.verify(tag, msg), v.result === 'valid', label(v));
        } else {
          // Truncated-tag groups: our Mac only accepts full 32-byte tags.
          assert.notEqual(tag.length, 32);
          assert.equal(await mac.verify(tag, msg), false, label(v));
          if (v.result === 'valid') assert.equal(toHex(full.subarray(0, tag.length)), str(v, 'tag'), label(v));
        }
        // The one-shot helper agrees with the keyed Mac.
        assert.equal(toHex(await provider.hmacSha256(fromHex(str(v, 'key')), msg)), toHex(full));
        exercised++;
      }
      assert.ok(exercised > 0 && exercised === HMAC.length);
    });

    test(`hkdf_sha256_test.json: HKDF-SHA256 extract + expand (${HKDF.length} vectors)`, async () => {
      let exercised = 0;
      for (const v of HKDF) {
        const prk = await provider.hkdfExtract(fromHex(str(v, 'salt')), fromHex(str(v, 'ikm')));
        const size = v.size as number;
        if (v.result === 'valid') {
          assert.equal(toHex(await provider.hkdfExpand(prk, fromHex(str(v, 'info')), size)), str(v, 'okm'), label(v));
        } else {
          const err = await thrown(() => provider.hkdfExpand(prk, fromHex(str(v, 'info')), size));
          assert.ok(isCrossbusError(err, 'CB_ERR_INVALID_OPTION'), `${label(v)}: expected a throw, got ${String(err)}`);
        }
        exercised++;
      }
      assert.ok(exercised > 0 && exercised === HKDF.length);
    });

    test(`ecdh_secp256r1_webcrypto_test.json: P-256 ECDH (${ECDH.length} vectors)`, async () => {
      let exercised = 0;
      for (const v of ECDH) {
        const own = await provider.importPrivateKey('P-256', v.private as JsonWebKey);
        const peer = jwkToRawP256(v.public as JsonWebKey);
        if (v.result === 'invalid') {
          // A public JWK that is not even a P-256 point (wrong curve, bad coordinates) is rejected.
          if (peer !== undefined) await assertAuthFailed(() => provider.deriveSharedSecret(own, peer), label(v));
        } else {
          assert.ok(peer, label(v));
          assert.equal(toHex(await provider.deriveSharedSecret(own, peer)), str(v, 'shared'), label(v));
        }
        exercised++;
      }
      assert.ok(exercised > 0 && exercised === ECDH.length);
    });

    test(`x25519_test.json: X25519 (${X25519.length} vectors)`, async () => {
      let exercised = 0;
      for (const v of X25519) {
        const own = await provider.importPrivateKey('X25519', fromHex(str(v, 'private')));
        const peer = fromHex(str(v, 'public'));
        const mustReject =
          v.result === 'invalid' ||
          v.flags.includes('ZeroSharedSecret') ||
          v.flags.includes('LowOrderPublic') ||
          /^(00)+$/.test(str(v, 'shared'));
        if (mustReject) {
          await assertAuthFailed(() => provider.deriveSharedSecret(own, peer), label(v));
        } else if (v.result === 'valid') {
          assert.equal(toHex(await provider.deriveSharedSecret(own, peer)), str(v, 'shared'), label(v));
        } else {
          // 'acceptable': rejecting is fine, but a returned secret must be the right one.
          const err = await thrown(async () => {
            assert.equal(toHex(await provider.deriveSharedSecret(own, peer)), str(v, 'shared'), label(v));
          });
          if (err !== undefined) assert.ok(isCrossbusError(err, 'CB_ERR_AUTH_FAILED'), `${label(v)}: ${String(err)}`);
        }
        exercised++;
      }
      assert.ok(exercised > 0 && exercised === X25519.length);
    });
  });
}

// --- interoperability and edge cases ---------------------------------------------------------

describe('node and webcrypto providers interoperate', () => {
  for (const group of ['P-256', 'X25519'] as KeyExchangeGroup[]) {
    test(`${group} key exchange agrees both ways`, async () => {
      const a = await node.generateKeyPair(group);
      const b = await web.generateKeyPair(group);
      assert.equal(a.publicKey.length, group === 'P-256' ? 65 : 32);
      assert.equal(b.publicKey.length, a.publicKey.length);
      const ab = await node.deriveSharedSecret(a, b.publicKey);
      const ba = await web.deriveSharedSecret(b, a.publicKey);
      assert.equal(ab.length, 32);
      assert.equal(toHex(ab), toHex(ba));
    });

    test(`${group} key pairs are not usable across providers`, async () => {
      const a = await node.generateKeyPair(group);
      const b = await web.generateKeyPair(group);
      const err1 = await thrown(() => web.deriveSharedSecret(a, b.publicKey));
      const err2 = await thrown(() => node.deriveSharedSecret(b, a.publicKey));
      assert.ok(isCrossbusError(err1, 'CB_ERR_INVALID_OPTION'), String(err1));
      assert.ok(isCrossbusError(err2, 'CB_ERR_INVALID_OPTION'), String(err2));
    });
  }

  test('malformed public keys are rejected with CB_ERR_AUTH_FAILED', async () => {
    for (const provider of PROVIDERS) {
      const p = await provider.generateKeyPair('P-256');
      const x = await provider.generateKeyPair('X25519');
      const compressed = Uint8Array.from([2 + ((p.publicKey[64] as number) & 1), ...p.publicKey.subarray(1, 33)]);
      await assertAuthFailed(() => provider.deriveSharedSecret(p, compressed), `${provider.name} compressed point`);
      await assertAuthFailed(() => provider.deriveSharedSecret(p, new Uint8Array(65)), `${provider.name} zero point`);
      await assertAuthFailed(() => provider.deriveSharedSecret(p, new Uint8Array(0)), `${provider.name} empty P-256`);
      await assertAuthFailed(() => provider.deriveSharedSecret(x, new Uint8Array(31)), `${provider.name} short X25519`);
      await assertAuthFailed(() => provider.deriveSharedSecret(x, new Uint8Array(32)), `${provider.name} X25519 zero`);
    }
  });

  test('AES-256-GCM sealed by one provider opens on the other; any flipped bit fails', async () => {
    const key = node.randomBytes(32);
    const nonce = node.randomBytes(12);
    const aad = new TextEncoder().encode('header');
    const plaintext = node.randomBytes(1000);
    for (const [from, to] of [
      [node, web],
      [web, node],
    ] as const) {
      const sealer = await from.aes256gcm(key);
      const opener = await to.aes256gcm(key);
      const sealed = await sealJoined(sealer, nonce, aad, plaintext);
      assert.equal(sealed.length, plaintext.length + 16);
      assert.equal(toHex((await openJoined(opener, nonce, aad, sealed))!), toHex(plaintext));

      const flip = (bytes: Uint8Array, i: number): Uint8Array => {
        const copy = bytes.slice();
        copy[i] = (copy[i] as number) ^ 1;
        return copy;
      };
      assert.equal(await openJoined(opener, nonce, aad, flip(sealed, 0)), null, 'ciphertext bit');
      assert.equal(await openJoined(opener, nonce, aad, flip(sealed, sealed.length - 1)), null, 'tag bit');
      assert.equal(await openJoined(opener, nonce, flip(aad, 3), sealed), null, 'aad bit');
      assert.equal(await openJoined(opener, flip(nonce, 11), aad, sealed), null, 'nonce bit');
      assert.equal(await openJoined(opener, nonce, aad, sealed.subarray(0, 15)), null, 'shorter than a tag');
    }
  });

  test('AES-GCM empty plaintext and empty aad round-trip', async () => {
    const key = node.randomBytes(32);
    const nonce = node.randomBytes(12);
    const sealed = await sealJoined(await node.aes256gcm(key), nonce, new Uint8Array(0), new Uint8Array(0));
    assert.equal(sealed.length, 16);
    const opened = await openJoined(await web.aes256gcm(key), nonce, new Uint8Array(0), sealed);
    assert.deepEqual(opened, new Uint8Array(0));
  });

  test('AES-GCM requires 12-byte nonces and 32-byte keys', async () => {
    for (const provider of PROVIDERS) {
      const aead = await provider.aes256gcm(new Uint8Array(32));
      for (const n of [8, 16]) {
        const e1 = await thrown(() => aead.seal(new Uint8Array(n), new Uint8Array(0), new Uint8Array(1)));
        const e2 = await thrown(() => aead.open(new Uint8Array(n), new Uint8Array(0), new Uint8Array(1), new Uint8Array(16)));
        assert.ok(isCrossbusError(e1, 'CB_ERR_INVALID_OPTION'), `${provider.name} seal ${String(e1)}`);
        assert.ok(isCrossbusError(e2, 'CB_ERR_INVALID_OPTION'), `${provider.name} open ${String(e2)}`);
      }
      const e3 = await thrown(() => provider.aes256gcm(new Uint8Array(16)));
      assert.ok(isCrossbusError(e3, 'CB_ERR_INVALID_OPTION'), `${provider.name} key ${String(e3)}`);
    }
  });

  test('HKDF-Expand refuses more than 255*32 bytes; an empty salt is 32 zero bytes', async () => {
    for (const provider of PROVIDERS) {
      const prk = new Uint8Array(32).fill(7);
      assert.equal((await provider.hkdfExpand(prk, new Uint8Array(0), 8160)).length, 8160);
      const err = await thrown(() => provider.hkdfExpand(prk, new Uint8Array(0), 8161));
      assert.ok(isCrossbusError(err, 'CB_ERR_INVALID_OPTION'), `${provider.name}: ${String(err)}`);
      const ikm = new Uint8Array([1, 2, 3]);
      assert.equal(toHex(await provider.hkdfExtract(new Uint8Array(0), ikm)), toHex(await provider.hkdfExtract(new Uint8Array(32), ikm)));
    }
  });

  test('Mac: sign over parts equals sign over the concatenation; verify is strict', async () => {
    const key = node.randomBytes(32);
    for (const provider of PROVIDERS) {
      const mac = await provider.hmacKey(key);
      const a = Uint8Array.of(1, 2);
      const b = Uint8Array.of(3);
      const tag = await mac.sign(a, b);
      assert.equal(toHex(tag), toHex(await mac.sign(Uint8Array.of(1, 2, 3))));
      assert.equal(toHex(tag), toHex(await provider.hmacSha256(key, Uint8Array.of(1, 2, 3))));
      assert.equal(await mac.verify(tag, a, b), true);
      assert.equal(await mac.verify(tag.subarray(0, 31), a, b), false);
      assert.equal(await mac.verify(new Uint8Array(0), a, b), false);
      assert.equal(await mac.verify(Uint8Array.from([...tag, 0]), a, b), false);
      const bad = tag.slice();
      bad[31] = (bad[31] as number) ^ 0x80;
      assert.equal(await mac.verify(bad, a, b), false);
    }
  });

  test('sha256 and randomBytes', async () => {
    const abc = new TextEncoder().encode('abc');
    for (const provider of PROVIDERS) {
      assert.equal(toHex(await provider.sha256(abc)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      // 70000 bytes: more than getRandomValues serves in one call.
      const r = provider.randomBytes(70000);
      assert.equal(r.length, 70000);
      assert.ok(r.subarray(69000).some((x) => x !== 0));
    }
  });

  test('the node provider answers synchronously', () => {
    const aead = node.aes256gcm(new Uint8Array(32));
    assert.ok(!(aead instanceof Promise));
    assert.ok(!(node.sha256(new Uint8Array(0)) instanceof Promise));
    assert.ok(!(node.generateKeyPair('X25519') instanceof Promise));
  });
});
