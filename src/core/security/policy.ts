/**
 * Access control: what an app may publish, subscribe to and request, from the roles in the hub
 * config. The hub decides with an AccessPolicy from `policyForApp` (app-policy.ts) and tells the
 * client its grants (`grants()`); the client checks them with GrantCheck (grant-check.ts) only to
 * fail fast: the hub's decision is the one that counts.
 *
 * Subscriptions are never narrowed: a pattern wider than every grant is refused, because silently
 * delivering a subset would look like missing messages.
 */
import { WIRE_MAX_TOPIC_LENGTH } from '../limits.js';
import { topicProblem } from '../topic.js';
import { coversTokens, matchTokens, overlapTokens } from './patterns.js';

export { patternCovers, patternsOverlap } from './patterns.js';

export type Action = 'publish' | 'subscribe' | 'request';
/** Every action, in the order roles list them (the hub config's grant and deny lists). */
export const GRANT_ACTIONS: readonly Action[] = Object.freeze(['publish', 'subscribe', 'request']);

export type AccessDecision =
  | { readonly allowed: true; readonly ask: boolean; readonly rule: string }
  | { readonly allowed: false; readonly code: 'CB_ERR_FORBIDDEN'; readonly reason: string; readonly rule?: string };

export type PerAction<T> = { publish: T; subscribe: T; request: T };

/**
 * Plain data the hub sends in the handshake. `publish`/`subscribe`/`request` are allowed outright;
 * `ask` lists patterns allowed only after a person consents (a pattern is in one list, not both).
 */
export interface PolicyGrants extends PerAction<string[]> {
  deny: PerAction<string[]>;
  ask: PerAction<string[]>;
}

/** Decisions cached per action; cleared when full, which is cheaper than LRU and bounds memory. */
export const POLICY_CACHE_LIMIT = 10_000;
/** Longer topics are decided every time: 10,000 huge keys must not pin megabytes. */
const MAX_CACHED_TOPIC_LENGTH = 256;
/** Reasons list at most this many grants. */
const MAX_LISTED = 8;

// --- the policy -----------------------------------------------------------------------------

interface Rule {
  readonly pattern: string;
  readonly tokens: readonly string[];
  readonly ask: boolean;
}
interface Rules {
  readonly allow: readonly Rule[];
  readonly deny: readonly Rule[];
  readonly cache: Map<string, AccessDecision>;
  /** The last decision, in front of the cache: a stream of one topic compares strings instead of hashing each new one. */
  lastTopic: string | undefined;
  last: AccessDecision | undefined;
}

/** A topic or name quoted for a reason, cut to a readable length. */
export const q = (s: string): string => JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);
const rule = (pattern: string, ask = false): Rule => ({ pattern, tokens: pattern.split('.'), ask });

function forbidden(reason: string, by?: string): AccessDecision {
  return Object.freeze(
    by === undefined
      ? { allowed: false, code: 'CB_ERR_FORBIDDEN', reason }
      : { allowed: false, code: 'CB_ERR_FORBIDDEN', reason, rule: by },
  );
}

function listed(action: Action, allow: readonly Rule[]): string {
  if (allow.length === 0) return `(this app has no ${action} grants)`;
  const names = allow
    .slice(0, MAX_LISTED)
    .map((r) => r.pattern)
    .join(', ');
  return allow.length > MAX_LISTED ? `(${names}, and ${allow.length - MAX_LISTED} more)` : `(${names})`;
}

/**
 * Plain grants first, then ask grants, each once; an ask grant for a pattern also granted plainly
 * is dropped (plain wins). The canonical order makes a policy rebuilt by fromGrants word its
 * reasons exactly as the hub's does.
 */
function dedupe(entries: ReadonlyArray<{ pattern: string; ask: boolean }>): Rule[] {
  const seen = new Set<string>();
  const out: Rule[] = [];
  for (const e of [...entries.filter((x) => !x.ask), ...entries.filter((x) => x.ask)]) {
    if (seen.has(e.pattern)) continue;
    seen.add(e.pattern);
    out.push(rule(e.pattern, e.ask));
  }
  return out;
}

export class AccessPolicy {
  private readonly byAction: PerAction<Rules>;

  /** The hub builds one per app with `policyForApp` (app-policy.ts). */
  constructor(allow: PerAction<Array<{ pattern: string; ask: boolean }>>, deny: PerAction<string[]>) {
    const make = (a: Action): Rules => ({
      allow: dedupe(allow[a]),
      deny: [...new Set(deny[a])].map((p) => rule(p)),
      cache: new Map(),
      lastTopic: undefined,
      last: undefined,
    });
    this.byAction = { publish: make('publish'), subscribe: make('subscribe'), request: make('request') };
  }

