/**
 * `crossbus dlq ls|replay <stream>`: list a stream's dead letters, or republish them to their
 * topics (the engine is ../dlq-replay.ts) and purge the ones stored again.
 */
import { DeadLetterReplay } from '../dlq-replay.js';
import { defineOptions, pickOptions, type OptionValues } from '../options.js';
import type { StreamInfo, StreamRecord, StreamsClient } from './streams-api.js';
import {
  CONNECTION_OPTIONS,
  PROGRESS_OPTIONS,
  expected,
  failed,
  infoOrUndefined,
  optionSections,
  pages,
  parseSubcommand,
  progressBar,
  progressFlag,
  usageError,
  withClient,
  type OpenClient,
  type StreamIo,
  type Subcommand,
} from './streams.js';
import { deadLettersJson, dlqName, formatDeadLetters, parseSeqFlag, printable } from './streams-format.js';

export { MAX_RATE_LIMITED_RETRIES, REPLAY_WINDOW } from '../dlq-replay.js';
import { DEFAULT_REPLAY_RATE } from '../defaults.js';

const DLQ_OPTIONS = defineOptions({
  json: { type: 'boolean', description: 'print the dead letters as JSON (ls)' },
  'from-seq': {
    type: 'string',
    placeholder: '<n>',
    description: 'replay from this dead-letter sequence; earlier ones stay and nothing is purged',
  },
  rate: {
    type: 'string',
    placeholder: '<n>',
    description:
      'dead letters published per second at most; 0 = unpaced, which on a rate-limited hub can get the app disconnected (CB_ERR_ABUSIVE)',
    default: DEFAULT_REPLAY_RATE,
  },
  ...PROGRESS_OPTIONS,
});

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

${optionSections(DLQ_OPTIONS)}`;

const DLQ_SUBS: Record<string, Subcommand> = {
  ls: { args: 1, options: { ...pickOptions(DLQ_OPTIONS, ['json']), ...CONNECTION_OPTIONS } },
  replay: { args: 1, options: { ...pickOptions(DLQ_OPTIONS, ['progress', 'no-progress', 'from-seq', 'rate']), ...CONNECTION_OPTIONS } },
};

type Values = OptionValues<typeof DLQ_OPTIONS> & OptionValues<typeof CONNECTION_OPTIONS>;

export async function dlqCommand(args: string[], io: StreamIo, open: OpenClient): Promise<number> {
  const p = parseSubcommand('dlq', args, DLQ_SUBS, DLQ_HELP, io);
  if (typeof p === 'number') return p;
  const sub = p.sub;
  const values = p.values as Values;
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

async function replayDeadLetters(
  client: StreamsClient,
  stream: string,
  dead: StreamInfo,
  options: DlqReplayOptions,
  io: StreamIo,
): Promise<number> {
  const from = Math.max(options.fromSeq ?? dead.state.firstSeq, dead.state.firstSeq);
  // Only what is there now: a replayed message that fails again comes back as a new dead letter,
  // and must not be replayed in the same run (that could go on forever).
  const to = dead.state.lastSeq;
  const bar = progressBar(options.progress, expected(dead, from, to), `dlq replay ${printable(stream)}`, io);
  const replay = new DeadLetterReplay(client, {
    stream,
    rate: options.rate,
    ...(io.now !== undefined ? { now: io.now } : {}),
    ...(io.sleep !== undefined ? { sleep: io.sleep } : {}),
    ...(bar !== undefined ? { onReplayed: (n: number) => bar.update(n) } : {}),
  });
  const outcome = await replay.run(pages(client, dead.name, from, to));
  const { failure } = outcome;
  bar?.finish(failure === undefined);
  const result: DlqReplayResult = {
    replayed: outcome.replayed,
    duplicates: outcome.duplicates,
    upTo: outcome.upTo,
    purged: 0,
    rateLimited: outcome.rateLimited,
  };

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
  else if (purgeError !== undefined)
    summary += `; NOT purged (a rerun stores no duplicates within the duplicate window; or purge with ${purgeHint})`;
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
