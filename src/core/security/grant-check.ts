/**
 * The client's copy of its grants, as the hub sent them in the handshake, used only to fail fast:
 * the hub checks every operation all the same. It allows and refuses exactly as the hub's
 * AccessPolicy does (a property test holds the two equal); `ask` grants count as allowed, since
 * asking a person for consent is the hub's part. It is kept smaller than AccessPolicy (no decision
 * objects, no config) because every page carries it.
 */
import { createError } from '../errors/index.js';
import { WIRE_MAX_TOPIC_LENGTH } from '../limits.js';
import { topicProblem } from '../topic.js';
import { coversTokens, matchTokens, overlapTokens } from './patterns.js';
import type { Action, PolicyGrants } from './policy.js';

const ACTIONS: readonly Action[] = ['publish', 'subscribe', 'request'];
/** Verdicts remembered per action; the map is cleared when full. */
const CACHE_LIMIT = 1000;
/** Refusals list at most this many grants. */
const LISTED = 8;

interface Rules {
  readonly allow: ReadonlyArray<readonly string[]>;
  readonly deny: ReadonlyArray<readonly string[]>;
  readonly cache: Map<string, string>;
}

const join = (tokens: readonly string[]): string => JSON.stringify(tokens.join('.'));

export class GrantCheck {
  readonly #rules: Record<Action, Rules>;

  /** Reads the handshake's grants; anything malformed is CB_ERR_PROTOCOL. */
  constructor(grants: PolicyGrants) {
    const bad = (what: string): never => {
      throw createError('CB_ERR_PROTOCOL', `access grants from the hub are malformed: ${what}`);
    };
    const section = (v: unknown, path: string): Record<string, unknown> =>
      typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : bad(`${path} is not an object`);
    const list = (v: unknown, path: string): string[][] => {
      if (!Array.isArray(v)) return bad(`${path} is not an array`);
      return v.map((p: unknown, i) =>
        typeof p === 'string' && topicProblem(p, 'pattern', WIRE_MAX_TOPIC_LENGTH) === undefined
          ? p.split('.')
          : bad(`${path}[${i}] is not a valid pattern`),
      );
    };
    const g = section(grants, 'grants');
    const deny = section(g.deny, 'deny');
    const ask = section(g.ask, 'ask');
    const rules = {} as Record<Action, Rules>;
    for (const a of ACTIONS) {
      rules[a] = { allow: [...list(g[a], a), ...list(ask[a], `ask.${a}`)], deny: list(deny[a], `deny.${a}`), cache: new Map() };
    }
    this.#rules = rules;
  }

  /**
   * Why the app may not do `action` on `topic` (a literal topic; a pattern for subscribe), or ''
   * when a grant allows it.
   */
  refusal(action: Action, topic: string): string {
    const r = this.#rules[action];
    let why = r.cache.get(topic);
    if (why === undefined) {
      why = judge(action, r, topic);
      if (r.cache.size >= CACHE_LIMIT) r.cache.clear();
      r.cache.set(topic, why);
    }
    return why;
  }
}

function judge(action: Action, r: Rules, topic: string): string {
  const sub = action === 'subscribe';
  const problem = topicProblem(topic, sub ? 'pattern' : 'topic', WIRE_MAX_TOPIC_LENGTH);
  if (problem !== undefined) return `the ${sub ? 'pattern' : 'topic'} ${problem}`;
  const t = topic.split('.');
  // Deny wins; a subscription is denied as soon as it could receive a denied topic.
  for (const d of r.deny) if (sub ? overlapTokens(d, t) : matchTokens(d, t)) return `it is denied by ${join(d)}`;
  let overlaps = false;
  for (const g of r.allow) {
    if (sub ? coversTokens(g, t) : matchTokens(g, t)) return '';
    overlaps ||= sub && overlapTokens(g, t);
  }
  const names = r.allow.slice(0, LISTED).map(join).join(', ');
  const grants = r.allow.length === 0 ? `there are no ${action} grants` : `grants: ${names}${r.allow.length > LISTED ? ', …' : ''}`;
  // Never narrowed: a wider subscription would silently miss messages, so it is refused.
  return `it ${overlaps ? 'is wider than every grant' : 'matches no grant'} (${grants})`;
}
