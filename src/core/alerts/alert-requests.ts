/**
 * The alert engine's requests on reserved topics, answered by the hub itself: the current alerts
 * and silences (the dashboard shows them), and adding or removing a silence. Each needs a
 * `request` grant on its topic like any other request, so an app may be let read alerts
 * (`$SYS.REQ.ALERTS`) without being let silence them (`$SYS.REQ.ALERTS.SILENCE.*`).
 */
import * as v from 'valibot';
import type { SystemRequest, SystemResponders } from '../broker/system-requests.js';
import { createError } from '../errors/index.js';
import { SilenceSchema } from './alert-schema.js';
import type { AlertService } from './alert-service.js';

export const ALERTS_LIST_TOPIC = '$SYS.REQ.ALERTS';
export const ALERTS_SILENCE_ADD_TOPIC = '$SYS.REQ.ALERTS.SILENCE.ADD';
export const ALERTS_SILENCE_REMOVE_TOPIC = '$SYS.REQ.ALERTS.SILENCE.REMOVE';

/** The longest a silence added by request may last: 30 days. */
const MAX_SILENCE_MS = 30 * 86_400_000;

/**
 * `data` of a silence request: `{ matchers, expiresAt }` as in the config (an ISO time), or
 * `{ matchers, durationMs }`; `comment` optional.
 */
function silenceOf(data: unknown, now: number) {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw createError('CB_ERR_PAYLOAD_INVALID', 'a silence is an object: { matchers, expiresAt | durationMs, comment? }');
  }
  const { durationMs, ...rest } = data as Record<string, unknown>;
  if (durationMs !== undefined) {
    if (typeof durationMs !== 'number' || !Number.isInteger(durationMs) || durationMs < 1 || durationMs > MAX_SILENCE_MS) {
      throw createError('CB_ERR_PAYLOAD_INVALID', `durationMs must be an integer from 1 to ${MAX_SILENCE_MS}`);
    }
    if (rest.expiresAt !== undefined) throw createError('CB_ERR_PAYLOAD_INVALID', 'give expiresAt or durationMs, not both');
    rest.expiresAt = new Date(now + durationMs).toISOString();
  }
  const parsed = v.safeParse(SilenceSchema, rest);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw createError('CB_ERR_PAYLOAD_INVALID', `silence${path === '' ? '' : `.${path}`} ${issue.message}`);
  }
  if (parsed.output.expiresAt - now > MAX_SILENCE_MS) {
    throw createError('CB_ERR_PAYLOAD_INVALID', 'a silence may last at most 30 days');
  }
  return parsed.output;
}

/** Who asks, as recorded: the authenticated app, or `anonymous` on a hub without security. */
const asker = (r: SystemRequest): string => (r.app === '' ? 'anonymous' : r.app);

export function alertResponders(service: AlertService, now: () => number = Date.now): SystemResponders {
  return {
    [ALERTS_LIST_TOPIC]: () => service.snapshot(),
    [ALERTS_SILENCE_ADD_TOPIC]: (r) => service.addSilence(silenceOf(r.data, now()), asker(r)),
    [ALERTS_SILENCE_REMOVE_TOPIC]: (r) => {
      const id = (r.data as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') throw createError('CB_ERR_PAYLOAD_INVALID', 'say which silence: { id }');
      const removed = service.removeSilence(id, asker(r));
      if (removed === undefined)
        throw createError('CB_ERR_PAYLOAD_INVALID', `no silence with id ${JSON.stringify(id)}`, { details: { id } });
      return removed;
    },
  };
}
