/**
 * The building blocks the hub config schema is declared with: valibot schemas and actions that
 * speak the config's own messages. Every message says what was expected and what came instead:
 * its kind (`got a number`), or the value itself where it is a name, a pattern or an origin, never
 * where it may be a secret (error text ends up in logs). An issue raised below the value a rule
 * checks (a duplicate at an index, an unknown key) carries its path, so that `parseHubConfig` can
 * name the exact JSON path.
 *
 * Settings are checked in the order a reader fixes them: the value's type, then rules about which
 * keys go together, then each field, then unknown keys, then rules across fields. Every problem is
 * reported, except those a problem before them would make noise of: when a value has the wrong
 * type or its keys do not go together, its fields are not checked; rules across fields run only
 * when every field is valid.
 *
 * The factories are marked like valibot's own (`@__NO_SIDE_EFFECTS__`), so that a bundler that
 * honours the mark across modules drops schemas nobody uses. esbuild honours it only within a
 * module: code that needs a constant of the config without the schema imports defaults.ts.
 */
import * as v from 'valibot';

/*
 * Hints for the generator of docs/hub-config.schema.json (scripts/hub-config-schema.ts), as plain
 * properties of schema objects where valibot's converter cannot see the shape: `jsonSchema` on a
 * custom check, `namedEntry` on entries by name, `anyOfSchemas` on a lazy choice.
 */

/** What a value is, for "got ..." in messages. */
export function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A number as written (NaN and Infinity included); anything else by its kind. */
export const numberOrKind = (value: unknown): string => (typeof value === 'number' ? String(value) : kind(value));

/** A string quoted; anything else by its kind. */
export const stringOrKind = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : kind(value));

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A path below the checked value, for an issue a rule raises there: keys and array indexes. */
function pathTo(...keys: [string | number, ...(string | number)[]]): [v.IssuePathItem, ...v.IssuePathItem[]] {
  const [first, ...rest] = keys.map(
    (key): v.IssuePathItem => ({ type: 'unknown', origin: 'value', input: undefined, key, value: undefined }),
  );
  return [first as v.IssuePathItem, ...rest];
}

/** Where a problem is, below the checked value (`[]`: the value itself), and what it is. */
export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** A check that names its problems, if any, with each issue's path. Runs only on a well-typed value. */
/* @__NO_SIDE_EFFECTS__ */
export function rule<T>(problem: (value: T) => Problem | readonly Problem[] | string | undefined) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const found = problem(dataset.value);
    if (found === undefined) return;
    for (const p of typeof found === 'string' || !Array.isArray(found) ? [found as Problem | string] : (found as readonly Problem[])) {
      if (typeof p === 'string') addIssue({ message: p });
      else addIssue(p.path.length === 0 ? { message: p.message } : { message: p.message, path: pathTo(...(p.path as [string | number])) });
    }
  });
}

/* @__NO_SIDE_EFFECTS__ */
export function text() {
  return v.string((issue) => `must be a string, got ${kind(issue.input)}`);
}

/* @__NO_SIDE_EFFECTS__ */
export function list<const TItem extends v.GenericSchema>(item: TItem) {
  return v.array(item, (issue) => `must be an array, got ${kind(issue.input)}`);
}

/** Absent means the default (`v.optional`); present-but-null is an error, so no setting can be switched off by accident. */
/* @__NO_SIDE_EFFECTS__ */
export function integer(min: number, max: number) {
  return Object.assign(
    v.custom<number>(
      (x) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max,
      (issue) => `must be an integer from ${min} to ${max}, got ${numberOrKind(issue.input)}`,
    ),
    { jsonSchema: { type: 'integer', minimum: min, maximum: max } },
  );
}

/** Refuses the second item with the same key, at its index (and at `field` of that item, when given). */
/* @__NO_SIDE_EFFECTS__ */
export function distinct<TItems extends readonly unknown[]>(
  keyOf: (item: TItems[number]) => string,
  message: (key: string) => string,
  field?: string,
) {
  return rule<TItems>((items) => {
    const seen = new Set<string>();
    const problems: Problem[] = [];
    for (let i = 0; i < items.length; i++) {
      const key = keyOf(items[i]);
      if (seen.has(key)) problems.push({ path: field === undefined ? [i] : [i, field], message: message(key) });
      seen.add(key);
    }
    return problems;
  });
}

/** The list without repeats, first occurrence kept (a new array: the input is never touched). */
export const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
// Names become object keys downstream (serialized files, logs); these three are JavaScript traps.
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `name` cannot name an app, a role or a key, or undefined. */
export function nameProblem(name: string): string | undefined {
  if (!NAME.test(name)) return 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"';
  if (RESERVED.has(name)) return 'is reserved';
  return undefined;
}

