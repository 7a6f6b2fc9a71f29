/**
 * The command line (`node dist/cli/main.js`): help, usage errors, a port conflict, and the
 * pub / sub / request commands against a real hub process. Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';

/** The CLI reads app `test`'s secret from the hub's config in its data directory. */
const creds = (): string[] => ['--data', hub.dataDir, '--name', 'test'];
import { openBus, closeBus } from '../helpers/buses.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 20_000 };

let hub: HubProcess;

before(async () => {
  hub = await startHubProcess();
});

after(async () => {
  await hub?.stop();
});

/** Parses the JSON lines a `sub` printed. */
function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

describe('help and usage errors', () => {
  test('--help, hub --help, pub --help, sub --help, request --help exit 0 and print usage', T, async () => {
    const main = await runCli(['--help']);
    assert.equal(main.code, 0);
    assert.match(main.stdout, /Usage:/);
    for (const cmd of ['hub', 'pub', 'sub', 'request'])
      assert.match(main.stdout, new RegExp(`crossbus ${cmd}\\b`), `main help lists ${cmd}`);
    assert.equal(main.stderr, '');

    const hubHelp = await runCli(['hub', '--help']);
    assert.equal(hubHelp.code, 0);
    assert.match(hubHelp.stdout, /^Usage: crossbus hub/);
    assert.match(hubHelp.stdout, /--port/);
    assert.match(hubHelp.stdout, /--host/);

    const pubHelp = await runCli(['pub', '--help']);
    assert.equal(pubHelp.code, 0);
    assert.match(pubHelp.stdout, /^Usage: crossbus pub <topic>/);

    for (const cmd of ['sub', 'request']) {
      const r = await runCli([cmd, '-h']);
      assert.equal(r.code, 0, `${cmd} -h`);
      assert.match(r.stdout, new RegExp(`^Usage: crossbus ${cmd}`));
    }
    const bare = await runCli([]);
    assert.equal(bare.code, 0);
    assert.match(bare.stdout, /Usage:/);
  });

  test('--version prints the version', T, async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^crossbus \d+\.\d+\.\d+/);
  });

  test('hub --bogus exits 2 with a clear message on stderr', T, async () => {
    const r = await runCli(['hub', '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --bogus/);
    assert.match(r.stderr, /crossbus hub --help/);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('an unknown command exits 2', T, async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  test('hub --port 70000 exits non-zero with a clear message', T, async () => {
    const r = await runCli(['hub', '--port', '70000']);
    assert.notEqual(r.code, 0);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port must be an integer in 0\.\.65535, got "70000"/);
    assert.doesNotMatch(r.stdout, /listening/);
    for (const bad of ['-1', 'abc', '1.5']) {
      const rr = await runCli(['hub', `--port=${bad}`]);
      assert.equal(rr.code, 2, `--port=${bad}`);
      assert.match(rr.stderr, /--port must be an integer/);
    }
  });

  test('hub --max-duplicate-ids below 1 exits 2; the help lists it', T, async () => {
    for (const bad of ['0', '-5', 'many']) {
      const r = await runCli(['hub', '--port', '0', `--max-duplicate-ids=${bad}`]);
      assert.equal(r.code, 2, `--max-duplicate-ids=${bad}`);
      assert.match(r.stderr, /--max-duplicate-ids must be an integer/);
      assert.doesNotMatch(r.stdout, /listening/);
    }
    assert.match((await runCli(['hub', '--help'])).stdout, /--max-duplicate-ids <n> .*\(default 100000\)/);
  });

  test('hub --log-level loud exits 2', T, async () => {
    const r = await runCli(['hub', '--port', '0', '--log-level', 'loud']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--log-level must be/);
  });

  test('port in use: a second hub on the same port fails and the first keeps serving', T, async () => {
    const r = await runCli(['hub', '--host', '127.0.0.1', '--port', String(hub.port), '--data', hub.dataDir]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /listening/);
    assert.equal(hub.alive(), true);
    const bus = await openBus(hub.url, { reconnect: false });
    await closeBus(bus);
  });

  test('port in use: exits 1 with "already in use" and CB_ERR_ADDRESS_IN_USE on stderr', {
    ...T,
  }, async () => {
    // Its own data folder: the running hub's is locked (that refusal has its own test).
    const dataDir = mkdtempSync(join(tmpdir(), 'crossbus-port-'));
    const r = await runCli(['hub', '--host', '127.0.0.1', '--port', String(hub.port), '--data', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already in use/);
    assert.match(r.stderr, /CB_ERR_ADDRESS_IN_USE/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('pub / sub / request against a hub process', () => {
  test('sub <pattern> --count 1 --json prints the message from pub <topic> \'{"a":1}\' as a JSON line and exits 0', T, async () => {
    const sub = spawnCli(['sub', 'cli.>', '--count', '1', '--json', '--url', hub.url, ...creds()]);
    await until(
      () => sub.stderr().includes('subscribed to cli.>') || sub.proc.exitCode !== null,
      10_000,
      `sub to be subscribed (stderr: ${sub.stderr()})`,
    );
    const pub = await runCli(['pub', 'cli.test', '{"a":1}', '--url', hub.url, ...creds()]);
    assert.equal(pub.code, 0, `pub stderr: ${pub.stderr}`);
    assert.equal(pub.stdout, 'published 1 message to cli.test (7 B)\n');
    const exit = await sub.exited;
    assert.equal(exit.code, 0, `sub stderr: ${exit.stderr}`);
    const lines = jsonLines(exit.stdout);
    assert.deepEqual(lines, [{ topic: 'cli.test', data: { a: 1 }, headers: {} }]);
  });

  test('pub sends non-JSON text as a string and sub --count 2 waits for two', T, async () => {
    const sub = spawnCli(['sub', 'cli2.*', '--count', '2', '--json', '--url', hub.url, ...creds()]);
    await until(
      () => sub.stderr().includes('subscribed to') || sub.proc.exitCode !== null,
      10_000,
      `sub to be subscribed (stderr: ${sub.stderr()})`,
    );
    assert.equal((await runCli(['pub', 'cli2.a', 'hello world', '--url', hub.url, ...creds()])).code, 0);
    assert.equal((await runCli(['pub', 'cli2.b', '[1,2]', '--url', hub.url, ...creds()])).code, 0);
    const exit = await sub.exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(jsonLines(exit.stdout), [
      { topic: 'cli2.a', data: 'hello world', headers: {} },
      { topic: 'cli2.b', data: [1, 2], headers: {} },
    ]);
  });

  test('request prints the reply of a service registered by an in-test client', T, async () => {
    const service = await openBus(hub.url, { name: 'cli-service' });
    try {
      const seen: unknown[] = [];
      await service.serve<{ sku: string }>('cli.pricing.quote', (m) => {
        seen.push(m.data);
        return { price: 3, sku: m.data.sku };
      }).ready;
      const r = await runCli(['request', 'cli.pricing.quote', '{"sku":"A1"}', '--timeout', '3000', '--url', hub.url, ...creds()]);
      assert.equal(r.code, 0, `stderr: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout), { price: 3, sku: 'A1' });
      assert.deepEqual(seen, [{ sku: 'A1' }]);
    } finally {
      await closeBus(service);
    }
  });

  test('request to a topic nobody serves exits 1 with CB_ERR_NO_RESPONDERS on stderr', T, async () => {
    const started = Date.now();
    const r = await runCli(['request', 'nobody.home', '{}', '--timeout', '5000', '--url', hub.url, ...creds()]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CB_ERR_NO_RESPONDERS/);
    assert.equal(r.stdout, '');
    assert.ok(Date.now() - started < 4_000, 'did not wait for the timeout');
  });

  test('request with a service that never answers exits 1 with CB_ERR_TIMEOUT', T, async () => {
    const service = await openBus(hub.url, { name: 'cli-silent' });
    try {
      await service.serve('cli.silent', () => new Promise(() => {})).ready;
      const r = await runCli(['request', 'cli.silent', '--timeout', '300', '--url', hub.url, ...creds()]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CB_ERR_TIMEOUT/);
    } finally {
      await closeBus(service);
    }
  });

  test('pub to a hub that is not there exits 1 with CB_ERR_CONNECTION_FAILED', T, async () => {
    const r = await runCli(['pub', 'x.y', '1', '--url', 'ws://127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CB_ERR_CONNECTION_FAILED/);
  });

  test('pub with an invalid topic exits 1 with CB_ERR_TOPIC_INVALID', T, async () => {
    const r = await runCli(['pub', 'a.*', '1', '--url', hub.url, ...creds()]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CB_ERR_TOPIC_INVALID/);
  });
});
