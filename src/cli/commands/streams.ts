/**
 * What `crossbus stream` (stream.ts) and `crossbus dlq` (dlq.ts) share: their io, the connection
 * flags, subcommand parsing, the client connection, paged reads and the progress bar. Both manage
 * durable streams through a client connection to the hub; main.ts passes how to connect, tests a
 * fake client. Exit codes: 0 ok, 1 the hub refused or failed (the CB_ERR_ code is printed), 2
 * usage error.
 */
import { isCrossbusError } from '../../core/errors/index.js';
import { ENVIRONMENT_HELP, URL_OPTION, credentialOptions } from '../client-flags.js';
import type { ClientFlags } from '../client-connection.js';
import {
  HELP_OPTION,
  defineOptions,
  didYouMean,
  optionsHelp,
  parseOptions,
  usageErrorText,
  type OptionSpecs,
  type OptionValues,
} from '../options.js';
import { PROGRESS_THRESHOLD, ProgressBar, progressWanted, type ProgressStream } from '../progress.js';
import type { StreamInfo, StreamRecord, StreamsClient } from './streams-api.js';
import { StreamUsageError } from './streams-format.js';

export interface StreamIo {
  /** Receives whole lines, each ending in '\n'. */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Resolves once stdout takes more output (replays can be large). @default no waiting */
  drain?: () => Promise<void>;
  /** Where the progress bar is drawn. @default stderr, as a non-terminal */
  progress?: ProgressStream;
  /** For tests: the clock of the progress bar and of dlq replay's pacing. @default Date.now */
  now?: () => number;
  /** For tests: how dlq replay waits. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** Connection flags every stream, consumer and dlq subcommand takes (the same as pub/sub/request). */
export type { ClientFlags };

/** The commands that share this subcommand parsing and client connection (streams, kv, config, deploy). */
export type StreamCommandName = 'stream' | 'consumer' | 'dlq' | 'kv' | 'config' | 'deploy';

export type OpenClient = (flags: ClientFlags) => Promise<StreamsClient>;

/** The app the stream commands authenticate as by default: managing streams is an admin's job. */
export const STREAM_CLI_APP = 'admin';
/** Messages asked for per read. */
export const READ_PAGE = 500;

/** `--progress` and `--no-progress`, which the replays take. */
export const PROGRESS_OPTIONS = defineOptions({
  progress: {
    type: 'boolean',
    description: 'always show a progress bar on stderr',
    default: `for more than ${PROGRESS_THRESHOLD} messages`,
  },
  'no-progress': { type: 'boolean', description: 'never show it' },
});

/** The flags every subcommand takes: how to connect, and -h. */
export const CONNECTION_OPTIONS = defineOptions({ ...URL_OPTION, ...credentialOptions(STREAM_CLI_APP), ...HELP_OPTION });
const CONNECTION_TITLE = `Connection (as for pub/sub/request, but the default app is ${JSON.stringify(STREAM_CLI_APP)}):`;

/** The help's options: the command's own (with -h), then how to connect. */
export function optionSections(options: OptionSpecs): string {
  const { help, ...connection } = CONNECTION_OPTIONS;
  return `${optionsHelp([
    { title: 'Options:', options: { ...options, help } },
    { title: CONNECTION_TITLE, options: connection },
  ])}\n\n${ENVIRONMENT_HELP}`;
}

/** A subcommand: how many positional arguments it takes, and which flags. */
export interface Subcommand {
  args: number;
  /** Arguments that may follow the required ones. @default 0 */
  optionalArgs?: number;
  options: OptionSpecs;
  /** The arguments as usage errors name them, when there are more than one: '<stream> <name>'. @default '<name>' or '<stream>' */
  argsUsage?: string;
}

/** A subcommand's flags as parsed (each command reads them as its own flags' values). */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

interface Parsed {
  sub: string;
  values: FlagValues;
  positionals: string[];
}

/**
 * Splits `<sub> [args] [flags]`; returns a number (the exit code) when it printed help or a
 * usage error instead.
 */
export function parseSubcommand(
  command: StreamCommandName,
  args: string[],
  subs: Record<string, Subcommand>,
  helpText: string,
  io: StreamIo,
): Parsed | number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    if (sub === undefined) return usageError(command, `${command} needs a subcommand: ${Object.keys(subs).join(', ')}`, io);
    io.stdout(`${helpText}\n`);
    return 0;
  }
  const spec = subs[sub];
  if (spec === undefined) {
    const guess = didYouMean(sub, Object.keys(subs));
    const hint = guess === undefined ? `(${Object.keys(subs).join(', ')})` : `(did you mean ${guess}?)`;
    return usageError(command, `unknown ${command} subcommand ${JSON.stringify(sub)} ${hint}`, io);
  }
  let parsed: { values: FlagValues; positionals: string[] };
  try {
    parsed = parseOptions(spec.options, rest);
  } catch (err) {
    return usageError(command, (err as Error).message, io);
  }
  if (parsed.values.help) {
    io.stdout(`${helpText}\n`);
    return 0;
  }
  const what = command === 'stream' ? '<name>' : '<stream>';
  const given = parsed.positionals.length;
  if (given < spec.args || given > spec.args + (spec.optionalArgs ?? 0)) {
    return usageError(
      command,
      spec.args === 0 && spec.optionalArgs === undefined
        ? `${command} ${sub} takes no arguments, got ${JSON.stringify(parsed.positionals[0])}`
        : spec.argsUsage !== undefined
          ? `${command} ${sub} takes ${spec.argsUsage}, got ${parsed.positionals.length} argument${parsed.positionals.length === 1 ? '' : 's'}`
          : parsed.positionals.length === 0
            ? `${command} ${sub} needs ${what}`
            : `${command} ${sub} takes one ${what}, got ${parsed.positionals.length} arguments`,
      io,
    );
  }
  if (parsed.values.progress && parsed.values['no-progress'])
    return usageError(command, '--progress and --no-progress exclude each other', io);
  return { sub, ...parsed };
}

