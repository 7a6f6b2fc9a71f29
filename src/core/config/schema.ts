/**
 * The hub's configuration: one schema, one parser, one serializer. Everything the hub trusts about
 * apps, secrets, roles, origins and limits passes through `parseHubConfig`, which refuses anything
 * it does not understand: in a security configuration a typo must fail loudly, never fall back to
 * a weaker default.
 *
 * Isomorphic (no Node built-ins): the file loader lives in src/node/config/config-file.ts.
 */
import { ConfigError } from '../errors/index.js';
import { WIRE_MAX_TOPIC_LENGTH } from '../limits.js';
import { fromBase64, toBase64 } from '../security/bytes.js';
import {
  DEFAULT_INTEGRITY_ALGORITHMS, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REKEY_AFTER_MS, DEFAULT_REKEY_AFTER_RECORDS, MIN_SECRET_BYTES,
} from '../security/defaults.js';
import { INTEGRITY_ALGORITHMS, type IntegrityAlgorithm } from '../security/record.js';
import { topicProblem } from '../topic.js';

// Shared with the security layer, so both sides agree; re-exported so the config is one place to look.
export { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_REKEY_AFTER_MS, MIN_SECRET_BYTES };

/** Clients choose; encryption is their default. @default 'preferred' */
export const DEFAULT_ENCRYPTION: EncryptionMode = 'preferred';
/** Records under one key before re-keying. @default 1_000_000 */
export const DEFAULT_REKEY_AFTER_MESSAGES = DEFAULT_REKEY_AFTER_RECORDS;
/** How long a consent prompt waits for a person. @default 60_000 */
export const DEFAULT_CONSENT_TIMEOUT_MS = 60_000;
/** Violations within `windowMs` after which a connection is cut as abusive. @default { violationsPerWindow: 50, windowMs: 10_000 } */
export const DEFAULT_ABUSE: Readonly<AbuseConfig> = Object.freeze({ violationsPerWindow: 50, windowMs: 10_000 });
/** Hub-wide message rate per connection. @default { perSecond: 1000, burst: 2000 } */
export const DEFAULT_RATE: Readonly<RateLimit> = Object.freeze({ perSecond: 1000, burst: 2000 });
/** Allowed browser origins. @default [] (no browser page may connect) */
export const DEFAULT_ORIGINS: readonly string[] = Object.freeze([]);
/** Per-topic rates. @default [] */
export const DEFAULT_TOPIC_RATES: readonly TopicRate[] = Object.freeze([]);
/** Id given to a lone `secret`. @default 'k1' */
export const DEFAULT_KEY_ID = 'k1';

export type EncryptionMode = 'required' | 'preferred';
export type GrantAction = 'publish' | 'subscribe' | 'request';
export const GRANT_ACTIONS: readonly GrantAction[] = Object.freeze(['publish', 'subscribe', 'request']);

export interface RateLimit { readonly perSecond: number; readonly burst: number }
export interface TopicRate extends RateLimit { readonly pattern: string }
export interface AbuseConfig { readonly violationsPerWindow: number; readonly windowMs: number }

export interface AppKey {
  readonly id: string;
  readonly secret: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly notBefore?: number;
  /** Milliseconds since the epoch. */
  readonly expiresAt?: number;
}
export interface AppConfig {
  readonly name: string;
  /** Secrets for the authenticated handshake; empty for an app known only by its origins. */
  readonly keys: readonly AppKey[];
  /**
   * Origins that identify this app on a hub whose transports vouch for their peer's origin (a
   * browser hub: postMessage, extension ports). Never used for WebSocket connections, whose
   * Origin header any non-browser client can set. Normalized like the top-level `origins`.
   */
  readonly origins: readonly string[];
  readonly roles: readonly string[];
  readonly rate?: RateLimit;
}
/** A pattern may contain `{app}` as a whole token, replaced by the connecting app's name. */
export interface Grant { readonly pattern: string; readonly ask: boolean }
export interface RoleConfig {
  readonly name: string;
  readonly publish: readonly Grant[];
  readonly subscribe: readonly Grant[];
  readonly request: readonly Grant[];
  readonly deny: { readonly publish: readonly string[]; readonly subscribe: readonly string[]; readonly request: readonly string[] };
}
export interface SecurityConfig {
  readonly encryption: EncryptionMode;
  /** Integrity-only algorithms the hub accepts (the client's first choice among them wins). @default DEFAULT_INTEGRITY_ALGORITHMS */
  readonly integrityAlgorithms: readonly IntegrityAlgorithm[];
  readonly maxClockSkewMs: number;
  readonly rekeyAfterMessages: number;
  readonly rekeyAfterMs: number;
  readonly consentTimeoutMs: number;
  readonly abuse: AbuseConfig;
}
export interface HubConfig {
  /** Maps, not objects: an app called "constructor" must not find Object.prototype.constructor. */
  readonly apps: ReadonlyMap<string, AppConfig>;
  readonly roles: ReadonlyMap<string, RoleConfig>;
  /** Exact origins, lower-cased, default ports removed; "null" stands for opaque origins. */
  readonly origins: readonly string[];
  readonly limits: { readonly rate: RateLimit; readonly topicRates: readonly TopicRate[] };
  readonly security: SecurityConfig;
}

