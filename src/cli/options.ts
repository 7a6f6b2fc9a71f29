/**
 * The CLI's flags, declared once per command: a declaration gives node:util's parseArgs its
 * config and the command's help its options sections, so the two cannot drift apart. A default
 * shown in help is read from the DEFAULT_* constant the code itself falls back on.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from './did-you-mean.js';

export { didYouMean, editDistance } from './did-you-mean.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** A string flag that may be given more than once (`--header a=1 --header b=2`). @default false */
  multiple?: boolean;
  /** A one-letter alias: `-h` for `--help`. @default none */
  short?: string;
  /** How help shows a string option's value: `<n>` in `--port <n>`. @default '<value>' */
  placeholder?: string;
  /** What the flag does, for help (wrapped when long). */
  description: string;
  /**
   * Shown after the description as "(default …)": the DEFAULT_* constant the code falls back on
   * (or words for a default that is not a value). The code applies defaults itself; parseArgs
   * never sees this. @default none shown
   */
  default?: string | number;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What parseArgs gives for the flags of `T`: a string or a boolean each, when given. */
export type OptionValues<T extends OptionSpecs> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

/** A titled group of flags in a command's help ("Options:", "Credentials (first found wins):"). */
export interface HelpSection {
  title: string;
  options: OptionSpecs;
}

/** Keeps the literal types of a declaration (`type: 'boolean'`), for `OptionValues`. */
export function defineOptions<const T extends OptionSpecs>(specs: T): T {
  return specs;
}

/** `-h, --help`, which every command takes. */
export const HELP_OPTION = defineOptions({ help: { type: 'boolean', short: 'h', description: 'show this help' } });

/** A command line that does not fit the command: main prints it with a pointer to the help, exit 2. */
export class UsageError extends Error {}

/** A UsageError, or parseArgs refusing the flags (an unknown option, a missing value). */
export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || (err as { code?: string } | null)?.code?.startsWith('ERR_PARSE_ARGS') === true;
}

/**
 * A failure the CLI explains in its own words (exit 1): what went wrong and what to do, without
 * the API's error code when the code would not help the person at the terminal.
 */
export class CliError extends Error {}

/** Exit codes of every command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The usage error as printed on stderr: the message, then where the help is. */
export function usageErrorText(command: string | undefined, message: string): string {
  return `crossbus: ${message}\nRun 'crossbus ${command !== undefined ? `${command} ` : ''}--help' for usage.\n`;
}

/** The parseArgs config of these flags. */
export function parseArgsOptions(specs: OptionSpecs): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const option: NonNullable<ParseArgsConfig['options']>[string] = { type: spec.type };
    if (spec.short !== undefined) option.short = spec.short;
    if (spec.multiple) option.multiple = true;
    options[name] = option;
  }
  return options;
}

/** Parses `args` strictly against `specs`; refusals are UsageErrors in our words (with a "did you mean"). */
export function parseOptions<T extends OptionSpecs>(
  specs: T,
  args: string[],
  allowPositionals = true,
): { values: OptionValues<T>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: parseArgsOptions(specs), strict: true, allowPositionals });
    return { values: values as OptionValues<T>, positionals };
  } catch (err) {
    throw parseArgsProblem(err, specs);
  }
}

/** Refused because a secret on the command line shows in `ps`, shell history and audit trails. */
export const SECRET_FLAG_REFUSAL =
  '--secret is not accepted: a secret on the command line is visible to other users and in shell history; ' +
  'put it in a file and pass --secret-file <path> or set CROSSBUS_SECRET_FILE';

/** parseArgs' refusal, said as the CLI says things; never echoes a value (it may be a secret). */
function parseArgsProblem(err: unknown, specs: OptionSpecs): unknown {
  const code = (err as { code?: string } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-[^'=\s]*)/.exec(message)?.[1] ?? '?';
    if (flag === '--secret') return new UsageError(SECRET_FLAG_REFUSAL);
    const names = Object.keys(specs).map((name) => (name.length === 1 ? `-${name}` : `--${name}`));
    const guess = didYouMean(flag.replace(/^-+/, ''), names, (n) => n.replace(/^-+/, ''));
    return new UsageError(`unknown option ${flag}${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /--[A-Za-z0-9-]+/.exec(message)?.[0] ?? /'(-[A-Za-z0-9])/.exec(message)?.[1] ?? 'an option';
    return new UsageError(/does not take/.test(message) ? `${flag} takes no value` : `${flag} needs a value`);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(message)?.[1];
    return new UsageError(`unexpected argument${arg === undefined ? '' : ` ${JSON.stringify(arg)}`}: this command takes none`);
  }
  return err;
}

/** The flags of `specs` named in `names` (a subcommand takes some of its command's). */
export function pickOptions<T extends OptionSpecs, K extends keyof T>(specs: T, names: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const name of names) out[name] = specs[name];
  return out;
}

/** `--name <value>` in an integer range, or undefined when not given; a UsageError otherwise. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** Help lines stay within this width (a long description goes on under itself). */
const HELP_WIDTH = 100;
/** Descriptions start at least this far in, however short the flags. */
const MIN_DESCRIPTION_COLUMN = 21;

/** The sections of a command's help, every description in one column. */
export function optionsHelp(sections: readonly HelpSection[]): string {
  const rows = sections.map((s) => Object.entries(s.options).map(([name, spec]): Row => [flagText(name, spec), describe(spec)]));
  const column = descriptionColumn(rows.flat());
  return sections.map((s, i) => `${s.title}\n${layOut(rows[i] ?? [], column)}`).join('\n\n');
}

/** A help line's two columns; the right one as the pieces it may be wrapped between. */
type Row = readonly [string, readonly string[]];

/** Two-column help lines (`  <left>  <right>`), the right column aligned (a command list: not wrapped). */
export function helpRows(rows: ReadonlyArray<readonly [string, string]>): string {
  return layOut(
    rows.map(([left, right]): Row => [left, [right]]),
    descriptionColumn(rows),
    Infinity,
  );
}

function flagText(name: string, spec: OptionSpec): string {
  const value = spec.type === 'string' ? ` ${spec.placeholder ?? '<value>'}${spec.multiple ? ' ...' : ''}` : '';
  if (name.length === 1) return `-${name}${value}`;
  return `${spec.short !== undefined ? `-${spec.short}, ` : ''}--${name}${value}`;
}

/** The description's words, then "(default …)" in one piece: a default stays whole on one line. */
function describe(spec: OptionSpec): string[] {
  const words = spec.description.split(' ');
  return spec.default === undefined ? words : [...words, `(default ${spec.default})`];
}

function descriptionColumn(rows: ReadonlyArray<readonly [string, unknown]>): number {
  return Math.max(MIN_DESCRIPTION_COLUMN, ...rows.map(([left]) => left.length + 4));
}

function layOut(rows: readonly Row[], column: number, width = HELP_WIDTH): string {
  const indent = ' '.repeat(column);
  return rows
    .map(([left, right]) => {
      const [first = '', ...rest] = wrap(right, width - column);
      return [`  ${left}`.padEnd(column) + first, ...rest.map((l) => indent + l)].join('\n');
    })
    .join('\n');
}

/** Joins pieces with spaces into lines of at most `width` characters (a longer piece keeps its own line). */
function wrap(pieces: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of pieces) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}
