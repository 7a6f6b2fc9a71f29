#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { connect } from '../node/index.js';
import { startHub, DEFAULT_HOST, DEFAULT_PORT } from '../hub/hub.js';
import { CrossbusError } from '../core/errors/index.js';
import { consoleLogger } from './console-logger.js';
import { auditCommand } from './commands/audit.js';
import { demoCommand } from './commands/demo.js';
import { consentCommand } from './commands/consent.js';
import { keysCommand, reloadCommand } from './commands/admin.js';
import { resolveCredentials } from './credentials.js';
import { dlqCommand, streamCommand, STREAM_CLI_APP, type ClientFlags, type StreamIo } from './commands/streams.js';
import type { StreamsClient } from './commands/streams-api.js';
import { DEFAULT_DATA_DIR } from '../node/paths.js';

const DEFAULT_URL = `ws://${DEFAULT_HOST}:${DEFAULT_PORT}`;

const CREDENTIALS_HELP = `
Credentials (first found wins):
  --secret <base64> or CROSSBUS_SECRET, with --name <app> (default "app")
  --config <file>      the app's newest valid key from a hub config file
  (default)            ${DEFAULT_DATA_DIR}/crossbus.config.json when it exists (--data <dir> to change)
  --insecure           no credentials (only a hub started with --insecure accepts that)`;

const HELP: Record<string, string> = {
  main: `crossbus: a secure message bus for applications that live apart

Usage:
  crossbus hub [--host 127.0.0.1] [--port 7070] [--data <dir>]   start a hub
  crossbus demo                                                   a hub plus the demo (editor on http://localhost:7071)
  crossbus pub <topic> [data] [--url ws://127.0.0.1:7070]          publish one message
  crossbus sub <pattern> [--count N] [--url ...]                  print messages as JSON lines
  crossbus request <topic> [data] [--timeout 5000] [--url ...]     send a request, print the reply
  crossbus reload [--data <dir>]                                  make the hub re-read its config
  crossbus keys rotate <app>                                      add a fresh secret for an app
  crossbus consent list|grant|deny|revoke                         answer the hub's consent requests
  crossbus audit verify|tail                                      check or read the audit log
  crossbus stream ls|info|replay|purge                            manage durable streams
  crossbus dlq ls|replay <stream>                                 list or republish a stream's dead letters

Run 'crossbus <command> --help' for a command's options.`,
  hub: `Usage: crossbus hub [options]

Starts a hub on its embedded defaults. Stops gracefully (draining) on SIGINT or SIGTERM;
SIGHUP reloads the config; SIGUSR2 applies consent decisions queued by 'crossbus consent'.

Every client must authenticate as an app of the config. Without --config the hub uses
<data>/crossbus.config.json, creating it with fresh secrets (apps "admin" and "app") if missing.

Options:
  --host <addr>        interface to bind (default ${DEFAULT_HOST})
  --port <n>           TCP port, 0 for any free port (default ${DEFAULT_PORT})
  --data <dir>         state directory: config, audit log, consent (default ${DEFAULT_DATA_DIR})
  --config <file>      config file, JSON or YAML (default <data>/crossbus.config.json)
  --insecure           NO authentication, encryption or access control (tests only; loudly logged)
  --max-frame <bytes>  largest frame (default 1048576)
  --max-topic <bytes>  longest topic or pattern (default 256)
  --max-queue-bytes <bytes>     outbound queue bound per connection (default 67108864)
  --max-queue-messages <n>      outbound queue bound per connection (default 200000)
  --max-total-queue-bytes <bytes>  bound on all outbound queues together (default 536870912)
  --slow-consumer <policy>      disconnect | drop, when a queue overflows (default disconnect)
  --max-connections <n>         connections held at once (default 10000)
  --max-duplicate-ids <n>       message ids a stream remembers for de-duplication (default 100000)
  --heartbeat-ms <ms>  ping idle peers after this long, drop after twice it; 0 = off (default 20000)
  --log-level <level>  debug | info | warn | error (default info)
  -h, --help           show this help`,
  pub: `Usage: crossbus pub <topic> [data] [--url ${DEFAULT_URL}] [credentials]

Publishes one message. [data] is parsed as JSON when it is valid JSON, else sent as a string.
${CREDENTIALS_HELP}`,
  sub: `Usage: crossbus sub <pattern> [--count N] [--group NAME] [--url ${DEFAULT_URL}]

Prints each message as a JSON line {topic, data, headers}. Wildcards: '*' one token, '>' the rest.
${CREDENTIALS_HELP}`,
  request: `Usage: crossbus request <topic> [data] [--timeout ms] [--url ${DEFAULT_URL}]

Sends a request and prints the reply as JSON.
${CREDENTIALS_HELP}`,
};

