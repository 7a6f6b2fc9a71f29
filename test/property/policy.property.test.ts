import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { patternMatches } from '../../src/core/routing/pattern-match.js';
import { patternCovers, patternsOverlap } from '../../src/core/security/policy.js';
import { policyForApp } from '../../src/core/security/app-policy.js';
import { GrantCheck } from '../../src/core/security/grant-check.js';

/**
 * The pattern algebra against brute force: patterns of up to 4 tokens over {a,b,c,*,>} are judged
 * on every topic of 1..5 tokens over {a,b,c,d} with the reference matcher. That set is exhaustive
 * for such patterns: a counterexample never needs more than one token past the longest pattern,
 * and "d" stands for every token the patterns do not name.
 */
const seed = Number(process.env.FC_SEED ?? 20261122);
const params = { seed, numRuns: 3000, verbose: 1 as const };

const TOPICS: string[] = [];
for (let n = 1; n <= 5; n++) {
  const grow = (prefix: string[]): void => {
    if (prefix.length === n) TOPICS.push(prefix.join('.'));
    else for (const t of ['a', 'b', 'c', 'd']) grow([...prefix, t]);
  };
  grow([]);
}

const memo = new Map<string, boolean[]>();
function matches(pattern: string): boolean[] {
  let m = memo.get(pattern);
  if (m === undefined) memo.set(pattern, (m = TOPICS.map((t) => patternMatches(pattern, t))));
  return m;
}
const coversModel = (g: string, p: string): boolean => matches(p).every((hit, i) => !hit || matches(g)[i]);
const overlapModel = (a: string, b: string): boolean => matches(a).some((hit, i) => hit && matches(b)[i]);

/** Valid patterns only: ">" may appear only as the last token. */
const pattern = fc
  .array(fc.constantFrom('a', 'b', 'c', '*', '>'), { minLength: 1, maxLength: 4 })
  .filter((t) => !t.slice(0, -1).includes('>'))
  .map((t) => t.join('.'));
const topic = fc.constantFrom(...TOPICS);

test(`patternCovers equals the brute-force model (seed ${seed})`, () => {
  fc.assert(
    fc.property(pattern, pattern, (g, p) => {
      assert.equal(patternCovers(g, p), coversModel(g, p), `covers(${g}, ${p})`);
    }),
    params,
  );
});

test(`patternsOverlap equals the brute-force model and is symmetric (seed ${seed})`, () => {
  fc.assert(
    fc.property(pattern, pattern, (a, b) => {
      assert.equal(patternsOverlap(a, b), overlapModel(a, b), `overlap(${a}, ${b})`);
      assert.equal(patternsOverlap(b, a), patternsOverlap(a, b));
    }),
    params,
  );
});

test(`covering implies overlapping, and every pattern covers itself (seed ${seed})`, () => {
  fc.assert(
    fc.property(pattern, pattern, (g, p) => {
      assert.equal(patternCovers(p, p), true);
      if (patternCovers(g, p)) assert.equal(patternsOverlap(g, p), true);
    }),
    params,
  );
});

const grants = fc.array(fc.record({ pattern, ask: fc.boolean() }), { maxLength: 4 });
const denies = fc.array(pattern, { maxLength: 2 });
const SECRET = Buffer.alloc(32, 1).toString('base64');

test(`AccessPolicy.check equals the model; the client's GrantCheck agrees (seed ${seed})`, () => {
  fc.assert(
    fc.property(grants, grants, denies, denies, topic, pattern, (pub, sub, denyPub, denySub, t, p) => {
      const config = parseHubConfig({
        apps: { x: { secret: SECRET, roles: ['r'] } },
        roles: { r: { publish: pub, subscribe: sub, deny: { publish: denyPub, subscribe: denySub } } },
      });
      const hub = policyForApp(config, 'x');
      const client = new GrantCheck(JSON.parse(JSON.stringify(hub.grants())));

      const pd = hub.check('publish', t);
      const pubAllowed = !denyPub.some((d) => patternMatches(d, t)) && pub.some((g) => patternMatches(g.pattern, t));
      assert.equal(pd.allowed, pubAllowed, `publish ${t}`);
      if (pd.allowed) assert.equal(pd.ask, !pub.some((g) => !g.ask && patternMatches(g.pattern, t)));

      const sd = hub.check('subscribe', p);
      const subAllowed = !denySub.some((d) => overlapModel(d, p)) && sub.some((g) => coversModel(g.pattern, p));
      assert.equal(sd.allowed, subAllowed, `subscribe ${p}`);
      if (sd.allowed) assert.equal(sd.ask, !sub.some((g) => !g.ask && coversModel(g.pattern, p)));

      assert.equal(client.refusal('publish', t) === '', pd.allowed, `client publish ${t}`);
      assert.equal(client.refusal('subscribe', p) === '', sd.allowed, `client subscribe ${p}`);
      assert.equal(client.refusal('request', t), 'it matches no grant (there are no request grants)');
    }),
    { ...params, numRuns: 1000 },
  );
});
