#!/usr/bin/env node
import { connect } from '../node/index.js';
import { VERSION } from '../node/version.js';
import { CrossbusError } from '../core/errors/index.js';
import { cliLogger } from './logger.js';
import { auditCommand } from './commands/audit.js';
import { pubCommand, requestCommand, subCommand, PUB_HELP, REQUEST_HELP, SUB_HELP } from './commands/client.js';
import { demoCommand } from './commands/demo.js';
import { consentCommand } from './commands/consent.js';
import { hubCommand, HUB_HELP } from './commands/hub.js';
import { keysCommand, reloadCommand } from './commands/admin.js';
import { resolveCredentials } from './credentials.js';
import { dlqCommand } from './commands/dlq.js';
import { streamCommand } from './commands/stream.js';
import { STREAM_CLI_APP, type ClientFlags, type StreamIo } from './commands/streams.js';
import type { StreamsClient } from './commands/streams-api.js';
import { UsageError, helpRows, isUsageError, usageErrorText } from './options.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../hub/defaults.js';
import { DEFAULT_EDITOR_PORT, DEFAULT_URL } from './defaults.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../client/defaults.js';

const MAIN_HELP = `crossbus: a secure message bus for applications that live apart

Usage:
${helpRows([
  [`crossbus hub [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--data <dir>]`, 'start a hub'],
  ['crossbus demo', `a hub plus the demo (editor on http://localhost:${DEFAULT_EDITOR_PORT})`],
  [`crossbus pub <topic> [data] [--url ${DEFAULT_URL}]`, 'publish one message'],
  ['crossbus sub <pattern> [--count N] [--url ...]', 'print messages as JSON lines'],
  [`crossbus request <topic> [data] [--timeout ${DEFAULT_REQUEST_TIMEOUT_MS}] [--url ...]`, 'send a request, print the reply'],
  ['crossbus reload [--data <dir>]', 'make the hub re-read its config'],
  ['crossbus keys rotate <app>', 'add a fresh secret for an app'],
  ['crossbus consent list|grant|deny|revoke', "answer the hub's consent requests"],
  ['crossbus audit verify|tail', 'check or read the audit log'],
  ['crossbus stream ls|info|replay|purge', 'manage durable streams'],
  ['crossbus dlq ls|replay <stream>', "list or republish a stream's dead letters"],
])}

Run 'crossbus <command> --help' for a command's options.`;

/** `crossbus help <command>` and `crossbus <command> --help` for the commands main.ts routes itself. */
const HELP: Record<string, string> = { main: MAIN_HELP, hub: HUB_HELP, pub: PUB_HELP, sub: SUB_HELP, request: REQUEST_HELP };

function help(topic: string): number {
  process.stdout.write(`${HELP[topic] ?? HELP.main}\n`);
  return 0;
}

const stdio = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) };

/** For stream and dlq: output that may be large (waits for a slow reader), and the progress bar on stderr. */
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
  return connect(flags.url ?? DEFAULT_URL, { ...(await resolveCredentials(flags, STREAM_CLI_APP)), reconnect: false });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'hub':
        return await hubCommand(rest);
      case 'demo':
        return await demoCommand(rest, cliLogger(), (line) => void process.stdout.write(`${line}\n`));
      case 'pub':
        return await pubCommand(rest);
      case 'sub':
        return await subCommand(rest);
      case 'request':
        return await requestCommand(rest);
      case 'reload':
        return await reloadCommand(rest, stdio);
      case 'keys':
        return await keysCommand(rest, stdio);
      case 'consent':
        return await consentCommand(rest, stdio);
      case 'audit':
        return await auditCommand(rest, stdio);
      case 'stream':
        return await streamCommand(rest, streamIo, openStreamsClient);
      case 'dlq':
        return await dlqCommand(rest, streamIo, openStreamsClient);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        return help(rest[0] ?? 'main');
      case '--version':
      case '-v':
        process.stdout.write(`crossbus ${VERSION}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (isUsageError(err)) {
      process.stderr.write(
        usageErrorText(command !== undefined && HELP[command] !== undefined ? command : undefined, (err as Error).message),
      );
      return 2;
    }
    if (err instanceof CrossbusError) {
      process.stderr.write(`crossbus: ${err.message} (${err.code})\n`);
      return 1;
    }
    process.stderr.write(`crossbus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  if (code !== 0 || process.argv[2] !== 'hub') setTimeout(() => process.exit(code), 50).unref();
});
