/**
 * Origin allow-lists: exact string comparison, nothing else. `http://example.com` allows
 * exactly that origin: not `http://example.com.attacker.net` (a prefix match would), not
 * `https://example.com`, not another port. `null` (sandboxed frames, `file:`) is allowed only
 * when the list names `null` itself. Browsers report origins normalized (lower-case scheme and
 * host, no default port, no path), so list entries must be written the same way.
 */
export function originAllowed(allowed: readonly string[], origin: string | null | undefined): boolean {
  if (typeof origin !== 'string' || origin === '') return false;
  for (const a of allowed) if (a === origin) return true;
  return false;
}

/** Why `origin` is not a usable allow-list entry or target origin, or undefined when it is one. */
export function originProblem(origin: unknown): string | undefined {
  if (typeof origin !== 'string') return 'must be a string';
  if (origin === 'null') return undefined;
  if (origin === '*') return 'must be one exact origin, not "*"';
  if (origin !== origin.toLowerCase()) return 'must be lower-case, as browsers report origins';
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\s]+)$/.exec(origin);
  if (m === null) return 'must be scheme://host[:port], without a path';
  if (/:(80)$/.test(origin) && m[1] === 'http') return 'must not name the default port 80';
  if (/:(443)$/.test(origin) && m[1] === 'https') return 'must not name the default port 443';
  return undefined;
}
