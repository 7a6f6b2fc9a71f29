/**
 * `crossbus reply <topic>`: serves requests from the shell. With --command each request's data
 * goes to a shell command's stdin and its stdout is the reply (a failing command answers with an
 * error reply); --echo answers with the request itself; [data] answers every request with it.
 */
import { spawn } from 'node:child_process';
import { HEADER_ERROR, type Message } from '../../client/index.js';
import { createError, isCrossbusError } from '../../core/errors/index.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../core/defaults.js';
import { connectClient } from '../client-connection.js';
import { UsageError, defineOptions, intOption, parseOptions } from '../options.js';
import { parseData } from '../payload-json.js';
import { DEFAULT_REPLY_CONCURRENCY, DEFAULT_REPLY_TIMEOUT_MS } from '../defaults.js';
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, clientSections, printHelp } from './client-command.js';
import { messageLine } from './sub.js';

const REPLY_OPTIONS = defineOptions({
  command: {
    type: 'string',
    placeholder: '<shell cmd>',
    description: "run this for each request: the request's data on stdin, stdout is the reply; a non-zero exit answers with an error",
  },
  echo: { type: 'boolean', description: 'answer each request with its own data and headers' },
  count: { type: 'string', placeholder: '<n>', description: 'exit after answering this many requests', default: 'no limit' },
  group: {
    type: 'string',
    placeholder: '<name>',
    description: 'the queue group: each request goes to one member',
    default: 'the topic',
  },
  concurrency: {
    type: 'string',
    placeholder: '<n>',
    description: 'commands running at once; more requests wait',
    default: DEFAULT_REPLY_CONCURRENCY,
  },
  timeout: {
    type: 'string',
    placeholder: '<ms>',
    description: 'a command still running after this long is killed and answered with CB_ERR_TIMEOUT',
    default: DEFAULT_REPLY_TIMEOUT_MS,
  },
  json: { type: 'boolean', description: 'print each request served as a JSON line on stdout (as sub --json)' },
  ...COMMON_OPTIONS,
});

export const REPLY_HELP = `Usage: crossbus reply <topic> [data | --command "<shell cmd>" | --echo] [--count N] [--group NAME]

Serves requests on <topic> (a pattern may use wildcards) until --count were answered, or SIGINT.
With --command, the request's data goes to the command's stdin (JSON as text, binary as bytes),
its topic in the environment as CROSSBUS_TOPIC; its stdout is the reply (as pub parses data:
JSON when valid, else text; bytes when not UTF-8). A command that exits non-zero, is killed or
writes more than ${DEFAULT_MAX_FRAME_BYTES} bytes answers with an error reply (CB_ERR_HANDLER_FAILED, or
CB_ERR_TIMEOUT). "serving <topic>" goes to stderr once the hub confirmed the subscription.

${clientSections(REPLY_OPTIONS)}`;

export async function replyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...REPLY_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return printHelp(REPLY_HELP);
  const [topic, data, extra] = positionals;
  if (topic === undefined || extra !== undefined) throw new UsageError('reply takes <topic> [data]');
  const modes = [values.command !== undefined, values.echo === true, data !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('reply answers with one of: [data], --command "<shell cmd>" or --echo');
  const count = intOption('count', values.count, 1, Number.MAX_SAFE_INTEGER);
  const limit = intOption('concurrency', values.concurrency, 1, 10_000) ?? DEFAULT_REPLY_CONCURRENCY;
  const timeoutMs = intOption('timeout', values.timeout, 1, 2_147_483_647) ?? DEFAULT_REPLY_TIMEOUT_MS;
  const fixed = parseData(data);
  const command = values.command;
  const slots = new Slots(limit);
  const bus = await connectClient(values);
  let started = 0;
  const inflight = new Set<Promise<void>>();
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const answer = async (msg: Message<unknown>): Promise<void> => {
    if (values.json) process.stdout.write(messageLine(msg));
    try {
      if (values.echo) await msg.respond(msg.data, { ...msg.headers });
      else if (command === undefined) await msg.respond(fixed);
      else {
        await slots.take();
        let reply: unknown;
        try {
          reply = await runCommand(command, msg, timeoutMs);
        } finally {
          slots.give();
        }
        await msg.respond(reply);
      }
    } catch (err) {
      const error = isCrossbusError(err) ? err : createError('CB_ERR_HANDLER_FAILED', err instanceof Error ? err.message : String(err));
      process.stderr.write(`crossbus reply: ${msg.topic}: ${error.message} (${error.code})\n`);
      await msg.respond(error.toJSON(), { [HEADER_ERROR]: error.code }).catch(() => {});
    }
  };
  // A subscription rather than bus.serve(): --echo answers with the request's headers too.
  const sub = bus.subscribe(
    topic,
    (msg) => {
      if (msg.replyTo === '' || (count !== undefined && started >= count)) return;
      started++;
      const done = answer(msg);
      inflight.add(done);
      void done.then(() => inflight.delete(done));
      if (count !== undefined && started >= count) {
        sub.unsubscribe();
        void done.then(finish);
      }
    },
    { group: values.group ?? topic },
  );
  await sub.ready;
  process.stderr.write(`serving ${topic}\n`);
  const stop = (): void => finish();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await finished;
  sub.unsubscribe();
  await Promise.allSettled([...inflight]);
  await bus.drain();
  return 0;
}

/** Runs the shell command for one request; resolves with the reply data, rejects with the error reply. */
function runCommand(command: string, msg: Message<unknown>, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, CROSSBUS_TOPIC: msg.topic },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: Error | undefined;
    const kill = (error: Error): void => {
      failure ??= error;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(
      () => kill(createError('CB_ERR_TIMEOUT', `the command did not finish within ${timeoutMs} ms`, { details: { timeoutMs } })),
      timeoutMs,
    );
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > DEFAULT_MAX_FRAME_BYTES)
        kill(createError('CB_ERR_HANDLER_FAILED', `the command wrote more than ${DEFAULT_MAX_FRAME_BYTES} bytes`));
      else chunks.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-500);
    });
    child.on('error', (err) => kill(createError('CB_ERR_HANDLER_FAILED', `the command could not start: ${err.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure !== undefined) return reject(failure);
      if (code !== 0) {
        const why = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        const last = stderr.trim().split('\n').pop();
        return reject(
          createError('CB_ERR_HANDLER_FAILED', `the command ${why}${last ? `: ${last}` : ''}`, { details: { exitCode: code } }),
        );
      }
      resolve(replyData(Buffer.concat(chunks)));
    });
    child.stdin.on('error', () => {}); // a command that does not read its stdin
    const data = msg.data;
    child.stdin.end(data instanceof Uint8Array ? data : data === undefined ? '' : typeof data === 'string' ? data : JSON.stringify(data));
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A command's stdout as reply data: JSON when valid, else text, else bytes; nothing for no output. */
function replyData(out: Buffer): unknown {
  if (out.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(out);
  } catch {
    return new Uint8Array(out);
  }
  return parseData(text.endsWith('\n') ? text.slice(0, -1) : text);
}

/** At most `limit` commands at once; the rest wait in arrival order. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}
