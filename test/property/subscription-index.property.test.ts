import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SubscriptionIndex, type MatchResult } from '../../src/core/routing/subscription-index.js';
import { patternMatches } from '../../src/core/routing/pattern-match.js';

/** Fixed by default so CI runs are reproducible; override with FC_SEED=<n> to explore. */
const seed = Number(process.env.FC_SEED ?? 20261122);

interface Sub {
  readonly pattern: string;
  readonly group: string | undefined;
  readonly id: number;
}

// A tiny alphabet so that patterns and topics collide often.
const token = fc.constantFrom('a', 'b', 'c');
const topicArb = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const patternArb = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', 'c', '*', '*'), { minLength: 1, maxLength: 4 }),
    fc.constantFrom<'none' | 'gt' | 'replace'>('none', 'none', 'gt', 'replace'),
  )
  .map(([toks, tail]) => {
    if (tail === 'gt') return [...toks, '>'].join('.');
    if (tail === 'replace') return [...toks.slice(0, -1), '>'].join('.');
    return toks.join('.');
  });
const groupArb = fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'g1', 'g2');

interface Canon {
  plain: number[];
  groups: [string, number[]][];
  total: number;
}

function canon(r: MatchResult<Sub>): Canon {
  const names = r.groups.map((g) => g.name);
  assert.equal(new Set(names).size, names.length, 'a group name is listed twice');
  for (const g of r.groups) assert.ok(g.members.length > 0, 'empty group entry');
  return {
    plain: r.plain.map((s) => s.id).sort((x, y) => x - y),
    groups: r.groups
      .map((g): [string, number[]] => [g.name, g.members.map((s) => s.id).sort((x, y) => x - y)])
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)),
    total: r.total,
  };
}

function naive(subs: Iterable<Sub>, topic: string): Canon {
  const plain: number[] = [];
  const groups = new Map<string, number[]>();
  let total = 0;
  for (const s of subs) {
    if (!patternMatches(s.pattern, topic)) continue;
    total++;
    if (s.group === undefined) plain.push(s.id);
    else groups.set(s.group, [...(groups.get(s.group) ?? []), s.id]);
  }
  return {
    plain: plain.sort((x, y) => x - y),
    groups: [...groups]
      .map(([n, m]): [string, number[]] => [n, m.sort((x, y) => x - y)])
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)),
    total,
  };
}

