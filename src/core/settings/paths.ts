/**
 * Reading and editing one setting of a layer by its dotted path. Every edit returns a new layer
 * (the objects along the path copied, the rest shared) and never touches the one it was given.
 */
import { ConfigError } from '../errors/index.js';
import { checkLayer } from './layers.js';
import {
  isPlainObject,
  nodeAt,
  setOwn,
  splitPath,
  unknownPath,
  type SettingsIssue,
  type SettingsLayer,
  type SettingsNode,
  type SettingsSchema,
} from './settings-schema.js';

/** CB_ERR_CONFIG_INVALID for a value `setSetting` refuses: `details.path` and `details.issues`. */
function settingInvalid(issues: readonly SettingsIssue[]): ConfigError {
  const first = issues[0] as SettingsIssue;
  return new ConfigError('CB_ERR_CONFIG_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('\n'), {
    details: { path: first.path, issues },
  });
}

function known(settings: SettingsSchema, path: string): { segments: string[]; node: SettingsNode } {
  const segments = splitPath(path);
  const node = segments === undefined ? undefined : nodeAt(settings, segments);
  if (segments === undefined || node === undefined) throw unknownPath(path);
  return { segments, node };
}

/** The value a layer has at `path`, or undefined. */
export function getSetting(layer: SettingsLayer, path: string): unknown {
  let at: unknown = layer;
  for (const segment of splitPath(path) ?? []) {
    if (!isPlainObject(at) || !Object.hasOwn(at, segment)) return undefined;
    at = at[segment];
  }
  return at;
}

function withValue(at: unknown, segments: readonly string[], i: number, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = isPlainObject(at) ? { ...at } : {};
  const key = segments[i] as string;
  setOwn(copy, key, i === segments.length - 1 ? value : withValue(copy[key], segments, i + 1, value));
  return copy;
}

/**
 * The layer with `value` at `path`. Throws CB_ERR_CONFIG_INVALID with `details.path` for a path
 * the schema does not know, and with the schema's message (`details.issues`) for a value it
 * refuses there; a secret's value is never quoted back.
 */
export function setSetting(settings: SettingsSchema, layer: SettingsLayer, path: string, value: unknown): SettingsLayer {
  const { segments } = known(settings, path);
  if (value === undefined) throw settingInvalid([{ path, message: 'must be a value, got undefined: unset removes a setting' }]);
  const next = withValue(layer, segments, 0, value);
  // Only the new value's issues: a layer already wrong elsewhere is for its owner to fix.
  const issues = checkLayer(settings, withValue({}, segments, 0, value));
  if (issues.length > 0) throw settingInvalid(issues);
  return next;
}

/**
 * The layer without `path` (objects it leaves empty removed too, which changes nothing: an empty
 * object sets nothing). Unsetting what the layer does not have returns an equal copy. Throws
 * CB_ERR_CONFIG_INVALID with `details.path` for a path the schema does not know.
 */
export function unsetSetting(settings: SettingsSchema, layer: SettingsLayer, path: string): SettingsLayer {
  const { segments } = known(settings, path);
  const last = segments.length - 1;
  // The same object back where nothing below changed, a copy along the path where something did.
  const without = (at: Readonly<Record<string, unknown>>, i: number): Readonly<Record<string, unknown>> => {
    const key = segments[i] as string;
    if (!Object.hasOwn(at, key)) return at;
    const child = at[key];
    if (i < last && !isPlainObject(child)) return at;
    const below = i === last ? undefined : without(child as Record<string, unknown>, i + 1);
    if (below === child) return at;
    const copy: Record<string, unknown> = { ...at };
    if (below === undefined || Object.keys(below).length === 0) delete copy[key];
    else setOwn(copy, key, below);
    return copy;
  };
  const out = without(layer, 0);
  return out === layer ? { ...layer } : out;
}
