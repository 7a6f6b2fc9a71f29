/**
 * Roles in the hub config: what an app may publish, subscribe to and request (grants, optionally
 * asking a person first), and what it may never do (deny wins). A pattern may contain `{app}` as
 * a whole token, replaced by the connecting app's name (security/policy.ts).
 */
import * as v from 'valibot';
import { WIRE_MAX_TOPIC_LENGTH } from '../limits.js';
import { topicProblem } from '../topic.js';
import { kind, list, rule, settings, text } from './rules.js';

/** Topic pattern rules, plus `{app}` as a whole token. Any other brace is a typo such as `{App}`. */
export function rolePatternProblem(pattern: string): string | undefined {
  const probe = pattern
    .split('.')
    .map((t) => (t === '{app}' ? 'app' : t))
    .join('.');
  if (/[{}]/.test(probe)) return 'uses "{" or "}" other than as a whole "{app}" token';
  // The wire maximum, not the hub's: a longer grant matches nothing, which is harmless.
  return topicProblem(probe, 'pattern', WIRE_MAX_TOPIC_LENGTH);
}

const pattern = v.pipe(
  text(),
  rule((p) => {
    const problem = rolePatternProblem(p);
    return problem === undefined ? undefined : `pattern ${JSON.stringify(p)} ${problem}`;
  }),
);

const shortGrant = v.pipe(
  pattern,
  v.transform((p) => ({ pattern: p, ask: false })),
  v.readonly(),
);
const fullGrant = v.pipe(
  settings(
    {
      pattern,
      ask: v.optional(
        v.boolean((issue) => `must be true or false, got ${kind(issue.input)}`),
        false,
      ),
    },
    { checkOrder: ['ask', 'pattern'] },
  ),
  v.readonly(),
);

/** `"orders.>"` is short for `{ pattern: "orders.>" }`; `ask: true` asks a person first (consent). */
export const GrantSchema = Object.assign(
  v.lazy((grant) => (typeof grant === 'string' ? shortGrant : fullGrant)),
  // For the JSON Schema generator, which cannot see which schema the lazy one picks.
  { anyOfSchemas: [shortGrant, fullGrant] },
);

const grants = v.optional(v.pipe(list(GrantSchema), v.readonly()), []);
const patterns = v.optional(v.pipe(list(pattern), v.readonly()), []);

export const RoleSchema = v.pipe(
  settings({
    publish: grants,
    subscribe: grants,
    request: grants,
    deny: v.optional(v.pipe(settings({ publish: patterns, subscribe: patterns, request: patterns }), v.readonly()), {}),
  }),
  v.readonly(),
);