describe(`SubscriptionIndex properties (seed ${seed})`, () => {
  test(`trie match equals the naive matcher (seed ${seed})`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(patternArb, groupArb), { maxLength: 40 }),
        fc.array(topicArb, { minLength: 1, maxLength: 20 }),
        fc.constantFrom(0, 2, 4096),
        (defs, topics, matchCacheSize) => {
          const subs: Sub[] = defs.map(([pattern, group], id) => ({ pattern, group, id }));
          const idx = new SubscriptionIndex<Sub>({ matchCacheSize });
          for (const s of subs) idx.add(s);
          assert.equal(idx.size, subs.length, `seed ${seed}`);
          for (const topic of topics) {
            const expected = naive(subs, topic);
            assert.deepEqual(canon(idx.match(topic)), expected, `seed ${seed}, topic ${topic}`);
            // and again, now possibly from the cache
            assert.deepEqual(canon(idx.match(topic)), expected, `seed ${seed}, topic ${topic} (cached)`);
            // matchOnce (reply inboxes) answers the same, whether or not the topic is cached
            assert.deepEqual(canon(idx.matchOnce(topic)), expected, `seed ${seed}, topic ${topic} (matchOnce)`);
          }
        },
      ),
      { seed, numRuns: 400 },
    );
  });

  type Op =
    | { readonly kind: 'add'; readonly i: number }
    | { readonly kind: 'remove'; readonly i: number }
    | { readonly kind: 'match'; readonly topic: string }
    | { readonly kind: 'clear' };

  const opArb = (poolSize: number): fc.Arbitrary<Op> =>
    fc.oneof(
      { weight: 4, arbitrary: fc.nat(poolSize - 1).map((i): Op => ({ kind: 'add', i })) },
      { weight: 3, arbitrary: fc.nat(poolSize - 1).map((i): Op => ({ kind: 'remove', i })) },
      // bursts of matches so the cache fills up and both invalidation strategies get exercised
      { weight: 6, arbitrary: topicArb.map((topic): Op => ({ kind: 'match', topic })) },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
    );

  // Many distinct patterns, or many subscriptions sharing a few patterns (large buckets).
  const defsArb = fc.oneof(
    fc.array(fc.tuple(patternArb, groupArb), { minLength: 1, maxLength: 24 }),
    fc
      .array(patternArb, { minLength: 1, maxLength: 3 })
      .chain((pats) => fc.array(fc.tuple(fc.constantFrom(...pats), groupArb), { minLength: 1, maxLength: 90, size: 'max' })),
  );

  test(`random add/remove/match interleavings agree with the naive model (seed ${seed})`, () => {
    fc.assert(
      fc.property(
        defsArb.chain((defs) =>
          fc.tuple(
            fc.constant(defs),
            fc.array(opArb(defs.length), { minLength: 1, maxLength: 250, size: 'medium' }),
            fc.constantFrom(0, 1, 3, 8, 4096),
            fc.boolean(),
          ),
        ),
        ([defs, ops, matchCacheSize, prefill]) => {
          const pool: Sub[] = defs.map(([pattern, group], id) => ({ pattern, group, id }));
          const idx = new SubscriptionIndex<Sub>({ matchCacheSize });
          const live = new Set<Sub>();
          if (prefill) {
            // start from everything subscribed, so shared-pattern pools make large buckets
            for (const s of pool) {
              idx.add(s);
              live.add(s);
            }
          }
          // Every result handed out, with what it contained at the time: it must never change.
          const handedOut: [MatchResult<Sub>, Canon][] = [];
          for (const op of ops) {
            switch (op.kind) {
              case 'add':
                idx.add(pool[op.i]!);
                live.add(pool[op.i]!);
                break;
              case 'remove':
                assert.equal(idx.remove(pool[op.i]!), live.delete(pool[op.i]!), `seed ${seed}: remove result`);
                break;
              case 'clear':
                idx.clear();
                live.clear();
                break;
              case 'match': {
                const cachedBefore = idx.cacheSize;
                const once = idx.matchOnce(op.topic);
                assert.equal(idx.cacheSize, cachedBefore, `seed ${seed}: matchOnce changed the cache`);
                assert.deepEqual(canon(once), naive(live, op.topic), `seed ${seed}: matchOnce ${op.topic} after ${JSON.stringify(ops)}`);
                const r = idx.match(op.topic);
                const got = canon(r);
                assert.deepEqual(got, naive(live, op.topic), `seed ${seed}: match ${op.topic} after ${JSON.stringify(ops)}`);
                handedOut.push([r, got]);
                break;
              }
            }
            assert.equal(idx.size, live.size, `seed ${seed}: size`);
            assert.ok(idx.cacheSize <= matchCacheSize, `seed ${seed}: cacheSize ${idx.cacheSize} > ${matchCacheSize}`);
          }
          for (const [r, was] of handedOut) assert.deepEqual(canon(r), was, `seed ${seed}: a returned result was mutated`);
          // Removing everything leaves no trie nodes behind.
          for (const s of pool) idx.remove(s);
          assert.equal(idx.size, 0);
          assert.deepEqual(idx.stats(), { trieNodes: 0, rootChildren: 0, literalPatterns: 0 }, `seed ${seed}: leak`);
        },
      ),
      { seed, numRuns: 600 },
    );
  });

  test(`patternMatches agrees with a regex translation (seed ${seed})`, () => {
    const toRegex = (pattern: string): RegExp => {
      const toks = pattern.split('.');
      const parts = toks.map((t, i) => (t === '*' ? '[^.]*' : t === '>' && i === toks.length - 1 ? '[^.]*(?:\\.[^.]*)*' : t));
      return new RegExp(`^${parts.join('\\.')}$`);
    };
    fc.assert(
      fc.property(patternArb, topicArb, (pattern, topic) => {
        assert.equal(patternMatches(pattern, topic), toRegex(pattern).test(topic), `seed ${seed}: ${pattern} vs ${topic}`);
      }),
      { seed, numRuns: 2000 },
    );
  });
});
