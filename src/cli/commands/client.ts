/**
 * `crossbus pub|sub|request`: one client connection to a hub, to publish one message, print the
 * messages of a pattern, or send a request and print its reply.
 */
import { connect } from '../../node/index.js';
import { URL_OPTION, credentialOptions } from '../client-flags.js';
import { resolveCredentials } from '../credentials.js';
import { HELP_OPTION, UsageError, defineOptions, intOption, optionsHelp, parseOptions, type OptionSpecs } from '../options.js';
import { DEFAULT_CLIENT_APP, DEFAULT_URL } from '../defaults.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../client/defaults.js';

const CREDENTIAL_OPTIONS = credentialOptions(DEFAULT_CLIENT_APP);

const PUB_OPTIONS = defineOptions({ ...URL_OPTION, ...HELP_OPTION });
const SUB_OPTIONS = defineOptions({
  ...URL_OPTION,
  count: { type: 'string', placeholder: '<n>', description: 'exit after this many messages (else at SIGINT or SIGTERM)' },
  group: { type: 'string', placeholder: '<name>', description: 'join this queue group: each message goes to one member of the group' },
  ...HELP_OPTION,
});
const REQUEST_OPTIONS = defineOptions({
  ...URL_OPTION,
  timeout: { type: 'string', placeholder: '<ms>', description: 'how long to wait for the reply', default: DEFAULT_REQUEST_TIMEOUT_MS },
  ...HELP_OPTION,
});

function sections(options: OptionSpecs): string {
  return optionsHelp([
    { title: 'Options:', options },
    { title: 'Credentials (first found wins):', options: CREDENTIAL_OPTIONS },
  ]);
}

export const PUB_HELP = `Usage: crossbus pub <topic> [data] [--url ${DEFAULT_URL}] [credentials]

Publishes one message. [data] is parsed as JSON when it is valid JSON, else sent as a string.

${sections(PUB_OPTIONS)}`;

export const SUB_HELP = `Usage: crossbus sub <pattern> [--count N] [--group NAME] [--url ${DEFAULT_URL}]

Prints each message as a JSON line {topic, data, headers}. Wildcards: '*' one token, '>' the rest.

${sections(SUB_OPTIONS)}`;

export const REQUEST_HELP = `Usage: crossbus request <topic> [data] [--timeout ms] [--url ${DEFAULT_URL}]

Sends a request and prints the reply as JSON.

${sections(REQUEST_OPTIONS)}`;

function parseData(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function printable(data: unknown): unknown {
  return data instanceof Uint8Array ? { bytes: Buffer.from(data).toString('base64') } : data;
}

function help(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

export async function pubCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...PUB_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return help(PUB_HELP);
  const [topic, data, extra] = positionals;
  if (topic === undefined || extra !== undefined) throw new UsageError('pub takes <topic> [data]');
  const bus = await connect(values.url ?? DEFAULT_URL, { ...(await resolveCredentials(values)), reconnect: false });
  try {
    await bus.publish(topic, parseData(data), { ack: true });
  } finally {
    await bus.close();
  }
  return 0;
}

export async function subCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...SUB_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return help(SUB_HELP);
  const [pattern, extra] = positionals;
  if (pattern === undefined || extra !== undefined) throw new UsageError('sub takes <pattern>');
  const count = intOption('count', values.count, 1, Number.MAX_SAFE_INTEGER);
  const bus = await connect(values.url ?? DEFAULT_URL, await resolveCredentials(values));
  const sub = bus.subscribe(pattern, values.group !== undefined ? { group: values.group } : {});
  await sub.ready;
  process.stderr.write(`subscribed to ${pattern}\n`);
  let seen = 0;
  const stop = (): void => void bus.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for await (const msg of sub) {
    process.stdout.write(`${JSON.stringify({ topic: msg.topic, data: printable(msg.data), headers: msg.headers })}\n`);
    if (count !== undefined && ++seen >= count) break;
  }
  await bus.close();
  return 0;
}

export async function requestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...REQUEST_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return help(REQUEST_HELP);
  const [topic, data, extra] = positionals;
  if (topic === undefined || extra !== undefined) throw new UsageError('request takes <topic> [data]');
  const timeoutMs = intOption('timeout', values.timeout, 1, 3_600_000) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const bus = await connect(values.url ?? DEFAULT_URL, { ...(await resolveCredentials(values)), reconnect: false });
  try {
    const reply = await bus.request(topic, parseData(data), { timeoutMs });
    process.stdout.write(`${JSON.stringify(printable(reply))}\n`);
  } finally {
    await bus.close();
  }
  return 0;
}