/** The JSON/YAML shape of the file, as `serializeHubConfig` writes it. */
export type GrantDocument = string | { pattern: string; ask?: boolean };
export interface KeyDocument { id: string; secret: string; notBefore?: string; expiresAt?: string }
export interface AppDocument { secret?: string; secrets?: KeyDocument[]; origins?: string[]; roles: string[]; rate?: RateLimit }
export interface RoleDocument {
  publish?: GrantDocument[]; subscribe?: GrantDocument[]; request?: GrantDocument[];
  deny?: { publish?: string[]; subscribe?: string[]; request?: string[] };
}
export interface HubConfigDocument {
  apps: Record<string, AppDocument>;
  roles: Record<string, RoleDocument>;
  origins: string[];
  limits: { rate: RateLimit; topicRates: TopicRate[] };
  security: Omit<SecurityConfig, 'abuse'> & { abuse: AbuseConfig };
}

// --- reading helpers: each throws a Problem naming the JSON path ------------------------------

class Problem {
  constructor(readonly path: string, readonly message: string) {}
}
function fail(path: string, message: string): never {
  throw new Problem(path, message);
}
const at = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function object(v: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path || '(config)', `must be an object, got ${kind(v)}`);
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail(at(path, key), `is not a known setting (expected ${allowed.join(', ')})`);
  }
  return o;
}

/** A map whose keys are names (apps, roles): any key, but every name must be valid. */
function namedEntries(v: unknown, path: string, what: string): Array<[string, unknown]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `must be an object of ${what}s by name, got ${kind(v)}`);
  const entries = Object.entries(v as Record<string, unknown>);
  for (const [name] of entries) {
    const problem = nameProblem(name);
    if (problem !== undefined) fail(at(path, name), `${what} name ${problem}`);
  }
  return entries;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
// Names become object keys downstream (serialized files, logs); these three are JavaScript traps.
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
function nameProblem(name: string): string | undefined {
  if (!NAME.test(name)) return 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"';
  if (RESERVED.has(name)) return 'is reserved';
  return undefined;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `must be an array, got ${kind(v)}`);
  return v;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `must be a string, got ${kind(v)}`);
  return v;
}

