/**
 * Subscription index: finds every subscription whose pattern matches a topic.
 *
 * Topics are dot-separated tokens (`orders.created.eu`). Patterns use NATS-style wildcards as whole
 * tokens: `*` matches exactly one token, `>` (last token only) matches one or more remaining tokens.
 * Validation happens elsewhere; odd input never crashes here (a `>` that is not the last token, or a
 * `*`/`>` inside a token, is simply treated as a literal token, which no valid topic can contain).
 *
 * Layout (chosen for subscribe AND match throughput):
 * - Literal patterns (no wildcard, ~the common case) live in a flat `Map<pattern, S | S[]>` (one
 *   for ungrouped, one for grouped subscriptions). Subscribing is then a single hash insert with no
 *   tokenisation and no node allocation, and matching them is a single `get(topic)`.
 * - Wildcard patterns live in a token trie. Each node has a `Map` of literal children (created
 *   lazily), a `*` child, a `>` bucket (patterns ending in `>` at that depth) and the bucket of
 *   patterns that end exactly at that node. Empty nodes are pruned on removal, so churn does not
 *   leak memory.
 * - Match results are cached per topic, bounded to `matchCacheSize` entries. Eviction is FIFO
 *   with a second chance (CLOCK): the oldest entry goes, unless it was hit since the hand last
 *   passed it. Results are fresh arrays built on a cache miss and never mutated afterwards, so
 *   callers may hold on to them.
 *
 * Isomorphic: no Node/DOM APIs.
 */
import { DEFAULT_MATCH_CACHE_SIZE } from '../defaults.js';

export interface IndexedSubscription {
  readonly pattern: string;
  readonly group?: string | undefined;
}

export interface GroupMatch<S> {
  readonly name: string;
  readonly members: readonly S[];
}

export interface MatchResult<S> {
  /** Subscriptions without a group: each gets the message. */
  readonly plain: readonly S[];
  /**
   * Subscriptions that share a group name, merged across ALL matching patterns (like NATS queue
   * groups): one entry per group name.
   */
  readonly groups: readonly GroupMatch<S>[];
  /** plain.length + the sum of all group member counts. */
  readonly total: number;
}

export interface SubscriptionIndexOptions {
  /** Max cached topics. 0 disables the match cache. @default DEFAULT_MATCH_CACHE_SIZE */
  matchCacheSize?: number;
}

/**
 * Cache invalidation for wildcard (un)subscribes. A literal pattern only affects the one topic
 * spelled like it, so that entry is dropped. A wildcard pattern may affect any cached topic, and we
 * either scan the cache (drop just the topics it matches: an allocation-free token compare, tens of
 * ns per entry) or clear it (O(1) now, but every entry that would have been hit again costs a miss
 * later, ~1-2 us, i.e. 30-50x a scan step). We scan when
 *
 *     lookups since the previous wildcard invalidation * INVALIDATION_SCAN_FACTOR >= cached topics
 *
 * i.e. when live traffic would re-populate (and so pay for) the entries a clear throws away. That
 * keeps the hit rate during steady churn (occasional (un)subscribes between messages), while a
 * burst of wildcard (un)subscribes with no traffic in between (reconnect storm, bulk restore) pays
 * at most one scan and then clears, after which the cache is empty and invalidation is free; so the
 * subscribe rate never degrades to O(subscriptions x cache size). Tiny caches are always scanned.
 */
export const INVALIDATION_SCAN_FACTOR = 32;

/** Buckets at least this long get O(1) duplicate checks through a Set (see `bigMembers`). */
const BIG_BUCKET = 32;

const STAR = 0x2a; // *
const GT = 0x3e; // >

const EMPTY_ARRAY: readonly never[] = Object.freeze([]);

/** Shared frozen result for topics nothing matches. */
export const EMPTY_MATCH_RESULT: MatchResult<never> = Object.freeze({
  plain: EMPTY_ARRAY,
  groups: EMPTY_ARRAY,
  total: 0,
});

