/**
 * The hub's log as an operator meets it: JSON lines on stderr by default off a terminal, the first
 * line naming the version and pid; `--log-format pretty` for people; bad flags are usage errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli, startHubProcess, REPO_ROOT } from '../helpers/hub-process.js';
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
    assert.equal(first?.msg, 'crossbus hub starting');
    assert.equal(first?.version, VERSION);
    assert.equal(first?.pid, hub.proc.pid);
    assert.equal(first?.level, 'info');
    assert.ok(lines.some((l) => l.msg === 'SIGTERM: draining and shutting down'));
  });

  test('--log-format pretty writes lines for people; --log-level warn leaves info out', T, async () => {
    const pretty = await startHubProcess(['--log-format', 'pretty']);
    await pretty.stop();
    assert.match(pretty.stderr(), /INFO.*crossbus hub starting/);
    assert.match(pretty.stderr(), new RegExp(`version: "${VERSION.replace(/\./g, '\\.')}"`));
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
