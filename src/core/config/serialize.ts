/**
 * `serializeHubConfig`: a parsed config back to the file's shape, secrets re-encoded as base64.
 * Parsing the result gives an equal config.
 */
import { toBase64 } from '../security/bytes.js';
import { GRANT_ACTIONS } from '../security/policy.js';
import type { AppConfig, AppDocument, Grant, GrantDocument, HubConfig, HubConfigDocument, RoleConfig, RoleDocument } from './schema.js';
import { DEFAULT_KEY_ID } from '../defaults.js';

const iso = (ms: number): string => new Date(ms).toISOString();

function appDocument(a: AppConfig): AppDocument {
  const only = a.keys.length === 1 ? a.keys[0] : undefined;
  // A lone, undated k1 is written the short way, as it most likely was read.
  const doc: AppDocument =
    a.keys.length === 0
      ? { roles: [...a.roles] }
      : only !== undefined && only.id === DEFAULT_KEY_ID && only.notBefore === undefined && only.expiresAt === undefined
        ? { secret: toBase64(only.secret), roles: [...a.roles] }
        : {
            secrets: a.keys.map((k) => ({
              id: k.id,
              secret: toBase64(k.secret),
              ...(k.notBefore === undefined ? {} : { notBefore: iso(k.notBefore) }),
              ...(k.expiresAt === undefined ? {} : { expiresAt: iso(k.expiresAt) }),
            })),
            roles: [...a.roles],
          };
  if (a.origins.length > 0) doc.origins = [...a.origins];
  if (a.certificates.length > 0) doc.certificates = [...a.certificates];
  if (a.rate !== undefined) doc.rate = { ...a.rate };
  return doc;
}

const grantDocument = (g: Grant): GrantDocument => (g.ask ? { pattern: g.pattern, ask: true } : g.pattern);

function roleDocument(r: RoleConfig): RoleDocument {
  const doc: RoleDocument = {};
  const deny: NonNullable<RoleDocument['deny']> = {};
  for (const a of GRANT_ACTIONS) {
    if (r[a].length > 0) doc[a] = r[a].map(grantDocument);
    if (r.deny[a].length > 0) deny[a] = [...r.deny[a]];
  }
  if (Object.keys(deny).length > 0) doc.deny = deny;
  return doc;
}

/** Back to the file's shape (secrets re-encoded as base64); `parseHubConfig` of the result is equivalent. */
export function serializeHubConfig(cfg: HubConfig): HubConfigDocument {
  const apps: Record<string, AppDocument> = {};
  for (const a of cfg.apps.values()) apps[a.name] = appDocument(a);
  const roles: Record<string, RoleDocument> = {};
  for (const r of cfg.roles.values()) roles[r.name] = roleDocument(r);
  return {
    ...(cfg.$schema !== undefined ? { $schema: cfg.$schema } : {}),
    apps,
    roles,
    origins: [...cfg.origins],
    limits: { rate: { ...cfg.limits.rate }, topicRates: cfg.limits.topicRates.map((t) => ({ ...t })) },
    security: { ...cfg.security, integrityAlgorithms: [...cfg.security.integrityAlgorithms], abuse: { ...cfg.security.abuse } },
    listeners: cfg.listeners.map((l) => ({ ...l })),
    metrics: { topics: [...cfg.metrics.topics] },
    alerts: alertsDocument(cfg.alerts),
    staticApps: cfg.staticApps.map(({ hostNames, frameAncestors, csp, ...plain }) => ({
      ...plain,
      ...(hostNames !== undefined ? { hostNames: [...hostNames] } : {}),
      ...(frameAncestors !== undefined ? { frameAncestors: [...frameAncestors] } : {}),
      ...(csp !== undefined ? { csp: { ...csp } } : {}),
    })),
    ...(cfg.cluster !== undefined ? { cluster: clusterDocument(cfg.cluster) } : {}),
  };
}

function clusterDocument(c: NonNullable<HubConfig['cluster']>): NonNullable<HubConfigDocument['cluster']> {
  const { servers, tls, ...plain } = c;
  return { ...plain, servers: [...servers], ...(tls !== undefined ? { tls: { ...tls } } : {}) };
}

function alertsDocument(a: HubConfig['alerts']): HubConfigDocument['alerts'] {
  const { rules, groupBy, silences, webhook, ...rest } = a;
  return {
    ...rest,
    rules: rules.map((r) => {
      const { quantile, match, by, labels, annotations, ...plain } = r;
      return {
        ...plain,
        ...(quantile === undefined ? {} : { quantile }),
        match: { ...match },
        by: [...by],
        labels: { ...labels },
        annotations: { ...annotations },
      };
    }),
    groupBy: [...groupBy],
    silences: silences.map((x) => ({ matchers: { ...x.matchers }, expiresAt: iso(x.expiresAt), comment: x.comment })),
    ...(webhook === undefined ? {} : { webhook: { ...webhook } }),
  };
}
