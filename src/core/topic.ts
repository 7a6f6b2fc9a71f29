import { ValidationError } from './errors/index.js';
import { utf8Length } from './protocol/utf8.js';
import { DEFAULT_MAX_TOPIC_LENGTH } from './defaults.js';

/**
 * Topics are dot-separated tokens: `orders.created.eu`. Tokens are non-empty and contain no
 * whitespace, no control characters and none of `.`, `*`, `>`. Subscription patterns may also use
 * the NATS wildcards as whole tokens: `*` (exactly one token) and `>` (one or more tokens, last only).
 * This maps one to one onto NATS subjects, so a hub cluster can later ride on NATS JetStream.
 */

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

function isForbiddenChar(c: number): boolean {
  // control characters, space, DEL, and the separators/wildcards inside a token
  return (
    c <= 0x20 ||
    c === 0x7f ||
    c === DOT ||
    c === STAR ||
    c === GT ||
    (c >= 0x80 && c <= 0x9f) ||
    c === 0xa0 ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0xfeff ||
    c === 0x3000 ||
    (c >= 0x2000 && c <= 0x200b)
  );
}

export type TopicKind = 'topic' | 'pattern';

/**
 * Returns undefined when valid, or a reason. Kept allocation-free: it runs on every publish.
 */
export function topicProblem(topic: string, kind: TopicKind, maxLength = DEFAULT_MAX_TOPIC_LENGTH): string | undefined {
  const n = topic.length;
  if (n === 0) return 'is empty';
  // Length check first (cheap upper bound: UTF-8 length >= UTF-16 length).
  if (n > maxLength) return `is longer than ${maxLength} bytes`;
  let tokenStart = 0;
  let ascii = true;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? DOT : topic.charCodeAt(i);
    if (c === DOT) {
      const len = i - tokenStart;
      if (len === 0) return 'has an empty token';
      tokenStart = i + 1;
      continue;
    }
    if (c === STAR || c === GT) {
      const whole = i === tokenStart && (i + 1 === n || topic.charCodeAt(i + 1) === DOT);
      if (!whole) return `uses "${String.fromCharCode(c)}" inside a token`;
      if (kind === 'topic') return 'contains a wildcard; wildcards are only allowed in subscriptions';
      if (c === GT && i + 1 !== n) return 'uses ">" before the last token';
      continue;
    }
    if (c >= 0x80) ascii = false;
    if (isForbiddenChar(c)) return 'contains whitespace or a control character';
  }
  if (!ascii && utf8Length(topic) > maxLength) return `is longer than ${maxLength} bytes`;
  return undefined;
}

/** Throws CB_ERR_TOPIC_INVALID / CB_ERR_TOPIC_TOO_LONG. */
export function assertValidTopic(topic: unknown, kind: TopicKind, maxLength = DEFAULT_MAX_TOPIC_LENGTH): asserts topic is string {
  if (typeof topic !== 'string') {
    throw new ValidationError('CB_ERR_TOPIC_INVALID', `${kind} must be a string`, { details: { kind } });
  }
  const problem = topicProblem(topic, kind, maxLength);
  if (problem !== undefined) {
    const code = problem.startsWith('is longer') ? 'CB_ERR_TOPIC_TOO_LONG' : 'CB_ERR_TOPIC_INVALID';
    throw new ValidationError(code, `${kind} ${JSON.stringify(truncate(topic))} ${problem}`, {
      details: { kind, maxLength, reason: problem },
    });
  }
}

export function isWildcardPattern(pattern: string): boolean {
  return pattern === '*' || pattern === '>' || pattern.includes('.*') || pattern.startsWith('*.') || pattern.endsWith('.>');
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Group names: 1..255 bytes of printable characters (dots and wildcard characters allowed: a group is a name, not a pattern). */
export function groupProblem(group: string): string | undefined {
  if (group.length === 0) return 'is empty';
  if (utf8Length(group) > 255) return 'is longer than 255 bytes';
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i);
    if (c !== DOT && c !== STAR && c !== GT && isForbiddenChar(c)) return 'contains whitespace or a control character';
  }
  return undefined;
}
