/**
 * The two integrity-only record MACs on both providers, beyond the Wycheproof vectors: HMAC-SHA256
 * against RFC 4231, AES-256-GMAC against the AES-GCM AEAD it is built from (random keys, nonces and
 * data, any split of the data), and both providers agreeing with each other.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/core/security/crypto.js';

const seed = Number(process.env.FC_SEED ?? 20261203);
const params = { seed, numRuns: 150, verbose: 1 as const };
const providers: CryptoProvider[] = [createNodeCryptoProvider(), createWebCryptoProvider()];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const repeat = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);

/** Splits `data` at the given cut points (any number, in any order). */
function parts(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(data.subarray(from, c));
    from = c;
  }
  out.push(data.subarray(from));
  return out;
}

// RFC 4231 §4: cases 1, 2, 3 (short keys), 6 and 7 (131-byte keys, hashed first).
const RFC4231: Array<[string, Uint8Array, Uint8Array, string]> = [
  ['case 1', repeat(0x0b, 20), text('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
  ['case 2', text('Jefe'), text('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
  ['case 3', repeat(0xaa, 20), repeat(0xdd, 50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
  [
    'case 6',
    repeat(0xaa, 131),
    text('Test Using Larger Than Block-Size Key - Hash Key First'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  ],
  [
    'case 7',
    repeat(0xaa, 131),
    text(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  ],
];

for (const provider of providers) {
  describe(`record MACs, ${provider.name} provider`, () => {
    for (const [name, key, data, tag] of RFC4231) {
      test(`HMAC-SHA256: RFC 4231 ${name}, whole and in parts`, async () => {
        const mac = await provider.hmacKey(key);
        assert.equal(hex(await mac.sign(data)), tag);
        assert.equal(hex(await mac.sign(data.subarray(0, 5), data.subarray(5))), tag);
        assert.equal(await mac.verify(Buffer.from(tag, 'hex'), data), true);
      });
    }

    test(`AES-256-GMAC is the tag of AES-256-GCM over an empty plaintext, for any split of the data (seed ${seed})`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ maxLength: 300 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          async (key, nonce, data, cuts) => {
            const gmac = await provider.aes256gmac(key);
            const { ciphertext, tag } = await (await provider.aes256gcm(key)).seal(nonce, data, new Uint8Array(0));
            assert.equal(ciphertext.length, 0);
            const split = parts(data, cuts);
            assert.equal(hex(await gmac.sign(nonce, ...split)), hex(tag));
            assert.equal(await gmac.verify(nonce, tag, ...split), true);
            // Another nonce, or one more byte of data, and the same tag no longer verifies.
            const other = nonce.slice();
            other[11] = (other[11] as number) ^ 1;
            assert.equal(await gmac.verify(other, tag, data), false);
            assert.equal(await gmac.verify(nonce, tag, data, Uint8Array.of(0)), false);
          },
        ),
        params,
      );
    });

    test('AES-256-GMAC refuses a wrong key or nonce length with CB_ERR_INVALID_OPTION', async () => {
      await assert.rejects(
        async () => provider.aes256gmac(new Uint8Array(16)),
        (e: { code?: string }) => e.code === 'CB_ERR_INVALID_OPTION',
      );
      const gmac = await provider.aes256gmac(new Uint8Array(32));
      await assert.rejects(
        async () => gmac.sign(new Uint8Array(16), Uint8Array.of(1)),
        (e: { code?: string }) => e.code === 'CB_ERR_INVALID_OPTION',
      );
    });
  });
}

test(`the Node and WebCrypto providers make the same GMAC and HMAC tags (seed ${seed})`, async () => {
  const [node, web] = providers as [CryptoProvider, CryptoProvider];
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 200 }),
      async (key, nonce, data) => {
        assert.equal(hex(await (await node.aes256gmac(key)).sign(nonce, data)), hex(await (await web.aes256gmac(key)).sign(nonce, data)));
        assert.equal(hex(await (await node.hmacKey(key)).sign(data)), hex(await (await web.hmacKey(key)).sign(data)));
      },
    ),
    params,
  );
});
