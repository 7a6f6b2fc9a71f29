/**
 * A static app's request paths (src/node/static-apps/request-path.ts): whatever the request line
 * says, in any mix of escapes, dots, separators and NULs, an accepted path joins to a file under
 * the root, never a hidden one; and a plain path of ordinary names is accepted as itself.
 */
import assert from 'node:assert/strict';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { INDEX_FILE, requestPath } from '../../src/node/static-apps/request-path.js';

const seed = Number(process.env.FC_SEED ?? 20261203);
const params = { seed, numRuns: 2_000, verbose: 1 as const };
const ROOT = join(sep, 'srv', 'app');

// Pieces an attacker combines: dots, separators raw and encoded (any case), NULs, escapes.
const piece = fc.constantFrom(
  '.',
  '..',
  '/',
  '\\',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%00',
  '\0',
  '%',
  '%c0%ae',
  'a',
  'b.js',
  '.env',
  '?',
  '#',
  '%252e',
);
const attack = fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((parts) => `/${parts.join('')}`);

test(`an accepted path stays under the root and names no hidden file (seed ${seed})`, () => {
  fc.assert(
    fc.property(attack, (url) => {
      const p = requestPath(url);
      if (!p.ok) return;
      const file = join(ROOT, ...p.segments);
      const rel = relative(ROOT, file);
      assert.ok(rel !== '' && !rel.startsWith('..') && !rel.includes('\0'), `${JSON.stringify(url)} → ${file}`);
      for (const s of p.segments) assert.ok(!s.startsWith('.') && !s.includes('/') && !s.includes('\\'), JSON.stringify(url));
    }),
    params,
  );
});

test(`a path of ordinary names is accepted as itself, a folder's as its index (seed ${seed})`, () => {
  const name = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,15}$/);
  fc.assert(
    fc.property(fc.array(name, { minLength: 1, maxLength: 6 }), fc.boolean(), (names, folder) => {
      const p = requestPath(`/${names.join('/')}${folder ? '/' : ''}?q=1`);
      assert.deepEqual(p, { ok: true, segments: folder ? [...names, INDEX_FILE] : names });
    }),
    params,
  );
});
