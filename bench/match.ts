/**
 * Routing-core benchmark: crossbus SubscriptionIndex vs qlobber (v8, the matcher used by aedes).
 *
 * Workload (seeded, reproducible): 100,000 subscriptions, ~70% literal (3-5 tokens), ~20% with `*`,
 * ~10% ending with `>`; ~15% of them in queue groups. Measures:
 *   - subscribe rate: adding all 100,000 subscriptions to an empty index (ops/s)
 *   - match rate: 200,000 lookups drawn (Zipf, s = 1) from 10,000 distinct topics (lookups/s);
 *     repeated topics are realistic and our per-topic match cache is meant to exploit them
 *   - crossbus-nocache-match: the same stream with matchCacheSize: 0 (extra info)
 *   - churn: the same stream with an unsubscribe + subscribe pair every 10th lookup (ops/s, both
 *     kinds of operation counted), which also exercises match-cache invalidation
 *
 * Run directly: `npx tsx bench/match.ts`.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SubscriptionIndex, type IndexedSubscription } from '../src/core/routing/subscription-index.js';
import { printBench, type BenchOutput } from './lib/output.js';

export type { BenchOutput } from './lib/output.js';

// qlobber ships no type declarations; load the CommonJS module with a local minimal type.
interface QlobberInstance<V> {
  add(topic: string, val: V): QlobberInstance<V>;
  remove(topic: string, val?: V): QlobberInstance<V>;
  match(topic: string): V[];
}
interface QlobberModule {
  Qlobber: new <V>(options?: { separator?: string; wildcard_one?: string; wildcard_some?: string }) => QlobberInstance<V>;
}
const qlobber = createRequire(import.meta.url)('qlobber') as QlobberModule;

const SUBSCRIPTIONS = 100_000;
const DISTINCT_TOPICS = 10_000;
const LOOKUPS = 200_000;
const SUBSCRIBE_ROUNDS = 7;
const MATCH_ROUNDS = 5;
const SEED = 0x5eed_2026;

/**
 * A full GC before every timed section, so that neither side pays for the other's garbage (the
 * order of the two sides alternates too). Works without `--expose-gc` on the command line.
 */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc === 'function') return () => void gc();
  } catch {
    // fall through
  }
  return () => undefined;
})();

interface Sub extends IndexedSubscription {
  readonly pattern: string;
  readonly group: string | undefined;
  readonly id: number;
}

/** mulberry32: tiny, fast, good-enough seeded PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TENANTS = 2000;
const DOMAINS = ['orders', 'payments', 'users', 'inventory', 'shipping', 'invoices', 'carts', 'sessions', 'reviews', 'alerts'];
const EVENTS = ['created', 'updated', 'deleted', 'shipped', 'cancelled', 'refunded', 'approved', 'failed'];
const REGIONS = ['eu', 'us', 'apac', 'latam', 'mea'];
const VERSIONS = ['v1', 'v2', 'v3'];

interface Workload {
  patterns: string[];
  groups: (string | undefined)[];
  /** Patterns in qlobber syntax (`>` -> `*.#`, since qlobber's `#` matches ZERO or more words). */
  qPatterns: string[];
  /** LOOKUPS topic strings (drawn from DISTINCT_TOPICS distinct ones). */
  stream: string[];
  distinct: string[];
}

