/**
 * Resolution: the layers applied over the defaults, lowest first, and the result validated whole.
 * Each layer is checked on its own first and is never applied when it has a problem: resolution
 * fails with CB_ERR_CONFIG_INVALID naming the layer (or, on request, skips it and says so). Every
 * resolved leaf knows which layer set it; `explainSetting` shows the whole chain for one path.
 */
import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';
import { checkLayer, LAYER_NAMES, mergeLayer, type LayerName } from './layers.js';
import { redactAt } from './redact.js';
import {
  isPlainObject,
  layerInvalid,
  nodeAt,
  splitPath,
  unknownPath,
  type SettingsIssue,
  type SettingsLayer,
  type SettingsNode,
  type SettingsSchema,
} from './settings-schema.js';

/** The layers to resolve, by name; any may be missing. */
export type SettingsLayers = Partial<Readonly<Record<LayerName, unknown>>>;
/** Which layer set a value, or `default`. */
export type SettingSource = LayerName | 'default';

export interface ResolveOptions {
  /**
   * What an invalid layer does: `fail` throws CB_ERR_CONFIG_INVALID naming it; `skip` leaves it
   * out and lists it in `problems` (the other layers still apply).
   * @default 'fail'
   */
  readonly invalidLayer?: 'fail' | 'skip';
}

/** A layer left out because it has problems. */
export interface LayerProblem {
  readonly layer: LayerName;
  readonly issues: readonly SettingsIssue[];
}

export interface Resolution<T = unknown> {
  /** The configuration: every layer that passed applied over the defaults, validated. */
  readonly value: T;
  /** Each leaf's dotted path → the layer that set it, or `default`. */
  readonly sources: ReadonlyMap<string, SettingSource>;
  /** The layers skipped for their problems (only with `invalidLayer: 'skip'`). */
  readonly problems: readonly LayerProblem[];
  /** The layers applied, lowest first, for `explainSetting`. */
  readonly applied: readonly { readonly layer: LayerName; readonly value: SettingsLayer }[];
  readonly settings: SettingsSchema;
}

// Every field has its own message; valibot's fallback would quote the value.
const PARSE = { abortEarly: false, message: () => 'is invalid' } as const;

function collectLeaves(node: SettingsNode, value: unknown, path: string, out: (path: string) => void): void {
  if (value === undefined) return;
  if (node.kind === 'leaf' || !isPlainObject(value)) return out(path);
  for (const key of Object.keys(value)) {
    const child = node.kind === 'object' ? node.entries[key] : node.value;
    if (child !== undefined) collectLeaves(child, value[key], path === '' ? key : `${path}.${key}`, out);
  }
}

/**
 * Resolves a configuration from its layers (global < environment < project < user < env < flags).
 * Never mutates the layers. Throws CB_ERR_CONFIG_INVALID with `details: { layer, issues: [{ path,
 * message }] }` for the first invalid layer (unless `invalidLayer: 'skip'`), or with `layer:
 * 'merged'` when the layers are valid each but not together; CB_ERR_INVALID_OPTION for a layer
 * name that is not one of LAYER_NAMES.
 */
export function resolveSettings<T extends v.GenericSchema>(
  settings: SettingsSchema<T>,
  layers: SettingsLayers,
  options: ResolveOptions = {},
): Resolution<v.InferOutput<T>> {
  for (const name of Object.keys(layers)) {
    if (!(LAYER_NAMES as readonly string[]).includes(name))
      throw new ConfigError('CB_ERR_INVALID_OPTION', `"${name}" is not a settings layer (expected ${LAYER_NAMES.join(', ')})`, {
        details: { layer: name },
      });
  }
  const problems: LayerProblem[] = [];
  const applied: { layer: LayerName; value: SettingsLayer }[] = [];
  const sources = new Map<string, SettingSource>();
  let merged: unknown = settings.defaults;
  for (const layer of LAYER_NAMES) {
    const value = layers[layer];
    if (value === undefined) continue;
    const issues = checkLayer(settings, value);
    if (issues.length > 0) {
      if (options.invalidLayer === 'skip') {
        problems.push({ layer, issues });
        continue;
      }
      throw layerInvalid(layer, issues);
    }
    applied.push({ layer, value: value as SettingsLayer });
    merged = mergeLayer(settings.root, merged, value, (path) => sources.set(path, layer));
  }
  const result = v.safeParse(settings.schema, merged, PARSE);
  if (!result.success) {
    const issues = result.issues.map((issue) => ({
      path: (issue.path ?? []).map((item) => String(item.key)).join('.'),
      message: issue.message,
    }));
    throw layerInvalid('merged', issues);
  }
  collectLeaves(settings.root, result.output, '', (path) => {
    if (!sources.has(path)) sources.set(path, 'default');
  });
  return { value: result.output, sources, problems, applied, settings };
}

/** One layer's part in a setting's value. */
export interface ExplainStep {
  readonly layer: SettingSource;
  /** Whether this layer has a value at the path. */
  readonly set: boolean;
  /** Its value there (secrets redacted unless revealed). */
  readonly value?: unknown;
}

export interface Explanation {
  readonly path: string;
  /** The resolved value (secrets redacted unless revealed). */
  readonly value: unknown;
  /** The layer that won: the highest with a value at the path (for an object, the highest that set something in it). */
  readonly source: SettingSource;
  /** The default first, then every applied layer, lowest first. */
  readonly chain: readonly ExplainStep[];
}

export interface ExplainOptions {
  /**
   * Shows secret values as they are. Only for a caller whose role allows it.
   * @default false
   */
  readonly reveal?: boolean;
}

function valueAt(value: unknown, segments: readonly string[]): unknown {
  let at = value;
  for (const s of segments) {
    if (!isPlainObject(at) || !Object.hasOwn(at, s)) return undefined;
    at = at[s];
  }
  return at;
}

/**
 * How a setting got its value: each layer's value at `path` and the one that won. Throws
 * CB_ERR_CONFIG_INVALID with `details.path` for a path the schema does not know.
 */
export function explainSetting(resolution: Resolution, path: string, options: ExplainOptions = {}): Explanation {
  const segments = splitPath(path);
  const node = segments === undefined ? undefined : nodeAt(resolution.settings, segments);
  if (segments === undefined || node === undefined) throw unknownPath(path);
  const show = (value: unknown) => (options.reveal === true ? value : redactAt(node, value));
  const defaultValue = valueAt(resolution.settings.defaults, segments);
  const chain: ExplainStep[] = [
    defaultValue === undefined ? { layer: 'default', set: false } : { layer: 'default', set: true, value: show(defaultValue) },
  ];
  let source: SettingSource = 'default';
  for (const { layer, value } of resolution.applied) {
    const at = valueAt(value, segments);
    if (at === undefined) chain.push({ layer, set: false });
    else {
      chain.push({ layer, set: true, value: show(at) });
      source = layer;
    }
  }
  return { path, value: show(valueAt(resolution.value, segments)), source, chain };
}
