/**
 * Apps in the hub config: the secrets an app authenticates with (one `secret`, or a `secrets`
 * list of dated keys for rotation), the origins that identify it on a browser hub, its roles and
 * its own rate. Rules across apps (roles defined, secrets and origins not shared) are in
 * document-schema.ts.
 */
import * as v from 'valibot';
import { fromBase64 } from '../security/bytes.js';
import { MIN_SECRET_BYTES } from '../defaults.js';
import { RateSchema } from './limits-schema.js';
import { OriginListSchema } from './origin-schema.js';
import { distinct, kind, list, nameProblem, rule, settings, text, type ShapeRule } from './rules.js';
import { DEFAULT_KEY_ID } from '../defaults.js';

// The value never appears in a message: error text ends up in logs.
const SECRET_RULE = `must be base64 of at least ${MIN_SECRET_BYTES} bytes`;
const secret = v.pipe(
  v.string((issue) => `${SECRET_RULE}, got ${kind(issue.input)}`),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const bytes = fromBase64(dataset.value);
    if (bytes === undefined) addIssue({ message: `${SECRET_RULE}; it is not valid base64` });
    else if (bytes.length < MIN_SECRET_BYTES) addIssue({ message: `${SECRET_RULE}; it decodes to ${bytes.length} bytes` });
    else return bytes;
    return NEVER;
  }),
);

// A zone is required: a time without one would mean different instants on different machines.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const TIME_RULE = 'must be an ISO 8601 time with a time zone, e.g. "2026-01-01T00:00:00Z"';
/** Milliseconds since the epoch, written as an ISO 8601 time. */
export const TimeSchema = v.pipe(
  v.string(TIME_RULE),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const ms = ISO_TIME.test(dataset.value) ? Date.parse(dataset.value) : Number.NaN;
    if (!Number.isNaN(ms)) return ms;
    addIssue({ message: TIME_RULE });
    return NEVER;
  }),
);

/** One key of an app: an id, a secret, and optionally when it starts and stops being valid. */
export const KeySchema = v.pipe(
  settings(
    {
      id: v.pipe(
        text(),
        rule((id) => {
          const p = nameProblem(id);
          return p === undefined ? undefined : `key id ${p}`;
        }),
      ),
      secret,
      notBefore: v.optional(TimeSchema),
      expiresAt: v.optional(TimeSchema),
    },
    { checkOrder: ['id', 'notBefore', 'expiresAt', 'secret'] },
  ),
  rule(({ notBefore, expiresAt }) =>
    notBefore !== undefined && expiresAt !== undefined && expiresAt <= notBefore
      ? { path: ['expiresAt'], message: 'must be later than notBefore' }
      : undefined,
  ),
  v.transform(({ id, secret, notBefore, expiresAt }) => ({
    id,
    secret,
    ...(notBefore === undefined ? {} : { notBefore }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  })),
  v.readonly(),
);
export type AppKey = v.InferOutput<typeof KeySchema>;

const keyList = v.pipe(
  list(KeySchema),
  v.minLength(1, 'must list at least one key'),
  distinct(
    (k) => k.id,
    (id) => `duplicate key id "${id}"`,
    'id',
  ),
);

/**
 * A TLS client certificate, named by the SHA-256 of its DER form: `sha256/` and 64 hex digits
 * (colons, as openssl prints them, and either case are accepted; kept in lowercase without colons).
 */
const CERTIFICATE_RULE = 'must be "sha256/" and the 64 hex digits of the certificate\'s SHA-256 fingerprint';
const certificate = v.pipe(
  v.string((issue) => `${CERTIFICATE_RULE}, got ${kind(issue.input)}`),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const m = /^sha256\/((?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2})$/.exec(dataset.value);
    if (m !== null) return `sha256/${(m[1] as string).replaceAll(':', '').toLowerCase()}`;
    addIssue({ message: CERTIFICATE_RULE });
    return NEVER;
  }),
);
const certificateList = v.pipe(
  list(certificate),
  v.minLength(1, 'must list at least one certificate'),
  distinct(
    (c) => c,
    (c) => `certificate ${c} is listed twice`,
  ),
  v.readonly(),
);

// Defined under "roles", and each once: checked with the whole document (document-schema.ts).
const roleNames = v.pipe(list(text()), v.readonly());

/** Secrets, or origins or certificates only (an app known by what its transport vouches for): never both kinds of secret, never none. */
const keysGiven: ShapeRule = (o) => {
  if (o.secret !== undefined && o.secrets !== undefined) return { path: [], message: 'has both "secret" and "secrets"; use one of them' };
  if (o.secret === undefined && o.secrets === undefined && o.origins === undefined && o.certificates === undefined)
    return { path: [], message: 'needs a "secret", a "secrets" list or "origins" (or "certificates")' };
  return undefined;
};

export const AppSchema = v.pipe(
  settings(
    {
      secret: v.optional(secret),
      secrets: v.optional(keyList),
      /**
       * Origins that identify this app on a hub whose transports vouch for their peer's origin (a
       * browser hub: postMessage, extension ports). Never used for WebSocket connections, whose
       * Origin header any non-browser client can set. Normalized like the top-level `origins`.
       */
      origins: v.optional(v.pipe(OriginListSchema, v.minLength(1, 'must list at least one origin'))),
      /**
       * TLS client certificates that identify this app on a hub's TLS listener that asks for them
       * (`requestClientCertificates`, `--tls-client-certs`): a client presenting one that verifies
       * against the listener's CA, and no secret, is this app. `"sha256/<hex>"` of the DER.
       */
      certificates: v.optional(certificateList),
      roles: v.optional(roleNames, []),
      rate: v.optional(RateSchema),
    },
    { shape: keysGiven, checkOrder: ['roles', 'origins', 'certificates', 'secret', 'secrets', 'rate'] },
  ),
  v.transform(({ secret, secrets, origins, certificates, roles, rate }) => {
    // Secrets for the authenticated handshake; none for an app known only by its origins or certificates.
    const keys: readonly AppKey[] = secret === undefined ? (secrets ?? []) : [{ id: DEFAULT_KEY_ID, secret }];
    return { keys, origins: origins ?? [], certificates: certificates ?? [], roles, ...(rate === undefined ? {} : { rate }) };
  }),
  v.readonly(),
);