class TrieNode<S> {
  /** Literal-token children; created on first use. */
  lit: Map<string, TrieNode<S>> | undefined = undefined;
  /** `*` child. */
  star: TrieNode<S> | undefined = undefined;
  /** Ungrouped / grouped subscriptions whose pattern ends with `>` right after this node. */
  gt: S[] | undefined = undefined;
  gtGrouped: S[] | undefined = undefined;
  /** Ungrouped / grouped subscriptions whose pattern ends exactly at this node. */
  subs: S[] | undefined = undefined;
  subsGrouped: S[] | undefined = undefined;
}

/**
 * A literal pattern's subscriptions: the subscription itself while it is the only one (saves an
 * array per pattern, most literal patterns have a single subscriber), else an array.
 */
type Slot<S> = S | S[];

function isBucket<S>(v: Slot<S>): v is S[] {
  return Array.isArray(v);
}

interface GroupEntry<S> {
  readonly name: string;
  readonly members: S[];
}

/**
 * Adds a grouped subscription to the group list being built for one match. Few distinct groups
 * per topic is the norm, so the list is searched linearly until it grows past 8 entries; from then
 * on a name index is used (and returned, so the caller passes it back in).
 */
function groupInto<S extends IndexedSubscription>(
  list: GroupEntry<S>[],
  index: Map<string, S[]> | undefined,
  s: S,
): Map<string, S[]> | undefined {
  const name = s.group!;
  if (index !== undefined) {
    const members = index.get(name);
    if (members !== undefined) {
      members.push(s);
    } else {
      const entry = { name, members: [s] };
      list.push(entry);
      index.set(name, entry.members);
    }
    return index;
  }
  for (let k = 0; k < list.length; k++) {
    const entry = list[k]!;
    if (entry.name === name) {
      entry.members.push(s);
      return undefined;
    }
  }
  list.push({ name, members: [s] });
  if (list.length <= 8) return undefined;
  const built = new Map<string, S[]>();
  for (let k = 0; k < list.length; k++) built.set(list[k]!.name, list[k]!.members);
  return built;
}

function isEmptyNode(node: TrieNode<unknown>): boolean {
  return (
    node.subs === undefined &&
    node.subsGrouped === undefined &&
    node.gt === undefined &&
    node.gtGrouped === undefined &&
    node.star === undefined &&
    node.lit === undefined
  );
}

/**
 * True when the pattern may contain a wildcard token and therefore goes to the trie. `>` is only a
 * wildcard as the last token, so one `indexOf` plus a last-char check suffices; anything flagged
 * here that is not really a wildcard (`a*b`) is handled as a literal token by the trie, and a `>`
 * elsewhere is literal in both places, so both stores agree with `patternMatches`.
 */
function isTriePattern(pattern: string): boolean {
  return pattern.indexOf('*') !== -1 || pattern.charCodeAt(pattern.length - 1) === GT;
}

/** Removes one exact object from a bucket, keeping order. Returns whether it was found. */
function removeFromBucket<S>(bucket: S[], sub: S): boolean {
  const i = bucket.lastIndexOf(sub);
  if (i === -1) return false;
  if (i === bucket.length - 1) bucket.pop();
  else bucket.splice(i, 1);
  return true;
}

/**
 * Allocation-free check of pre-split pattern tokens against a topic string (used to invalidate
 * cached entries). Same semantics as the trie and as `patternMatches`.
 */
function tokensMatchTopic(pt: readonly string[], topic: string): boolean {
  const n = topic.length;
  const last = pt.length - 1;
  let pos = 0;
  for (let i = 0; i <= last; i++) {
    if (pos > n) return false; // topic has no tokens left
    const tok = pt[i]!;
    if (i === last && tok === '>') return true; // at least one token remains
    let end = topic.indexOf('.', pos);
    if (end === -1) end = n;
    if (tok !== '*' && (end - pos !== tok.length || !topic.startsWith(tok, pos))) return false;
    pos = end + 1;
  }
  return pos === n + 1;
}

