/**
 * `crossbus stream ls|info|replay|purge` and `crossbus dlq ls|replay <stream>`: manage durable
 * streams and their dead letters through a client connection to the hub. main.ts routes here and
 * passes how to connect; tests pass a fake client. Exit codes: 0 ok, 1 the hub refused or failed
 * (the CB_ERR_ code is printed), 2 usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isCrossbusError } from '../../core/errors/index.js';
import { DEFAULT_DATA_DIR } from '../../node/paths.js';
import { ProgressBar, progressWanted, type ProgressStream } from '../progress.js';
import { DeadLetterReplay } from '../dlq-replay.js';
import type { StreamInfo, StreamRecord, StreamsClient } from './streams-api.js';
import {
  StreamUsageError, deadLettersJson, dlqName, formatDeadLetters, formatStreamInfo, formatStreamList,
  parseSeqFlag, parseSince, printable, recordLine, streamInfoJson,
} from './streams-format.js';

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

/** Connection flags every stream and dlq subcommand takes (the same as pub/sub/request). */
export interface ClientFlags {
  url?: string | undefined;
  name?: string | undefined;
  secret?: string | undefined;
  config?: string | undefined;
  data?: string | undefined;
  insecure?: boolean | undefined;
}

export type OpenClient = (flags: ClientFlags) => Promise<StreamsClient>;

/** The app the stream commands authenticate as by default: managing streams is an admin's job. */
export const STREAM_CLI_APP = 'admin';
/** Messages asked for per read. */
export const READ_PAGE = 500;
export { MAX_RATE_LIMITED_RETRIES, REPLAY_WINDOW } from '../dlq-replay.js';
/**
 * Dead letters republished per second by default: half a default app's rate limit (1000/s). Going
 * over an app's limit is refused and counts as abuse (slowed, then disconnected), so the replay
 * paces itself; --rate changes it, --rate 0 turns pacing off.
 */
export const DEFAULT_REPLAY_RATE = 500;

const CONNECTION_HELP = `Connection (as for pub/sub/request, but the default app is "${STREAM_CLI_APP}"):
  --url <ws://...>     the hub (default ws://127.0.0.1:7070)
  --name <app>         the app to authenticate as (default "${STREAM_CLI_APP}", or CROSSBUS_NAME)
  --secret <base64>    its secret (or CROSSBUS_SECRET); else its newest key from
  --config <file>      a hub config file (default ${DEFAULT_DATA_DIR}/crossbus.config.json; --data <dir> to change)
  --insecure           no credentials (only a hub started with --insecure accepts that)`;

export const STREAM_HELP = `Usage:
  crossbus stream ls [--json]                      list the streams (dead-letter streams are '<NAME>.DLQ')
  crossbus stream info <name> [--json]             a stream's config, state, consumers and dead letters
  crossbus stream replay <name> [--from-seq N | --since <time>] [--to-seq N]
                                                   print the stored messages as JSON lines
  crossbus stream purge <name> [--up-to-seq N] --yes
                                                   delete stored messages (all, or seq <= N)

Options:
  --json               print JSON (ls: the StreamInfo array; info: the StreamInfo plus "deadLetters")
  --from-seq <n>       replay from this sequence (default the first stored)
  --since <time>       replay from the first message stored at or after this ISO time or ms epoch
  --to-seq <n>         replay up to this sequence (default the last one when the replay starts)
  --up-to-seq <n>      purge messages with seq <= n only
  --yes                confirm a purge (required)
  --progress           always show a progress bar on stderr (default: for more than 1000 messages)
  --no-progress        never show it
  -h, --help           show this help

replay prints one line per message: {"seq","time","topic","headers","data"}; binary data is
base64 text and the line has "encoding":"base64".

${CONNECTION_HELP}`;

