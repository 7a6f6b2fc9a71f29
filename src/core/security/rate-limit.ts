/**
 * The hub's rate limits. Every app has one bucket, shared by all its connections (opening more
 * connections must not multiply the allowance); `topicRates` rules add a bucket per (app, rule)
 * that limits only topics matching the rule. A message must pass every bucket that applies, and
 * a refused message takes no tokens from any of them.
 *
 * The limiter only reads abuse penalties: the caller reports refusals (and other violations) to
 * the AbuseTracker, whose verdict decides whether to slow the app down or disconnect it.
 */
import type { RateLimit, TopicRate } from '../config/schema.js';
import { ConfigError } from '../errors/index.js';
import { WIRE_MAX_TOPIC_LENGTH } from '../limits.js';
import { topicProblem } from '../topic.js';
import type { AbuseTracker } from './abuse.js';
import { matchTokens } from './patterns.js';
import { assertRate, TokenBucket } from './token-bucket.js';
import { DEFAULT_MAX_TOPIC_BUCKETS, DEFAULT_RATE, DEFAULT_TOPIC_RATES } from '../defaults.js';

export { TokenBucket } from './token-bucket.js';
export * from './abuse.js';

export interface RateLimiterOptions {
  /** Rate of apps without their own `rate`. @default DEFAULT_RATE */
  rate?: RateLimit;
  /** Per-app settings; `HubConfig.apps` fits as is. Apps not listed get `rate`. */
  apps?: ReadonlyMap<string, { readonly rate?: RateLimit | undefined }>;
  /** Per-topic rules, one bucket per (app, rule). Patterns must be unique. @default [] */
  topicRates?: readonly TopicRate[];
  /** @default DEFAULT_MAX_TOPIC_BUCKETS */
  maxTopicBuckets?: number;
  /** Its penalty factor divides the refill rate of an app's buckets. `reconfigure` keeps the current one unless given another. */
  abuse?: AbuseTracker;
}

export type RateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterMs: number; readonly scope: 'app' | 'topic'; readonly rule?: string };

interface Rule {
  readonly pattern: string;
  readonly tokens: readonly string[];
  readonly rate: RateLimit;
}

interface Resolved {
  rate: RateLimit;
  apps: ReadonlyMap<string, { readonly rate?: RateLimit | undefined }>;
  rules: readonly Rule[];
  maxTopicBuckets: number;
  abuse: AbuseTracker | undefined;
}

const OK: RateDecision = Object.freeze({ ok: true });
// NUL cannot occur in a valid topic pattern, so (pattern, app) keys never collide.
const SEP = '\u0000';

function invalid(option: string, message: string): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', `${option}: ${message}`, { details: { option } });
}

/** Validates and copies, so later changes to the caller's objects change nothing here. */
function resolve(options: RateLimiterOptions): Resolved {
  const given = options.rate ?? DEFAULT_RATE;
  assertRate(given, 'rate');
  const rate = { perSecond: given.perSecond, burst: given.burst };
  const apps = new Map<string, { rate?: RateLimit }>();
  for (const [name, app] of options.apps ?? []) {
    if (app.rate !== undefined) assertRate(app.rate, `apps.${name}.rate`);
    apps.set(name, app.rate === undefined ? {} : { rate: { perSecond: app.rate.perSecond, burst: app.rate.burst } });
  }
  const seen = new Set<string>();
  const rules = (options.topicRates ?? DEFAULT_TOPIC_RATES).map((r, i): Rule => {
    const where = `topicRates[${i}]`;
    const problem = typeof r?.pattern === 'string' ? topicProblem(r.pattern, 'pattern', WIRE_MAX_TOPIC_LENGTH) : 'is not a string';
    if (problem !== undefined) throw invalid(`${where}.pattern`, `pattern ${JSON.stringify(r?.pattern)} ${problem}`);
    // The pattern is the rule's identity across reloads; two rules with one pattern would share it.
    if (seen.has(r.pattern)) throw invalid(`${where}.pattern`, `duplicate pattern ${JSON.stringify(r.pattern)}`);
    seen.add(r.pattern);
    assertRate(r, where);
    return { pattern: r.pattern, tokens: r.pattern.split('.'), rate: { perSecond: r.perSecond, burst: r.burst } };
  });
  const maxTopicBuckets = options.maxTopicBuckets ?? DEFAULT_MAX_TOPIC_BUCKETS;
  if (!Number.isSafeInteger(maxTopicBuckets) || maxTopicBuckets < 1) {
    throw invalid('maxTopicBuckets', `must be an integer >= 1, got ${String(maxTopicBuckets)}`);
  }
  return { rate, apps, rules, maxTopicBuckets, abuse: options.abuse };
}