export interface SubscriptionIndexStats {
  /** Wildcard trie nodes, excluding the root. */
  readonly trieNodes: number;
  /** Direct children of the trie root (literal + `*`), plus 1 if the root holds a `>` bucket. 0 when empty. */
  readonly rootChildren: number;
  /** Distinct literal patterns. */
  readonly literalPatterns: number;
}

export class SubscriptionIndex<S extends IndexedSubscription> {
  private count = 0;
  /**
   * Members of buckets holding >= BIG_BUCKET subscriptions, for O(1) duplicate checks there; small
   * buckets are simply scanned. (A global `Map<S, pattern>` would cost ~40% of `add` time: V8 has
   * to create an identity hash for every fresh subscription object and keep growing the table.)
   * Invariant: every member of a bucket with length >= BIG_BUCKET is in this set. It may also hold
   * members of buckets that shrank again; those entries go when the subscription is removed.
   */
  private readonly bigMembers = new Set<S>();
  /**
   * Literal patterns. Ungrouped and grouped subscriptions are kept apart everywhere (here and in
   * trie nodes) so a match without groups is a plain array copy, with no per-subscription checks.
   */
  private readonly literals = new Map<string, Slot<S>>();
  private readonly literalsGrouped = new Map<string, Slot<S>>();
  private root = new TrieNode<S>();
  /**
   * Match cache: topic -> slot. Slots hold the topic, its result and a "referenced" bit for the
   * CLOCK sweep. (Plain FIFO via `cache.keys().next()` would be O(deleted holes) per eviction in
   * V8's ordered hash map, i.e. microseconds; and the second chance lifts the hit rate on skewed
   * topic popularity, e.g. ~83% -> ~86.5% for Zipf traffic over 2.5x more topics than slots.)
   */
  private readonly cache = new Map<string, number>();
  private readonly cacheMax: number;
  private readonly slotTopic: (string | undefined)[] = [];
  private readonly slotResult: (MatchResult<S> | undefined)[] = [];
  private readonly slotRef: number[] = [];
  private hand = 0;
  /** match() calls since the last wildcard invalidation (see INVALIDATION_SCAN_FACTOR). */
  private lookups = 0;
  /** Scratch state for `compute` (avoids per-miss allocations). Not re-entrant; no callbacks run. */
  private readonly found: S[][] = [];
  private readonly foundGrouped: S[][] = [];
  private tokens: readonly string[] = EMPTY_ARRAY;

  constructor(options?: SubscriptionIndexOptions) {
    const n = options?.matchCacheSize;
    this.cacheMax = typeof n === 'number' && !Number.isNaN(n) ? Math.max(0, Math.floor(n)) : DEFAULT_MATCH_CACHE_SIZE;
  }

  /** Number of subscriptions. */
  get size(): number {
    return this.count;
  }

  /** Current number of cached topics. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Adds a subscription. Adding the same object twice is a no-op. */
  add(sub: S): void {
    const pattern = sub.pattern;
    const grouped = sub.group !== undefined;
    if (!isTriePattern(pattern)) {
      const map = grouped ? this.literalsGrouped : this.literals;
      const v = map.get(pattern);
      if (v === undefined) map.set(pattern, sub);
      else if (isBucket(v)) {
        if (!this.pushUnique(v, sub)) return;
      } else if (v === sub) return;
      else map.set(pattern, [v, sub]);
      this.count++;
      // A literal pattern only affects the topic spelled exactly like it.
      if (this.cache.size !== 0) this.forget(pattern);
      return;
    }
    if (!this.addToTrie(pattern, sub, grouped)) return;
    this.count++;
    if (this.cache.size !== 0) this.invalidateWildcard(pattern);
  }

