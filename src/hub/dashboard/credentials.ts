/**
 * Checks a dashboard login: the app's secret, compared in constant time with each of its keys
 * valid now, and the admin grant (a request grant on `$SYS.REQ.ADMIN.>`, which an admin role's
 * `>` covers). Every refusal says as little as the handshake does: "authentication failed".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createError } from '../../core/errors/index.js';
import type { HubConfig } from '../../core/config/schema.js';
import type { BrokerSecurity } from '../../core/security/broker-security.js';
import { fromBase64 } from '../../core/security/bytes.js';
import { ADMIN_TOPIC_PREFIX } from '../admin-topics.js';

/** What the admin grant is checked against: any topic under `$SYS.REQ.ADMIN.`. */
export const DASHBOARD_ADMIN_TOPIC = `${ADMIN_TOPIC_PREFIX}DASHBOARD`;

/** Resolves nothing when `secret` is a valid key of `app` now and `app` is an admin; throws CB_ERR_AUTH_FAILED or CB_ERR_FORBIDDEN. */
export function checkAdminLogin(
  config: HubConfig,
  security: Pick<BrokerSecurity, 'check'>,
  app: string,
  secret: string,
  now: number,
): void {
  const given = fromBase64(secret);
  const keys = config.apps.get(app)?.keys ?? [];
  // Digests of equal length, so the comparison takes the same time whatever was typed.
  const digest = createHash('sha256')
    .update(given ?? new Uint8Array(0))
    .digest();
  let matched = false;
  for (const k of keys) {
    const valid = (k.notBefore === undefined || now >= k.notBefore) && (k.expiresAt === undefined || now < k.expiresAt);
    const same = timingSafeEqual(digest, createHash('sha256').update(k.secret).digest()) && given !== undefined;
    matched = (same && valid) || matched;
  }
  if (!matched) throw createError('CB_ERR_AUTH_FAILED', 'authentication failed');
  const verdict = security.check(app, 'request', DASHBOARD_ADMIN_TOPIC);
  if (!verdict.allowed || verdict.ask) {
    throw createError('CB_ERR_FORBIDDEN', `app ${app} is not an admin: it needs a request grant on ${ADMIN_TOPIC_PREFIX}>`);
  }
}
