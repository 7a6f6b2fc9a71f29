/**
 * A settings schema as the layers, paths, environment variables and secrets see it: the valibot
 * schema (declared once, with `section`, `secret`, ... of fields.ts), its defaults, the paths
 * marked secret or needing a restart, and the tree of its fields, read back out of the schema by
 * `defineSettings`. The same machinery serves any schema of that shape: the environment
 * configuration of apps (environment-schema.ts) and, later, the hub's own settings.
 *
 * Paths are dotted (`limits.maxFileSize`); a key of a record is one segment (`features.beta`), which
 * is why record keys are names without dots. In the sets of marked paths, `*` stands for any key
 * of a record.
 */
import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';
import type { SettingMarks } from './fields.js';

/** How a leaf's value is written in an environment variable or a flag. */
export type LeafType = 'string' | 'number' | 'boolean' | 'enum' | 'json';

interface NodeBase {
  /** The field's schema, without its default: `undefined` is never a value here. */
  readonly schema: v.GenericSchema;
  readonly secret: boolean;
  readonly needsRestart: boolean;
}
/** An object of known settings: merged key by key. */
export interface ObjectNode extends NodeBase {
  readonly kind: 'object';
  /** By key; null prototype, so that a key like `constructor` finds nothing. */
  readonly entries: Readonly<Record<string, SettingsNode>>;
}
/** Entries by any valid name (feature switches): merged key by key. */
export interface RecordNode extends NodeBase {
  readonly kind: 'record';
  readonly key: v.GenericSchema;
  readonly value: SettingsNode;
}
/** Anything else: replaced whole by a higher layer. */
export interface LeafNode extends NodeBase {
  readonly kind: 'leaf';
  readonly type: LeafType;
  /** The choices of an `enum` leaf. */
  readonly options?: readonly string[];
}
export type SettingsNode = ObjectNode | RecordNode | LeafNode;

/** A settings schema with what the settings layer needs to know about it. */
export interface SettingsSchema<TSchema extends v.GenericSchema = v.GenericSchema> {
  readonly schema: TSchema;
  /** The value of an empty configuration: every default. */
  readonly defaults: v.InferOutput<TSchema>;
  /** Paths marked secret (`*` for any record key). */
  readonly secrets: ReadonlySet<string>;
  /** Paths marked as needing a restart. */
  readonly restart: ReadonlySet<string>;
  readonly root: ObjectNode;
}

/** A layer: part of a configuration, as written (unchecked until validated). */
export type SettingsLayer = Readonly<Record<string, unknown>>;

/** Where a problem is (a dotted path, `''` for the layer itself), and what it is. */
export interface SettingsIssue {
  readonly path: string;
  readonly message: string;
}

type Wrapped = v.GenericSchema & { wrapped?: v.GenericSchema; entries?: v.ObjectEntries; key?: v.GenericSchema; value?: v.GenericSchema };

function marksOf(schema: v.GenericSchema): SettingMarks {
  return v.getMetadata(schema as Parameters<typeof v.getMetadata>[0]) as SettingMarks;
}

function leafType(schema: Wrapped): Omit<LeafNode, keyof NodeBase> {
  switch (schema.type) {
    case 'string':
      return { kind: 'leaf', type: 'string' };
    case 'number':
      return { kind: 'leaf', type: 'number' };
    case 'boolean':
      return { kind: 'leaf', type: 'boolean' };
    case 'picklist':
      return { kind: 'leaf', type: 'enum', options: (schema as unknown as { options: readonly string[] }).options };
    default:
      return { kind: 'leaf', type: 'json' };
  }
}

