/**
 * The settings service on the wire: requests the hub answers itself on `$SYS.REQ.SETTINGS.*`
 * (access-checked as any request: admins' `>` covers them, an app needs a grant per operation),
 * their payloads, and where each layer lives in the hub's `settings` bucket. Isomorphic: the hub's
 * service and the client share it.
 */
import { createError } from '../errors/index.js';
import { ENVIRONMENTS } from './environment-schema.js';
import type { SettingsChange } from './diff.js';
import type { SettingsLayer } from './settings-schema.js';

export const SETTINGS_TOPICS = {
  /** The stored layers for an environment (and project, user), secrets redacted or revealed. */
  get: '$SYS.REQ.SETTINGS.GET',
  /** Set one path of one layer. */
  set: '$SYS.REQ.SETTINGS.SET',
  /** Remove one path from one layer. */
  unset: '$SYS.REQ.SETTINGS.UNSET',
  /** Replace one layer whole (a layer file). */
  replace: '$SYS.REQ.SETTINGS.REPLACE',
  /** The versions of one layer. */
  history: '$SYS.REQ.SETTINGS.HISTORY',
  /** Make an earlier version of a layer its newest. */
  rollback: '$SYS.REQ.SETTINGS.ROLLBACK',
  /** Answered when one of the named layers changes, or after `timeoutMs`: live updates. */
  wait: '$SYS.REQ.SETTINGS.WAIT',
} as const;

/**
 * Not a request anyone sends: an app whose grants allow requests on this topic may have secrets
 * revealed (`reveal: true`); everyone else gets them redacted.
 */
export const SETTINGS_REVEAL_TOPIC = '$SYS.REQ.SETTINGS.REVEAL';

/** The bucket the hub keeps the layers in. */
export const SETTINGS_BUCKET = 'settings';

export type Environment = (typeof ENVIRONMENTS)[number];

/** One stored layer: global, or that of one environment, project or user. */
export type SettingsScope =
  | { layer: 'global' }
  | { layer: 'environment'; env: string }
  | { layer: 'project'; project: string }
  | { layer: 'user'; user: string };

/** Whose configuration to resolve: an environment, and optionally a project and a user. */
export interface SettingsTarget {
  env: string;
  project?: string;
  user?: string;
}

/** The stored layers a target resolves from, by layer. */
export type StoredLayers = Partial<Record<'global' | 'environment' | 'project' | 'user', SettingsLayer>>;

export interface GetResult {
  layers: StoredLayers;
  /** The newest revision of each layer's key (0: none stored), by key: what WAIT compares. */
  versions: Record<string, number>;
  /** Whether secrets are in clear (asked for, and allowed). */
  revealed: boolean;
}

/** One version of a layer, as HISTORY lists it. */
export interface LayerVersion {
  version: number;
  author: string;
  time: number;
  diff: SettingsChange[];
  /** Paths changed that need a restart to take effect. */
  restart: string[];
  /** `rollback to <n>`, `replaced`, `deleted`. */
  note?: string;
}

/** What the bucket holds for one version of a layer. */
export interface StoredLayerVersion {
  layer: SettingsLayer;
  author: string;
  time: number;
  diff: SettingsChange[];
  restart: string[];
  note?: string;
}

export interface WriteResult {
  version: number;
  diff: SettingsChange[];
  restart: string[];
}

/** A project or user name: letters, digits, `_` and `-` (one token of a key). */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The bucket key of a scope; CB_ERR_CONFIG_INVALID for an unknown environment or a bad name. */
export function scopeKey(scope: SettingsScope): string {
  if (typeof scope !== 'object' || scope === null) throw badScope('a scope must be an object');
  switch (scope.layer) {
    case 'global':
      return 'layer.global';
    case 'environment':
      return `layer.environment.${checkEnv(scope.env)}`;
    case 'project':
      return `layer.project.${checkName(scope.project, 'project')}`;
    case 'user':
      return `layer.user.${checkName(scope.user, 'user')}`;
    default:
      throw badScope(`layer must be global, environment, project or user, got ${JSON.stringify((scope as { layer: unknown }).layer)}`);
  }
}

/** The keys of the layers a target resolves from, by layer. */
export function targetKeys(target: SettingsTarget): Array<[keyof StoredLayers, string]> {
  if (typeof target !== 'object' || target === null) throw badScope('a target must be an object');
  const keys: Array<[keyof StoredLayers, string]> = [
    ['global', scopeKey({ layer: 'global' })],
    ['environment', scopeKey({ layer: 'environment', env: target.env })],
  ];
  if (target.project !== undefined) keys.push(['project', scopeKey({ layer: 'project', project: target.project })]);
  if (target.user !== undefined) keys.push(['user', scopeKey({ layer: 'user', user: target.user })]);
  return keys;
}

export function checkEnv(env: unknown): Environment {
  if (typeof env !== 'string' || !(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw createError('CB_ERR_CONFIG_INVALID', `unknown environment ${JSON.stringify(env)} (expected ${ENVIRONMENTS.join(', ')})`, {
      details: { path: 'env' },
    });
  }
  return env as Environment;
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw badScope(`${what} must be 1 to 64 letters, digits, "_" or "-"`, what);
  return name;
}

function badScope(message: string, path = 'layer'): Error {
  return createError('CB_ERR_CONFIG_INVALID', message, { details: { path } });
}
