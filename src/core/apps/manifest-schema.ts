/**
 * The app manifest (`crossbus.app.json` or `.yaml`), declared once with valibot: what an app is
 * (name, version, kind, entry), how many instances run, the grants it asks for (through consent),
 * its health check and resource limits, its environment and its own configuration. Types are
 * inferred from the schema; defaults and bounds live in defaults.ts. Isomorphic: the file loader
 * (which resolves `entry` and checks it exists) is src/node/apps/manifest-file.ts.
 */
import * as v from 'valibot';
import { GrantSchema } from '../config/role-schema.js';
import { topicProblem } from '../topic.js';
import { integer, kind, list, nameProblem, rule, settings, stringOrKind, text } from '../config/rules.js';
import {
  DEFAULT_APP_INSTANCES,
  DEFAULT_HEALTH_FAILURES,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  MAX_APP_ENV_VALUE_LENGTH,
  MAX_APP_ENV_VARS,
  MAX_APP_INSTANCES,
  MAX_CPU_PERCENT,
  MAX_HEALTH_FAILURES,
  MAX_HEALTH_MS,
  MAX_OLD_SPACE_MB,
  MAX_RSS_MB,
  MIN_HEALTH_MS,
  MIN_OLD_SPACE_MB,
  MIN_RSS_MB,
  RUNTIME_ENV_PREFIX,
} from './defaults.js';

const name = v.pipe(
  text(),
  rule((n) => {
    const p = nameProblem(n);
    return p === undefined ? undefined : `app name ${p}`;
  }),
);

// Semantic Versioning 2.0.0's own grammar (semver.org), without a leading "v".
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const version = v.pipe(
  text(),
  rule((s) => (SEMVER.test(s) ? undefined : `must be a semantic version such as "1.2.3", got ${JSON.stringify(s.slice(0, 80))}`)),
);

const appKind = v.picklist(['node', 'static'], (issue) => `must be "node" or "static", got ${stringOrKind(issue.input)}`);

/** Why `entry` cannot name a path inside the app's folder, or undefined. */
export function entryProblem(entry: string): string | undefined {
  if (entry === '') return 'is empty';
  if (entry.includes('\0')) return 'contains a NUL character';
  if (/^([/\\]|[A-Za-z]:)/.test(entry)) return `must be relative to the manifest's folder, got ${JSON.stringify(entry)}`;
  if (entry.split(/[/\\]/).includes('..')) return `must stay inside the manifest's folder (no ".."), got ${JSON.stringify(entry)}`;
  return undefined;
}
const entry = v.pipe(text(), rule(entryProblem));

const grantList = v.optional(v.pipe(list(GrantSchema), v.readonly()), []);
/** What the app asks to publish, subscribe to and request: granted through consent, never by the manifest alone. */
const grants = v.optional(v.pipe(settings({ publish: grantList, subscribe: grantList, request: grantList }), v.readonly()), () => ({
  publish: [],
  subscribe: [],
  request: [],
}));

const healthCheck = v.optional(
  v.pipe(
    settings({
      /** How often the instance beats over IPC, in ms. @default 1000 */
      intervalMs: v.optional(integer(MIN_HEALTH_MS, MAX_HEALTH_MS), DEFAULT_HEALTH_INTERVAL_MS),
      /** A check fails when no beat came for this long, in ms. @default 3000 */
      timeoutMs: v.optional(integer(MIN_HEALTH_MS, MAX_HEALTH_MS), DEFAULT_HEALTH_TIMEOUT_MS),
      /** Consecutive failed checks (or resource checks over a limit) before a restart. @default 3 */
      failuresBeforeRestart: v.optional(integer(1, MAX_HEALTH_FAILURES), DEFAULT_HEALTH_FAILURES),
      /**
       * A topic each instance serves once it is ready for traffic (serve it after the app's other
       * topics): the hub's deployment manager asks it of every new instance before routing it
       * requests. @default none: an instance is ready once connected
       */
      topic: v.optional(
        v.pipe(
          text(),
          rule((t) => topicProblem(t, 'topic')),
        ),
      ),
    }),
    // A timeout shorter than the beat would fail every healthy instance.
    rule(({ intervalMs, timeoutMs }) =>
      timeoutMs < intervalMs
        ? { path: ['timeoutMs'], message: `must be at least intervalMs (${intervalMs}), got ${timeoutMs}` }
        : undefined,
    ),
    // No `topic: undefined` key in what the manifest parses to: absent stays absent.
    v.transform(({ topic, ...rest }): { intervalMs: number; timeoutMs: number; failuresBeforeRestart: number; topic?: string } =>
      topic === undefined ? rest : { ...rest, topic },
    ),
    v.readonly(),
  ),
  () => ({ intervalMs: DEFAULT_HEALTH_INTERVAL_MS, timeoutMs: DEFAULT_HEALTH_TIMEOUT_MS, failuresBeforeRestart: DEFAULT_HEALTH_FAILURES }),
);

