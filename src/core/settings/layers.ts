/**
 * Layers: the parts a configuration is resolved from, lowest first, and the check each passes on
 * its own before it may be applied. A layer is partial (any setting may be left out) but never
 * wrong: each value it has must have the right type at a known path, and an unknown key is an
 * error at its path. `undefined` counts as absent; `null` is a value like any other, which no
 * setting accepts: a layer removes a setting by leaving its key out (`unsetSetting`), never with null.
 */
import * as v from 'valibot';
import { kind } from '../config/rules.js';
import { isPlainObject, type SettingsIssue, type SettingsNode, type SettingsSchema } from './settings-schema.js';

/** The layers, lowest precedence first: seed 002 §4.2's four, then environment variables and command-line flags. */
export const LAYER_NAMES = Object.freeze(['global', 'environment', 'project', 'user', 'env', 'flags'] as const);
export type LayerName = (typeof LAYER_NAMES)[number];

/** A sealed secret as stored: see secrets.ts. */
export interface SealedValue {
  readonly $sealed: string;
}

export const isSealed = (value: unknown): value is SealedValue =>
  isPlainObject(value) && typeof value.$sealed === 'string' && Object.keys(value).length === 1;

// Valibot's fallback message quotes the value (maybe a secret): every field has its own message instead.
const CHECK = { abortEarly: false, message: () => 'is invalid' } as const;

export interface CheckLayerOptions {
  /**
   * Whether a sealed value (`{ $sealed }`) is accepted where a secret goes, so that a stored
   * layer can be checked without its key.
   * @default false
   */
  readonly allowSealed?: boolean;
}

const join = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`);

function checkNode(node: SettingsNode, value: unknown, path: string, issues: SettingsIssue[], options: CheckLayerOptions): void {
  if (node.secret && isSealed(value)) {
    if (options.allowSealed !== true) issues.push({ path, message: 'is sealed: open the layer (openSecrets) before resolving it' });
    return;
  }
  if (node.kind === 'leaf') {
    const result = v.safeParse(node.schema, value, CHECK);
    if (result.success) return;
    for (const issue of result.issues) {
      let at = path;
      for (const item of issue.path ?? []) at = join(at, item.key as string | number);
      // A secret's own schema may quote what it got; here only its kind is said.
      issues.push({ path: at, message: node.secret ? `is invalid, got ${kind(value)}` : issue.message });
    }
    return;
  }
  if (!isPlainObject(value)) {
    issues.push({ path, message: `must be an object, got ${kind(value)}` });
    return;
  }
  for (const key of Object.keys(value)) {
    const child = value[key];
    if (child === undefined) continue;
    const at = join(path, key);
    if (node.kind === 'object') {
      const entry = node.entries[key];
      if (entry === undefined)
        issues.push({ path: at, message: `is not a known setting (expected ${Object.keys(node.entries).join(', ')})` });
      else checkNode(entry, child, at, issues, options);
    } else {
      const keyCheck = v.safeParse(node.key, key, CHECK);
      if (!keyCheck.success) issues.push({ path: at, message: keyCheck.issues[0].message });
      else checkNode(node.value, child, at, issues, options);
    }
  }
}

/** Every problem of a layer, each at its dotted path (`''`: the layer itself); empty when it may be applied. */
export function checkLayer(settings: SettingsSchema, layer: unknown, options: CheckLayerOptions = {}): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  checkNode(settings.root, layer, '', issues, options);
  return issues;
}

/** Applies `layer` over `base` (both checked): a new object; objects and records merged key by key, anything else replaced. */
export function mergeLayer(node: SettingsNode, base: unknown, layer: unknown, onLeaf?: (path: string) => void, path = ''): unknown {
  if (node.kind === 'leaf' || !isPlainObject(layer)) {
    onLeaf?.(path);
    return layer;
  }
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const key of Object.keys(layer)) {
    const value = layer[key];
    if (value === undefined || key === '__proto__') continue;
    const child = node.kind === 'object' ? node.entries[key] : node.value;
    // Checked layers have no unknown keys (nor "__proto__", skipped above): this skip is only defensive.
    if (child === undefined) continue;
    out[key] = mergeLayer(child, out[key], value, onLeaf, join(path, key));
  }
  return out;
}