/** A rule about which keys of an object go together, checked before its fields. */
export type ShapeRule = (o: Readonly<Record<string, unknown>>) => Problem | undefined;

export interface SettingsOptions<TKey extends string> {
  /** Which keys go together (both, neither, one of), checked before any field. */
  readonly shape?: ShapeRule;
  /**
   * The order fields are checked in, when it is not their declaration order (the order messages
   * list them in): it decides which problem a document with several is reported for.
   */
  readonly checkOrder?: readonly TKey[];
}

/**
 * An object of known settings: anything else is refused by name (in a security configuration a
 * typo must fail loudly, never fall back to a weaker default). Fields are declared with their
 * own schema; `v.optional(schema, default)` for those that may be left out.
 */
/* @__NO_SIDE_EFFECTS__ */
export function settings<const TEntries extends v.ObjectEntries>(
  entries: TEntries,
  options: SettingsOptions<keyof TEntries & string> = {},
) {
  const known = Object.keys(entries);
  const { shape, checkOrder } = options;
  const order = checkOrder ?? known;
  // Loose: unknown keys pass through it, so that the check after it can name every one of them.
  // Typed as a plain object: unknown keys are refused below, and must not widen the config's types.
  const fields = v.looseObject(
    Object.fromEntries(order.map((key) => [key, entries[key]])) as unknown as TEntries,
  ) as unknown as v.ObjectSchema<TEntries, undefined>;
  type Fields = v.InferOutput<typeof fields>;
  return v.pipe(
    v.custom<v.InferInput<typeof fields>>(isRecord, (issue) => `must be an object, got ${kind(issue.input)}`),
    rule((o) => shape?.(o as Record<string, unknown>)),
    // Every field present, an absent one as undefined, so that each field's own schema decides
    // (a default, or "must be ..., got a undefined"). A copy: the caller's object is never touched.
    v.transform((o) => {
      const copy: Record<string, unknown> = Object.fromEntries(order.map((key) => [key, (o as Record<string, unknown>)[key]]));
      for (const key of Object.keys(o)) if (!known.includes(key)) copy[key] = undefined;
      return copy as typeof o;
    }),
    fields,
    // Runs after field problems too (a check, not a schema), on the keys alone.
    v.rawCheck(({ dataset, addIssue }) => {
      if (!isRecord(dataset.value)) return;
      for (const key of Object.keys(dataset.value)) {
        if (!known.includes(key)) addIssue({ message: `is not a known setting (expected ${known.join(', ')})`, path: pathTo(key) });
      }
    }),
    // Back in declaration order, without the unknown keys (there are none when this runs).
    v.transform((o) => Object.fromEntries(known.map((key) => [key, (o as Record<string, unknown>)[key]])) as Fields),
  );
}

/**
 * Entries by name (apps, roles): any key, but every name must be valid. A Map, not an object: an
 * app called "constructor" must not find Object.prototype.constructor. Each entry carries its
 * name. Every bad name and every problem of every entry is reported, each at its path.
 */
/* @__NO_SIDE_EFFECTS__ */
export function named<const TEntry extends v.GenericSchema>(what: string, entry: TEntry) {
  type Named = Readonly<{ name: string } & v.InferOutput<TEntry>>;
  return v.pipe(
    // The entry schema rides on the first item, where the JSON Schema generator looks.
    Object.assign(
      v.custom<Record<string, v.InferInput<TEntry>>>(
        isRecord,
        (issue) => `must be an object of ${what}s by name, got ${kind(issue.input)}`,
      ),
      { namedEntry: entry },
    ),
    // By hand rather than v.record, which skips "__proto__" and "constructor" silently: here they
    // must be refused by name.
    v.rawTransform(({ dataset, config, addIssue, NEVER }) => {
      const out = new Map<string, Named>();
      for (const [name, value] of Object.entries(dataset.value)) {
        const problem = nameProblem(name);
        if (problem !== undefined) {
          addIssue({ message: `${what} name ${problem}`, path: pathTo(name) });
          continue;
        }
        const parsed = entry['~run']({ value }, config as v.Config<v.BaseIssue<unknown>>);
        for (const issue of parsed.issues ?? []) addIssue({ message: issue.message, path: [...pathTo(name), ...(issue.path ?? [])] });
        if (parsed.issues === undefined) out.set(name, { name, ...(parsed.value as object) } as Named);
      }
      return dataset.issues === undefined ? (out as ReadonlyMap<string, Named>) : NEVER;
    }),
  );
}
