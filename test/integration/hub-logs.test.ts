/**
 * The hub's log as an operator meets it: JSON lines on stderr by default off a terminal, the first
 * line naming the version and pid; `--log-format pretty` for people; bad flags are usage errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli, startHubProcess, REPO_ROOT } from '../helpers/hub-process.js';
import { connect } from '../../src/node/index.js';
import { until } from '../helpers/wait.js';
import { join } from 'node:path';

const T = { timeout: 30_000 };
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('hub logs', () => {
  test('JSON lines by default when stderr is not a terminal; the first names version and pid', T, async () => {
    const hub = await startHubProcess();
    await hub.stop();
    const lines = jsonLines(hub.stderr());
    const first = lines[0];
    assert.equal(first?.message, 'crossbus hub starting');
    assert.equal((first?.context as { version?: string } | undefined)?.version, VERSION);
    assert.equal(first?.pid, hub.proc.pid);
    assert.equal(first?.level, 'info');
    assert.ok(lines.some((l) => l.message === 'SIGTERM: draining and shutting down'));
  });

  test("every line is the spec's LogEntry; a refused message's line names its correlation id", T, async () => {
    const hub = await startHubProcess();
    const creds = hub.credentials;
    assert.ok(creds);
    const doc = hub.config;
    const orders = doc?.apps.orders;
    assert.ok(orders);
    const bus = await connect(hub.url, { name: 'orders', secret: orders.secret, reconnect: false });
    // orders may not publish on orders.admin.>: the hub refuses, audits and logs it.
    const errors: string[] = [];
    bus.on('error', (e) => errors.push(e.error.code));
    const raw = bus as unknown as { grants: unknown };
    raw.grants = undefined; // skip the client's own check, as a misbehaving client would
    await bus.publish('orders.admin.drop', 1, { headers: { 'correlation-id': 'order-77' } }).catch(() => {});
    await until(() => hub.stderr().includes('order-77'), 10_000, 'the refusal logged');
    await bus.close();
    await hub.stop();
    const lines = jsonLines(hub.stderr());
    for (const l of lines) {
      assert.equal(typeof l.timestamp, 'number');
      assert.ok(['debug', 'info', 'warn', 'error', 'critical'].includes(String(l.level)), String(l.level));
      assert.equal(typeof l.component, 'string');
      assert.equal(typeof l.correlationId, 'string');
      assert.equal(typeof l.message, 'string');
      assert.equal(typeof l.context, 'object');
      assert.deepEqual(
        Object.keys(l).filter(
          (k) => !['timestamp', 'level', 'pid', 'component', 'correlationId', 'message', 'context', 'stackTrace'].includes(k),
        ),
        [],
      );
    }
    const refused = lines.find((l) => l.correlationId === 'order-77');
    assert.ok(refused, hub.stderr());
    assert.equal(refused.level, 'warn');
    assert.match(String(refused.message), /publish denied orders\.admin\.drop/);
    assert.ok(new Set(lines.map((l) => l.component)).size >= 2, 'parts of the hub name themselves');
    assert.equal(hub.stderr().includes(orders.secret), false, 'no secret in the log');
  });

  test('--log-format pretty writes lines for people; --log-level warn leaves info out', T, async () => {
    const pretty = await startHubProcess(['--log-format', 'pretty']);
    await pretty.stop();
    assert.match(pretty.stderr(), /INFO.*hub: crossbus hub starting/);
    assert.match(pretty.stderr(), new RegExp(`"version": "${VERSION.replace(/\./g, '\\.')}"`));
    assert.throws(() => JSON.parse(pretty.stderr().split('\n')[0] ?? ''));
    const quiet = await startHubProcess(['--log-level', 'warn']);
    await quiet.stop();
    assert.equal(jsonLines(quiet.stderr()).filter((l) => l.level === 'info').length, 0, quiet.stderr());
  });

  test('a bad --log-format or --log-level is a usage error (exit 2)', T, async () => {
    const r = await runCli(['hub', '--port', '0', '--log-format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--log-format must be json or pretty/);
    const l = await runCli(['hub', '--port', '0', '--log-level', 'loud']);
    assert.equal(l.code, 2);
    assert.match(l.stderr, /--log-level must be/);
  });
});
