/**
 * `crossbus consumer ls|info|add|rm <stream> [name]`: the durable consumers of a stream: list
 * them, show one, create one that waits for members, delete one.
 */
import { defineOptions, pickOptions, type OptionValues } from '../options.js';
import type { ConsumerInfo } from './streams-api.js';
import { CONSUMER_CONFIG_OPTIONS, consumerConfigFromFlags } from './stream-config-flags.js';
import {
  CONNECTION_OPTIONS,
  optionSections,
  parseSubcommand,
  usageError,
  withClient,
  type OpenClient,
  type StreamIo,
  type Subcommand,
} from './streams.js';
import { StreamUsageError, printable, table } from './streams-format.js';

const CONSUMER_OPTIONS = defineOptions({
  json: { type: 'boolean', description: 'print JSON (ls: the consumers; info, add: the consumer)' },
  yes: { type: 'boolean', description: 'confirm rm (required)' },
  ...CONSUMER_CONFIG_OPTIONS,
});

export const CONSUMER_HELP = `Usage:
  crossbus consumer ls <stream> [--json]           the consumers of a stream
  crossbus consumer info <stream> <name> [--json]  one consumer: ack floor, pending, waiting, members
  crossbus consumer add <stream> <name> [--deliver all|new|seq:N|time:T] [--ack-wait 30s] ...
                                                   create a durable consumer; it keeps its position
                                                   until clients consume from it (idempotent)
  crossbus consumer rm <stream> <name> --yes       delete a durable consumer and its position

${optionSections(CONSUMER_OPTIONS)}`;

const BOTH = '<stream> <name>';
const CONSUMER_SUBS: Record<string, Subcommand> = {
  ls: { args: 1, options: { ...pickOptions(CONSUMER_OPTIONS, ['json']), ...CONNECTION_OPTIONS } },
  info: { args: 2, argsUsage: BOTH, options: { ...pickOptions(CONSUMER_OPTIONS, ['json']), ...CONNECTION_OPTIONS } },
  add: {
    args: 2,
    argsUsage: BOTH,
    options: { ...pickOptions(CONSUMER_OPTIONS, ['json']), ...CONSUMER_CONFIG_OPTIONS, ...CONNECTION_OPTIONS },
  },
  rm: { args: 2, argsUsage: BOTH, options: { ...pickOptions(CONSUMER_OPTIONS, ['yes']), ...CONNECTION_OPTIONS } },
};

type Values = OptionValues<typeof CONSUMER_OPTIONS> & OptionValues<typeof CONNECTION_OPTIONS>;

export async function consumerCommand(args: string[], io: StreamIo, open: OpenClient): Promise<number> {
  const p = parseSubcommand('consumer', args, CONSUMER_SUBS, CONSUMER_HELP, io);
  if (typeof p === 'number') return p;
  const { sub } = p;
  const values = p.values as Values;
  const [stream, name] = p.positionals as [string, string | undefined];
  let config: ReturnType<typeof consumerConfigFromFlags> | undefined;
  try {
    if (sub === 'add') config = consumerConfigFromFlags(name as string, p.values);
    if (sub === 'rm' && !values.yes)
      throw new StreamUsageError(
        `refusing to delete consumer ${JSON.stringify(name)} of ${JSON.stringify(stream)} without --yes: its position is lost`,
      );
  } catch (err) {
    return usageError('consumer', (err as Error).message, io);
  }
  return withClient('consumer', values, open, io, async (client) => {
    switch (sub) {
      case 'ls': {
        const consumers = (await client.streams.info(stream)).consumers;
        io.stdout(values.json ? `${JSON.stringify(consumers, null, 2)}\n` : formatConsumers(stream, consumers));
        return 0;
      }
      case 'info': {
        const info = (await client.streams.info(stream)).consumers.find((c) => c.durable === name);
        if (info === undefined) {
          io.stderr(`crossbus: stream ${printable(stream)} has no consumer ${JSON.stringify(name)} (CB_ERR_CONSUMER_NOT_FOUND)\n`);
          return 1;
        }
        io.stdout(values.json ? `${JSON.stringify({ stream, ...info }, null, 2)}\n` : formatConsumer(stream, info));
        return 0;
      }
      case 'add': {
        const info = await client.streams.addConsumer(stream, config as NonNullable<typeof config>);
        io.stdout(
          values.json
            ? `${JSON.stringify(info, null, 2)}\n`
            : `consumer ${printable(info.durable)} of ${printable(stream)} is ready\n${formatConsumer(stream, info)}`,
        );
        return 0;
      }
      default:
        await client.streams.deleteConsumer(stream, name as string);
        io.stdout(`deleted consumer ${printable(name as string)} of ${printable(stream)}\n`);
        return 0;
    }
  });
}

function formatConsumers(stream: string, consumers: readonly ConsumerInfo[]): string {
  if (consumers.length === 0) return `No consumers on ${printable(stream)}.\n`;
  return table(
    ['NAME', 'ACK FLOOR', 'PENDING', 'WAITING', 'MEMBERS'],
    [...consumers]
      .sort((a, b) => a.durable.localeCompare(b.durable))
      .map((c) => [c.durable, String(c.ackFloor), String(c.pending), String(c.waiting), String(c.members)]),
    [false, true, true, true, true],
  );
}

function formatConsumer(stream: string, c: ConsumerInfo): string {
  const fields: Array<[string, string]> = [
    ['stream', stream],
    ['ack floor', String(c.ackFloor)],
    ['pending', `${c.pending} (delivered, not yet acked)`],
    ['waiting', `${c.waiting} (for redelivery)`],
    ['members', String(c.members)],
  ];
  return `Consumer ${printable(c.durable)}\n${fields.map(([k, v]) => `  ${`${k}:`.padEnd(11)} ${printable(v)}\n`).join('')}`;
}
