/**
 * The algebra of topic patterns on pre-split tokens ('*' is one token, a final '>' one or more),
 * shared by the hub's AccessPolicy and the client's GrantCheck so that both judge alike. Inputs
 * are valid patterns (see topicProblem).
 */

const isTail = (tokens: readonly string[], i: number): boolean => tokens[i] === '>' && i === tokens.length - 1;

/** True when pattern `p` matches the literal topic `t`. */
export function matchTokens(p: readonly string[], t: readonly string[]): boolean {
  for (let i = 0; i < p.length; i++) {
    if (isTail(p, i)) return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** True when every topic pattern `p` matches is also matched by `g`. */
export function coversTokens(g: readonly string[], p: readonly string[]): boolean {
  for (let i = 0; i < g.length; i++) {
    if (isTail(g, i)) return p.length > i; // every topic of p has at least i+1 tokens
    if (i >= p.length) return false;
    if (isTail(p, i)) return false; // p allows any length from here; g does not
    if (g[i] !== '*' && g[i] !== p[i]) return false; // a literal covers only itself, not '*'
  }
  return p.length === g.length;
}

/** True when some topic is matched by both patterns. */
export function overlapTokens(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (isTail(a, i) || isTail(b, i)) return true; // the other has a token here, and whatever follows
    if (a[i] !== '*' && b[i] !== '*' && a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

/** True when every topic `pattern` matches is also matched by `grant`. */
export function patternCovers(grant: string, pattern: string): boolean {
  return coversTokens(grant.split('.'), pattern.split('.'));
}

/** True when some topic is matched by both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  return overlapTokens(a.split('.'), b.split('.'));
}