function nodeOf(
  field: v.GenericSchema,
  path: string,
  marked: { secrets: Set<string>; restart: Set<string> },
  inherited: SettingMarks,
): SettingsNode {
  let schema = field as Wrapped;
  let marks: SettingMarks = { ...inherited, ...marksOf(schema) };
  // Optional (with its default) outside, the field's own schema inside; marks may sit on either.
  while (schema.type === 'optional' || schema.type === 'exact_optional') {
    schema = schema.wrapped as Wrapped;
    marks = { ...marks, ...marksOf(schema) };
  }
  const secret = marks.secret === true;
  const needsRestart = marks.needsRestart === true;
  if (secret && !inherited.secret) marked.secrets.add(path);
  if (needsRestart && !inherited.needsRestart) marked.restart.add(path);
  const base = { schema, secret, needsRestart };
  const below = { secret, needsRestart };
  if (schema.type === 'strict_object') {
    const entries: Record<string, SettingsNode> = Object.create(null);
    for (const [key, entry] of Object.entries(schema.entries as v.ObjectEntries)) {
      entries[key] = nodeOf(entry, path === '' ? key : `${path}.${key}`, marked, below);
    }
    return { ...base, kind: 'object', entries };
  }
  if (schema.type === 'record') {
    return {
      ...base,
      kind: 'record',
      key: schema.key as v.GenericSchema,
      value: nodeOf(schema.value as v.GenericSchema, `${path}.*`, marked, below),
    };
  }
  return { ...base, ...leafType(schema) };
}

/**
 * Reads a settings schema (a strict object, declared with fields.ts) into the table the settings
 * layer works from. Throws CB_ERR_INVALID_OPTION when the schema is not an object of settings or
 * its defaults do not validate.
 */
export function defineSettings<const TSchema extends v.GenericSchema>(schema: TSchema): SettingsSchema<TSchema> {
  const marked = { secrets: new Set<string>(), restart: new Set<string>() };
  const root = nodeOf(schema, '', marked, {});
  if (root.kind !== 'object') throw new ConfigError('CB_ERR_INVALID_OPTION', 'a settings schema must be an object of settings (section())');
  const parsed = v.safeParse(schema, {});
  if (!parsed.success) throw new ConfigError('CB_ERR_INVALID_OPTION', 'a settings schema needs a default for every required setting');
  return Object.freeze({ schema, defaults: parsed.output, secrets: marked.secrets, restart: marked.restart, root });
}

/** `limits.maxFileSize` → `['limits', 'maxFileSize']`; undefined for an empty path or segment. */
export function splitPath(path: string): string[] | undefined {
  if (typeof path !== 'string' || path === '') return undefined;
  const segments = path.split('.');
  return segments.includes('') ? undefined : segments;
}

/** The node at a path (record keys checked by the record's key schema), or undefined. */
export function nodeAt(settings: SettingsSchema, segments: readonly string[]): SettingsNode | undefined {
  let node: SettingsNode = settings.root;
  for (const segment of segments) {
    if (node.kind === 'object') {
      const next: SettingsNode | undefined = node.entries[segment];
      if (next === undefined) return undefined;
      node = next;
    } else if (node.kind === 'record') {
      if (!v.is(node.key, segment)) return undefined;
      node = node.value;
    } else return undefined;
  }
  return node;
}

/** Whether the value at a path is secret, or holds one below it. */
export function holdsSecret(node: SettingsNode): boolean {
  if (node.secret) return true;
  if (node.kind === 'object') return Object.values(node.entries).some(holdsSecret);
  if (node.kind === 'record') return holdsSecret(node.value);
  return false;
}

/** The error of an invalid layer: `details` carry the layer and every issue at its path. */
export function layerInvalid(layer: string, issues: readonly SettingsIssue[]): ConfigError {
  const first = issues[0] as SettingsIssue;
  const where = (i: SettingsIssue) => (i.path === '' ? '(layer)' : i.path);
  const message =
    issues.length === 1
      ? `settings layer "${layer}": ${where(first)}: ${first.message}`
      : `settings layer "${layer}": ${issues.length} problems:\n${issues.map((i) => `  ${where(i)}: ${i.message}`).join('\n')}`;
  return new ConfigError('CB_ERR_CONFIG_INVALID', message, { details: { layer, path: first.path, issues } });
}

/** The error of a path the schema does not know. */
export function unknownPath(path: string): ConfigError {
  return new ConfigError('CB_ERR_CONFIG_INVALID', `${JSON.stringify(path)} is not a known setting`, { details: { path } });
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** `target[key] = value` as an own property, even for `__proto__` (which `=` would take as the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
