import { SubscriptionIndex } from '../routing/subscription-index.js';
import { labelled, type CounterMetric, type Sample } from './metric.js';

/** One configured pattern and the messages counted under it. */
interface Template {
  readonly pattern: string;
  count: number;
}

/**
 * Messages counted by configured topic pattern (`orders.*`), never by raw topic: a topic is
 * whatever a client chose, and each distinct one would be a new series. Matching goes through a
 * `SubscriptionIndex` with its match cache, so a topic seen before costs one map lookup. A topic
 * that matches several patterns counts under each; one that matches none is not counted here.
 */
export class TopicTemplates {
  readonly #index = new SubscriptionIndex<Template>();
  readonly #templates: readonly Template[];

  constructor(patterns: readonly string[]) {
    this.#templates = patterns.map((pattern) => ({ pattern, count: 0 }));
    for (const t of this.#templates) this.#index.add(t);
  }

  count(topic: string): void {
    const plain = this.#index.match(topic).plain;
    for (let i = 0; i < plain.length; i++) (plain[i] as Template).count++;
  }

  metric(): CounterMetric {
    return labelled(
      'counter',
      'crossbus_topic_messages_total',
      'PUBLISH and REQUEST frames routed, by configured topic pattern (hub config metrics.topics)',
      ['topic'],
      (): Sample[] => this.#templates.map((t) => ({ labels: { topic: t.pattern }, value: t.count })),
    ) as CounterMetric;
  }
}