export function usageError(command: string, message: string, io: StreamIo): number {
  io.stderr(usageErrorText(command, message));
  return 2;
}

export const progressFlag = (v: OptionValues<typeof PROGRESS_OPTIONS>): boolean | undefined =>
  v.progress ? true : v['no-progress'] ? false : undefined;

/** Connects, runs `body`, closes; turns hub refusals into exit 1 with the error code. */
export async function withClient<C extends { close(): Promise<void> } = StreamsClient>(
  command: StreamCommandName,
  values: ClientFlags,
  open: (flags: ClientFlags) => Promise<C>,
  io: StreamIo,
  body: (client: C) => Promise<number>,
): Promise<number> {
  let client: C;
  try {
    client = await open(values);
  } catch (err) {
    return failed(err, io);
  }
  try {
    return await body(client);
  } catch (err) {
    if (err instanceof StreamUsageError) return usageError(command, err.message, io);
    return failed(err, io);
  } finally {
    await client.close().catch(() => {});
  }
}

export function failed(err: unknown, io: StreamIo): number {
  if (isCrossbusError(err)) io.stderr(`crossbus: ${err.message} (${err.code})\n`);
  else io.stderr(`crossbus: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** A stream's info, or undefined when it does not exist (CB_ERR_STREAM_NOT_FOUND). */
export async function infoOrUndefined(client: StreamsClient, name: string): Promise<StreamInfo | undefined> {
  try {
    return await client.streams.info(name);
  } catch (err) {
    if (isCrossbusError(err) && err.code === 'CB_ERR_STREAM_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Reads `name` from `from` to `to` (inclusive) page by page, in order. */
export async function* pages(client: StreamsClient, name: string, from: number, to: number): AsyncGenerator<StreamRecord[]> {
  let next = from;
  while (next <= to) {
    const page = await client.streams.read(name, { fromSeq: next, maxMessages: Math.min(READ_PAGE, to - next + 1) });
    const within = page.filter((r) => r.seq >= next && r.seq <= to);
    if (within.length > 0) yield within;
    const last = page[page.length - 1];
    if (last === undefined || last.seq >= to) return;
    if (last.seq < next) throw new Error(`the hub answered a read of ${name} from seq ${next} with seq ${last.seq}`);
    next = last.seq + 1;
  }
}

/** How many messages a run over from..to will see (at most), for the progress bar. */
export function expected(info: StreamInfo, from: number, to: number): number {
  if (info.state.messages === 0 || to < from) return 0;
  return Math.min(info.state.messages, to - Math.max(from, info.state.firstSeq) + 1);
}

export function progressBar(flag: boolean | undefined, total: number, label: string, io: StreamIo): ProgressBar | undefined {
  if (!progressWanted(flag, total)) return undefined;
  return new ProgressBar({
    total,
    label,
    stream: io.progress ?? { write: (s: string) => io.stderr(s) },
    ...(io.now !== undefined ? { now: io.now } : {}),
  });
}
