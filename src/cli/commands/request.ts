/** `crossbus request <topic> [data]`: sends a request and prints the reply. */
import { connectClient } from '../client-connection.js';
import { UsageError, defineOptions, intOption, parseOptions } from '../options.js';
import { parseData, payloadJson } from '../payload-json.js';
import { DEFAULT_URL } from '../defaults.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../client/defaults.js';
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

const REQUEST_OPTIONS = defineOptions({
  ...HEADER_OPTION,
  timeout: { type: 'string', placeholder: '<ms>', description: 'how long to wait for the reply', default: DEFAULT_REQUEST_TIMEOUT_MS },
  ...JSON_OPTION,
  ...COMMON_OPTIONS,
});

export const REQUEST_HELP = `Usage: crossbus request <topic> [data] [--header k=v ...] [--timeout ms] [--json] [--url ${DEFAULT_URL}]

Sends a request and prints the reply: text as itself, other JSON as JSON, binary data as it came.
With --json: one line {"headers","data"|"data_b64"}. No responder, a timeout or an error reply
exit 1.

${clientSections(REQUEST_OPTIONS)}`;

export async function requestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...REQUEST_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return printHelp(REQUEST_HELP);
  const [topic, data, extra] = positionals;
  if (topic === undefined || extra !== undefined) throw new UsageError('request takes <topic> [data]');
  const timeoutMs = intOption('timeout', values.timeout, 1, 3_600_000) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headers = parseHeaders(values.header);
  const bus = await connectClient(values);
  try {
    const reply = await bus.requestMessage(topic, parseData(data), { timeoutMs, ...(headers !== undefined ? { headers } : {}) });
    if (values.json) out(`${JSON.stringify({ headers: reply.headers ?? {}, ...payloadJson(reply.data) })}\n`);
    else if (reply.data instanceof Uint8Array) process.stdout.write(reply.data);
    else if (reply.data !== undefined) out(`${typeof reply.data === 'string' ? reply.data : JSON.stringify(reply.data)}\n`);
  } finally {
    await bus.close();
  }
  return 0;
}