function buildWorkload(): Workload {
  const rnd = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const tenant = (): string => `tenant${Math.floor(rnd() * TENANTS)}`;
  const randomTopic = (): string => {
    const r = rnd();
    let t = `${tenant()}.${pick(DOMAINS)}.${pick(EVENTS)}`;
    if (r < 0.6) t += `.${pick(REGIONS)}`;
    if (r < 0.2) t += `.${pick(VERSIONS)}`;
    return t;
  };

  const patterns: string[] = [];
  const groups: (string | undefined)[] = [];
  const literals: string[] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const kind = rnd();
    let p: string;
    if (kind < 0.7) {
      p = randomTopic();
      literals.push(p);
    } else if (kind < 0.9) {
      const w = rnd();
      if (w < 0.3) p = `${tenant()}.*.${pick(EVENTS)}`;
      else if (w < 0.6) p = `${tenant()}.${pick(DOMAINS)}.*`;
      else if (w < 0.8) p = `${tenant()}.${pick(DOMAINS)}.*.${pick(REGIONS)}`;
      else if (w < 0.95) p = `${tenant()}.*.${pick(EVENTS)}.${pick(REGIONS)}`;
      else p = `*.${pick(DOMAINS)}.${pick(EVENTS)}.${pick(REGIONS)}`;
    } else {
      const w = rnd();
      if (w < 0.4) p = `${tenant()}.>`;
      else if (w < 0.9) p = `${tenant()}.${pick(DOMAINS)}.>`;
      else p = `${tenant()}.${pick(DOMAINS)}.${pick(EVENTS)}.>`;
    }
    patterns.push(p);
    groups.push(rnd() < 0.15 ? `workers${Math.floor(rnd() * 10)}` : undefined);
  }
  // Our `>` = one or more tokens; qlobber `#` = zero or more, so `a.>` becomes `a.*.#`.
  const qPatterns = patterns.map((p) => (p === '>' ? '*.#' : p.endsWith('.>') ? `${p.slice(0, -1)}*.#` : p));

  // Half the distinct topics are topics someone subscribed to literally, half are random.
  const seen = new Set<string>();
  const distinct: string[] = [];
  while (distinct.length < DISTINCT_TOPICS) {
    const t = rnd() < 0.5 ? pick(literals) : randomTopic();
    // Fresh (non-interned) string, like a topic decoded from a frame.
    const fresh = t.split('.').join('.');
    if (!seen.has(fresh)) {
      seen.add(fresh);
      distinct.push(fresh);
    }
  }
  // Zipf(s = 1) popularity over the distinct topics.
  const cdf = new Float64Array(DISTINCT_TOPICS);
  let acc = 0;
  for (let i = 0; i < DISTINCT_TOPICS; i++) cdf[i] = acc += 1 / (i + 1);
  const stream: string[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const u = rnd() * acc;
    let lo = 0;
    let hi = DISTINCT_TOPICS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    stream.push(distinct[lo]!);
  }
  return { patterns, groups, qPatterns, stream, distinct };
}

function freshSubs(w: Workload): Sub[] {
  const subs: Sub[] = new Array<Sub>(w.patterns.length);
  for (let i = 0; i < subs.length; i++) subs[i] = { pattern: w.patterns[i]!, group: w.groups[i], id: i };
  return subs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function subscribeCrossbus(subs: readonly Sub[]): { index: SubscriptionIndex<Sub>; ms: number } {
  collectGarbage();
  const index = new SubscriptionIndex<Sub>();
  const t0 = performance.now();
  for (let i = 0; i < subs.length; i++) index.add(subs[i]!);
  return { index, ms: performance.now() - t0 };
}

function subscribeQlobber(subs: readonly Sub[], qPatterns: readonly string[]): { q: QlobberInstance<Sub>; ms: number } {
  collectGarbage();
  const q = new qlobber.Qlobber<Sub>();
  const t0 = performance.now();
  for (let i = 0; i < subs.length; i++) q.add(qPatterns[i]!, subs[i]!);
  return { q, ms: performance.now() - t0 };
}

function streamCrossbus(index: SubscriptionIndex<Sub>, stream: readonly string[]): { ms: number; matches: number } {
  let matches = 0;
  collectGarbage();
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i++) matches += index.match(stream[i]!).total;
  return { ms: performance.now() - t0, matches };
}

function streamQlobber(q: QlobberInstance<Sub>, stream: readonly string[]): { ms: number; matches: number } {
  let matches = 0;
  collectGarbage();
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i++) matches += q.match(stream[i]!).length;
  return { ms: performance.now() - t0, matches };
}

/** Every CHURN_EVERY-th operation unsubscribes one subscription and subscribes its replacement. */
const CHURN_EVERY = 10;

/**
 * Churn: the match stream interleaved with subscribe/unsubscribe pairs (clients coming and going),
 * which also exercises match-cache invalidation. Replaces entries of `subs` in place.
 */
