/**
 * The `metrics` section of the hub config: which topic patterns get their own series in
 * `crossbus_topic_messages_total` (never raw topics: each distinct one would be a new series).
 */
import * as v from 'valibot';
import { DEFAULT_MAX_METRIC_TOPICS } from '../defaults.js';
import { topicPattern } from './limits-schema.js';
import { distinct, list, settings } from './rules.js';

export const MetricsSchema = v.pipe(
  settings({
    topics: v.optional(
      v.pipe(
        list(topicPattern),
        v.maxLength(DEFAULT_MAX_METRIC_TOPICS, `may list at most ${DEFAULT_MAX_METRIC_TOPICS} patterns`),
        distinct(
          (p) => p,
          (p) => `pattern ${JSON.stringify(p)} is listed twice`,
        ),
        v.readonly(),
      ),
      [],
    ),
  }),
  v.readonly(),
);
