/**
 * The command line as a whole (the built CLI against a REAL hub process): help for every command,
 * did-you-mean, exit codes, the environment variables, secrets only from files, credential errors
 * in CLI terms, pub's confirmations, the one JSON payload shape, reply and stats.
 * Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../../src/node/index.js';
import { runCli, spawnCli, startHubProcess, type CliProcess, type HubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { secret as newSecret } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 30_000 };
/** No CROSSBUS_* from the environment the tests run in. */
const CLEAN = { CROSSBUS_URL: undefined, CROSSBUS_NAME: undefined, CROSSBUS_SECRET_FILE: undefined };

let hub: HubProcess;
let bus: Bus;
/** Files holding the secrets of apps test (may do anything) and orders (no request grant on $SYS). */
let testSecretFile: string;
let ordersSecretFile: string;

const creds = (): string[] => ['--url', hub.url, '--name', 'test', '--secret-file', testSecretFile];
const cli = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, 15_000, { env: { ...CLEAN, ...env } });

/** Starts a long-running command and waits for the line it prints on stderr once it is ready. */
async function ready(args: string[], line: string): Promise<CliProcess> {
  const p = spawnCli(args, { env: CLEAN });
  await until(() => p.stderr().includes(line) || p.proc.exitCode !== null, 10_000, `${args[0]} to be ready (stderr: ${p.stderr()})`);
  assert.equal(p.proc.exitCode, null, p.stderr());
  return p;
}

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  hub = await startHubProcess();
  bus = await openBus(hub.url, { reconnect: false });
  testSecretFile = join(hub.dataDir, 'test.secret');
  ordersSecretFile = join(hub.dataDir, 'orders.secret');
  writeFileSync(testSecretFile, `${hub.config!.apps.test.secret}\n`, { mode: 0o600 });
  writeFileSync(ordersSecretFile, hub.config!.apps.orders.secret, { mode: 0o600 });
});

after(async () => {
  await closeBus(bus);
  await hub?.stop();
});

