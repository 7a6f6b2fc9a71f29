/**
 * The Node provider's HMAC-SHA256 (inner hash by OpenSSL, outer block in JavaScript) and the
 * SHA-256 compression function under it: published vectors (FIPS 180-4 examples, RFC 4231), and
 * random keys and messages against node:crypto's createHmac. The Wycheproof HMAC vectors run
 * through it too, in crypto-wycheproof.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256 } from '../../src/node/crypto/hmac-sha256.js';
import { SHA256_IV, sha256Compress, sha256StateBytes } from '../../src/node/crypto/sha256-block.js';

const seed = Number(process.env.FC_SEED ?? 20261129);
const params = { seed, numRuns: 300, verbose: 1 as const };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const repeat = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);

/** A whole SHA-256 on top of sha256Compress (FIPS 180-4 §5.1.1 padding), to test the compression alone. */
function sha256ByBlocks(message: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil((message.length + 9) / 64) * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  new DataView(padded.buffer).setBigUint64(padded.length - 8, BigInt(message.length) * 8n);
  const state = SHA256_IV.slice();
  for (let off = 0; off < padded.length; off += 64) sha256Compress(state, padded, off);
  const out = new Uint8Array(32);
  sha256StateBytes(state, out);
  return out;
}

describe('sha256Compress', () => {
  test('FIPS 180-4 examples: empty, "abc" (one block), 448-bit message (two blocks)', () => {
    assert.equal(hex(sha256ByBlocks(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hex(sha256ByBlocks(text('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(
      hex(sha256ByBlocks(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  test(`agrees with node:crypto on random messages (seed ${seed})`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (m) => {
      assert.equal(hex(sha256ByBlocks(m)), createHash('sha256').update(m).digest('hex'));
    }), params);
  });

  test('reads the block at its offset and refuses a short block or a wrong state', () => {
    const block = new Uint8Array(80).fill(7);
    const a = SHA256_IV.slice();
    const b = SHA256_IV.slice();
    sha256Compress(a, block, 16);
    sha256Compress(b, block.slice(16), 0);
    assert.deepEqual(a, b);
    assert.throws(() => sha256Compress(SHA256_IV.slice(), block, 17), RangeError);
    assert.throws(() => sha256Compress(new Uint32Array(7), block, 0), RangeError);
  });
});

describe('HmacSha256', () => {
  // RFC 4231 §4: cases 1, 2, 3 (short keys), 6 and 7 (131-byte keys, hashed first).
  const RFC4231: Array<[string, Uint8Array, Uint8Array, string]> = [
    ['case 1', repeat(0x0b, 20), text('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['case 2', text('Jefe'), text('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['case 3', repeat(0xaa, 20), repeat(0xdd, 50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['case 6', repeat(0xaa, 131), text('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    [
      'case 7',
      repeat(0xaa, 131),
      text('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ];
  for (const [name, key, data, tag] of RFC4231) {
    test(`RFC 4231 ${name}`, () => {
      assert.equal(hex(new HmacSha256(key).sign([data])), tag);
    });
  }

  test(`agrees with createHmac for any key length and any split of the message (seed ${seed})`, () => {
    fc.assert(fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      (key, messages) => {
        // One instance signs several messages: a tag must not depend on the ones before it.
        const mac = new HmacSha256(key);
        for (const parts of messages) {
          const expected = createHmac('sha256', key);
          for (const p of parts) expected.update(p);
          assert.equal(hex(mac.sign(parts)), expected.digest('hex'));
        }
      },
    ), params);
  });

  test('a 64-byte key is used as is, a 65-byte key is hashed first (the edge of RFC 2104)', () => {
    for (const n of [63, 64, 65]) {
      const key = repeat(n, n);
      assert.equal(hex(new HmacSha256(key).sign([text('edge')])), createHmac('sha256', key).update('edge').digest('hex'), `${n}-byte key`);
    }
  });

  test('does not keep or change the caller\'s key and returns a fresh tag each time', () => {
    const key = repeat(0x42, 32);
    const mac = new HmacSha256(key);
    key.fill(0);
    const first = mac.sign([text('m')]);
    const second = mac.sign([text('m')]);
    assert.notEqual(first, second);
    assert.equal(hex(first), hex(second));
    assert.equal(hex(first), createHmac('sha256', repeat(0x42, 32)).update('m').digest('hex'));
  });
});