export class RateLimiter {
  private o: Resolved;
  private readonly appBuckets = new Map<string, TokenBucket>();
  /** Key `pattern NUL app`; Map order is recency order (touched entries are re-inserted). */
  private readonly topicBuckets = new Map<string, TokenBucket>();

  constructor(
    options: RateLimiterOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.o = resolve(options);
  }

  /** Takes one token from each bucket that applies to (app, topic), or none if any refuses. */
  check(app: string, topic: string): RateDecision {
    const slowdown = this.o.abuse?.penaltyFactor(app) ?? 1;
    const appBucket = this.appBucket(app);
    if (this.o.rules.length === 0) {
      // The common case, on every message: one bucket, one clock read.
      const wait = appBucket.take(1, slowdown);
      return wait === 0 ? OK : { ok: false, retryAfterMs: wait, scope: 'app' };
    }
    let worst = appBucket.retryAfter(1, slowdown);
    let scope: 'app' | 'topic' = 'app';
    let rule: string | undefined;
    let topicBuckets: TokenBucket[] | undefined;
    if (this.o.rules.length > 0) {
      const tokens = topic.split('.');
      for (const r of this.o.rules) {
        if (!matchTokens(r.tokens, tokens)) continue;
        const b = this.topicBucket(app, r);
        (topicBuckets ??= []).push(b);
        const wait = b.retryAfter(1, slowdown);
        if (wait > worst) {
          worst = wait;
          scope = 'topic';
          rule = r.pattern;
        }
      }
    }
    if (worst > 0) return rule === undefined ? { ok: false, retryAfterMs: worst, scope } : { ok: false, retryAfterMs: worst, scope, rule };
    appBucket.take(1, slowdown);
    if (topicBuckets !== undefined) for (const b of topicBuckets) b.take(1, slowdown);
    return OK;
  }

  /**
   * Applies new options (config reload). Buckets keep their level (capped at the new burst) when
   * their app or rule still exists, so a reload neither refills nor empties anyone; buckets of
   * removed rules are dropped. Throws, changing nothing, if the options are invalid.
   */
  reconfigure(options: RateLimiterOptions): void {
    // A reload builds options from the config file, which knows nothing of the tracker: keep it.
    const next = resolve(options.abuse === undefined ? { ...options, abuse: this.o.abuse } : options);
    this.o = next;
    for (const [app, bucket] of this.appBuckets) bucket.configure(this.appRate(app));
    const byPattern = new Map(next.rules.map((r) => [r.pattern, r]));
    for (const [key, bucket] of this.topicBuckets) {
      const r = byPattern.get(key.slice(0, key.indexOf(SEP)));
      if (r === undefined) this.topicBuckets.delete(key);
      else bucket.configure(r.rate);
    }
    while (this.topicBuckets.size > next.maxTopicBuckets) this.evictOldest();
  }

  /** Number of live (app, rule) buckets; for tests and metrics. */
  get topicBucketCount(): number {
    return this.topicBuckets.size;
  }

  private appRate(app: string): RateLimit {
    return this.o.apps.get(app)?.rate ?? this.o.rate;
  }

  // App buckets are not bounded here: apps are authenticated names from the config, a finite set.
  private appBucket(app: string): TokenBucket {
    let b = this.appBuckets.get(app);
    if (b === undefined) {
      b = new TokenBucket(this.appRate(app), this.now);
      this.appBuckets.set(app, b);
    }
    return b;
  }

  private topicBucket(app: string, r: Rule): TokenBucket {
    const key = r.pattern + SEP + app;
    let b = this.topicBuckets.get(key);
    if (b !== undefined) {
      this.topicBuckets.delete(key); // re-insert: most recently used goes last
    } else {
      // The least recently used bucket has most likely refilled completely, so dropping it
      // (it starts full when recreated) gives its app little or nothing it would not have had.
      if (this.topicBuckets.size >= this.o.maxTopicBuckets) this.evictOldest();
      b = new TokenBucket(r.rate, this.now);
    }
    this.topicBuckets.set(key, b);
    return b;
  }

  private evictOldest(): void {
    const oldest = this.topicBuckets.keys().next();
    if (oldest.done !== true) this.topicBuckets.delete(oldest.value);
  }
}