describe('help, did-you-mean and exit codes', () => {
  const COMMANDS = [
    'hub',
    'demo',
    'pub',
    'sub',
    'request',
    'reply',
    'stats',
    'stream',
    'consumer',
    'dlq',
    'deploy',
    'reload',
    'keys',
    'consent',
    'audit',
  ];

  test('every command has help, as `crossbus help <cmd>` and `crossbus <cmd> --help`, the same text, exit 0', T, async () => {
    const main = await cli(['--help']);
    assert.equal(main.code, 0);
    for (const cmd of COMMANDS) assert.match(main.stdout, new RegExp(`\\n {2}crossbus ${cmd}\\b`), `main help lists ${cmd}`);
    assert.match(main.stdout, /CROSSBUS_URL .*\n {2}CROSSBUS_NAME .*\n {2}CROSSBUS_SECRET_FILE /);
    assert.match(main.stdout, /Exit codes:\n {2}0 +success\n {2}1 +failure.*\n {2}2 +usage/);
    // Four processes at a time: 28 at once on a loaded 2-core machine outlast the per-run timeout.
    const argvs = COMMANDS.flatMap((cmd) => [
      ['help', cmd],
      [cmd, '--help'],
    ]);
    const runs: Array<Awaited<ReturnType<typeof cli>>> = [];
    for (let i = 0; i < argvs.length; i += 4) runs.push(...(await Promise.all(argvs.slice(i, i + 4).map((a) => cli(a)))));
    COMMANDS.forEach((cmd, i) => {
      const [viaHelp, viaFlag] = [runs[2 * i]!, runs[2 * i + 1]!];
      assert.equal(viaHelp.code, 0, `help ${cmd}: ${viaHelp.stderr}`);
      assert.equal(viaFlag.code, 0, `${cmd} --help: ${viaFlag.stderr}`);
      assert.match(viaHelp.stdout, /^Usage:/, cmd);
      assert.equal(viaHelp.stdout, viaFlag.stdout, cmd);
    });
    // Every client command lists the environment variables it reads.
    for (const cmd of ['pub', 'sub', 'request', 'reply', 'stats', 'stream', 'consumer', 'dlq', 'deploy']) {
      const text = runs[2 * COMMANDS.indexOf(cmd)]!.stdout;
      assert.match(text, /CROSSBUS_URL/, cmd);
      assert.match(text, /--secret-file <path>.*\n?.*CROSSBUS_SECRET_FILE/, cmd);
      assert.doesNotMatch(text, /--secret </, `${cmd} offers no --secret`);
    }
  });

  test('an unknown command or flag: exit 2, our words, the closest name', T, async () => {
    const cases: Array<[string[], RegExp]> = [
      [['pbu', 'x'], /^crossbus: unknown command "pbu" \(did you mean pub\?\)\nRun 'crossbus --help' for usage\.\n$/],
      [['help', 'strem'], /unknown command "strem" \(did you mean stream\?\)/],
      [
        ['sub', 'x', '--cuont', '2'],
        /^crossbus: unknown option --cuont \(did you mean --count\?\)\nRun 'crossbus sub --help' for usage\.\n$/,
      ],
      [['stream', 'ls', '--jsn'], /unknown option --jsn \(did you mean --json\?\)/],
      [['consumer', 'lss', 'X'], /unknown consumer subcommand "lss" \(did you mean ls\?\)/],
      [['pub', 'x', '--url'], /--url needs a value/],
      [['stats', '--xyzzy-plugh'], /^crossbus: unknown option --xyzzy-plugh\n/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    cases.forEach(([args, re], i) => {
      const r = runs[i]!;
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stderr, /ERR_PARSE_ARGS|To specify a positional/, 'not node parseArgs words');
      assert.equal(r.stdout, '');
    });
  });

  test('exit 0 on success, 1 on a failure, 2 on a usage error', T, async () => {
    const [ok, failure, usage] = await Promise.all([
      cli(['pub', 'exit.ok', '1', ...creds()]),
      cli(['request', 'nobody.serves.this', '--timeout', '2000', ...creds()]),
      cli(['pub', ...creds()]),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, /CB_ERR_NO_RESPONDERS/);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /pub takes <topic> \[data\]/);
  });
});

describe('credentials: files and the environment, never the command line', () => {
  test('--secret is refused (exit 2) without echoing the secret; it says to use --secret-file', T, async () => {
    const secret = hub.config!.apps.test.secret;
    for (const args of [
      ['pub', 'x.y', '1', '--secret', secret],
      ['pub', 'x.y', '1', `--secret=${secret}`],
      ['stream', 'ls', '--secret', secret],
    ]) {
      const r = await cli([...args, '--url', hub.url]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /--secret is not accepted.*--secret-file <path>.*CROSSBUS_SECRET_FILE/);
      assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'the secret is not echoed');
    }
  });

  test('CROSSBUS_URL, CROSSBUS_NAME and CROSSBUS_SECRET_FILE stand in for --url, --name and --secret-file', T, async () => {
    const env = { CROSSBUS_URL: hub.url, CROSSBUS_NAME: 'test', CROSSBUS_SECRET_FILE: testSecretFile };
    const r = await cli(['pub', 'env.works', '{"a":1}'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'published 1 message to env.works (7 B)\n');
    // The environment reaches the stream commands and stats too.
    assert.equal((await cli(['stream', 'ls'], env)).code, 0);
    assert.equal((await cli(['stats', '--json'], env)).code, 0);
    // A flag wins over the environment.
    const wrongUrl = await cli(['pub', 'env.works', '1', '--url', 'ws://127.0.0.1:1'], env);
    assert.equal(wrongUrl.code, 1);
    assert.match(wrongUrl.stderr, /cannot reach a hub at ws:\/\/127\.0\.0\.1:1: is it running\? \(--url or CROSSBUS_URL\)/);
  });

  test('a refused secret is explained in CLI terms: which file to check; the secret never shows', T, async () => {
    const wrong = newSecret();
    const wrongFile = join(hub.dataDir, 'wrong.secret');
    writeFileSync(wrongFile, wrong);
    const viaFlag = await cli(['pub', 'x.y', '1', '--url', hub.url, '--name', 'test', '--secret-file', wrongFile]);
    assert.equal(viaFlag.code, 1);
    assert.equal(
      viaFlag.stderr,
      `crossbus: the hub refused the secret for app "test": check --secret-file (${wrongFile}); or name another app with --name or CROSSBUS_NAME (CB_ERR_AUTH_FAILED)\n`,
    );
    const viaEnv = await cli(['pub', 'x.y', '1', '--url', hub.url, '--name', 'test'], { CROSSBUS_SECRET_FILE: wrongFile });
    assert.match(viaEnv.stderr, /check CROSSBUS_SECRET_FILE \(.*wrong\.secret\)/);
    for (const r of [viaFlag, viaEnv]) assert.ok(!r.stderr.includes(wrong), 'the secret is not in the message');

    const missing = await cli(['pub', 'x.y', '1', '--url', hub.url, '--secret-file', join(hub.dataDir, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read the secret file .*nope \(--secret-file\): no such file/);
    const notASecret = join(hub.dataDir, 'short.secret');
    writeFileSync(notASecret, 'hunter2');
    const short = await cli(['pub', 'x.y', '1', '--url', hub.url, '--secret-file', notASecret]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /does not hold a secret: base64 of at least 32 bytes/);
    assert.ok(!short.stderr.includes('hunter2'));

    const unknownApp = await cli(['pub', 'x.y', '1', '--url', hub.url, '--data', hub.dataDir, '--name', 'nobody']);
    assert.equal(unknownApp.code, 1);
    assert.match(unknownApp.stderr, /app "nobody" is not in .*crossbus\.config\.json: pass --name or set CROSSBUS_NAME\n$/);
  });
});

describe('pub, sub and request', () => {
  test('pub --header --count: a counter in the data, headers on every message, one confirmation', T, async () => {
    const sub = await ready(['sub', 'count.>', '--count', '3', '--json', ...creds()], 'subscribed to count.>');
    const r = await cli(['pub', 'count.x', '{"n":{{n}}}', '--count', '3', '--header', 'trace=abc', '--header', 'k=v=w', ...creds()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'published 3 messages to count.x (21 B)\n');
    const exit = await sub.exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(
      jsonLines(exit.stdout),
      [1, 2, 3].map((n) => ({ topic: 'count.x', headers: { trace: 'abc', k: 'v=w' }, data: { n } })),
    );
    const bad = await cli(['pub', 'count.x', '1', '--header', 'novalue', ...creds()]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--header takes key=value, got "novalue"/);
  });

  test('pub --durable says where the hub stored it; --json gives the acks', T, async () => {
    await bus.streams.create({ name: 'PUBCLI', topics: ['pubcli.>'] });
    const r = await cli(['pub', 'pubcli.a', '{"x":1}', '--durable', ...creds()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'published 1 message to pubcli.a (7 B): stream PUBCLI seq 1\n');
    const j = await cli(['pub', 'pubcli.a', 'x', '--durable', '--count', '2', '--msg-id', 'id-{{n}}', '--json', ...creds()]);
    assert.deepEqual(JSON.parse(j.stdout), {
      topic: 'pubcli.a',
      messages: 2,
      bytes: 6,
      acks: [
        { stream: 'PUBCLI', seq: 2, duplicate: false },
        { stream: 'PUBCLI', seq: 3, duplicate: false },
      ],
    });
    const again = await cli(['pub', 'pubcli.a', 'x', '--durable', '--msg-id', 'id-1', ...creds()]);
    assert.match(again.stdout, /stream PUBCLI seq 2; 1 duplicate \(msgId seen before, not stored again\)\n$/);
  });

  test('sub --json: JSON payloads as "data", binary as "data_b64"; without --json, readable lines', T, async () => {
    const json = await ready(['sub', 'shape.>', '--count', '3', '--json', ...creds()], 'subscribed to');
    const text = await ready(['sub', 'shape.>', '--count', '3', ...creds()], 'subscribed to');
    await bus.publish('shape.json', { a: [1, 2] });
    await bus.publish('shape.text', 'plain text', { headers: { h: '1' } });
    await bus.publish('shape.bin', new Uint8Array([0, 1, 254, 255]));
    const [j, t] = await Promise.all([json.exited, text.exited]);
    assert.deepEqual(jsonLines(j.stdout), [
      { topic: 'shape.json', headers: {}, data: { a: [1, 2] } },
      { topic: 'shape.text', headers: { h: '1' }, data: 'plain text' },
      { topic: 'shape.bin', headers: {}, data_b64: 'AAH+/w==' },
    ]);
    assert.equal(t.stdout, '[#1] shape.json {"a":[1,2]}\n[#2] shape.text plain text\n  h: 1\n[#3] shape.bin <4 bytes: AAH+/w==>\n');
  });

  test('sub --timeout: stops after it; with --count not reached, exit 1', T, async () => {
    const [short, plain] = await Promise.all([
      cli(['sub', 'never.>', '--count', '1', '--timeout', '200', ...creds()]),
      cli(['sub', 'never.>', '--timeout', '200', ...creds()]),
    ]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /timed out after 200 ms with 0 of 1 messages/);
    assert.equal(plain.code, 0, plain.stderr);
  });

  test('request --header --json: the reply with its headers; binary as data_b64', T, async () => {
    await bus.subscribe('req.bytes', (m) => void m.respond(new Uint8Array([9, 8, 7]), { echoed: m.headers.h ?? '' })).ready;
    const r = await cli(['request', 'req.bytes', '--header', 'h=hello', '--json', ...creds()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { headers: { echoed: 'hello' }, data_b64: 'CQgH' });
  });
});

describe('reply: serving requests from the shell', () => {
  test('--command: the data on stdin, stdout is the reply; --count ends it', T, async () => {
    const server = await ready(['reply', 'svc.upper', '--command', 'tr a-z A-Z', '--count', '2', ...creds()], 'serving svc.upper');
    assert.equal(await bus.request('svc.upper', 'hello'), 'HELLO');
    assert.deepEqual(await bus.request('svc.upper', { k: 'v' }), { K: 'V' });
    const exit = await server.exited;
    assert.equal(exit.code, 0, exit.stderr);
  });

  test('a failing command answers with an error reply; a slow one is killed at --timeout', T, async () => {
    const failing = await ready(['reply', 'svc.fail', '--command', 'echo broken >&2; exit 3', '--count', '1', ...creds()], 'serving');
    await assert.rejects(bus.request('svc.fail', 'x'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CB_ERR_HANDLER_FAILED');
      assert.match(err.message, /the command exited with code 3: broken/);
      return true;
    });
    assert.equal((await failing.exited).code, 0);
    const slow = await ready(['reply', 'svc.slow', '--command', 'sleep 30', '--timeout', '200', '--count', '1', ...creds()], 'serving');
    const started = Date.now();
    await assert.rejects(
      bus.request('svc.slow', 'x', { timeoutMs: 10_000 }),
      (err: Error & { code?: string }) => err.code === 'CB_ERR_TIMEOUT',
    );
    assert.ok(Date.now() - started < 5_000, 'killed at the timeout, not at sleep 30');
    assert.equal((await slow.exited).code, 0);
  });

  test('--concurrency bounds the commands running at once', T, async () => {
    const marks = join(hub.dataDir, 'marks');
    writeFileSync(marks, '');
    // Each run notes when it starts and ends; with --concurrency 1 no two overlap.
    const cmd = `echo start >> ${marks}; sleep 0.1; echo end >> ${marks}; cat`;
    const server = await ready(['reply', 'svc.one', '--command', cmd, '--concurrency', '1', '--count', '3', ...creds()], 'serving');
    const replies = await Promise.all([1, 2, 3].map((n) => bus.request('svc.one', n)));
    assert.deepEqual(replies, [1, 2, 3]);
    assert.equal((await server.exited).code, 0);
    assert.equal(readFileSync(marks, 'utf8'), 'start\nend\n'.repeat(3));
  });

  test(
    '--echo answers with the request itself (headers too); [data] answers with a fixed reply; --json lists the requests',
    T,
    async () => {
      const echo = await ready(['reply', 'svc.echo', '--echo', '--count', '1', '--json', ...creds()], 'serving');
      const reply = await bus.requestMessage('svc.echo', { q: 1 }, { headers: { h: 'v' } });
      assert.deepEqual([reply.data, reply.headers.h], [{ q: 1 }, 'v']);
      const e = await echo.exited;
      assert.deepEqual(jsonLines(e.stdout), [{ topic: 'svc.echo', headers: { h: 'v' }, data: { q: 1 } }]);
      const fixed = await ready(['reply', 'svc.fixed', '{"ok":true}', '--count', '1', ...creds()], 'serving');
      assert.deepEqual(await bus.request('svc.fixed'), { ok: true });
      assert.equal((await fixed.exited).code, 0);
      const both = await cli(['reply', 'svc.x', '--echo', '--command', 'cat', ...creds()]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /reply answers with one of: \[data\], --command "<shell cmd>" or --echo/);
    },
  );
});

describe('stats', () => {
  test('an admin app gets the table and --json; rates over --interval', T, async () => {
    const table = await cli(['stats', ...creds()]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Hub \S+, up .+ \(rates: averages since start\)\n/);
    assert.match(table.stdout, /\n {2}connections +\d+ +\n/);
    assert.match(table.stdout, /\n {2}messages in +\d+ +[\d.]+\/s\n/);
    assert.match(table.stdout, /\nStreams \(\d+\):\n/);
    const r = await cli(['stats', '--json', '--interval', '300', ...creds()]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as {
      stats: { connections: number; messagesIn: number; uptimeMs: number; connectionList: Array<{ name: string }>; streams: unknown[] };
      rates: { messagesIn: number; bytesOut: number };
      rateWindowMs: number;
    };
    assert.ok(j.stats.connections >= 2, 'the test bus and the CLI itself');
    assert.ok(j.stats.connectionList.some((c) => c.name === 'test'));
    assert.ok(j.stats.uptimeMs > 0);
    assert.ok(j.rateWindowMs >= 300, String(j.rateWindowMs));
    assert.equal(typeof j.rates.messagesIn, 'number');
  });

  test('an app without a request grant on $SYS.REQ.STATS is refused (exit 1), told what it needs', T, async () => {
    const r = await cli(['stats', '--url', hub.url, '--name', 'orders', '--secret-file', ordersSecretFile]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CB_ERR_FORBIDDEN/);
    assert.match(r.stderr, /stats needs an app with a request grant on \$SYS\.REQ\.STATS/);
  });

  test('a subscriber to the reserved topic never sees stats requests: the hub answers them itself', T, async () => {
    const spy = bus.subscribe('$SYS.>');
    await spy.ready;
    let seen = 0;
    void (async () => {
      for await (const _ of spy) seen++;
    })();
    const r = await cli(['stats', '--json', ...creds()]);
    assert.equal(r.code, 0, r.stderr);
    // A positive signal that the hub processed everything before: a publish the spy does see.
    await bus.publish('$SYS.marker', 1);
    await until(() => seen >= 1, 5_000, 'the marker');
    assert.equal(seen, 1, 'only the marker');
    spy.unsubscribe();
  });
});
