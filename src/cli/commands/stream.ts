/**
 * `crossbus stream ls|info|add|edit|rm|replay|purge`: list streams, show one, create, change or
 * delete one, print its stored messages as JSON lines, purge them.
 */
import { defineOptions, pickOptions, type OptionValues } from '../options.js';
import type { StreamConfig, StreamsClient } from './streams-api.js';
import { STREAM_CONFIG_OPTIONS, configOf, streamConfigFromFlags } from './stream-config-flags.js';
import {
  CONNECTION_OPTIONS,
  PROGRESS_OPTIONS,
  expected,
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
import {
  StreamUsageError,
  dlqName,
  formatStreamInfo,
  formatStreamList,
  parseSeqFlag,
  parseSince,
  printable,
  recordLine,
  streamInfoJson,
} from './streams-format.js';

const STREAM_OPTIONS = defineOptions({
  json: { type: 'boolean', description: 'print JSON (ls: the StreamInfo array; info, add, edit: the StreamInfo)' },
  'from-seq': { type: 'string', placeholder: '<n>', description: 'replay from this sequence', default: 'the first stored' },
  since: {
    type: 'string',
    placeholder: '<time>',
    description: 'replay from the first message stored at or after this ISO time or ms epoch',
  },
  'to-seq': {
    type: 'string',
    placeholder: '<n>',
    description: 'replay up to this sequence',
    default: 'the last one when the replay starts',
  },
  'up-to-seq': { type: 'string', placeholder: '<n>', description: 'purge messages with seq <= n only' },
  yes: { type: 'boolean', description: 'confirm a purge or rm (required)' },
  ...STREAM_CONFIG_OPTIONS,
  ...PROGRESS_OPTIONS,
});

export const STREAM_HELP = `Usage:
  crossbus stream ls [--json]                      list the streams (dead-letter streams are '<NAME>.DLQ')
  crossbus stream info <name> [--json]             a stream's config, state, consumers and dead letters
  crossbus stream add <name> --topic <pattern> [--max-age 7d] [--max-bytes 1GiB] [--max-msgs N] [--max-msgs-per-topic N] ...
                                                   create a stream
  crossbus stream edit <name> [--topic ...] [--max-age none] ...
                                                   change its topics or limits (messages and durable
                                                   consumers stay; consumers' members consume again)
  crossbus stream rm <name> --yes                  delete it with its messages and consumers
  crossbus stream replay <name> [--from-seq N | --since <time>] [--to-seq N]
                                                   print the stored messages as JSON lines
  crossbus stream purge <name> [--up-to-seq N] --yes
                                                   delete stored messages (all, or seq <= N)

replay prints one line per message: {"seq","time","topic","headers","msgId"?} and the payload
as "data" (its JSON value) or, when binary, "data_b64" (base64). Durations: 1500 (ms), 30s, 5m,
2h, 7d; sizes: 1048576, 512KiB, 1GiB.

${optionSections(STREAM_OPTIONS)}`;

const STREAM_SUBS: Record<string, Subcommand> = {
  ls: { args: 0, options: { ...pickOptions(STREAM_OPTIONS, ['json']), ...CONNECTION_OPTIONS } },
  info: { args: 1, options: { ...pickOptions(STREAM_OPTIONS, ['json']), ...CONNECTION_OPTIONS } },
  replay: {
    args: 1,
    options: { ...pickOptions(STREAM_OPTIONS, ['progress', 'no-progress', 'from-seq', 'since', 'to-seq']), ...CONNECTION_OPTIONS },
  },
  purge: { args: 1, options: { ...pickOptions(STREAM_OPTIONS, ['up-to-seq', 'yes']), ...CONNECTION_OPTIONS } },
  add: { args: 1, options: { ...pickOptions(STREAM_OPTIONS, ['json']), ...STREAM_CONFIG_OPTIONS, ...CONNECTION_OPTIONS } },
  edit: { args: 1, options: { ...pickOptions(STREAM_OPTIONS, ['json']), ...STREAM_CONFIG_OPTIONS, ...CONNECTION_OPTIONS } },
  rm: { args: 1, options: { ...pickOptions(STREAM_OPTIONS, ['yes']), ...CONNECTION_OPTIONS } },
};

type Values = OptionValues<typeof STREAM_OPTIONS> & OptionValues<typeof CONNECTION_OPTIONS>;

export async function streamCommand(args: string[], io: StreamIo, open: OpenClient): Promise<number> {
  const p = parseSubcommand('stream', args, STREAM_SUBS, STREAM_HELP, io);
  if (typeof p === 'number') return p;
  const sub = p.sub;
  const values = p.values as Values;
  const name = p.positionals[0] as string;
  // Flags are checked before connecting: a typo costs no round trip.
  let range: { fromSeq?: number; toSeq?: number; since?: number } = {};
  let upToSeq: number | undefined;
  let added: StreamConfig | undefined;
  try {
    if (sub === 'add') added = streamConfigFromFlags(name, values);
    if (sub === 'rm' && !values.yes)
      throw new StreamUsageError(`refusing to delete stream ${JSON.stringify(name)} without --yes: its messages and consumers go with it`);
    if (sub === 'replay') {
      range = {
        fromSeq: parseSeqFlag('from-seq', values['from-seq']),
        toSeq: parseSeqFlag('to-seq', values['to-seq']),
        since: parseSince(values.since),
      };
      if (range.fromSeq !== undefined && range.since !== undefined) throw new StreamUsageError('give --from-seq or --since, not both');
      if (range.fromSeq !== undefined && range.toSeq !== undefined && range.toSeq < range.fromSeq)
        throw new StreamUsageError('--to-seq is before --from-seq');
    }
    if (sub === 'purge') {
      upToSeq = parseSeqFlag('up-to-seq', values['up-to-seq']);
      if (!values.yes) {
        throw new StreamUsageError(
          `refusing to purge ${JSON.stringify(name)} without --yes: it deletes ${upToSeq === undefined ? 'every stored message' : `every message with seq <= ${upToSeq}`}, for every consumer`,
        );
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
      case 'add':
      case 'edit': {
        const config = added ?? streamConfigFromFlags(name, values, configOf(await client.streams.info(name)));
        const info = await (sub === 'add' ? client.streams.create(config as StreamConfig) : client.streams.update(config));
        const done = `${sub === 'add' ? 'created' : 'updated'} stream ${printable(name)}\n`;
        io.stdout(values.json ? streamInfoJson(info, undefined) : done + formatStreamInfo(info, undefined));
        return 0;
      }
      case 'rm':
        await client.streams.delete(name);
        io.stdout(`deleted stream ${printable(name)}\n`);
        return 0;
      default: {
        const r = await client.streams.purge(name, upToSeq === undefined ? {} : { upToSeq });
        io.stdout(`purged ${r.purged} message${r.purged === 1 ? '' : 's'} from ${printable(name)}\n`);
        return 0;
      }
    }
  });
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
    if (r === undefined || r.seq >= hi)
      hi = mid; // nothing stored in mid..hi-1
    else if (r.time >= since)
      hi = mid; // the answer is r.seq or earlier, and mid..r.seq-1 are gone
    else lo = r.seq + 1;
  }
  return lo;
}

async function replayStream(
  client: StreamsClient,
  name: string,
  range: { fromSeq?: number; toSeq?: number; since?: number },
  flag: boolean | undefined,
  io: StreamIo,
): Promise<number> {
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
