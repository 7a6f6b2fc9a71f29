/**
 * The building blocks settings schemas are declared with: valibot schemas that speak the config's
 * messages (what was expected, and the kind of what came: never a value that may be a secret), and
 * the two marks a field can carry. `defineSettings` (settings-schema.ts) reads the marks and the
 * shape back out of the schema, so that each field is declared once.
 */
import * as v from 'valibot';
import { kind, nameProblem, numberOrKind } from '../config/rules.js';

/** Marks what `defineSettings` collects: a secret, or a setting read only at start. */
export interface SettingMarks {
  /** Stored sealed (AES-256-GCM), redacted in every output. */
  readonly secret?: boolean;
  /** Not hot-applied: a change is reported as needing a restart. */
  readonly needsRestart?: boolean;
}

/** The field, marked secret: sealed at rest, redacted in logs, errors, the CLI and the API. */
/* @__NO_SIDE_EFFECTS__ */
export function secret<const TSchema extends v.GenericSchema>(schema: TSchema) {
  return v.pipe(schema, v.metadata({ secret: true } satisfies SettingMarks));
}

/** The field, marked as read only at start: a change to it is reported instead of applied live. */
/* @__NO_SIDE_EFFECTS__ */
export function needsRestart<const TSchema extends v.GenericSchema>(schema: TSchema) {
  return v.pipe(schema, v.metadata({ needsRestart: true } satisfies SettingMarks));
}

/** An object of known settings; any other key is an error at its path. */
/* @__NO_SIDE_EFFECTS__ */
export function section<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  const known = Object.keys(entries).join(', ');
  return v.strictObject(entries, (issue) =>
    issue.expected === 'never' ? `is not a known setting (expected ${known})` : `must be an object, got ${kind(issue.input)}`,
  );
}

/* @__NO_SIDE_EFFECTS__ */
export function flag() {
  return v.boolean((issue) => `must be true or false, got ${kind(issue.input)}`);
}

/* @__NO_SIDE_EFFECTS__ */
export function text(maxLength = 4096) {
  return v.pipe(
    v.string((issue) => `must be a string, got ${kind(issue.input)}`),
    v.maxLength(maxLength, `must be at most ${maxLength} characters`),
  );
}

/** An integer in [min, max]. */
/* @__NO_SIDE_EFFECTS__ */
export function whole(min: number, max: number) {
  const message = (issue: { input: unknown }) => `must be an integer from ${min} to ${max}, got ${numberOrKind(issue.input)}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
}

/** One of a fixed set of strings. */
/* @__NO_SIDE_EFFECTS__ */
export function choice<const TOptions extends readonly [string, ...string[]]>(options: TOptions) {
  return v.picklist(options, (issue) => {
    const got = typeof issue.input === 'string' ? JSON.stringify(issue.input) : kind(issue.input);
    return `must be one of ${options.join(', ')}, got ${got}`;
  });
}

function parses(url: string): boolean {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/** An http(s) URL. The value is never quoted back: a URL may carry credentials. */
/* @__NO_SIDE_EFFECTS__ */
export function httpUrl() {
  return v.pipe(
    text(2048),
    v.check((s) => /^https?:\/\//i.test(s) && parses(s), 'must be an http:// or https:// URL'),
  );
}

/** Switches by name (feature flags): names as app and role names are, values true or false. */
/* @__NO_SIDE_EFFECTS__ */
export function switches() {
  return v.record(
    v.pipe(
      v.string(),
      v.check(
        (name) => nameProblem(name) === undefined,
        (issue) => `name ${nameProblem(issue.input as string) ?? 'is invalid'}`,
      ),
    ),
    flag(),
    (issue) => `must be an object of true/false switches by name, got ${kind(issue.input)}`,
  );
}
