/**
 * The whole hub config document, declared once: the valibot schema below is what `parseHubConfig`
 * validates and normalizes with, and every config type (`HubConfig` and its parts, the document
 * shapes) is inferred from it. Rules that compare apps with roles and with each other run once
 * every part is valid on its own.
 */
import * as v from 'valibot';
import { toBase64 } from '../security/bytes.js';
import { AppSchema } from './app-schema.js';
import { LimitsSchema } from './limits-schema.js';
import { OriginListSchema } from './origin-schema.js';
import { RoleSchema } from './role-schema.js';
import { list, named, rule, settings, text, type Problem } from './rules.js';
import { ListenerSchema } from './listener-schema.js';
import { SecuritySchema } from './security-schema.js';
import { MetricsSchema } from './metrics-schema.js';
import { StaticAppListSchema } from './static-app-schema.js';
import { ClusterSchema } from './cluster-schema.js';
import { AlertsSchema } from '../alerts/alert-schema.js';
import { DEFAULT_ORIGINS } from '../defaults.js';

type Apps = v.InferOutput<ReturnType<typeof named<typeof AppSchema>>>;
type Roles = v.InferOutput<ReturnType<typeof named<typeof RoleSchema>>>;

/** Every role an app lists is defined under `roles`, and listed once. */
function rolesDefined(apps: Apps, roles: Roles): Problem | undefined {
  for (const a of apps.values()) {
    for (let i = 0; i < a.roles.length; i++) {
      const role = a.roles[i] as string;
      const path = ['apps', a.name, 'roles', i];
      if (!roles.has(role)) return { path, message: `role "${role}" is not defined under "roles"` };
      if (a.roles.indexOf(role) !== i) return { path, message: `role "${role}" is listed twice` };
    }
  }
  return undefined;
}

/** One secret per app: a shared secret would let one app authenticate as the other. */
function secretsDistinct(apps: Apps): Problem | undefined {
  const owner = new Map<string, string>();
  for (const a of apps.values()) {
    for (const k of a.keys) {
      const fingerprint = toBase64(k.secret);
      const other = owner.get(fingerprint);
      if (other !== undefined && other !== a.name) {
        return {
          path: ['apps', a.name],
          message: `key "${k.id}" has the same secret as a key of app "${other}"; every app needs its own secrets`,
        };
      }
      owner.set(fingerprint, a.name);
    }
  }
  return undefined;
}

/** An origin identifies one app at most: otherwise who connected would be ambiguous. */
function originsDistinct(apps: Apps): Problem | undefined {
  const owner = new Map<string, string>();
  for (const a of apps.values()) {
    for (const o of a.origins) {
      const other = owner.get(o);
      if (other !== undefined)
        return { path: ['apps', a.name, 'origins'], message: `origin ${JSON.stringify(o)} already identifies app "${other}"` };
      owner.set(o, a.name);
    }
  }
  return undefined;
}

/** A certificate identifies one app at most. */
function certificatesDistinct(apps: Apps): Problem | undefined {
  const owner = new Map<string, string>();
  for (const a of apps.values()) {
    for (const c of a.certificates) {
      const other = owner.get(c);
      if (other !== undefined)
        return { path: ['apps', a.name, 'certificates'], message: `certificate ${c} already identifies app "${other}"` };
      owner.set(c, a.name);
    }
  }
  return undefined;
}

export const HubConfigSchema = v.pipe(
  settings(
    {
      /** Where an editor finds the JSON Schema of this file (docs/hub-config.schema.json); ignored by the hub. */
      $schema: v.optional(text()),
      apps: named('app', AppSchema),
      roles: v.optional(named('role', RoleSchema), {}),
      /** Exact origins of browser pages that may open a WebSocket; "null" stands for opaque origins. */
      origins: v.optional(OriginListSchema, DEFAULT_ORIGINS),
      limits: v.optional(LimitsSchema, {}),
      security: v.optional(SecuritySchema, {}),
      /** TCP, Unix-socket and TLS listeners besides the WebSocket one; read at start. */
      listeners: v.optional(v.pipe(list(ListenerSchema), v.readonly()), []),
      /** Topic patterns counted in `crossbus_topic_messages_total`; read at start. */
      metrics: v.optional(MetricsSchema, {}),
      /** Alert rules over the hub's metrics, their webhook and silences; read at start. */
      alerts: v.optional(AlertsSchema, {}),
      /** Static web apps served on origins of their own (folders relative to this file); read at start. */
      staticApps: v.optional(StaticAppListSchema, []),
      /** The NATS cluster this hub joins with others as one bus (files relative to this file); read at start. */
      cluster: v.optional(ClusterSchema),
    },
    {
      shape: (o) => (o.apps === undefined ? { path: ['apps'], message: 'is required: without apps nobody can connect' } : undefined),
      checkOrder: ['$schema', 'roles', 'apps', 'origins', 'limits', 'security', 'listeners', 'metrics', 'alerts', 'staticApps', 'cluster'],
    },
  ),
  rule(({ apps, roles }) => rolesDefined(apps, roles) ?? secretsDistinct(apps) ?? originsDistinct(apps) ?? certificatesDistinct(apps)),
  v.readonly(),
);

/** The parsed config: Maps for apps and roles, secrets as bytes, origins normalized, every default filled in. */
export type HubConfig = v.InferOutput<typeof HubConfigSchema>;
/** The JSON/YAML document `parseHubConfig` accepts: only `apps` is required. */
export type HubConfigInput = v.InferInput<typeof HubConfigSchema>;
