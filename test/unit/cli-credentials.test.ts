/** Where the CLI takes a secret from: a file (flag or CROSSBUS_SECRET_FILE), never the environment itself; the hub's address without credentials. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCredentials } from '../../src/cli/credentials.js';
import { CliError } from '../../src/cli/options.js';
import { hubLabel } from '../../src/cli/client-connection.js';

const SECRET = Buffer.alloc(32, 5).toString('base64');

test('CROSSBUS_SECRET is refused with a pointer to CROSSBUS_SECRET_FILE, and the secret is not echoed', async () => {
  process.env.CROSSBUS_SECRET = SECRET;
  try {
    await assert.rejects(
      resolveCredentials({ name: 'a' }),
      (e: unknown) => e instanceof CliError && /CROSSBUS_SECRET_FILE/.test(e.message) && !e.message.includes(SECRET),
    );
  } finally {
    delete process.env.CROSSBUS_SECRET;
  }
});

test('CROSSBUS_SECRET_FILE is read; a bad file is named without its content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-cred-'));
  const file = join(dir, 'secret');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
  process.env.CROSSBUS_SECRET_FILE = file;
  try {
    const c = await resolveCredentials({ name: 'a' });
    assert.equal(c.secret, SECRET);
    assert.deepEqual(c.source, { kind: 'secret-file', path: file, fromEnv: true });
    writeFileSync(file, 'not-a-secret-at-all');
    await assert.rejects(
      resolveCredentials({ name: 'a' }),
      (e: unknown) => e instanceof CliError && e.message.includes(file) && !e.message.includes('not-a-secret-at-all'),
    );
  } finally {
    delete process.env.CROSSBUS_SECRET_FILE;
  }
});

test("the hub's address as the CLI prints it: no user, password, query or fragment", () => {
  assert.equal(hubLabel('ws://127.0.0.1:7070'), 'ws://127.0.0.1:7070');
  assert.equal(hubLabel('wss://me:hunter2@hub.example:443/bus?token=abc#x'), 'wss://hub.example/bus');
  assert.equal(hubLabel('tcp://127.0.0.1:9000'), 'tcp://127.0.0.1:9000');
  assert.equal(hubLabel('/run/crossbus.sock'), '/run/crossbus.sock', 'a socket path, as it is');
  assert.equal(hubLabel('me:hunter2@nowhere'), 'the hub given by --url', 'not a URL, but it may hold a password');
});