class UsageError extends Error {}

function parseData(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  return n;
}

function printable(data: unknown): unknown {
  return data instanceof Uint8Array ? { bytes: Buffer.from(data).toString('base64') } : data;
}

async function runHub(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: {
      host: { type: 'string' }, port: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, insecure: { type: 'boolean' },
      'max-frame': { type: 'string' }, 'max-topic': { type: 'string' }, 'max-queue-bytes': { type: 'string' },
      'max-queue-messages': { type: 'string' }, 'slow-consumer': { type: 'string' }, 'heartbeat-ms': { type: 'string' },
      'max-connections': { type: 'string' }, 'max-duplicate-ids': { type: 'string' }, 'max-total-queue-bytes': { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return help('hub');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const level = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error`);
  const logger = consoleLogger(level as 'info');
  const policy = values['slow-consumer'];
  if (policy !== undefined && policy !== 'disconnect' && policy !== 'drop') throw new UsageError('--slow-consumer must be disconnect or drop');
  const numeric = {
    maxFrameBytes: intFlag('max-frame', values['max-frame'], 64, 0xffff_fff0),
    maxTopicLength: intFlag('max-topic', values['max-topic'], 1, 0xffff),
    maxQueuedBytes: intFlag('max-queue-bytes', values['max-queue-bytes'], 1024, Number.MAX_SAFE_INTEGER),
    maxQueuedMessages: intFlag('max-queue-messages', values['max-queue-messages'], 1, Number.MAX_SAFE_INTEGER),
    heartbeatMs: intFlag('heartbeat-ms', values['heartbeat-ms'], 0, 3_600_000),
    maxConnections: intFlag('max-connections', values['max-connections'], 1, 10_000_000),
    maxTotalQueuedBytes: intFlag('max-total-queue-bytes', values['max-total-queue-bytes'], 1024, Number.MAX_SAFE_INTEGER),
  };
  const given = Object.fromEntries(Object.entries(numeric).filter(([, v]) => v !== undefined));
  const maxDuplicateIds = intFlag('max-duplicate-ids', values['max-duplicate-ids'], 1, Number.MAX_SAFE_INTEGER);
  const hub = await startHub({
    host: values.host ?? DEFAULT_HOST,
    port: intFlag('port', values.port, 0, 65535) ?? DEFAULT_PORT,
    dataDir: values.data ?? DEFAULT_DATA_DIR,
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    insecure: values.insecure === true,
    ...(policy !== undefined ? { slowConsumerPolicy: policy } : {}),
    ...given,
    ...(maxDuplicateIds !== undefined ? { streamOptions: { maxDuplicateIds } } : {}),
    logger,
  });
  hub.broker.events.on('connection', (e) => logger.info('client connected', e));
  hub.broker.events.on('disconnection', (e) => logger.info('client disconnected', e));
  hub.broker.events.on('slow-consumer', (e) => logger.warn('slow consumer', e));
  hub.broker.events.on('protocol-error', (e) => logger.warn('protocol error', e));
  hub.broker.events.on('security', (e) => {
    if (e.outcome === 'success' || e.action === 'rate-limit') logger.debug(`security: ${e.action} ${e.outcome}`, { actor: e.actor, target: e.target });
    else logger.warn(`security: ${e.action} ${e.outcome}${e.target ? ` ${e.target}` : ''}${e.reason ? `: ${e.reason}` : ''}`, { actor: e.actor });
  });
  // Signal handlers go in before the ready line: a supervisor may signal as soon as it reads it.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal}: draining and shutting down`);
      void hub.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.on('SIGHUP', () => {
    hub.reload().catch((err: unknown) => logger.error(`config reload failed; the previous config stays in force: ${err instanceof Error ? err.message : String(err)}`));
  });
  process.on('SIGUSR2', () => {
    hub.processConsentInbox().catch((err: unknown) => logger.error('applying consent decisions failed', { error: String(err) }));
  });
  if (hub.configPath !== undefined) process.stdout.write(`crossbus hub config: ${hub.configPath}\n`);
  process.stdout.write(`crossbus hub listening on ${hub.url}\n`);
  await stopped;
  process.stdout.write('crossbus hub stopped\n');
  return 0;
}

const clientOptions = {
  url: { type: 'string' as const }, name: { type: 'string' as const }, secret: { type: 'string' as const }, config: { type: 'string' as const },
  data: { type: 'string' as const }, insecure: { type: 'boolean' as const }, help: { type: 'boolean' as const, short: 'h' },
};


async function runPub(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: clientOptions });
  if (values.help) return help('pub');
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

