import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_MATCH_RESULT, SubscriptionIndex, type MatchResult } from '../../src/core/routing/subscription-index.js';
import { patternMatches } from '../../src/core/routing/pattern-match.js';
import { DEFAULT_MATCH_CACHE_SIZE } from '../../src/core/defaults.js';

interface Sub {
  readonly pattern: string;
  readonly group?: string | undefined;
  readonly id: string;
}

let nextId = 0;
function sub(pattern: string, group?: string): Sub {
  return { pattern, group, id: `${pattern}#${nextId++}` };
}

/** Order-insensitive view of a result: plain ids, and group name -> member ids. */
function view(r: MatchResult<Sub>): { plain: string[]; groups: Record<string, string[]>; total: number } {
  const groups: Record<string, string[]> = {};
  for (const g of r.groups) {
    assert.equal(groups[g.name], undefined, `group ${g.name} listed twice`);
    groups[g.name] = g.members.map((m) => m.id).sort();
  }
  return { plain: r.plain.map((s) => s.id).sort(), groups, total: r.total };
}

function ids(r: MatchResult<Sub>): string[] {
  return [...r.plain, ...r.groups.flatMap((g) => g.members)].map((s) => s.id).sort();
}

function matching(index: SubscriptionIndex<Sub>, topic: string): string[] {
  return ids(index.match(topic));
}

describe('SubscriptionIndex matching', () => {
  test('literal patterns match only the identical topic', () => {
    const idx = new SubscriptionIndex<Sub>();
    const a = sub('orders.created.eu');
    const b = sub('orders.created');
    idx.add(a);
    idx.add(b);
    assert.deepEqual(matching(idx, 'orders.created.eu'), [a.id]);
    assert.deepEqual(matching(idx, 'orders.created'), [b.id]);
    assert.deepEqual(matching(idx, 'orders'), []);
    assert.deepEqual(matching(idx, 'orders.created.eu.x'), []);
    assert.deepEqual(matching(idx, 'orders.created.us'), []);
    assert.equal(idx.size, 2);
  });

  test('* matches exactly one token', () => {
    const idx = new SubscriptionIndex<Sub>();
    const mid = sub('orders.*.eu');
    const end = sub('orders.*');
    const only = sub('*');
    for (const s of [mid, end, only]) idx.add(s);
    assert.deepEqual(matching(idx, 'orders.created.eu'), [mid.id]);
    assert.deepEqual(matching(idx, 'orders.created'), [end.id]);
    assert.deepEqual(matching(idx, 'orders'), [only.id]);
    assert.deepEqual(matching(idx, 'orders.created.eu.x'), []);
    assert.deepEqual(matching(idx, 'payments.created.eu'), []);
  });

  test('> matches one or more remaining tokens', () => {
    const idx = new SubscriptionIndex<Sub>();
    const s = sub('orders.>');
    idx.add(s);
    assert.deepEqual(matching(idx, 'orders.created'), [s.id]);
    assert.deepEqual(matching(idx, 'orders.created.eu'), [s.id]);
    assert.deepEqual(matching(idx, 'orders.created.eu.v1.x'), [s.id]);
    assert.deepEqual(matching(idx, 'payments.created'), []);
  });

  test('a.> does not match a', () => {
    const idx = new SubscriptionIndex<Sub>();
    idx.add(sub('a.>'));
    idx.add(sub('a.*.>'));
    assert.equal(idx.match('a').total, 0);
    assert.equal(idx.match('a.b').total, 1);
    assert.equal(idx.match('a.b.c').total, 2);
  });

  test('> alone matches every topic', () => {
    const idx = new SubscriptionIndex<Sub>();
    const all = sub('>');
    idx.add(all);
    for (const t of ['a', 'a.b', 'orders.created.eu', 'x.y.z.w.v']) assert.deepEqual(matching(idx, t), [all.id], t);
  });

  test('literal, * and > subscriptions are all returned together', () => {
    const idx = new SubscriptionIndex<Sub>();
    const subs = [sub('a.b.c'), sub('a.*.c'), sub('*.b.*'), sub('a.>'), sub('a.b.>'), sub('>'), sub('a.b'), sub('*.*.*.*')];
    for (const s of subs) idx.add(s);
    for (const topic of ['a.b.c', 'a.b', 'a', 'x.b.y', 'a.b.c.d']) {
      const expected = subs
        .filter((s) => patternMatches(s.pattern, topic))
        .map((s) => s.id)
        .sort();
      assert.deepEqual(matching(idx, topic), expected, topic);
      assert.equal(idx.match(topic).total, expected.length);
    }
  });

  test('groups are merged by name across all matching patterns', () => {
    const idx = new SubscriptionIndex<Sub>();
    const g1 = sub('orders.created', 'workers');
    const g2 = sub('orders.*', 'workers');
    const g3 = sub('>', 'workers');
    const g4 = sub('orders.>', 'audit');
    const p1 = sub('orders.created');
    const p2 = sub('orders.*');
    const other = sub('payments.*', 'workers');
    for (const s of [g1, g2, g3, g4, p1, p2, other]) idx.add(s);
    const r = idx.match('orders.created');
    assert.deepEqual(view(r), {
      plain: [p1.id, p2.id].sort(),
      groups: { workers: [g1.id, g2.id, g3.id].sort(), audit: [g4.id] },
      total: 6,
    });
    assert.equal(r.groups.length, 2);
  });

  test('many distinct groups in one match (name index path)', () => {
    const idx = new SubscriptionIndex<Sub>();
    const subs: Sub[] = [];
    for (let i = 0; i < 40; i++) {
      subs.push(sub(i % 2 === 0 ? 'a.b' : 'a.*', `g${i % 13}`));
    }
    for (const s of subs) idx.add(s);
    const v = view(idx.match('a.b'));
    assert.equal(Object.keys(v.groups).length, 13);
    assert.equal(v.total, 40);
    for (let g = 0; g < 13; g++) {
      assert.deepEqual(
        v.groups[`g${g}`],
        subs
          .filter((s) => s.group === `g${g}`)
          .map((s) => s.id)
          .sort(),
      );
    }
  });

  test('no match returns the shared frozen empty result', () => {
    const idx = new SubscriptionIndex<Sub>();
    idx.add(sub('a.b'));
    const r = idx.match('x.y');
    assert.equal(r, EMPTY_MATCH_RESULT);
    assert.ok(Object.isFrozen(r));
    assert.ok(Object.isFrozen(r.plain));
    assert.ok(Object.isFrozen(r.groups));
    assert.equal(r.total, 0);
  });

  test('odd (invalid) patterns do not crash and never match valid topics wrongly', () => {
    const idx = new SubscriptionIndex<Sub>();
    const odd = ['a.>.b', 'a*b', 'a.b>', '', 'a..b', '.', '>.>', '**'].map((p) => sub(p));
    for (const s of odd) idx.add(s);
    for (const topic of ['a.b', 'a.x.b', 'ab', 'a', 'a.b.c']) {
      const expected = odd
        .filter((s) => patternMatches(s.pattern, topic))
        .map((s) => s.id)
        .sort();
      assert.deepEqual(matching(idx, topic), expected, topic);
    }
    for (const s of odd) assert.equal(idx.remove(s), true, s.pattern);
    assert.equal(idx.size, 0);
    assert.deepEqual(idx.stats(), { trieNodes: 0, rootChildren: 0, literalPatterns: 0 });
  });
});

