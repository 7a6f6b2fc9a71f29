/**
 * base64 in core/security/bytes.ts (secrets in config files, handshake shares, frames on Chrome
 * extension ports, stream records) against Node's Buffer as the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromBase64, toBase64 } from '../../src/core/security/bytes.js';

const seed = Number(process.env.FC_SEED ?? 20261129);
const params = { seed, numRuns: 500, verbose: 1 as const };
const bytes = fc.uint8Array({ maxLength: 300 });

test(`toBase64 is standard padded base64 and fromBase64 inverts it (seed ${seed})`, () => {
  fc.assert(
    fc.property(bytes, (b) => {
      const text = toBase64(b);
      assert.equal(text, Buffer.from(b).toString('base64'));
      assert.deepEqual(fromBase64(text), b);
    }),
    params,
  );
});

test(`fromBase64 takes URL-safe base64 and missing padding (seed ${seed})`, () => {
  fc.assert(
    fc.property(bytes, (b) => {
      assert.deepEqual(fromBase64(Buffer.from(b).toString('base64url')), b);
      assert.deepEqual(fromBase64(Buffer.from(b).toString('base64').replace(/=+$/, '')), b);
    }),
    params,
  );
});

test(`fromBase64 refuses anything outside the alphabet, and impossible lengths (seed ${seed})`, () => {
  const bad = fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(' ', '\n', '\t', '*', '.', 'é', '=A', '\u0000'), fc.string({ maxLength: 20 }))
    .map(([a, x, c]) => `${Buffer.from(a).toString('base64').replace(/=+$/, '')}${x}${c.replace(/[^A-Za-z0-9]/g, '')}`);
  fc.assert(
    fc.property(bad, (text) => {
      assert.equal(fromBase64(text), undefined, JSON.stringify(text));
    }),
    params,
  );
  for (const text of ['A', 'AAAAA', 'QQ=A', ' QQ==']) assert.equal(fromBase64(text), undefined, text);
  assert.deepEqual(fromBase64(''), new Uint8Array(0));
});
