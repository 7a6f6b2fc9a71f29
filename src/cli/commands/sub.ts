/**
 * `crossbus sub <pattern>`: prints the messages of a pattern until --count of them arrived,
 * --timeout passed, or SIGINT/SIGTERM.
 */
import type { Message } from '../../client/index.js';
import { connectClient } from '../client-connection.js';
import { UsageError, defineOptions, intOption, parseOptions, CliError } from '../options.js';
import { payloadJson, payloadText } from '../payload-json.js';
import { printable } from './streams-format.js';
import { DEFAULT_URL } from '../defaults.js';
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, JSON_OPTION, clientSections, out, printHelp } from './client-command.js';

const SUB_OPTIONS = defineOptions({
  count: { type: 'string', placeholder: '<n>', description: 'exit after this many messages (else at SIGINT or SIGTERM)' },
  timeout: {
    type: 'string',
    placeholder: '<ms>',
    description: 'stop after this long; with --count, exit 1 when fewer messages came',
    default: 'no limit',
  },
  group: { type: 'string', placeholder: '<name>', description: 'join this queue group: each message goes to one member of the group' },
  ...JSON_OPTION,
  ...COMMON_OPTIONS,
});

export const SUB_HELP = `Usage: crossbus sub <pattern> [--count N] [--timeout ms] [--group NAME] [--json] [--url ${DEFAULT_URL}]

Prints each message: "[n] <topic> <data>" and its headers, or with --json one line
{"topic","headers","data"|"data_b64"} per message. Wildcards: '*' one token, '>' the rest.
"subscribed to <pattern>" goes to stderr once the hub confirmed the subscription.

${clientSections(SUB_OPTIONS)}`;

export async function subCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...SUB_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return printHelp(SUB_HELP);
  const [pattern, extra] = positionals;
  if (pattern === undefined || extra !== undefined) throw new UsageError('sub takes <pattern>');
  const count = intOption('count', values.count, 1, Number.MAX_SAFE_INTEGER);
  const timeoutMs = intOption('timeout', values.timeout, 1, 2_147_483_647);
  const bus = await connectClient(values);
  const sub = bus.subscribe(pattern, values.group !== undefined ? { group: values.group } : {});
  await sub.ready;
  process.stderr.write(`subscribed to ${pattern}\n`);
  let seen = 0;
  let timedOut = false;
  const stop = (): void => void bus.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          void bus.close();
        }, timeoutMs);
  try {
    for await (const msg of sub) {
      seen++;
      out(values.json ? messageLine(msg) : messageText(seen, msg));
      if (count !== undefined && seen >= count) break;
    }
  } catch (err) {
    if (!timedOut) throw err;
  } finally {
    clearTimeout(timer);
    await bus.close();
  }
  if (timedOut && count !== undefined && seen < count)
    throw new CliError(`timed out after ${timeoutMs} ms with ${seen} of ${count} messages`);
  return 0;
}

/** One --json line: topic, headers, payload. */
export function messageLine(msg: Message<unknown>): string {
  return `${JSON.stringify({ topic: msg.topic, headers: msg.headers ?? {}, ...payloadJson(msg.data) })}\n`;
}

function messageText(n: number, msg: Message<unknown>): string {
  let text = `[#${n}] ${printable(msg.topic)} ${printable(payloadText(msg.data))}\n`;
  for (const [k, v] of Object.entries(msg.headers ?? {})) text += `  ${printable(k)}: ${printable(v)}\n`;
  return text;
}