  /** The plain-data summary for the handshake (fresh arrays on every call). */
  grants(): PolicyGrants {
    const plain = (a: Action): string[] => this.byAction[a].allow.filter((r) => !r.ask).map((r) => r.pattern);
    const asked = (a: Action): string[] => this.byAction[a].allow.filter((r) => r.ask).map((r) => r.pattern);
    const denied = (a: Action): string[] => this.byAction[a].deny.map((r) => r.pattern);
    return {
      publish: plain('publish'),
      subscribe: plain('subscribe'),
      request: plain('request'),
      deny: { publish: denied('publish'), subscribe: denied('subscribe'), request: denied('request') },
      ask: { publish: asked('publish'), subscribe: asked('subscribe'), request: asked('request') },
    };
  }

  /**
   * Publish and request take a literal topic; subscribe takes a pattern. Runs on every message, so
   * decisions are cached per topic (the decision objects are frozen and shared).
   */
  check(action: Action, topicOrPattern: string): AccessDecision {
    // A switch, not an index: an action such as "constructor" from untyped callers must not resolve.
    const rules = action === 'publish' || action === 'subscribe' || action === 'request' ? this.byAction[action] : undefined;
    if (rules === undefined) return forbidden(`${q(String(action))} is not an action (publish, subscribe or request)`);
    if (typeof topicOrPattern !== 'string') return forbidden(`${action} needs a topic string`);
    if (topicOrPattern === rules.lastTopic) return rules.last as AccessDecision;
    let decision = rules.cache.get(topicOrPattern);
    if (decision === undefined) {
      decision = action === 'subscribe' ? decideSubscribe(rules, topicOrPattern) : decideLiteral(action, rules, topicOrPattern);
      if (topicOrPattern.length > MAX_CACHED_TOPIC_LENGTH) return decision;
      if (rules.cache.size >= POLICY_CACHE_LIMIT) rules.cache.clear();
      rules.cache.set(topicOrPattern, decision);
    }
    rules.lastTopic = topicOrPattern;
    rules.last = decision;
    return decision;
  }
}

function allowed(r: Rule): AccessDecision {
  return Object.freeze({ allowed: true, ask: r.ask, rule: r.pattern });
}

function decideLiteral(action: Action, rules: Rules, topic: string): AccessDecision {
  const problem = topicProblem(topic, 'topic', WIRE_MAX_TOPIC_LENGTH);
  if (problem !== undefined) return forbidden(`${action} ${q(topic)} is refused: the topic ${problem}`);
  const t = topic.split('.');
  for (const d of rules.deny)
    if (matchTokens(d.tokens, t)) return forbidden(`${action} ${q(topic)} is denied by ${q(d.pattern)}`, d.pattern);
  let asked: Rule | undefined;
  for (const r of rules.allow) {
    if (!matchTokens(r.tokens, t)) continue;
    if (!r.ask) return allowed(r);
    asked ??= r;
  }
  if (asked !== undefined) return allowed(asked);
  return forbidden(`${action} ${q(topic)} matches no grant ${listed(action, rules.allow)}`);
}

function decideSubscribe(rules: Rules, pattern: string): AccessDecision {
  const problem = topicProblem(pattern, 'pattern', WIRE_MAX_TOPIC_LENGTH);
  if (problem !== undefined) return forbidden(`subscribe ${q(pattern)} is refused: the pattern ${problem}`);
  const p = pattern.split('.');
  for (const d of rules.deny) {
    if (overlapTokens(d.tokens, p)) {
      return forbidden(`subscribe ${q(pattern)} is denied by ${q(d.pattern)} (it would receive topics that rule denies)`, d.pattern);
    }
  }
  let asked: Rule | undefined;
  let overlaps = false;
  for (const r of rules.allow) {
    if (!coversTokens(r.tokens, p)) {
      overlaps ||= overlapTokens(r.tokens, p);
      continue;
    }
    if (!r.ask) return allowed(r);
    asked ??= r;
  }
  if (asked !== undefined) return allowed(asked);
  const how = overlaps ? 'is wider than every grant' : 'matches no grant';
  return forbidden(`subscribe ${q(pattern)} ${how} ${listed('subscribe', rules.allow)}`);
}