/** Absent means default; present-but-null is an error, so no setting can be switched off by accident. */
function integer(v: unknown, path: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer from ${min} to ${max}, got ${typeof v === 'number' ? String(v) : kind(v)}`);
  }
  return v;
}

function rate(v: unknown, path: string): RateLimit {
  const o = object(v, path, ['perSecond', 'burst']);
  const perSecond = o.perSecond;
  const burst = o.burst;
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
    fail(at(path, 'perSecond'), `must be a positive finite number, got ${typeof perSecond === 'number' ? String(perSecond) : kind(perSecond)}`);
  }
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) {
    fail(at(path, 'burst'), `must be a finite number >= 1, got ${typeof burst === 'number' ? String(burst) : kind(burst)}`);
  }
  return { perSecond, burst };
}

// --- apps -----------------------------------------------------------------------------------

// A zone is required: a time without one would mean different instants on different machines.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function time(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'string' && ISO_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) fail(path, 'must be an ISO 8601 time with a time zone, e.g. "2026-01-01T00:00:00Z"');
  return ms;
}

function secret(v: unknown, path: string): Uint8Array {
  // The value never appears in a message: error text ends up in logs.
  const rule = `must be base64 of at least ${MIN_SECRET_BYTES} bytes`;
  if (typeof v !== 'string') fail(path, `${rule}, got ${kind(v)}`);
  const bytes = fromBase64(v);
  if (bytes === undefined) fail(path, `${rule}; it is not valid base64`);
  if (bytes.length < MIN_SECRET_BYTES) fail(path, `${rule}; it decodes to ${bytes.length} bytes`);
  return bytes;
}

function key(v: unknown, path: string): AppKey {
  const o = object(v, path, ['id', 'secret', 'notBefore', 'expiresAt']);
  const id = string(o.id, at(path, 'id'));
  const problem = nameProblem(id);
  if (problem !== undefined) fail(at(path, 'id'), `key id ${problem}`);
  const notBefore = time(o.notBefore, at(path, 'notBefore'));
  const expiresAt = time(o.expiresAt, at(path, 'expiresAt'));
  if (notBefore !== undefined && expiresAt !== undefined && expiresAt <= notBefore) {
    fail(at(path, 'expiresAt'), 'must be later than notBefore');
  }
  const out: { -readonly [K in keyof AppKey]: AppKey[K] } = { id, secret: secret(o.secret, at(path, 'secret')) };
  if (notBefore !== undefined) out.notBefore = notBefore;
  if (expiresAt !== undefined) out.expiresAt = expiresAt;
  return out;
}

function keys(o: Record<string, unknown>, path: string): AppKey[] {
  if (o.secret !== undefined && o.secrets !== undefined) fail(path, 'has both "secret" and "secrets"; use one of them');
  if (o.secret !== undefined) return [{ id: DEFAULT_KEY_ID, secret: secret(o.secret, at(path, 'secret')) }];
  if (o.secrets === undefined && o.origins !== undefined) return []; // known by its origins only
  if (o.secrets === undefined) fail(path, 'needs a "secret", a "secrets" list or "origins"');
  const list = array(o.secrets, at(path, 'secrets'));
  if (list.length === 0) fail(at(path, 'secrets'), 'must list at least one key');
  const out: AppKey[] = [];
  list.forEach((k, i) => {
    const parsed = key(k, `${at(path, 'secrets')}[${i}]`);
    if (out.some((x) => x.id === parsed.id)) fail(`${at(path, 'secrets')}[${i}].id`, `duplicate key id "${parsed.id}"`);
    out.push(parsed);
  });
  return out;
}

function app(name: string, v: unknown, path: string, roles: ReadonlyMap<string, RoleConfig>): AppConfig {
  const o = object(v, path, ['secret', 'secrets', 'origins', 'roles', 'rate']);
  const appRoles: string[] = [];
  if (o.roles !== undefined) {
    array(o.roles, at(path, 'roles')).forEach((r, i) => {
      const p = `${at(path, 'roles')}[${i}]`;
      const role = string(r, p);
      if (!roles.has(role)) fail(p, `role "${role}" is not defined under "roles"`);
      if (appRoles.includes(role)) fail(p, `role "${role}" is listed twice`);
      appRoles.push(role);
    });
  }
  const appOrigins: string[] = [];
  if (o.origins !== undefined) {
    const list = array(o.origins, at(path, 'origins'));
    if (list.length === 0) fail(at(path, 'origins'), 'must list at least one origin');
    list.forEach((x, i) => {
      const norm = origin(x, `${at(path, 'origins')}[${i}]`);
      if (!appOrigins.includes(norm)) appOrigins.push(norm);
    });
  }
  const out: AppConfig = { name, keys: keys(o, path), origins: appOrigins, roles: appRoles };
  return o.rate === undefined ? out : { ...out, rate: rate(o.rate, at(path, 'rate')) };
}

/** One secret per app: a shared secret would let one app authenticate as the other. */
function assertSecretsDistinct(apps: ReadonlyMap<string, AppConfig>): void {
  const owner = new Map<string, string>();
  for (const a of apps.values()) {
    for (const k of a.keys) {
      const fingerprint = toBase64(k.secret);
      const other = owner.get(fingerprint);
      if (other !== undefined && other !== a.name) {
        fail(`apps.${a.name}`, `key "${k.id}" has the same secret as a key of app "${other}"; every app needs its own secrets`);
      }
      owner.set(fingerprint, a.name);
    }
  }
}

/** An origin identifies one app at most: otherwise who connected would be ambiguous. */
function assertOriginsDistinct(apps: ReadonlyMap<string, AppConfig>): void {
  const owner = new Map<string, string>();
  for (const a of apps.values()) {
    for (const o of a.origins) {
      const other = owner.get(o);
      if (other !== undefined) fail(`apps.${a.name}.origins`, `origin ${JSON.stringify(o)} already identifies app "${other}"`);
      owner.set(o, a.name);
    }
  }
}

// --- roles ----------------------------------------------------------------------------------

/** Topic pattern rules, plus `{app}` as a whole token. Any other brace is a typo such as `{App}`. */
export function rolePatternProblem(pattern: string): string | undefined {
  const probe = pattern.split('.').map((t) => (t === '{app}' ? 'app' : t)).join('.');
  if (/[{}]/.test(probe)) return 'uses "{" or "}" other than as a whole "{app}" token';
  // The wire maximum, not the hub's: a longer grant matches nothing, which is harmless.
  return topicProblem(probe, 'pattern', WIRE_MAX_TOPIC_LENGTH);
}

function pattern(v: unknown, path: string): string {
  const p = string(v, path);
  const problem = rolePatternProblem(p);
  if (problem !== undefined) fail(path, `pattern ${JSON.stringify(p)} ${problem}`);
  return p;
}

function grant(v: unknown, path: string): Grant {
  if (typeof v === 'string') return { pattern: pattern(v, path), ask: false };
  const o = object(v, path, ['pattern', 'ask']);
  if (o.ask !== undefined && typeof o.ask !== 'boolean') fail(at(path, 'ask'), `must be true or false, got ${kind(o.ask)}`);
  return { pattern: pattern(o.pattern, at(path, 'pattern')), ask: o.ask === true };
}

function role(name: string, v: unknown, path: string): RoleConfig {
  const o = object(v, path, [...GRANT_ACTIONS, 'deny']);
  const grants = (a: GrantAction): Grant[] =>
    o[a] === undefined ? [] : array(o[a], at(path, a)).map((g, i) => grant(g, `${at(path, a)}[${i}]`));
  const d = o.deny === undefined ? {} : object(o.deny, at(path, 'deny'), GRANT_ACTIONS);
  const denied = (a: GrantAction): string[] =>
    d[a] === undefined ? [] : array(d[a], at(path, `deny.${a}`)).map((p, i) => pattern(p, `${at(path, `deny.${a}`)}[${i}]`));
  return {
    name, publish: grants('publish'), subscribe: grants('subscribe'), request: grants('request'),
    deny: { publish: denied('publish'), subscribe: denied('subscribe'), request: denied('request') },
  };
}

// --- origins --------------------------------------------------------------------------------

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };
const ORIGIN = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/;

/** Normalizes to what browsers send in the Origin header, so an exact string comparison is right. */
function origin(v: unknown, path: string): string {
  const raw = string(v, path);
  if (raw === 'null') return raw;
  if (raw === '*') fail(path, 'wildcards are not allowed; list every origin exactly');
  const s = raw.toLowerCase();
  const rest = s.indexOf('://') < 0 ? -1 : s.indexOf('://') + 3;
  const tail = rest < 0 ? -1 : s.slice(rest).search(/[/?#]/);
  if (tail >= 0) {
    const example = raw.slice(0, rest + tail);
    fail(path, s.slice(rest + tail) === '/'
      ? `${JSON.stringify(raw)} must not end with "/": an origin has no path (use ${JSON.stringify(example)})`
      : `${JSON.stringify(raw)} must not have a path, query or fragment: an origin is scheme://host[:port] (use ${JSON.stringify(example)})`);
  }
  const m = ORIGIN.exec(s);
  if (m === null) fail(path, `${JSON.stringify(raw)} is not an origin: expected scheme://host[:port] or "null"`);
  const [, scheme, host, port] = m as unknown as [string, string, string, string | undefined];
  if (port === undefined) return `${scheme}://${host}`;
  const n = Number(port);
  if (n < 1 || n > 65535) fail(path, `${JSON.stringify(raw)} has port ${port}, outside 1..65535`);
  return DEFAULT_PORTS[scheme] === String(n) ? `${scheme}://${host}` : `${scheme}://${host}:${n}`;
}

