/**
 * A manifest's `grants` (what the app asks to publish, subscribe to and request) against the
 * hub's policy: a grant the app's roles do not allow at all refuses the deployment before anything
 * starts; one its roles leave to a person (`ask`) and nobody granted yet is asked for through
 * consent in the deployment's approval step, so the new instances never wait on a person later.
 * The manifest alone never widens what an app may do.
 */
import type { AppManifest } from '../../core/apps/manifest.js';
import { createError } from '../../core/errors/index.js';
import type { AccessAction } from '../../core/security/broker-security.js';
import type { GrantsSummary } from '../../core/security/handshake-messages.js';
import { patternCovers } from '../../core/security/policy.js';

/** The hub's policy, as the deployment manager asks it. */
export interface GrantPolicy {
  grantsFor(app: string): GrantsSummary;
  consentGranted?(app: string, action: AccessAction, rule: string): boolean;
}

export interface GrantToAsk {
  readonly action: AccessAction;
  readonly pattern: string;
  /** The `ask` rule that covers it: what consent is asked (and remembered) for. */
  readonly rule: string;
}

const ACTIONS: readonly AccessAction[] = ['publish', 'subscribe', 'request'];

/**
 * The grants a person must still give; throws CB_ERR_FORBIDDEN naming the first the roles refuse
 * (no allow or ask rule covers the whole pattern, or a deny rule covers it). The hub still checks
 * every message; this refuses early what could never work.
 */
export function grantsToAsk(manifest: AppManifest, policy: GrantPolicy): GrantToAsk[] {
  const out: GrantToAsk[] = [];
  const g = policy.grantsFor(manifest.name);
  for (const action of ACTIONS)
    for (const grant of manifest.grants[action]) {
      const p = grant.pattern;
      const refuse = (why: string): never => {
        throw createError(
          'CB_ERR_FORBIDDEN',
          `the manifest of ${manifest.name} asks to ${action} ${JSON.stringify(p)}, which its roles do not allow: ${why}`,
          { details: { app: manifest.name, action, pattern: p } },
        );
      };
      const denied = g.deny[action].find((d) => patternCovers(d, p));
      if (denied !== undefined) refuse(`denied by ${JSON.stringify(denied)}`);
      const allowed = g[action].find((a) => patternCovers(a, p));
      const asked = g.ask[action].find((a) => patternCovers(a, p));
      const rule = allowed ?? asked ?? refuse('no grant of its roles covers it');
      if ((allowed === undefined || grant.ask) && policy.consentGranted?.(manifest.name, action, rule) !== true)
        out.push({ action, pattern: p, rule });
    }
  return out;
}