async function runSub(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { ...clientOptions, count: { type: 'string' }, group: { type: 'string' } },
  });
  if (values.help) return help('sub');
  const [pattern, extra] = positionals;
  if (pattern === undefined || extra !== undefined) throw new UsageError('sub takes <pattern>');
  const count = intFlag('count', values.count, 1, Number.MAX_SAFE_INTEGER);
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

async function runRequest(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true, options: { ...clientOptions, timeout: { type: 'string' } },
  });
  if (values.help) return help('request');
  const [topic, data, extra] = positionals;
  if (topic === undefined || extra !== undefined) throw new UsageError('request takes <topic> [data]');
  const timeoutMs = intFlag('timeout', values.timeout, 1, 3_600_000) ?? 5_000;
  const bus = await connect(values.url ?? DEFAULT_URL, { ...(await resolveCredentials(values)), reconnect: false });
  try {
    const reply = await bus.request(topic, parseData(data), { timeoutMs });
    process.stdout.write(`${JSON.stringify(printable(reply))}\n`);
  } finally {
    await bus.close();
  }
  return 0;
}

function help(topic: string): number {
  process.stdout.write(`${HELP[topic] ?? HELP.main}\n`);
  return 0;
}

const stdio = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) };

/** For stream and dlq: output that may be large (waits for a slow reader), and the progress bar on stderr. */
const streamIo: StreamIo = {
  ...stdio,
  drain: () => (process.stdout.writableNeedDrain ? new Promise<void>((resolve) => process.stdout.once('drain', resolve)) : Promise.resolve()),
  progress: process.stderr,
};

async function openStreamsClient(flags: ClientFlags): Promise<StreamsClient> {
  // A reader that went away (`crossbus stream replay X | head`) ends the run quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  return connect(flags.url ?? DEFAULT_URL, { ...(await resolveCredentials(flags, STREAM_CLI_APP)), reconnect: false });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'hub': return await runHub(rest);
      case 'demo': return await demoCommand(rest, consoleLogger('info'), (line) => void process.stdout.write(`${line}\n`));
      case 'pub': return await runPub(rest);
      case 'sub': return await runSub(rest);
      case 'request': return await runRequest(rest);
      case 'reload': return await reloadCommand(rest, stdio);
      case 'keys': return await keysCommand(rest, stdio);
      case 'consent': return await consentCommand(rest, stdio);
      case 'audit': return await auditCommand(rest, stdio);
      case 'stream': return await streamCommand(rest, streamIo, openStreamsClient);
      case 'dlq': return await dlqCommand(rest, streamIo, openStreamsClient);
      case undefined: case '-h': case '--help': case 'help': return help(rest[0] ?? 'main');
      case '--version': case '-v':
        process.stdout.write('crossbus 0.1.0\n');
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`crossbus: ${(err as Error).message}\nRun 'crossbus ${command && HELP[command] ? `${command} ` : ''}--help' for usage.\n`);
      return 2;
    }
    if (err instanceof CrossbusError) {
      process.stderr.write(`crossbus: ${err.message} (${err.code})\n`);
      return 1;
    }
    process.stderr.write(`crossbus: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  if (code !== 0 || process.argv[2] !== 'hub') setTimeout(() => process.exit(code), 50).unref();
});