function churn(
  subs: Sub[],
  stream: readonly string[],
  add: (s: Sub) => void,
  remove: (s: Sub) => void,
  match: (t: string) => number,
): { ms: number; ops: number; matches: number } {
  const rnd = mulberry32(SEED ^ 0xc4);
  const picks = Array.from({ length: Math.ceil(stream.length / CHURN_EVERY) }, () => Math.floor(rnd() * subs.length));
  let matches = 0;
  let ops = 0;
  collectGarbage();
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i++) {
    if (i % CHURN_EVERY === 0) {
      const j = picks[i / CHURN_EVERY]!;
      const old = subs[j]!;
      remove(old);
      const next: Sub = { pattern: old.pattern, group: old.group, id: old.id };
      add(next);
      subs[j] = next;
      ops += 2;
    }
    matches += match(stream[i]!);
    ops++;
  }
  return { ms: performance.now() - t0, ops, matches };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export async function runMatchBench(): Promise<BenchOutput> {
  const w = buildWorkload();
  const n = w.patterns.length;

  // Warm-up: exercise add/match/remove on both sides with throw-away objects.
  for (let r = 0; r < 2; r++) {
    const a = subscribeCrossbus(freshSubs(w));
    const b = subscribeQlobber(freshSubs(w), w.qPatterns);
    streamCrossbus(a.index, w.stream);
    streamQlobber(b.q, w.stream);
  }

  // (1) Subscribe rate: fresh subscription objects for every round and side (in production each
  // subscription is a new object, so per-object first-time costs must be paid inside the timing).
  const ourSub: number[] = [];
  const theirSub: number[] = [];
  let index: SubscriptionIndex<Sub> | undefined;
  let q: QlobberInstance<Sub> | undefined;
  let subs: Sub[] = [];
  let qSubs: Sub[] = [];
  for (let r = 0; r < SUBSCRIBE_ROUNDS; r++) {
    const mine = freshSubs(w);
    const theirs = freshSubs(w);
    await new Promise((resolve) => setImmediate(resolve));
    if (r % 2 === 0) {
      const a = subscribeCrossbus(mine);
      const b = subscribeQlobber(theirs, w.qPatterns);
      ourSub.push(a.ms);
      theirSub.push(b.ms);
      index = a.index;
      q = b.q;
    } else {
      const b = subscribeQlobber(theirs, w.qPatterns);
      const a = subscribeCrossbus(mine);
      ourSub.push(a.ms);
      theirSub.push(b.ms);
      index = a.index;
      q = b.q;
    }
    subs = mine;
    qSubs = theirs;
  }
  if (process.env.MATCH_BENCH_VERBOSE) {
    const ms = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(',');
    process.stderr.write(`subscribe ms per round: crossbus=${ms(ourSub)} qlobber=${ms(theirSub)}\n`);
  }
  if (index === undefined || q === undefined) throw new Error('unreachable');
  if (index.size !== n) throw new Error(`crossbus index holds ${index.size} subscriptions, expected ${n}`);

  const noCache = new SubscriptionIndex<Sub>({ matchCacheSize: 0 });
  for (const s of subs) noCache.add(s);

  // Sanity: both matchers must agree on the number of matches for every distinct topic.
  for (const topic of w.distinct) {
    const ours = index.match(topic).total;
    const theirs = q.match(topic).length;
    const nc = noCache.match(topic).total;
    if (ours !== theirs || nc !== ours) {
      throw new Error(`match count mismatch for ${topic}: crossbus=${ours} nocache=${nc} qlobber=${theirs}`);
    }
  }

  // (2) Match rate over the Zipf stream, (3) uncached rate.
  const ourMatch: number[] = [];
  const theirMatch: number[] = [];
  const noCacheMatch: number[] = [];
  let totals: [number, number, number] = [0, 0, 0];
  streamCrossbus(index, w.stream);
  streamCrossbus(noCache, w.stream);
  streamQlobber(q, w.stream);
  for (let r = 0; r < MATCH_ROUNDS; r++) {
    await new Promise((resolve) => setImmediate(resolve));
    const b = streamQlobber(q, w.stream);
    const a = streamCrossbus(index, w.stream);
    const c = streamCrossbus(noCache, w.stream);
    ourMatch.push(a.ms);
    theirMatch.push(b.ms);
    noCacheMatch.push(c.ms);
    totals = [a.matches, b.matches, c.matches];
  }
  if (totals[0] !== totals[1] || totals[2] !== totals[1]) {
    throw new Error(`total match counts differ: crossbus=${totals[0]} qlobber=${totals[1]} nocache=${totals[2]}`);
  }

  // (4) Churn: matches with subscribe/unsubscribe pairs mixed in (both sides, same sequence).
  const ourChurn = churn(
    subs,
    w.stream,
    (x) => index!.add(x),
    (x) => index!.remove(x),
    (t) => index!.match(t).total,
  );
  const theirChurn = churn(
    qSubs,
    w.stream,
    (x) => q!.add(w.qPatterns[x.id]!, x),
    (x) => q!.remove(w.qPatterns[x.id]!, x),
    (t) => q!.match(t).length,
  );
  if (ourChurn.matches !== theirChurn.matches) {
    throw new Error(`match counts differ under churn: crossbus=${ourChurn.matches} qlobber=${theirChurn.matches}`);
  }

  // Memory is released: removing every subscription leaves an empty trie.
  for (const s of subs) index.remove(s);
  const stats = index.stats();
  if (index.size !== 0 || stats.trieNodes !== 0 || stats.rootChildren !== 0 || stats.literalPatterns !== 0) {
    throw new Error(`index not empty after removing all subscriptions: ${JSON.stringify(stats)}`);
  }

  const results: Record<string, number> = {
    'crossbus-match': LOOKUPS / (median(ourMatch) / 1000),
    'qlobber-match': LOOKUPS / (median(theirMatch) / 1000),
    'crossbus-subscribe': n / (median(ourSub) / 1000),
    'qlobber-subscribe': n / (median(theirSub) / 1000),
    'crossbus-nocache-match': LOOKUPS / (median(noCacheMatch) / 1000),
    'crossbus-churn': ourChurn.ops / (ourChurn.ms / 1000),
    'qlobber-churn': theirChurn.ops / (theirChurn.ms / 1000),
  };
  const ratios: Record<string, number> = {
    'crossbus/qlobber-match': results['crossbus-match']! / results['qlobber-match']!,
    'crossbus/qlobber-subscribe': results['crossbus-subscribe']! / results['qlobber-subscribe']!,
    'crossbus/qlobber-churn': results['crossbus-churn']! / results['qlobber-churn']!,
  };

  const rows: [string, string, string][] = [
    ['crossbus-subscribe', fmt(results['crossbus-subscribe']!), `${ratios['crossbus/qlobber-subscribe']!.toFixed(2)}x qlobber`],
    ['qlobber-subscribe', fmt(results['qlobber-subscribe']!), ''],
    ['crossbus-match', fmt(results['crossbus-match']!), `${ratios['crossbus/qlobber-match']!.toFixed(2)}x qlobber`],
    [
      'crossbus-nocache-match',
      fmt(results['crossbus-nocache-match']!),
      `${(results['crossbus-nocache-match']! / results['qlobber-match']!).toFixed(2)}x qlobber`,
    ],
    ['qlobber-match', fmt(results['qlobber-match']!), ''],
    ['crossbus-churn', fmt(results['crossbus-churn']!), `${ratios['crossbus/qlobber-churn']!.toFixed(2)}x qlobber`],
    ['qlobber-churn', fmt(results['qlobber-churn']!), ''],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length), 'benchmark'.length);
  const w1 = Math.max(...rows.map((r) => r[1].length), 'ops/s'.length);
  const lines = [
    `match: ${fmt(n)} subscriptions (70% literal, 20% '*', 10% '>'), ${fmt(LOOKUPS)} lookups over ${fmt(DISTINCT_TOPICS)} topics (Zipf)`,
    `matches per lookup: ${(totals[0] / LOOKUPS).toFixed(2)} (identical for crossbus and qlobber); medians of ${SUBSCRIBE_ROUNDS} subscribe / ${MATCH_ROUNDS} match rounds`,
    `${'benchmark'.padEnd(w0)}  ${'ops/s'.padStart(w1)}  ratio`,
    `${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(16)}`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()),
  ];
  // The JSON line uses the suite-wide key names: `crossbus`/`qlobber` are the match rates (the
  // headline number), the subscribe rates carry a suffix. Rounded so the line stays readable.
  const round = (x: number, d = 0): number => Number(x.toFixed(d));
  const json = {
    results: {
      crossbus: round(results['crossbus-match']!),
      qlobber: round(results['qlobber-match']!),
      'crossbus-subscribe': round(results['crossbus-subscribe']!),
      'qlobber-subscribe': round(results['qlobber-subscribe']!),
      'crossbus-nocache': round(results['crossbus-nocache-match']!),
      'crossbus-churn': round(results['crossbus-churn']!),
      'qlobber-churn': round(results['qlobber-churn']!),
    },
    ratios: {
      'crossbus/qlobber': round(ratios['crossbus/qlobber-match']!, 3),
      'crossbus/qlobber-subscribe': round(ratios['crossbus/qlobber-subscribe']!, 3),
      'crossbus/qlobber-churn': round(ratios['crossbus/qlobber-churn']!, 3),
    },
  };
  return { suite: 'match', unit: 'ops/s', table: lines.join('\n'), ...json };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printBench(await runMatchBench());
}
