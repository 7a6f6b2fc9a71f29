/**
 * The headers every answer of a static app carries, whatever its status: a strict
 * Content-Security-Policy (scripts and everything else from the app's own origin only, no plugins,
 * no `<base>`, framed only by the pages its options name, connections to itself and the hub's
 * WebSocket), no sniffing, no referrer, its own browsing context group, its files not loaded
 * by other sites' pages (unless it may be framed: see below), and no powerful features.
 */
import type { ResolvedStaticApp } from './options.js';

/** The policy's directives before an app's own `csp` options replace or add any. */
function defaultDirectives(app: ResolvedStaticApp, hubWsOrigins: readonly string[]): Record<string, string> {
  return {
    'default-src': "'self'",
    'script-src': "'self'",
    'object-src': "'none'",
    'base-uri': "'none'",
    'form-action': "'self'",
    'frame-ancestors': app.frameAncestors.join(' '),
    'connect-src': ["'self'", ...hubWsOrigins].join(' '),
  };
}

/** The Content-Security-Policy of an app's every answer. */
export function contentSecurityPolicy(app: ResolvedStaticApp, hubWsOrigins: readonly string[]): string {
  const directives = { ...defaultDirectives(app, hubWsOrigins), ...app.csp, 'frame-ancestors': app.frameAncestors.join(' ') };
  return Object.entries(directives)
    .map(([name, value]) => (value === '' ? name : `${name} ${value}`))
    .join('; ');
}

/** The security headers of an app's every answer (frozen: built once per app). */
export function staticAppHeaders(app: ResolvedStaticApp, hubWsOrigins: readonly string[]): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-security-policy': contentSecurityPolicy(app, hubWsOrigins),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    // A page in a sandboxed frame has an opaque origin, which no origin or site is the same as:
    // an app that may be framed must let its files load cross-origin, or its own frame could not
    // load its scripts. One that may not be framed keeps them to itself.
    'cross-origin-resource-policy': app.frameAncestors[0] === "'none'" ? 'same-origin' : 'cross-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()',
    // For browsers without frame-ancestors: framing refused outright unless the app allows some.
    ...(app.frameAncestors[0] === "'none'" ? { 'x-frame-options': 'DENY' } : {}),
  });
}
