/** `crossbus hub` with a config file holding three mistakes: every one reported in one run, exit 1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/hub-process.js';

test('a hub config with three mistakes reports all three, with the file and paths', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-config-'));
  const file = join(dir, 'hub.yaml');
  const secret = Buffer.alloc(32, 9).toString('base64');
  writeFileSync(
    file,
    [
      '$schema: ./node_modules/crossbus/docs/hub-config.schema.json',
      'apps:',
      '  orders:',
      `    secret: ${secret}`,
      '    rols: [x]',
      'limits:',
      '  rate: { perSecond: -1, burst: 10 }',
      'security:',
      '  encryption: sometimes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const r = await runCli(['hub', '--port', '0', '--data', dir, '--config', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 3 problems:`));
  for (const path of ['apps.orders.rols', 'limits.rate.perSecond', 'security.encryption'])
    assert.match(r.stderr, new RegExp(`\\n {2}${path.replace(/\./g, '\\.')}: `));
  assert.ok(!r.stderr.includes(secret), 'no secret in the error');
  assert.match(r.stderr, /CB_ERR_CONFIG_INVALID/);
});