const resources = v.optional(
  v.pipe(
    settings({
      /** `--max-old-space-size` of each instance, in MiB. @default none: Node's own */
      maxOldSpaceMb: v.optional(integer(MIN_OLD_SPACE_MB, MAX_OLD_SPACE_MB)),
      /** Resident memory past which an instance is restarted, in MiB. @default none */
      maxRssMb: v.optional(integer(MIN_RSS_MB, MAX_RSS_MB)),
      /** CPU, in percent of one core, past which (for failuresBeforeRestart checks) an instance is restarted. @default none */
      maxCpuPercent: v.optional(integer(1, MAX_CPU_PERCENT)),
    }),
    v.readonly(),
  ),
  {},
);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Secrets travel over the supervisor's IPC channel, never in the environment a manifest (a file
// in a repository) declares and every child process inherits.
const SECRET_LIKE = /SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL/i;

/** Why `key` cannot be in a manifest's `env`, or undefined. */
export function envKeyProblem(key: string): string | undefined {
  if (!ENV_NAME.test(key)) return 'is not a variable name (letters, digits and "_", not starting with a digit)';
  if (key.toUpperCase().startsWith(RUNTIME_ENV_PREFIX)) return `is reserved: the runtime sets ${RUNTIME_ENV_PREFIX}* itself`;
  if (SECRET_LIKE.test(key))
    return 'looks like a secret: secrets never go in a manifest (the instance gets its credentials from the supervisor)';
  return undefined;
}

const env = v.optional(
  v.pipe(
    v.custom<Record<string, unknown>>(
      (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
      (issue) => `must be an object of strings by name, got ${kind(issue.input)}`,
    ),
    rule((o) => {
      const keys = Object.keys(o);
      if (keys.length > MAX_APP_ENV_VARS) return `must have at most ${MAX_APP_ENV_VARS} variables, got ${keys.length}`;
      const problems = [];
      for (const key of keys) {
        const p = envKeyProblem(key);
        const value = o[key];
        if (p !== undefined) problems.push({ path: [key], message: `${JSON.stringify(key)} ${p}` });
        else if (typeof value !== 'string') problems.push({ path: [key], message: `must be a string, got ${kind(value)}` });
        else if (value.length > MAX_APP_ENV_VALUE_LENGTH)
          problems.push({ path: [key], message: `must be at most ${MAX_APP_ENV_VALUE_LENGTH} characters, got ${value.length}` });
      }
      return problems;
    }),
    // A copy without a prototype: "__proto__" as a key must stay a key.
    v.transform((o) => Object.freeze(Object.assign(Object.create(null) as Record<string, string>, o as Record<string, string>))),
  ),
  () => Object.freeze(Object.create(null) as Record<string, string>),
);

/** The app's own configuration, handed to each instance as it is: any JSON value. */
const config = v.optional(v.unknown(), () => ({}));

export const AppManifestSchema = v.pipe(
  settings(
    {
      name,
      version,
      kind: appKind,
      entry,
      /** Instances of a node app. @default 1 */
      instances: v.optional(integer(1, MAX_APP_INSTANCES), DEFAULT_APP_INSTANCES),
      grants,
      healthCheck,
      resources,
      env,
      config,
    },
    { checkOrder: ['name', 'version', 'kind', 'entry', 'instances', 'grants', 'healthCheck', 'resources', 'env', 'config'] },
  ),
  v.readonly(),
);

export type AppManifest = v.InferOutput<typeof AppManifestSchema>;
export type AppManifestInput = v.InferInput<typeof AppManifestSchema>;
export type AppHealthCheck = AppManifest['healthCheck'];
export type AppResources = AppManifest['resources'];