export const DLQ_HELP = `Usage:
  crossbus dlq ls <stream> [--json]                list the dead letters of a stream
  crossbus dlq replay <stream> [--from-seq N] [--rate ${DEFAULT_REPLAY_RATE}]
                                                   republish them to their topics, then purge them

A message becomes a dead letter when a consumer terminates it or it reaches maxDeliver; it keeps
its topic, headers and data in the stream '<stream>.DLQ'. replay publishes each one durably to its
original topic (without the cb-dlq-* headers), with msgId 'dlq-<stream>-<dlq seq>' so that a rerun
stores no duplicates within the stream's duplicate window, waits for the hub's acks, and purges
the dead letters it replayed. Dead letters added while it runs stay for the next run.
It publishes at most --rate messages a second: over the app's rate limit the hub refuses them
and counts that as abuse. When it is refused anyway it waits, slows down, and sends them again.

Options:
  --json               print the dead letters as JSON (ls)
  --from-seq <n>       replay from this dead-letter sequence; earlier ones stay and nothing is purged
  --rate <n>           dead letters published per second at most (default ${DEFAULT_REPLAY_RATE}); 0 = unpaced, which
                       on a rate-limited hub can get the app disconnected (CB_ERR_ABUSIVE)
  --progress           always show a progress bar on stderr (default: for more than 1000 messages)
  --no-progress        never show it
  -h, --help           show this help

${CONNECTION_HELP}`;

const CLIENT_OPTIONS = {
  url: { type: 'string' }, name: { type: 'string' }, secret: { type: 'string' }, config: { type: 'string' },
  data: { type: 'string' }, insecure: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;
const PROGRESS_OPTIONS = { progress: { type: 'boolean' }, 'no-progress': { type: 'boolean' } } as const;

const STREAM_SUBS = {
  ls: { args: 0, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } } },
  info: { args: 1, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } } },
  replay: { args: 1, options: { ...CLIENT_OPTIONS, ...PROGRESS_OPTIONS, 'from-seq': { type: 'string' }, since: { type: 'string' }, 'to-seq': { type: 'string' } } },
  purge: { args: 1, options: { ...CLIENT_OPTIONS, 'up-to-seq': { type: 'string' }, yes: { type: 'boolean' } } },
} as const;

const DLQ_SUBS = {
  ls: { args: 1, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } } },
  replay: { args: 1, options: { ...CLIENT_OPTIONS, ...PROGRESS_OPTIONS, 'from-seq': { type: 'string' }, rate: { type: 'string' } } },
} as const;

/** Everything a subcommand's flags may hold (each subcommand accepts only its own). */
interface Values extends ClientFlags {
  help?: boolean;
  json?: boolean;
  progress?: boolean;
  'no-progress'?: boolean;
  'from-seq'?: string;
  'to-seq'?: string;
  'up-to-seq'?: string;
  since?: string;
  yes?: boolean;
  rate?: string;
}

interface Parsed {
  sub: string;
  values: Values;
  positionals: string[];
}

type Subs = Record<string, { args: number; options: NonNullable<ParseArgsConfig['options']> }>;

/**
 * Splits `<sub> [args] [flags]`; returns a number (the exit code) when it printed help or a
 * usage error instead.
 */
function parse(command: 'stream' | 'dlq', args: string[], subs: Subs, helpText: string, io: StreamIo): Parsed | number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    if (sub === undefined) return usageError(command, `${command} needs a subcommand: ${Object.keys(subs).join(', ')}`, io);
    io.stdout(`${helpText}\n`);
    return 0;
  }
  const spec = subs[sub];
  if (spec === undefined) return usageError(command, `unknown ${command} subcommand ${JSON.stringify(sub)} (${Object.keys(subs).join(', ')})`, io);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: spec.options, strict: true, allowPositionals: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    return usageError(command, (err as Error).message, io);
  }
  if (parsed.values.help) {
    io.stdout(`${helpText}\n`);
    return 0;
  }
  const what = command === 'dlq' ? '<stream>' : '<name>';
  if (parsed.positionals.length !== spec.args) {
    return usageError(command, spec.args === 0
      ? `${command} ${sub} takes no arguments, got ${JSON.stringify(parsed.positionals[0])}`
      : parsed.positionals.length === 0 ? `${command} ${sub} needs ${what}` : `${command} ${sub} takes one ${what}, got ${parsed.positionals.length} arguments`, io);
  }
  if (parsed.values.progress && parsed.values['no-progress']) return usageError(command, '--progress and --no-progress exclude each other', io);
  return { sub, ...parsed };
}