describe('SubscriptionIndex add/remove', () => {
  test('adding the same object twice is a no-op', () => {
    const idx = new SubscriptionIndex<Sub>();
    const lit = sub('a.b');
    const wild = sub('a.*', 'g');
    const tail = sub('a.>');
    for (let i = 0; i < 3; i++) {
      idx.add(lit);
      idx.add(wild);
      idx.add(tail);
    }
    assert.equal(idx.size, 3);
    assert.equal(idx.match('a.b').total, 3);
    assert.equal(idx.remove(lit), true);
    assert.equal(idx.remove(lit), false);
    assert.equal(idx.match('a.b').total, 2);
  });

  test('duplicate add is a no-op in large buckets too', () => {
    const idx = new SubscriptionIndex<Sub>();
    for (const pattern of ['big.topic', 'big.*', 'big.>']) {
      const subs = Array.from({ length: 100 }, () => sub(pattern));
      for (const s of subs) idx.add(s);
      for (const s of subs) idx.add(s);
      // shrink below the threshold and grow again
      for (const s of subs.slice(0, 90)) assert.equal(idx.remove(s), true);
      for (const s of subs) idx.add(s);
      for (const s of subs) idx.add(s);
    }
    assert.equal(idx.size, 300);
    assert.equal(idx.match('big.topic').total, 300);
  });

  test('distinct objects with the same pattern are separate subscriptions', () => {
    const idx = new SubscriptionIndex<Sub>();
    const a = sub('x.y');
    const b = sub('x.y');
    const c = sub('x.y');
    idx.add(a);
    idx.add(b);
    idx.add(c);
    assert.equal(idx.match('x.y').total, 3);
    assert.equal(idx.remove(b), true);
    assert.deepEqual(matching(idx, 'x.y'), [a.id, c.id].sort());
    assert.equal(idx.remove(a), true);
    assert.equal(idx.remove(c), true);
    assert.equal(idx.match('x.y').total, 0);
  });

  test('remove of an unknown subscription returns false', () => {
    const idx = new SubscriptionIndex<Sub>();
    idx.add(sub('a.b'));
    idx.add(sub('a.*'));
    assert.equal(idx.remove(sub('a.b')), false);
    assert.equal(idx.remove(sub('a.*')), false);
    assert.equal(idx.remove(sub('a.>')), false);
    assert.equal(idx.remove(sub('q.r.s')), false);
    assert.equal(idx.size, 2);
  });

  test('remove prunes empty trie nodes, and re-adding works', () => {
    const idx = new SubscriptionIndex<Sub>();
    const subs = [
      sub('a.b.c'),
      sub('a.*.c'),
      sub('a.*.*.d'),
      sub('a.>'),
      sub('*.b.>'),
      sub('>'),
      sub('*'),
      sub('a.*.c', 'g'),
      sub('x.y.*', 'g'),
      sub('a.b.c', 'g'),
    ];
    for (const s of subs) idx.add(s);
    const stats = idx.stats();
    assert.ok(stats.trieNodes > 0);
    assert.ok(stats.rootChildren > 0);
    assert.equal(stats.literalPatterns, 1 + 1); // a.b.c ungrouped + grouped

    // Removing some keeps the others intact.
    assert.equal(idx.remove(subs[1]!), true);
    assert.deepEqual(matching(idx, 'a.b.c'), [subs[0]!.id, subs[3]!.id, subs[4]!.id, subs[5]!.id, subs[7]!.id, subs[9]!.id].sort());

    for (const s of subs) idx.remove(s);
    assert.equal(idx.size, 0);
    assert.deepEqual(idx.stats(), { trieNodes: 0, rootChildren: 0, literalPatterns: 0 });
    assert.equal(idx.match('a.b.c').total, 0);

    for (const s of subs) idx.add(s);
    assert.equal(idx.size, subs.length);
    assert.deepEqual(idx.stats(), stats);
    const expected = subs
      .filter((s) => patternMatches(s.pattern, 'a.b.c'))
      .map((s) => s.id)
      .sort();
    assert.deepEqual(matching(idx, 'a.b.c'), expected);
  });

  test('churn does not grow the trie', () => {
    const idx = new SubscriptionIndex<Sub>();
    const keep = [sub('t.*.x'), sub('t.>')];
    for (const s of keep) idx.add(s);
    const base = idx.stats();
    for (let i = 0; i < 500; i++) {
      const tmp = [sub(`t.${i}.*`), sub(`*.${i}.>`), sub(`t.${i}.x`), sub(`t.*.${i}`, 'g')];
      for (const s of tmp) idx.add(s);
      idx.match(`t.${i}.x`);
      for (const s of tmp) assert.equal(idx.remove(s), true);
    }
    assert.deepEqual(idx.stats(), base);
    assert.equal(idx.size, 2);
  });

  test('clear() removes everything', () => {
    const idx = new SubscriptionIndex<Sub>();
    for (const p of ['a.b', 'a.*', 'a.>', '>']) idx.add(sub(p));
    idx.match('a.b');
    idx.clear();
    assert.equal(idx.size, 0);
    assert.equal(idx.cacheSize, 0);
    assert.deepEqual(idx.stats(), { trieNodes: 0, rootChildren: 0, literalPatterns: 0 });
    assert.equal(idx.match('a.b').total, 0);
    const s = sub('a.b');
    idx.add(s);
    assert.deepEqual(matching(idx, 'a.b'), [s.id]);
  });
});

