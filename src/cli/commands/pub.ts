/**
 * `crossbus pub <topic> [data]`: publishes one message (or --count of them) and says what was
 * published; a durable publish says where the hub stored it.
 */
import type { PublishAck } from '../../client/index.js';
import { connectClient } from '../client-connection.js';
import { formatBytes } from './streams-format.js';
import { UsageError, defineOptions, intOption, parseOptions } from '../options.js';
import { parseData, payloadBytes } from '../payload-json.js';
import { DEFAULT_URL } from '../defaults.js';
import {
  COMMON_OPTIONS,
  CREDENTIAL_OPTIONS,
  HEADER_OPTION,
  JSON_OPTION,
  clientSections,
  out,
  parseHeaders,
  printHelp,
} from './client-command.js';

/** The counter `--count` puts into the data. */
const COUNTER = /\{\{\s*n\s*\}\}/g;
/** Publishes `pub --count` has unconfirmed at once. @default 256 */
const PUB_WINDOW = 256;
/** Most messages one `pub --count` sends. @default 10_000_000 */
export const MAX_PUB_COUNT = 10_000_000;

const PUB_OPTIONS = defineOptions({
  ...HEADER_OPTION,
  count: {
    type: 'string',
    placeholder: '<n>',
    description: "publish n messages; '{{n}}' in the data becomes 1, 2, ... n",
    default: 1,
  },
  durable: { type: 'boolean', description: 'store it in the stream that captures the topic; prints the stream and seq' },
  'msg-id': { type: 'string', placeholder: '<id>', description: "with --durable: de-duplication id ('{{n}}' counts too)" },
  ...JSON_OPTION,
  ...COMMON_OPTIONS,
});

export const PUB_HELP = `Usage: crossbus pub <topic> [data] [--header k=v ...] [--count N] [--durable] [--url ${DEFAULT_URL}]

Publishes a message and prints a confirmation ("published 1 message to orders.created (12 B)";
with --durable, the stream and sequence the hub stored it at). [data] is parsed as JSON when it
is valid JSON, else sent as a string. The hub confirms each publish before the command exits;
over the app's rate limit it refuses them (CB_ERR_RATE_LIMITED, exit 1).

${clientSections(PUB_OPTIONS)}`;

export async function pubCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...PUB_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return printHelp(PUB_HELP);
  const [topic, text, extra] = positionals;
  if (topic === undefined || extra !== undefined) throw new UsageError('pub takes <topic> [data]');
  const count = intOption('count', values.count, 1, MAX_PUB_COUNT) ?? 1;
  const headers = parseHeaders(values.header);
  if (values['msg-id'] !== undefined && !values.durable) throw new UsageError('--msg-id needs --durable');
  const counted = count > 1 && text !== undefined && COUNTER.test(text);
  const bus = await connectClient(values);
  let bytes = 0;
  const acks: PublishAck[] = [];
  const window: Array<Promise<unknown>> = [];
  try {
    for (let n = 1; n <= count; n++) {
      const data = parseData(counted ? (text as string).replace(COUNTER, String(n)) : text);
      bytes += payloadBytes(data);
      const options = headers !== undefined ? { headers } : {};
      if (values.durable) {
        const msgId = values['msg-id']?.replace(COUNTER, String(n));
        const i = n - 1;
        window.push(
          bus.publish(topic, data, { ...options, durable: true, ...(msgId !== undefined ? { msgId } : {}) }).then((ack) => {
            acks[i] = ack;
          }),
        );
      } else window.push(bus.publish(topic, data, { ...options, ack: true }));
      // Confirmed in windows: a long --count is not one round trip per message, nor unbounded.
      if (window.length >= PUB_WINDOW || n === count) await Promise.all(window.splice(0));
    }
  } finally {
    await bus.close();
  }
  if (values.json) out(`${JSON.stringify({ topic, messages: count, bytes, ...(values.durable ? { acks } : {}) })}\n`);
  else out(`${confirmation(topic, count, bytes, acks)}\n`);
  return 0;
}

/** "published 3 messages to orders.created (36 B)", "stored 1 message in stream ORDERS at seq 7 ...". */
export function confirmation(topic: string, count: number, bytes: number, acks: readonly PublishAck[]): string {
  const what = `${count} message${count === 1 ? '' : 's'}`;
  const size = `(${formatBytes(bytes)})`;
  const first = acks[0];
  const last = acks[acks.length - 1];
  if (first === undefined || last === undefined) return `published ${what} to ${topic} ${size}`;
  const seq = first.seq === last.seq ? `seq ${first.seq}` : `seq ${first.seq}..${last.seq}`;
  const duplicates = acks.filter((a) => a.duplicate).length;
  const dup = duplicates === 0 ? '' : `; ${duplicates} duplicate${duplicates === 1 ? '' : 's'} (msgId seen before, not stored again)`;
  return `published ${what} to ${topic} ${size}: stream ${first.stream} ${seq}${dup}`;
}
