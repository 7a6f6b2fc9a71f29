#!/usr/bin/env node
import { CrossbusError } from '../core/errors/index.js';
import { VERSION } from '../node/version.js';
import { startOtlpTracing } from '../node/tracing/otlp.js';
import { AUDIT_HELP, auditCommand } from './commands/audit.js';
import { PUB_HELP, pubCommand } from './commands/pub.js';
import { SUB_HELP, subCommand } from './commands/sub.js';
import { REQUEST_HELP, requestCommand } from './commands/request.js';
import { REPLY_HELP, replyCommand } from './commands/reply.js';
import { DEMO_HELP, demoCommand } from './commands/demo.js';
import { CONSENT_HELP, consentCommand } from './commands/consent.js';
import { hubCommand, HUB_HELP } from './commands/hub.js';
import { KEYS_HELP, RELOAD_HELP, keysCommand, reloadCommand } from './commands/admin.js';
import { DLQ_HELP, dlqCommand } from './commands/dlq.js';
import { STREAM_HELP, streamCommand } from './commands/stream.js';
import { CONSUMER_HELP, consumerCommand } from './commands/consumer.js';
import { KV_HELP, kvCommand } from './commands/kv.js';
import { CONFIG_HELP, configCommand } from './commands/config.js';
import { STATS_HELP, statsCommand } from './commands/stats.js';
import { ALERTS_HELP, alertsCommand } from './commands/alerts.js';
import { SYNC_HELP, syncCommand } from './commands/sync.js';
import { RUN_HELP, runCommand } from './commands/run.js';
import { DEPLOY_HELP, deployCommand } from './commands/deploy.js';
import { STREAM_CLI_APP, type StreamIo } from './commands/streams.js';
import type { StreamsClient } from './commands/streams-api.js';
import { connectClient, type ClientFlags } from './client-connection.js';
import { ENVIRONMENT_HELP } from './client-flags.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, UsageError, didYouMean, helpRows, isUsageError, usageErrorText } from './options.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../hub/defaults.js';
import { DEFAULT_EDITOR_PORT, DEFAULT_URL } from './defaults.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../client/defaults.js';

const stdio = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) };

/** For stream, consumer and dlq: output that may be large (waits for a slow reader), and the progress bar on stderr. */
const streamIo: StreamIo = {
  ...stdio,
  drain: () =>
    process.stdout.writableNeedDrain ? new Promise<void>((resolve) => process.stdout.once('drain', resolve)) : Promise.resolve(),
  progress: process.stderr,
};

async function openStreamsClient(flags: ClientFlags): Promise<StreamsClient> {
  // A reader that went away (`crossbus stream replay X | head`) ends the run quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  return connectClient(flags, STREAM_CLI_APP);
}

/** While a deployment is followed, Ctrl-C stops the following (the deployment goes on): said, then exit 1. */
function onInterrupt(handler: () => void): () => void {
  process.once('SIGINT', handler);
  return () => void process.off('SIGINT', handler);
}

interface Command {
  /** The line in `crossbus --help`: usage, then what it does. */
  usage: readonly [string, string];
  help: string;
  run(args: string[]): Promise<number>;
}