// --- security and limits --------------------------------------------------------------------

function security(v: unknown): SecurityConfig {
  const path = 'security';
  const o = v === undefined ? {} : object(v, path, ['encryption', 'integrityAlgorithms', 'maxClockSkewMs', 'rekeyAfterMessages', 'rekeyAfterMs', 'consentTimeoutMs', 'abuse']);
  let encryption = DEFAULT_ENCRYPTION;
  if (o.encryption !== undefined) {
    if (o.encryption !== 'required' && o.encryption !== 'preferred') {
      fail(at(path, 'encryption'), `must be "required" or "preferred", got ${typeof o.encryption === 'string' ? JSON.stringify(o.encryption) : kind(o.encryption)}`);
    }
    encryption = o.encryption;
  }
  let integrityAlgorithms = DEFAULT_INTEGRITY_ALGORITHMS;
  if (o.integrityAlgorithms !== undefined) {
    const p = at(path, 'integrityAlgorithms');
    const list = array(o.integrityAlgorithms, p);
    if (list.length === 0) fail(p, `must name at least one of ${INTEGRITY_ALGORITHMS.join(', ')}`);
    list.forEach((x, i) => {
      if (!(INTEGRITY_ALGORITHMS as readonly unknown[]).includes(x)) fail(`${p}[${i}]`, `must be one of ${INTEGRITY_ALGORITHMS.join(', ')}, got ${typeof x === 'string' ? JSON.stringify(x) : kind(x)}`);
      if (list.indexOf(x) !== i) fail(`${p}[${i}]`, `${JSON.stringify(x)} is listed twice`);
    });
    integrityAlgorithms = Object.freeze(list as IntegrityAlgorithm[]);
  }
  const a = o.abuse === undefined ? {} : object(o.abuse, at(path, 'abuse'), ['violationsPerWindow', 'windowMs']);
  return {
    encryption,
    integrityAlgorithms,
    maxClockSkewMs: integer(o.maxClockSkewMs, at(path, 'maxClockSkewMs'), 1000, 3_600_000, DEFAULT_MAX_CLOCK_SKEW_MS),
    rekeyAfterMessages: integer(o.rekeyAfterMessages, at(path, 'rekeyAfterMessages'), 1, 2 ** 24, DEFAULT_REKEY_AFTER_MESSAGES),
    rekeyAfterMs: integer(o.rekeyAfterMs, at(path, 'rekeyAfterMs'), 1000, 86_400_000, DEFAULT_REKEY_AFTER_MS),
    consentTimeoutMs: integer(o.consentTimeoutMs, at(path, 'consentTimeoutMs'), 1000, 86_400_000, DEFAULT_CONSENT_TIMEOUT_MS),
    abuse: {
      violationsPerWindow: integer(a.violationsPerWindow, 'security.abuse.violationsPerWindow', 1, 1_000_000, DEFAULT_ABUSE.violationsPerWindow),
      windowMs: integer(a.windowMs, 'security.abuse.windowMs', 1000, 86_400_000, DEFAULT_ABUSE.windowMs),
    },
  };
}

