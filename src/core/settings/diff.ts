/**
 * What changed between two configurations (or two versions of a layer), setting by setting, with
 * secrets redacted: the diff is kept in the history and shown by the CLI. The history's storage
 * is the KV bucket's; `SettingsVersion` is the record it keeps per change.
 */
import type { LayerName } from './layers.js';
import { redactAt } from './redact.js';
import { isPlainObject, nodeAt, splitPath, type SettingsNode, type SettingsSchema } from './settings-schema.js';

/** One setting's change: added, removed, or changed from one value to another. */
export interface SettingsChange {
  /** Dotted path of the setting (an object added or removed is listed setting by setting). */
  readonly path: string;
  readonly op: 'add' | 'remove' | 'change';
  /** The value before (`remove`, `change`); secrets redacted. */
  readonly from?: unknown;
  /** The value after (`add`, `change`); secrets redacted. */
  readonly to?: unknown;
}

/** One version of a layer in its history. */
export interface SettingsVersion {
  /** Increasing per layer (the KV revision). */
  readonly version: number;
  /** Who made the change: the app's name. */
  readonly author: string;
  /** When, in milliseconds since the epoch. */
  readonly time: number;
  readonly layer: LayerName;
  /** What changed against the version before, sorted by path. */
  readonly diff: readonly SettingsChange[];
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

const childOf = (node: SettingsNode | undefined, key: string): SettingsNode | undefined =>
  node === undefined || node.kind === 'leaf' ? undefined : node.kind === 'object' ? node.entries[key] : node.value;

/**
 * The changes from `a` to `b` (configurations or layers): objects compared key by key, anything
 * else (arrays, secrets, sealed or not) compared whole; sorted by path; secrets in `from` and `to`
 * redacted. Keys the schema does not know are compared and shown as they are.
 */
export function diffSettings(a: unknown, b: unknown, settings: SettingsSchema): SettingsChange[] {
  const changes: SettingsChange[] = [];
  const walk = (x: unknown, y: unknown, path: string, node: SettingsNode | undefined): void => {
    if (isPlainObject(x) && isPlainObject(y) && node?.secret !== true) {
      for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
        const inX = Object.hasOwn(x, key) && x[key] !== undefined;
        const inY = Object.hasOwn(y, key) && y[key] !== undefined;
        const child = childOf(node, key);
        const at = path === '' ? key : `${path}.${key}`;
        if (inX && inY) walk(x[key], y[key], at, child);
        // An object added or removed is its settings added or removed, one by one.
        else if (child?.secret !== true && isPlainObject(inX ? x[key] : y[key])) walk(inX ? x[key] : {}, inY ? y[key] : {}, at, child);
        else if (inX) changes.push({ path: at, op: 'remove', from: redactAt(child, x[key]) });
        else if (inY) changes.push({ path: at, op: 'add', to: redactAt(child, y[key]) });
      }
      return;
    }
    if (!sameJson(x, y)) changes.push({ path, op: 'change', from: redactAt(node, x), to: redactAt(node, y) });
  };
  walk(a, b, '', settings.root);
  return changes.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
}

function holdsRestart(node: SettingsNode): boolean {
  if (node.needsRestart) return true;
  if (node.kind === 'object') return Object.values(node.entries).some(holdsRestart);
  return node.kind === 'record' && holdsRestart(node.value);
}

/**
 * The paths of `changes` a running process cannot apply live (fields marked `needsRestart`, or
 * objects holding one): to be reported, not hot-applied.
 */
export function restartNeeded(changes: readonly SettingsChange[], settings: SettingsSchema): string[] {
  return changes
    .filter((c) => {
      const node = nodeAt(settings, splitPath(c.path) ?? []);
      return node !== undefined && holdsRestart(node);
    })
    .map((c) => c.path);
}
