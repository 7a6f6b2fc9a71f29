/**
 * Naive reference matcher for NATS-style subscription patterns, used by tests as an oracle for the
 * trie in `subscription-index.ts`. Deliberately simple (splits both strings on every call), so it
 * must not be used on a hot path.
 *
 * - `*` matches exactly one token.
 * - `>` as the LAST token matches one or more remaining tokens. A `>` anywhere else is compared
 *   literally (such patterns are rejected by validation; this only keeps odd input from crashing).
 */
export function patternMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  const last = p.length - 1;
  for (let i = 0; i <= last; i++) {
    const tok = p[i];
    if (tok === '>' && i === last) return t.length > i;
    if (i >= t.length) return false;
    if (tok === '*') continue;
    if (tok !== t[i]) return false;
  }
  return p.length === t.length;
}