function limits(v: unknown): HubConfig['limits'] {
  const o = v === undefined ? {} : object(v, 'limits', ['rate', 'topicRates']);
  const topicRates = o.topicRates === undefined ? [] : array(o.topicRates, 'limits.topicRates').map((t, i) => {
    const path = `limits.topicRates[${i}]`;
    const r = object(t, path, ['pattern', 'perSecond', 'burst']);
    const p = string(r.pattern, at(path, 'pattern'));
    // {app} means "the connecting app" only inside a role; here it would be a literal token.
    const problem = p.split('.').includes('{app}') ? 'uses "{app}", which only roles may use' : topicProblem(p, 'pattern', WIRE_MAX_TOPIC_LENGTH);
    if (problem !== undefined) fail(at(path, 'pattern'), `pattern ${JSON.stringify(p)} ${problem}`);
    return { pattern: p, ...rate({ perSecond: r.perSecond, burst: r.burst }, path) };
  });
  return { rate: o.rate === undefined ? { ...DEFAULT_RATE } : rate(o.rate, 'limits.rate'), topicRates };
}

// --- entry points ---------------------------------------------------------------------------

const TOP_LEVEL = ['apps', 'roles', 'origins', 'limits', 'security'] as const;

/**
 * Validates and normalizes a parsed config file (JSON or YAML). Never mutates `raw`. Throws
 * ConfigError CB_ERR_CONFIG_INVALID whose message starts with `source` (the file) and the JSON path.
 */
