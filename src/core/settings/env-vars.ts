/**
 * The `env` and `flags` layers: settings from environment variables and command-line flags, each
 * value read by the type the schema has at its path (a number, true/false, one of an enum's
 * choices, JSON for objects, records and anything else). A variable or flag naming no setting is
 * an error, not ignored: a typo must not leave a setting at its default unnoticed.
 *
 * Variables: `CROSSBUS_SETTINGS__LIMITS__MAX_FILE_SIZE=5` sets `limits.maxFileSize` (each segment
 * in SCREAMING_SNAKE, segments joined by `__`). A record (`features`) is set whole, as JSON: its
 * keys are names of any case, which SCREAMING_SNAKE cannot spell back. Flags: `limits.maxFileSize=5`,
 * `features.beta=true`.
 */
import {
  isPlainObject,
  layerInvalid,
  nodeAt,
  setOwn,
  splitPath,
  type SettingsIssue,
  type SettingsLayer,
  type SettingsNode,
  type SettingsSchema,
} from './settings-schema.js';

/** The prefix of every settings variable. */
export const SETTINGS_ENV_PREFIX = 'CROSSBUS_SETTINGS__';

/** `maxFileSize` → `MAX_FILE_SIZE`. */
export const toScreamingSnake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

type Coerced = { value: unknown } | { problem: string };

/** A text value read as the type at its node. Problems quote the text, except a secret's. */
function coerce(node: SettingsNode, text: string): Coerced {
  const got = node.secret ? 'something else' : JSON.stringify(text);
  if (node.kind === 'leaf') {
    switch (node.type) {
      case 'string':
      case 'enum':
        // The schema checks the choice when the layer is checked.
        return { value: text };
      case 'number': {
        const n = text.trim() === '' ? Number.NaN : Number(text);
        return Number.isFinite(n) ? { value: n } : { problem: `must be a number, got ${got}` };
      }
      case 'boolean':
        if (text === 'true' || text === '1') return { value: true };
        if (text === 'false' || text === '0') return { value: false };
        return { problem: `must be true, false, 1 or 0, got ${got}` };
    }
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { problem: 'must be JSON, got text that does not parse' };
  }
}

function assign(layer: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let at = layer;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i] as string;
    if (!isPlainObject(at[key])) setOwn(at, key, {});
    at = at[key] as Record<string, unknown>;
  }
  setOwn(at, segments[segments.length - 1] as string, value);
}

/** The path a variable names (below the prefix), or undefined when it names no setting. */
function pathOfVariable(settings: SettingsSchema, rest: string): string[] | undefined {
  const path: string[] = [];
  let node: SettingsNode = settings.root;
  for (const part of rest.split('__')) {
    if (node.kind !== 'object') return undefined;
    const key = Object.keys(node.entries).find((k) => toScreamingSnake(k) === part);
    if (key === undefined) return undefined;
    path.push(key);
    node = node.entries[key] as SettingsNode;
  }
  return path;
}

export interface SettingsFromEnvOptions {
  /**
   * Variables that start with it are settings; all others are ignored.
   * @default 'CROSSBUS_SETTINGS__'
   */
  readonly prefix?: string;
}

/**
 * The `env` layer from environment variables (`process.env` in Node; any record elsewhere). The
 * layer is built, not checked: resolution checks it as `env`. Throws CB_ERR_CONFIG_INVALID with
 * `details: { layer: 'env', issues: [{ path, message }] }`, the path being the variable's name,
 * for a variable that names no setting or whose value does not read as its type.
 */
export function settingsFromEnv(
  settings: SettingsSchema,
  env: Readonly<Record<string, string | undefined>>,
  options: SettingsFromEnvOptions = {},
): SettingsLayer {
  const prefix = options.prefix ?? SETTINGS_ENV_PREFIX;
  const layer: Record<string, unknown> = {};
  const issues: SettingsIssue[] = [];
  // Sorted: the same variables give the same layer, whatever order the environment lists them in.
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (!name.startsWith(prefix) || text === undefined) continue;
    const path = pathOfVariable(settings, name.slice(prefix.length));
    const node = path === undefined ? undefined : nodeAt(settings, path);
    if (path === undefined || node === undefined) {
      issues.push({ path: name, message: 'names no setting' });
      continue;
    }
    const read = coerce(node, text);
    if ('problem' in read) issues.push({ path: name, message: `${path.join('.')} ${read.problem}` });
    else assign(layer, path, read.value);
  }
  if (issues.length > 0) throw layerInvalid('env', issues);
  return layer;
}

/**
 * The `flags` layer from `path=value` strings (`--set limits.maxFileSize=5`, repeated); a later
 * flag for the same path wins. Throws CB_ERR_CONFIG_INVALID with `details: { layer: 'flags',
 * issues }` for a flag without `=`, an unknown path or a value that does not read as its type.
 */
export function settingsFromFlags(settings: SettingsSchema, flags: readonly string[]): SettingsLayer {
  const layer: Record<string, unknown> = {};
  const issues: SettingsIssue[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] as string;
    const eq = flag.indexOf('=');
    const path = eq < 0 ? '' : flag.slice(0, eq);
    const segments = splitPath(path);
    const node = segments === undefined ? undefined : nodeAt(settings, segments);
    // Not quoted: a malformed flag may hold a secret.
    if (eq < 0) issues.push({ path: '', message: `flag ${i + 1} must be path=value` });
    else if (segments === undefined || node === undefined) issues.push({ path, message: 'is not a known setting' });
    else {
      const read = coerce(node, flag.slice(eq + 1));
      if ('problem' in read) issues.push({ path, message: read.problem });
      else assign(layer, segments, read.value);
    }
  }
  if (issues.length > 0) throw layerInvalid('flags', issues);
  return layer;
}
