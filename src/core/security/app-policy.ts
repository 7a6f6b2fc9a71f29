/**
 * The hub's side of access control: an app's policy built from the hub config. Kept apart from
 * AccessPolicy so that config code stays on the hub (a client checks the grants the handshake
 * gave it with GrantCheck).
 */
import type { HubConfig } from '../config/schema.js';
import { createError } from '../errors/index.js';
import { AccessPolicy, GRANT_ACTIONS, q, type PerAction } from './policy.js';

/** The policy of `app`: the union of its roles, with `{app}` replaced by the app's name. */
export function policyForApp(config: HubConfig, app: string): AccessPolicy {
  const a = config.apps.get(app);
  if (a === undefined) throw createError('CB_ERR_AUTH_FAILED', `unknown app ${q(String(app))}`, { details: { app: String(app) } });
  const substitute = (p: string): string =>
    p
      .split('.')
      .map((t) => (t === '{app}' ? a.name : t))
      .join('.');
  const allow: PerAction<Array<{ pattern: string; ask: boolean }>> = { publish: [], subscribe: [], request: [] };
  const deny: PerAction<string[]> = { publish: [], subscribe: [], request: [] };
  for (const name of a.roles) {
    const r = config.roles.get(name);
    if (r === undefined) throw createError('CB_ERR_CONFIG_INVALID', `app ${q(app)} has role ${q(name)}, which is not defined`);
    for (const action of GRANT_ACTIONS) {
      for (const g of r[action]) allow[action].push({ pattern: substitute(g.pattern), ask: g.ask });
      for (const p of r.deny[action]) deny[action].push(substitute(p));
    }
  }
  return new AccessPolicy(allow, deny);
}