function usageError(command: string, message: string, io: StreamIo): number {
  io.stderr(`crossbus: ${message}\nRun 'crossbus ${command} --help' for usage.\n`);
  return 2;
}

const progressFlag = (v: Values): boolean | undefined => (v.progress ? true : v['no-progress'] ? false : undefined);

/** Connects, runs `body`, closes; turns hub refusals into exit 1 with the error code. */
async function withClient(command: 'stream' | 'dlq', values: Values, open: OpenClient, io: StreamIo, body: (client: StreamsClient) => Promise<number>): Promise<number> {
  let client: StreamsClient;
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

function failed(err: unknown, io: StreamIo): number {
  if (isCrossbusError(err)) io.stderr(`crossbus: ${err.message} (${err.code})\n`);
  else io.stderr(`crossbus: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

// ------------------------------------------------------------------------------ crossbus stream

export async function streamCommand(args: string[], io: StreamIo, open: OpenClient): Promise<number> {
  const p = parse('stream', args, STREAM_SUBS as unknown as Subs, STREAM_HELP, io);
  if (typeof p === 'number') return p;
  const { sub, values } = p;
  const name = p.positionals[0] as string;
  // Flags are checked before connecting: a typo costs no round trip.
  let range: { fromSeq?: number; toSeq?: number; since?: number } = {};
  let upToSeq: number | undefined;
  try {
    if (sub === 'replay') {
      range = { fromSeq: parseSeqFlag('from-seq', values['from-seq']), toSeq: parseSeqFlag('to-seq', values['to-seq']), since: parseSince(values.since) };
      if (range.fromSeq !== undefined && range.since !== undefined) throw new StreamUsageError('give --from-seq or --since, not both');
      if (range.fromSeq !== undefined && range.toSeq !== undefined && range.toSeq < range.fromSeq) throw new StreamUsageError('--to-seq is before --from-seq');
    }
    if (sub === 'purge') {
      upToSeq = parseSeqFlag('up-to-seq', values['up-to-seq']);
      if (!values.yes) {
        throw new StreamUsageError(`refusing to purge ${JSON.stringify(name)} without --yes: it deletes ${upToSeq === undefined ? 'every stored message' : `every message with seq <= ${upToSeq}`}, for every consumer`);
      }
    }
  } catch (err) {
    return usageError('stream', (err as Error).message, io);
  }
  return withClient('stream', values, open, io, async (client) => {
    switch (sub) {
      case 'ls': {
        const infos = await client.streams.list();
        io.stdout(values.json ? `${JSON.stringify(infos, null, 2)}\n` : formatStreamList(infos));
        return 0;
      }
      case 'info': {
        const info = await client.streams.info(name);
        const dead = info.deadLetterOf === undefined ? await infoOrUndefined(client, dlqName(name)) : undefined;
        io.stdout(values.json ? streamInfoJson(info, dead) : formatStreamInfo(info, dead));
        return 0;
      }
      case 'replay':
        return replayStream(client, name, range, progressFlag(values), io);
      default: {
        const r = await client.streams.purge(name, upToSeq === undefined ? {} : { upToSeq });
        io.stdout(`purged ${r.purged} message${r.purged === 1 ? '' : 's'} from ${printable(name)}\n`);
        return 0;
      }
    }
  });
}

/** A stream's info, or undefined when it does not exist (CB_ERR_STREAM_NOT_FOUND). */
async function infoOrUndefined(client: StreamsClient, name: string): Promise<StreamInfo | undefined> {
  try {
    return await client.streams.info(name);
  } catch (err) {
    if (isCrossbusError(err) && err.code === 'CB_ERR_STREAM_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * The first sequence at or after `from` whose message was stored at or after `since`, found by
 * bisecting single-message reads (store times grow with the sequence); lastSeq + 1 when none.
 */
export async function seqAtTime(client: StreamsClient, name: string, since: number, from: number, lastSeq: number): Promise<number> {
  let lo = from;
  let hi = lastSeq + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const [r] = await client.streams.read(name, { fromSeq: mid, maxMessages: 1 });
    if (r === undefined || r.seq >= hi) hi = mid; // nothing stored in mid..hi-1
    else if (r.time >= since) hi = mid; // the answer is r.seq or earlier, and mid..r.seq-1 are gone
    else lo = r.seq + 1;
  }
  return lo;
}

/** Reads `name` from `from` to `to` (inclusive) page by page, in order. */
async function* pages(client: StreamsClient, name: string, from: number, to: number): AsyncGenerator<StreamRecord[]> {
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
function expected(info: StreamInfo, from: number, to: number): number {
  if (info.state.messages === 0 || to < from) return 0;
  return Math.min(info.state.messages, to - Math.max(from, info.state.firstSeq) + 1);
}

function progressBar(flag: boolean | undefined, total: number, label: string, io: StreamIo): ProgressBar | undefined {
  if (!progressWanted(flag, total)) return undefined;
  return new ProgressBar({ total, label, stream: io.progress ?? { write: (s: string) => io.stderr(s) }, ...(io.now !== undefined ? { now: io.now } : {}) });
}

async function replayStream(client: StreamsClient, name: string, range: { fromSeq?: number; toSeq?: number; since?: number }, flag: boolean | undefined, io: StreamIo): Promise<number> {
  const info = await client.streams.info(name);
  const { firstSeq, lastSeq } = info.state;
  // Up to the last message stored when the replay starts: publishers may be adding more.
  const to = Math.min(range.toSeq ?? lastSeq, lastSeq);
  let from = Math.max(range.fromSeq ?? firstSeq, firstSeq);
  if (range.since !== undefined && info.state.messages > 0) from = await seqAtTime(client, name, range.since, from, lastSeq);
  const bar = progressBar(flag, expected(info, from, to), `replay ${printable(name)}`, io);
  let count = 0;
  try {
    for await (const page of pages(client, name, from, to)) {
      io.stdout(page.map(recordLine).join(''));
      count += page.length;
      bar?.update(count);
      await io.drain?.();
    }
  } finally {
    bar?.finish(true);
  }
  return 0;
}

// ------------------------------------------------------------------------------ crossbus dlq

export async function dlqCommand(args: string[], io: StreamIo, open: OpenClient): Promise<number> {
  const p = parse('dlq', args, DLQ_SUBS as unknown as Subs, DLQ_HELP, io);
  if (typeof p === 'number') return p;
  const { sub, values } = p;
  // 'ORDERS.DLQ' is taken for 'ORDERS'.
  const stream = (p.positionals[0] as string).replace(/\.DLQ$/, '');
  let fromSeq: number | undefined;
  let rate = DEFAULT_REPLAY_RATE;
  try {
    fromSeq = parseSeqFlag('from-seq', values['from-seq']);
    rate = parseSeqFlag('rate', values.rate, 0) ?? DEFAULT_REPLAY_RATE;
  } catch (err) {
    return usageError('dlq', (err as Error).message, io);
  }
  return withClient('dlq', values, open, io, async (client) => {
    // An unknown stream is an error (CB_ERR_STREAM_NOT_FOUND); a stream without dead letters is not.
    await client.streams.info(stream);
    const dead = await infoOrUndefined(client, dlqName(stream));
    if (sub === 'ls') {
      const records: StreamRecord[] = [];
      if (dead !== undefined && dead.state.messages > 0) {
        for await (const page of pages(client, dead.name, dead.state.firstSeq, dead.state.lastSeq)) records.push(...page);
      }
      io.stdout(values.json ? deadLettersJson(records) : formatDeadLetters(stream, records));
      return 0;
    }
    if (dead === undefined || dead.state.messages === 0) {
      io.stdout(`no dead letters in ${printable(stream)}: nothing to replay\n`);
      return 0;
    }
    return replayDeadLetters(client, stream, dead, { fromSeq, rate, progress: progressFlag(values) }, io);
  });
}

export interface DlqReplayResult {
  replayed: number;
  duplicates: number;
  /** Every dead letter up to here was stored again (0: none). */
  upTo: number;
  purged: number;
  /** CB_ERR_RATE_LIMITED refusals, each sent again later. */
  rateLimited: number;
}

interface DlqReplayOptions {
  fromSeq: number | undefined;
  /** Messages per second at most; 0 = unpaced. */
  rate: number;
  progress: boolean | undefined;
}

async function replayDeadLetters(client: StreamsClient, stream: string, dead: StreamInfo, options: DlqReplayOptions, io: StreamIo): Promise<number> {
  const from = Math.max(options.fromSeq ?? dead.state.firstSeq, dead.state.firstSeq);
  // Only what is there now: a replayed message that fails again comes back as a new dead letter,
  // and must not be replayed in the same run (that could go on forever).
  const to = dead.state.lastSeq;
  const bar = progressBar(options.progress, expected(dead, from, to), `dlq replay ${printable(stream)}`, io);
  const replay = new DeadLetterReplay(client, {
    stream, rate: options.rate,
    ...(io.now !== undefined ? { now: io.now } : {}), ...(io.sleep !== undefined ? { sleep: io.sleep } : {}),
    ...(bar !== undefined ? { onReplayed: (n: number) => bar.update(n) } : {}),
  });
  const outcome = await replay.run(pages(client, dead.name, from, to));
  const { failure } = outcome;
  bar?.finish(failure === undefined);
  const result: DlqReplayResult = { replayed: outcome.replayed, duplicates: outcome.duplicates, upTo: outcome.upTo, purged: 0, rateLimited: outcome.rateLimited };

  // Dead letters before --from-seq were not replayed: a purge up to a seq would delete them too.
  const skipped = from > dead.state.firstSeq;
  let purgeError: unknown;
  if (result.upTo > 0 && !skipped) {
    try {
      result.purged = (await client.streams.purge(dead.name, { upToSeq: result.upTo })).purged;
    } catch (error) {
      purgeError = error;
    }
  }
  const range = result.replayed > 0 ? ` (dlq seq ${from}..${result.upTo || '?'})` : '';
  let summary = `replayed ${result.replayed} dead letter${result.replayed === 1 ? '' : 's'} of ${printable(stream)}${range}`;
  summary += `: ${result.replayed - result.duplicates} stored, ${result.duplicates} already stored (duplicate msgId)`;
  const purgeHint = `'crossbus stream purge ${printable(dead.name)} --up-to-seq ${result.upTo} --yes'`;
  if (skipped) summary += `; not purged: dead letters before seq ${from} remain (purge with ${purgeHint})`;
  else if (purgeError !== undefined) summary += `; NOT purged (a rerun stores no duplicates within the duplicate window; or purge with ${purgeHint})`;
  else summary += `; purged ${result.purged} from ${printable(dead.name)}`;
  if (result.rateLimited > 0) summary += `; rate-limited ${result.rateLimited} times, slowed to ${Math.round(outcome.rate)}/s`;
  io.stdout(`${summary}\n`);
  if (failure !== undefined) {
    const at = Number.isFinite(failure.seq) ? ` at dlq seq ${failure.seq}` : '';
    io.stderr(`crossbus: dlq replay stopped${at}; dead letters from there on were kept\n`);
    return failed(failure.error, io);
  }
  if (purgeError !== undefined) return failed(purgeError, io);
  return 0;
}