  /**
   * Removes exactly that subscription object (located through its readonly `pattern` and `group`).
   * Returns false if it was not indexed. O(bucket size), like qlobber: buckets are arrays.
   */
  remove(sub: S): boolean {
    const pattern = sub.pattern;
    const grouped = sub.group !== undefined;
    if (!isTriePattern(pattern)) {
      const map = grouped ? this.literalsGrouped : this.literals;
      const v = map.get(pattern);
      if (v === undefined) return false;
      if (isBucket(v)) {
        if (!removeFromBucket(v, sub)) return false;
        if (v.length === 0) map.delete(pattern);
      } else if (v === sub) {
        map.delete(pattern);
      } else {
        return false;
      }
      if (this.cache.size !== 0) this.forget(pattern);
    } else {
      if (!this.removeFromTrie(this.root, pattern.split('.'), 0, sub, grouped)) return false;
      if (this.cache.size !== 0) this.invalidateWildcard(pattern);
    }
    this.count--;
    if (this.bigMembers.size !== 0) this.bigMembers.delete(sub);
    return true;
  }

  /**
   * All subscriptions matching `topic`. The result (and its arrays) is an immutable snapshot that
   * may be shared with later calls for the same topic; never mutate it.
   */
  match(topic: string): MatchResult<S> {
    const hit = this.cached(topic);
    if (hit !== undefined) return hit;
    const r = this.compute(topic);
    if (this.cacheMax > 0) this.remember(topic, r);
    return r;
  }

  /**
   * Like `match`, for a topic that is unlikely to be seen again (a reply inbox): computed without
   * the cache, so it neither pays for an entry nor evicts one that later lookups would use.
   */
  matchOnce(topic: string): MatchResult<S> {
    return this.cached(topic) ?? this.compute(topic);
  }

  /** The cached result for `topic` (marked as used), if any; counts the lookup. */
  private cached(topic: string): MatchResult<S> | undefined {
    this.lookups++;
    const slot = this.cache.get(topic);
    if (slot === undefined) return undefined;
    this.slotRef[slot] = 1;
    return this.slotResult[slot]!;
  }

  /** Removes every subscription and cached result. */
  clear(): void {
    this.count = 0;
    this.bigMembers.clear();
    this.literals.clear();
    this.literalsGrouped.clear();
    this.root = new TrieNode<S>();
    this.clearCache();
    this.found.length = 0;
    this.foundGrouped.length = 0;
    this.tokens = EMPTY_ARRAY;
  }

