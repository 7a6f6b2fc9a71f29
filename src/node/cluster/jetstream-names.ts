/**
 * Where a crossbus stream lives in JetStream. Each of its logs is one JetStream stream,
 * `<prefix>_LOG_<name>` and `<prefix>_DLQ_<name>` (crossbus names are [A-Za-z0-9_-], so the part
 * in the middle keeps a log and a dead-letter log apart whatever the names), capturing the
 * private subjects `$<prefix>.STREAM.<name>.<part>.<topic>`. Each hub tells the others what it
 * appended on `$<prefix>.WATCH.<name>.<part>` (jetstream-notices.ts); streams created before that
 * also republish what they store, headers only, under `$<prefix>.WATCH.<name>.<part>.<topic>`
 * (jetstream-watch.ts). The catalog is the KV bucket `<prefix>_catalog`. A hub's NATS user needs
 * to publish to `$<prefix>.STREAM.>`, publish and subscribe to `$<prefix>.WATCH.>`, and the
 * JetStream API (`$JS.API.>`, `$KV.<prefix>_catalog.>`).
 *
 * A crossbus topic is always a valid NATS subject tail: topics forbid whitespace and control
 * characters (what nats-server refuses in a subject), and `.`, `*`, `>` keep their NATS meaning.
 * Only length can make NATS refuse one: see MAX_JETSTREAM_SUBJECT_BYTES.
 */
import { ConfigError, ValidationError } from '../../core/errors/index.js';
import { utf8Length } from '../../core/protocol/utf8.js';
import type { StoragePart } from '../../core/streams/catalog.js';
import { topicProblem } from '../../core/topic.js';
import { MAX_JETSTREAM_SUBJECT_BYTES } from '../defaults.js';

/** Prefixes: short, and valid in stream names, subjects and bucket names alike. */
const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface LogNames {
  /** The JetStream stream. */
  readonly stream: string;
  /** The subject of a topic is this followed by the topic. */
  readonly subjectPrefix: string;
  /** Every subject of the log: `<subjectPrefix>>`. */
  readonly filter: string;
  /**
   * Where a stream created before the notices republishes what it stores (headers only): one
   * subject per topic, under the notice subject.
   */
  readonly watchFilter: string;
  /** Where each hub tells the others of its appends (jetstream-notices.ts): no topic token, so no `>` above matches it. */
  readonly noticeSubject: string;
}

export function checkPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `prefix must be 1 to 32 letters, digits, "_" or "-", got ${JSON.stringify(prefix)}`, {
      details: { option: 'prefix' },
    });
  }
  return prefix;
}

export function logNames(prefix: string, name: string, part: StoragePart): LogNames {
  const subjectPrefix = `$${prefix}.STREAM.${name}.${part}.`;
  return {
    stream: `${prefix}_${part.toUpperCase()}_${name}`,
    subjectPrefix,
    filter: `${subjectPrefix}>`,
    watchFilter: `$${prefix}.WATCH.${name}.${part}.>`,
    noticeSubject: `$${prefix}.WATCH.${name}.${part}`,
  };
}

export function catalogBucket(prefix: string): string {
  return `${prefix}_catalog`;
}

/**
 * The subject a message of `topic` is stored under, or the reason it cannot be: a topic with
 * wildcards or empty tokens (it would not be one subject), or too long for a NATS control line.
 */
export function subjectProblem(
  names: LogNames,
  topic: string,
): { subject: string } | { code: 'CB_ERR_TOPIC_INVALID' | 'CB_ERR_TOPIC_TOO_LONG'; why: string } {
  const problem = topicProblem(topic, 'topic', Number.MAX_SAFE_INTEGER);
  if (problem !== undefined) return { code: 'CB_ERR_TOPIC_INVALID', why: problem };
  const subject = names.subjectPrefix + topic;
  if (utf8Length(subject) > MAX_JETSTREAM_SUBJECT_BYTES) {
    return { code: 'CB_ERR_TOPIC_TOO_LONG', why: `makes a NATS subject longer than ${MAX_JETSTREAM_SUBJECT_BYTES} bytes` };
  }
  return { subject };
}

/** The subject of `topic`, or a ValidationError naming why NATS could not store it. */
export function subjectOf(names: LogNames, topic: string): string {
  const r = subjectProblem(names, topic);
  if ('subject' in r) return r.subject;
  const shown = topic.length > 80 ? `${topic.slice(0, 77)}...` : topic;
  throw new ValidationError(r.code, `topic ${JSON.stringify(shown)} ${r.why}`, { details: { kind: 'topic', reason: r.why } });
}

/** The subject of a topic a per-topic operation names, or undefined when no message can be stored under it. */
export function storedSubject(names: LogNames, topic: string): string | undefined {
  const r = subjectProblem(names, topic);
  return 'subject' in r ? r.subject : undefined;
}

/** KV keys of the catalog. A dead-letter stream `S.DLQ` is keyed `S=DLQ` (`=` is in no stream name). */
export const catalogKeys = {
  stream: (name: string): string => `s.${name}`,
  streams: 's.*',
  consumer: (stream: string, durable: string): string => `c.${stream.replace('.', '=')}.${durable}`,
  consumers: (stream: string): string => `c.${stream.replace('.', '=')}.*`,
};
