/**
 * `crossbus demo` from an installed package: the files `npm pack` would put in the tarball
 * (listed by npm itself, so this follows package.json's `files`), with the repository's
 * dependencies. The demo serves examples/ and bundles it with esbuild, so it is repository-only:
 * installed, it must say so plainly and exit 1, with no stack trace and without starting a hub.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../helpers/hub-process.js';

test('crossbus demo installed from the tarball says it runs from a clone of the repository', () => {
  const listing = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files = (JSON.parse(listing) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/cli/main.js'), 'the tarball has the CLI');
  assert.ok(!files.some((f) => f.startsWith('examples/')), 'and no examples/ (this test assumes it)');
  const installed = join(mkdtempSync(join(tmpdir(), 'crossbus-installed-')), 'crossbus');
  for (const f of files) {
    mkdirSync(dirname(join(installed, f)), { recursive: true });
    cpSync(join(REPO_ROOT, f), join(installed, f));
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(installed, 'node_modules'), 'dir');
  const data = mkdtempSync(join(tmpdir(), 'crossbus-installed-data-'));
  const r = spawnSync(
    process.execPath,
    [join(installed, 'dist/cli/main.js'), 'demo', '--port', '0', '--editor-port', '0', '--preview-port', '0', '--data', data],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /crossbus demo runs from a clone of the crossbus repository/);
  assert.match(r.stderr, /npm install && npm start/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stdout, /listening/, 'no hub started');
});
