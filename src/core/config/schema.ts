/**
 * The hub's configuration: one schema, one parser, one serializer. Everything the hub trusts about
 * apps, secrets, roles, origins and limits passes through `parseHubConfig`, which refuses anything
 * it does not understand: in a security configuration a typo must fail loudly, never fall back to
 * a weaker default. This module is what the rest of the library imports; the parts:
 *
 * - document-schema.ts: the whole document, declared once with valibot, and the rules across apps;
 *   app-schema.ts, role-schema.ts, origin-schema.ts, limits-schema.ts, security-schema.ts: its sections;
 *   rules.ts: the building blocks, speaking the config's error messages;
 * - parse.ts (`parseHubConfig`), serialize.ts (`serializeHubConfig`);
 * - defaults.ts: what every setting is when the file leaves it out.
 *
 * Every type below is inferred from the schema: change the schema, and the types follow.
 * Isomorphic (no Node built-ins): the file loader lives in src/node/config/config-file.ts.
 */
import type * as v from 'valibot';
import type { AppSchema, KeySchema } from './app-schema.js';
import type { HubConfig, HubConfigInput } from './document-schema.js';
import type { RateSchema, TopicRateSchema } from './limits-schema.js';
import type { GrantSchema, RoleSchema } from './role-schema.js';
import type { AbuseSchema, EncryptionSchema, SecuritySchema } from './security-schema.js';

export { HubConfigSchema, type HubConfig, type HubConfigInput } from './document-schema.js';
export { rolePatternProblem } from './role-schema.js';
// The actions themselves belong to access control; the config lists grants per action.
export { GRANT_ACTIONS } from '../security/policy.js';
export { parseHubConfig } from './parse.js';
export { serializeHubConfig } from './serialize.js';

type MapValue<M> = M extends ReadonlyMap<string, infer T> ? T : never;

// --- the parsed config ------------------------------------------------------------------------

/** An app: its name, its keys (none for an app known only by its origins), origins, roles, own rate. */
export type AppConfig = MapValue<HubConfig['apps']>;
/** One key: `notBefore` and `expiresAt` in milliseconds since the epoch. */
export type AppKey = v.InferOutput<typeof KeySchema>;
/** A role: grants per action, and deny rules (deny wins). */
export type RoleConfig = MapValue<HubConfig['roles']>;
/** What a role grants or denies: `publish`, `subscribe` or `request`. */
export type GrantAction = keyof RoleConfig['deny'];
/** A pattern may contain `{app}` as a whole token, replaced by the connecting app's name. */
export type Grant = v.InferOutput<typeof GrantSchema>;
export type RateLimit = v.InferOutput<typeof RateSchema>;
export type TopicRate = v.InferOutput<typeof TopicRateSchema>;
export type AbuseConfig = v.InferOutput<typeof AbuseSchema>;
export type SecurityConfig = v.InferOutput<typeof SecuritySchema>;
export type EncryptionMode = v.InferOutput<typeof EncryptionSchema>;

// --- the JSON/YAML document -------------------------------------------------------------------

export type GrantDocument = v.InferInput<typeof GrantSchema>;
export type KeyDocument = v.InferInput<typeof KeySchema>;
export type AppDocument = v.InferInput<typeof AppSchema>;
export type RoleDocument = v.InferInput<typeof RoleSchema>;
/** The document as `serializeHubConfig` writes it: every section present (`cluster` when the hub has one). */
export type HubConfigDocument = Required<Omit<HubConfigInput, '$schema' | 'cluster'>> & Pick<HubConfigInput, '$schema' | 'cluster'>;