/** Every command: what main routes, what `crossbus help <command>` and `crossbus <command> --help` print. */
const COMMANDS: Record<string, Command> = {
  hub: {
    usage: [`crossbus hub [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--data <dir>]`, 'start a hub'],
    help: HUB_HELP,
    run: (args) => hubCommand(args),
  },
  demo: {
    usage: ['crossbus demo', `a hub plus the demo (editor on http://localhost:${DEFAULT_EDITOR_PORT})`],
    help: DEMO_HELP,
    run: (args) => demoCommand(args, (line) => void process.stdout.write(`${line}\n`)),
  },
  pub: {
    usage: [`crossbus pub <topic> [data] [--header k=v] [--count N] [--durable]`, 'publish messages'],
    help: PUB_HELP,
    run: (args) => pubCommand(args),
  },
  sub: { usage: ['crossbus sub <pattern> [--count N] [--timeout ms] [--json]', 'print messages'], help: SUB_HELP, run: subCommand },
  request: {
    usage: [`crossbus request <topic> [data] [--timeout ${DEFAULT_REQUEST_TIMEOUT_MS}]`, 'send a request, print the reply'],
    help: REQUEST_HELP,
    run: requestCommand,
  },
  reply: {
    usage: ['crossbus reply <topic> [data | --command "<cmd>" | --echo]', 'serve requests from the shell'],
    help: REPLY_HELP,
    run: replyCommand,
  },
  stats: {
    usage: ['crossbus stats [--interval ms] [--json]', "a running hub's connections, rates, queues"],
    help: STATS_HELP,
    run: statsCommand,
  },
  alerts: {
    usage: ['crossbus alerts [ls] | silence add --match k=v | silence rm <id>', "a running hub's alerts and silences"],
    help: ALERTS_HELP,
    run: alertsCommand,
  },
  stream: {
    usage: ['crossbus stream ls|info|add|edit|rm|replay|purge', 'manage durable streams'],
    help: STREAM_HELP,
    run: (args) => streamCommand(args, streamIo, openStreamsClient),
  },
  consumer: {
    usage: ['crossbus consumer ls|info|add|rm <stream> [name]', "manage a stream's durable consumers"],
    help: CONSUMER_HELP,
    run: (args) => consumerCommand(args, streamIo, openStreamsClient),
  },
  dlq: {
    usage: ['crossbus dlq ls|replay <stream>', "list or republish a stream's dead letters"],
    help: DLQ_HELP,
    run: (args) => dlqCommand(args, streamIo, openStreamsClient),
  },
  config: {
    usage: ['crossbus config get|set|unset|diff|history|rollback|explain|validate --env <name>', 'environment configuration'],
    help: CONFIG_HELP,
    run: (args) => configCommand(args, streamIo, (flags) => connectClient(flags, STREAM_CLI_APP)),
  },
  kv: {
    usage: ['crossbus kv ls|info|add|rm|get|put|create|update|del|purge|keys|history|watch', 'key-value buckets'],
    help: KV_HELP,
    run: (args) => kvCommand(args, streamIo, (flags) => connectClient(flags, STREAM_CLI_APP)),
  },
  sync: {
    usage: ['crossbus sync <dir>|conflicts|resolve --doc <name>', 'mirror a folder with a document; its conflicts'],
    help: SYNC_HELP,
    run: syncCommand,
  },
  run: {
    usage: ['crossbus run <manifest>', "run a node app's instances under a supervisor"],
    help: RUN_HELP,
    run: runCommand,
  },
  deploy: {
    usage: ['crossbus deploy start|status|promote|abort|rollback|history', 'ship an app: blue-green, rolling or canary'],
    help: DEPLOY_HELP,
    run: (args) =>
      deployCommand(args, { ...streamIo, terminal: process.stdout, onInterrupt }, (flags) => connectClient(flags, STREAM_CLI_APP)),
  },
  reload: {
    usage: ['crossbus reload [--data <dir>]', 'make the hub re-read its config'],
    help: RELOAD_HELP,
    run: (a) => reloadCommand(a, stdio),
  },
  keys: { usage: ['crossbus keys rotate <app>', 'add a fresh secret for an app'], help: KEYS_HELP, run: (a) => keysCommand(a, stdio) },
  consent: {
    usage: ['crossbus consent list|grant|deny|revoke', "answer the hub's consent requests"],
    help: CONSENT_HELP,
    run: (a) => consentCommand(a, stdio),
  },
  audit: { usage: ['crossbus audit verify|tail', 'check or read the audit log'], help: AUDIT_HELP, run: (a) => auditCommand(a, stdio) },
};

const MAIN_HELP = `crossbus: a secure message bus for applications that live apart

Usage:
${helpRows(Object.values(COMMANDS).map((c) => c.usage))}

Run 'crossbus help <command>' or 'crossbus <command> --help' for a command's options.
Client commands connect to ${DEFAULT_URL} unless told otherwise.

${ENVIRONMENT_HELP}

Exit codes:
${helpRows([
  ['0', 'success'],
  ['1', 'failure: the hub refused or failed, a timeout, a file that cannot be read'],
  ['2', 'usage: an unknown command or option, a missing or bad argument'],
])}`;

function help(topic: string | undefined): number {
  if (topic === undefined) {
    process.stdout.write(`${MAIN_HELP}\n`);
    return 0;
  }
  const command = COMMANDS[topic];
  if (command === undefined) throw unknownCommand(topic);
  process.stdout.write(`${command.help}\n`);
  return 0;
}

function unknownCommand(name: string): UsageError {
  const guess = didYouMean(name, Object.keys(COMMANDS));
  return new UsageError(`unknown command ${JSON.stringify(name)}${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
        return help(undefined);
      case 'help':
        return help(rest[0]);
      case '--version':
      case '-v':
        process.stdout.write(`crossbus ${VERSION}\n`);
        return 0;
    }
    const cmd = COMMANDS[command];
    if (cmd === undefined) throw unknownCommand(command);
    // Spans go out over OTLP when the standard environment names an endpoint (src/node/tracing/otlp.ts).
    const tracing = startOtlpTracing(process.env, `crossbus-${command}`);
    try {
      return await cmd.run(rest);
    } finally {
      await tracing?.shutdown();
    }
  } catch (err) {
    if (isUsageError(err)) {
      const known = command !== undefined && COMMANDS[command] !== undefined ? command : undefined;
      process.stderr.write(usageErrorText(known, (err as Error).message));
      return EXIT_USAGE;
    }
    if (err instanceof CliError) process.stderr.write(`crossbus: ${err.message}\n`);
    else if (err instanceof CrossbusError) process.stderr.write(`crossbus: ${err.message} (${err.code})\n`);
    else process.stderr.write(`crossbus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  if (code !== 0 || process.argv[2] !== 'hub') setTimeout(() => process.exit(code), 50).unref();
});
