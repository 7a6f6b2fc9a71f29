/**
 * Rate limits in the hub config: the hub-wide rate per connection, an app's own rate, and rates
 * per topic pattern. Token buckets (security/token-bucket.ts) enforce them.
 */
import * as v from 'valibot';
import { WIRE_MAX_TOPIC_LENGTH } from '../limits.js';
import { topicProblem } from '../topic.js';
import { list, numberOrKind, rule, settings, text } from './rules.js';
import { DEFAULT_RATE, DEFAULT_TOPIC_RATES } from '../defaults.js';

const perSecond = Object.assign(
  v.custom<number>(
    (x) => typeof x === 'number' && Number.isFinite(x) && x > 0,
    (issue) => `must be a positive finite number, got ${numberOrKind(issue.input)}`,
  ),
  { jsonSchema: { type: 'number', exclusiveMinimum: 0 } },
);
const burst = Object.assign(
  v.custom<number>(
    (x) => typeof x === 'number' && Number.isFinite(x) && x >= 1,
    (issue) => `must be a finite number >= 1, got ${numberOrKind(issue.input)}`,
  ),
  { jsonSchema: { type: 'number', minimum: 1 } },
);

/** Messages per second, and how many may come at once. */
export const RateSchema = v.pipe(settings({ perSecond, burst }), v.readonly());

/** A topic pattern outside roles (`{app}` is a literal there, so refused). */
export const topicPattern = v.pipe(
  text(),
  rule((p) => {
    // {app} means "the connecting app" only inside a role; here it would be a literal token.
    const problem = p.split('.').includes('{app}')
      ? 'uses "{app}", which only roles may use'
      : topicProblem(p, 'pattern', WIRE_MAX_TOPIC_LENGTH);
    return problem === undefined ? undefined : `pattern ${JSON.stringify(p)} ${problem}`;
  }),
);

/** A rate for the topics a pattern matches. */
export const TopicRateSchema = v.pipe(settings({ pattern: topicPattern, perSecond, burst }), v.readonly());

export const LimitsSchema = v.pipe(
  settings(
    {
      rate: v.optional(RateSchema, DEFAULT_RATE),
      topicRates: v.optional(v.pipe(list(TopicRateSchema), v.readonly()), DEFAULT_TOPIC_RATES),
    },
    { checkOrder: ['topicRates', 'rate'] },
  ),
  v.readonly(),
);