describe('SubscriptionIndex match cache', () => {
  test('results are cached and returned as stable snapshots', () => {
    const idx = new SubscriptionIndex<Sub>();
    const a = sub('a.b');
    idx.add(a);
    const r1 = idx.match('a.b');
    assert.equal(idx.cacheSize, 1);
    assert.equal(idx.match('a.b'), r1, 'second lookup is served from the cache');
    const b = sub('a.b');
    idx.add(b);
    const r2 = idx.match('a.b');
    assert.notEqual(r2, r1);
    assert.deepEqual(ids(r1), [a.id], 'an earlier result is never mutated');
    assert.deepEqual(ids(r2), [a.id, b.id].sort());
    idx.remove(a);
    assert.deepEqual(ids(r2), [a.id, b.id].sort(), 'an earlier result is never mutated');
    assert.deepEqual(matching(idx, 'a.b'), [b.id]);
  });

  test('literal add/remove invalidates only that topic', () => {
    const idx = new SubscriptionIndex<Sub>();
    idx.add(sub('x.y'));
    assert.equal(idx.match('a.b').total, 0);
    idx.match('x.y');
    idx.match('q');
    assert.equal(idx.cacheSize, 3);
    const s = sub('a.b');
    idx.add(s);
    assert.equal(idx.cacheSize, 2, 'only a.b was dropped');
    assert.deepEqual(matching(idx, 'a.b'), [s.id]);
    idx.remove(s);
    assert.equal(idx.cacheSize, 2);
    assert.equal(idx.match('a.b').total, 0);
  });

  test('wildcard add/remove invalidates the cached topics it matches', () => {
    for (const pattern of ['a.*', 'a.>', '*.b', '>', '*']) {
      const idx = new SubscriptionIndex<Sub>();
      const topics = ['a.b', 'a.c', 'a.b.c', 'x.b', 'a', 'x'];
      for (const t of topics) assert.equal(idx.match(t).total, 0);
      const s = sub(pattern);
      idx.add(s);
      for (const t of topics) {
        assert.deepEqual(matching(idx, t), patternMatches(pattern, t) ? [s.id] : [], `${pattern} vs ${t} after add`);
      }
      idx.remove(s);
      for (const t of topics) assert.equal(idx.match(t).total, 0, `${pattern} vs ${t} after remove`);
    }
  });

  test('wildcard invalidation keeps unaffected entries when traffic flows (scan)', () => {
    const idx = new SubscriptionIndex<Sub>();
    for (let i = 0; i < 100; i++) idx.match(`t${i}.x`);
    assert.equal(idx.cacheSize, 100);
    const s = sub('t7.*');
    idx.add(s);
    assert.equal(idx.cacheSize, 99, 'only t7.x was dropped');
    assert.deepEqual(matching(idx, 't7.x'), [s.id]);
  });

  test('a burst of wildcard subscriptions clears the cache instead of rescanning it', () => {
    const idx = new SubscriptionIndex<Sub>();
    for (let i = 0; i < 100; i++) idx.match(`t${i}.x`);
    idx.add(sub('t1.*')); // traffic since the last invalidation: scan
    assert.equal(idx.cacheSize, 99);
    const s = sub('t2.*');
    idx.add(s); // no lookups in between: clear
    assert.equal(idx.cacheSize, 0);
    assert.deepEqual(matching(idx, 't2.x'), [s.id]);
    assert.equal(idx.match('t50.x').total, 0);
  });

  test('grouped subscriptions invalidate too', () => {
    const idx = new SubscriptionIndex<Sub>();
    assert.equal(idx.match('a.b').total, 0);
    const g = sub('a.*', 'g');
    idx.add(g);
    assert.deepEqual(view(idx.match('a.b')).groups, { g: [g.id] });
    idx.remove(g);
    assert.equal(idx.match('a.b').total, 0);
  });

  test('the cache is bounded by matchCacheSize', () => {
    const idx = new SubscriptionIndex<Sub>({ matchCacheSize: 8 });
    const all = sub('>');
    idx.add(all);
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(matching(idx, `t${i}`), [all.id]);
      assert.ok(idx.cacheSize <= 8, `cacheSize ${idx.cacheSize}`);
      // re-hit a few to exercise the second-chance bits
      if (i % 3 === 0) idx.match('t0');
    }
    assert.equal(idx.cacheSize, 8);
    // Invalidations free slots; the bound still holds when they are reused.
    idx.add(sub('t9*9')); // not a wildcard token, literal in the trie
    for (let i = 0; i < 50; i++) idx.match(`u${i}`);
    assert.ok(idx.cacheSize <= 8);
  });

  test('default cache size', () => {
    assert.equal(DEFAULT_MATCH_CACHE_SIZE, 4096);
    const idx = new SubscriptionIndex<Sub>();
    for (let i = 0; i < DEFAULT_MATCH_CACHE_SIZE + 100; i++) idx.match(`t.${i}`);
    assert.equal(idx.cacheSize, DEFAULT_MATCH_CACHE_SIZE);
  });

  test('matchCacheSize 0 disables the cache', () => {
    const idx = new SubscriptionIndex<Sub>({ matchCacheSize: 0 });
    const a = sub('a.*');
    idx.add(a);
    const r1 = idx.match('a.b');
    assert.deepEqual(ids(r1), [a.id]);
    assert.equal(idx.cacheSize, 0);
    const b = sub('a.b');
    idx.add(b);
    assert.deepEqual(matching(idx, 'a.b'), [a.id, b.id].sort());
    assert.deepEqual(ids(r1), [a.id]);
    assert.equal(idx.cacheSize, 0);
  });
});