export function parseHubConfig(raw: unknown, source?: string): HubConfig {
  try {
    const o = object(raw, '', TOP_LEVEL);
    if (o.apps === undefined) fail('apps', 'is required: without apps nobody can connect');
    const roles = new Map<string, RoleConfig>();
    if (o.roles !== undefined) for (const [name, r] of namedEntries(o.roles, 'roles', 'role')) roles.set(name, role(name, r, `roles.${name}`));
    const apps = new Map<string, AppConfig>();
    for (const [name, a] of namedEntries(o.apps, 'apps', 'app')) apps.set(name, app(name, a, `apps.${name}`, roles));
    assertSecretsDistinct(apps);
    assertOriginsDistinct(apps);
    const origins: string[] = [];
    if (o.origins !== undefined) {
      array(o.origins, 'origins').forEach((x, i) => {
        const normal = origin(x, `origins[${i}]`);
        if (!origins.includes(normal)) origins.push(normal);
      });
    }
    return { apps, roles, origins, limits: limits(o.limits), security: security(o.security) };
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    const where = source === undefined ? '' : `${source}: `;
    throw new ConfigError('CB_ERR_CONFIG_INVALID', `${where}${err.path}: ${err.message}`, {
      details: source === undefined ? { path: err.path } : { path: err.path, source },
    });
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
const grantDoc = (g: Grant): GrantDocument => (g.ask ? { pattern: g.pattern, ask: true } : g.pattern);

/** Back to the file's shape (secrets re-encoded as base64); `parseHubConfig` of the result is equivalent. */
export function serializeHubConfig(cfg: HubConfig): HubConfigDocument {
  const apps: Record<string, AppDocument> = {};
  for (const a of cfg.apps.values()) {
    const only = a.keys.length === 1 ? a.keys[0] : undefined;
    // A lone, undated k1 is written the short way, as it most likely was read.
    const doc: AppDocument = a.keys.length === 0 ? { roles: [...a.roles] } : only !== undefined && only.id === DEFAULT_KEY_ID && only.notBefore === undefined && only.expiresAt === undefined
      ? { secret: toBase64(only.secret), roles: [...a.roles] }
      : {
          secrets: a.keys.map((k) => ({
            id: k.id, secret: toBase64(k.secret),
            ...(k.notBefore === undefined ? {} : { notBefore: iso(k.notBefore) }),
            ...(k.expiresAt === undefined ? {} : { expiresAt: iso(k.expiresAt) }),
          })),
          roles: [...a.roles],
        };
    if (a.origins.length > 0) doc.origins = [...a.origins];
    if (a.rate !== undefined) doc.rate = { ...a.rate };
    apps[a.name] = doc;
  }
  const roles: Record<string, RoleDocument> = {};
  for (const r of cfg.roles.values()) {
    const doc: RoleDocument = {};
    const deny: NonNullable<RoleDocument['deny']> = {};
    for (const a of GRANT_ACTIONS) {
      if (r[a].length > 0) doc[a] = r[a].map(grantDoc);
      if (r.deny[a].length > 0) deny[a] = [...r.deny[a]];
    }
    if (Object.keys(deny).length > 0) doc.deny = deny;
    roles[r.name] = doc;
  }
  return {
    apps, roles, origins: [...cfg.origins],
    limits: { rate: { ...cfg.limits.rate }, topicRates: cfg.limits.topicRates.map((t) => ({ ...t })) },
    security: { ...cfg.security, abuse: { ...cfg.security.abuse } },
  };
}