  /** Structural counters, for tests and leak checks. O(trie size). */
  stats(): SubscriptionIndexStats {
    const root = this.root;
    let rootChildren = (root.lit?.size ?? 0) + (root.star !== undefined ? 1 : 0);
    if (root.gt !== undefined || root.gtGrouped !== undefined) rootChildren += 1;
    if (root.subs !== undefined || root.subsGrouped !== undefined) rootChildren += 1;
    let trieNodes = 0;
    const stack: TrieNode<S>[] = [root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.star !== undefined) {
        trieNodes++;
        stack.push(node.star);
      }
      if (node.lit !== undefined) {
        for (const child of node.lit.values()) {
          trieNodes++;
          stack.push(child);
        }
      }
    }
    return { trieNodes, rootChildren, literalPatterns: this.literals.size + this.literalsGrouped.size };
  }

  // ---------------------------------------------------------------------------------------------

  /** Appends `sub` unless the bucket already holds it. */
  private pushUnique(bucket: S[], sub: S): boolean {
    const n = bucket.length;
    const big = this.bigMembers;
    if (n < BIG_BUCKET) {
      for (let i = 0; i < n; i++) if (bucket[i] === sub) return false;
      bucket.push(sub);
      if (n + 1 === BIG_BUCKET) for (let i = 0; i <= n; i++) big.add(bucket[i]!);
      return true;
    }
    const before = big.size;
    big.add(sub);
    if (big.size === before) return false;
    bucket.push(sub);
    return true;
  }

  /** Returns false when `sub` was already there. */
  private addToTrie(pattern: string, sub: S, grouped: boolean): boolean {
    let node = this.root;
    const n = pattern.length;
    let start = 0;
    for (;;) {
      let end = pattern.indexOf('.', start);
      const isLast = end === -1;
      if (isLast) end = n;
      let next: TrieNode<S> | undefined;
      if (end - start === 1 && pattern.charCodeAt(start) === GT && isLast) {
        if (grouped) {
          if (node.gtGrouped === undefined) node.gtGrouped = [sub];
          else return this.pushUnique(node.gtGrouped, sub);
        } else if (node.gt === undefined) {
          node.gt = [sub];
        } else {
          return this.pushUnique(node.gt, sub);
        }
        return true;
      }
      if (end - start === 1 && pattern.charCodeAt(start) === STAR) {
        next = node.star;
        if (next === undefined) next = node.star = new TrieNode<S>();
      } else {
        const tok = pattern.slice(start, end);
        let lit = node.lit;
        if (lit === undefined) lit = node.lit = new Map();
        next = lit.get(tok);
        if (next === undefined) {
          next = new TrieNode<S>();
          lit.set(tok, next);
        }
      }
      node = next;
      if (isLast) {
        if (grouped) {
          if (node.subsGrouped === undefined) node.subsGrouped = [sub];
          else return this.pushUnique(node.subsGrouped, sub);
        } else if (node.subs === undefined) {
          node.subs = [sub];
        } else {
          return this.pushUnique(node.subs, sub);
        }
        return true;
      }
      start = end + 1;
    }
  }

  /** Removes `sub` below `node` and prunes nodes left empty on the way back up. */
  private removeFromTrie(node: TrieNode<S>, toks: readonly string[], i: number, sub: S, grouped: boolean): boolean {
    const tok = toks[i]!;
    const isLast = i === toks.length - 1;
    if (isLast && tok === '>') {
      const gt = grouped ? node.gtGrouped : node.gt;
      if (gt === undefined || !removeFromBucket(gt, sub)) return false;
      if (gt.length === 0) {
        if (grouped) node.gtGrouped = undefined;
        else node.gt = undefined;
      }
      return true;
    }
    const child = tok === '*' ? node.star : node.lit?.get(tok);
    if (child === undefined) return false;
    let removed: boolean;
    if (isLast) {
      const subs = grouped ? child.subsGrouped : child.subs;
      removed = subs !== undefined && removeFromBucket(subs, sub);
      if (removed && subs!.length === 0) {
        if (grouped) child.subsGrouped = undefined;
        else child.subs = undefined;
      }
    } else {
      removed = this.removeFromTrie(child, toks, i + 1, sub, grouped);
    }
    if (isEmptyNode(child)) {
      if (tok === '*') {
        node.star = undefined;
      } else {
        const lit = node.lit!;
        lit.delete(tok);
        if (lit.size === 0) node.lit = undefined;
      }
    }
    return removed;
  }

  private remember(topic: string, r: MatchResult<S>): void {
    const topics = this.slotTopic;
    const n = topics.length;
    let slot: number;
    if (n < this.cacheMax) {
      slot = n;
      topics.push(topic);
      this.slotResult.push(r);
      this.slotRef.push(0);
    } else {
      // CLOCK sweep: take the first slot that is free (invalidated) or not referenced since the
      // hand last passed, clearing reference bits on the way. Ends within one revolution.
      const ref = this.slotRef;
      let hand = this.hand;
      for (;;) {
        const t = topics[hand];
        if (t === undefined) break;
        if (ref[hand] === 0) {
          this.cache.delete(t);
          break;
        }
        ref[hand] = 0;
        hand = hand + 1 === n ? 0 : hand + 1;
      }
      slot = hand;
      this.hand = hand + 1 === n ? 0 : hand + 1;
      topics[slot] = topic;
      this.slotResult[slot] = r;
      ref[slot] = 0;
    }
    this.cache.set(topic, slot);
  }

  /** Drops one cached topic (no-op if not cached) and releases its result. */
  private forget(topic: string): void {
    const slot = this.cache.get(topic);
    if (slot === undefined) return;
    this.cache.delete(topic);
    this.slotTopic[slot] = undefined;
    this.slotResult[slot] = undefined;
    this.slotRef[slot] = 0;
  }

  private clearCache(): void {
    this.cache.clear();
    this.slotTopic.length = 0;
    this.slotResult.length = 0;
    this.slotRef.length = 0;
    this.hand = 0;
  }

  /** Called only when the cache is not empty. See INVALIDATION_SCAN_FACTOR for the policy. */
  private invalidateWildcard(pattern: string): void {
    const cache = this.cache;
    const lookups = this.lookups;
    this.lookups = 0;
    if (lookups * INVALIDATION_SCAN_FACTOR < cache.size) {
      this.clearCache();
      return;
    }
    const pt = pattern.split('.');
    for (const topic of cache.keys()) {
      if (tokensMatchTopic(pt, topic)) this.forget(topic);
    }
  }

  private compute(topic: string): MatchResult<S> {
    const literal = this.literals.get(topic);
    const literalGrouped = this.literalsGrouped.size !== 0 ? this.literalsGrouped.get(topic) : undefined;
    const root = this.root;
    if (root.lit !== undefined || root.star !== undefined || root.gt !== undefined || root.gtGrouped !== undefined) {
      this.tokens = topic.split('.');
      this.walk(root, 0);
      this.tokens = EMPTY_ARRAY;
    }
    const found = this.found;
    const foundGrouped = this.foundGrouped;
    const nf = found.length;
    const ng = foundGrouped.length;

    let plain: readonly S[] = EMPTY_ARRAY;
    if (literal !== undefined || nf !== 0) {
      let out: S[];
      let f = 0;
      if (literal !== undefined) {
        out = isBucket(literal) ? literal.slice() : [literal];
      } else {
        out = found[0]!.slice();
        f = 1;
      }
      for (; f < nf; f++) {
        const bucket = found[f]!;
        for (let j = 0; j < bucket.length; j++) out.push(bucket[j]!);
      }
      found.length = 0;
      plain = out;
    }

    let total = plain.length;
    let groups: readonly GroupMatch<S>[] = EMPTY_ARRAY;
    if (literalGrouped !== undefined || ng !== 0) {
      const list: GroupEntry<S>[] = [];
      let index: Map<string, S[]> | undefined;
      if (literalGrouped !== undefined) {
        if (isBucket(literalGrouped)) {
          for (let j = 0; j < literalGrouped.length; j++) index = groupInto(list, index, literalGrouped[j]!);
          total += literalGrouped.length;
        } else {
          index = groupInto(list, index, literalGrouped);
          total += 1;
        }
      }
      for (let f = 0; f < ng; f++) {
        const bucket = foundGrouped[f]!;
        for (let j = 0; j < bucket.length; j++) index = groupInto(list, index, bucket[j]!);
        total += bucket.length;
      }
      foundGrouped.length = 0;
      groups = list;
    }
    return total === 0 ? EMPTY_MATCH_RESULT : { plain, groups, total };
  }

  private walk(node: TrieNode<S>, i: number): void {
    const toks = this.tokens;
    const n = toks.length;
    if (i < n) {
      if (node.gt !== undefined) this.found.push(node.gt);
      if (node.gtGrouped !== undefined) this.foundGrouped.push(node.gtGrouped);
    } else {
      if (node.subs !== undefined) this.found.push(node.subs);
      if (node.subsGrouped !== undefined) this.foundGrouped.push(node.subsGrouped);
      return;
    }
    const lit = node.lit;
    if (lit !== undefined) {
      const child = lit.get(toks[i]!);
      if (child !== undefined) this.walk(child, i + 1);
    }
    if (node.star !== undefined) this.walk(node.star, i + 1);
  }
}
