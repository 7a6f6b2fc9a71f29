/**
 * Origins in the hub config (the WebSocket allow-list, an app's identifying origins): normalized
 * by `normalizeOrigin` (security/origins.ts, the one grammar the transports use too) to what
 * browsers send, so that an exact string comparison is right; a refusal says how to fix it.
 */
import * as v from 'valibot';
import { normalizeOrigin, originFault } from '../security/origins.js';
import { list, text, unique } from './rules.js';

/** Why `raw` is not an origin, as the config says it. */
function originMessage(raw: string): string {
  const fault = originFault(raw);
  const quoted = JSON.stringify(raw);
  switch (fault.fault) {
    case 'wildcard':
      return 'wildcards are not allowed; list every origin exactly';
    case 'path': {
      const use = JSON.stringify(raw.slice(0, fault.at));
      return raw.slice(fault.at) === '/'
        ? `${quoted} must not end with "/": an origin has no path (use ${use})`
        : `${quoted} must not have a path, query or fragment: an origin is scheme://host[:port] (use ${use})`;
    }
    case 'port':
      return `${quoted} has port ${fault.port}, outside 1..65535`;
    default:
      return `${quoted} is not an origin: expected scheme://host[:port] or "null"`;
  }
}

/** One origin, normalized; `"null"` stands for opaque origins (sandboxed frames, `file:`). */
export const OriginSchema = v.pipe(
  text(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const normal = normalizeOrigin(dataset.value);
    if (normal !== undefined) return normal;
    addIssue({ message: originMessage(dataset.value) });
    return NEVER;
  }),
);

/** Origins, normalized and de-duplicated (`HTTP://A.example` and `http://a.example:80` are one). */
export const OriginListSchema = v.pipe(list(OriginSchema), v.transform(unique), v.readonly());
