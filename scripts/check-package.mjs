#!/usr/bin/env node
/**
 * Checks the package as it would be published, from one `npm pack` of the built repository
 * (run `npm run build` first; `npm test` does):
 *   - attw (Are the Types Wrong?) with the esm-only profile: every entry resolves to declarations
 *     that match its code under node16 and bundler resolution (CommonJS `require` is not offered);
 *   - publint, strict, with every message (suggestions too) counted as a problem;
 *   - `npm publish --dry-run`: npm must not have to correct or warn about anything.
 * Exits 1 on the first kind of problem it finds, printing what each tool said.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = fileURLToPath(new URL('..', import.meta.url));
// The CLI's own file: the package exports no path to it.
const ATTW = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
const problems = [];

const dir = mkdtempSync(join(tmpdir(), 'crossbus-check-'));
try {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }),
  );
  const tarball = join(dir, packed.filename);

  const attw = spawnSync(process.execPath, [ATTW, tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color'], {
    encoding: 'utf8',
  });
  if (attw.status !== 0) problems.push(`attw --profile esm-only:\n${attw.stdout}${attw.stderr}`);

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lint = await publint({ pkgDir: 'package', pack: { tarball: readFileSync(tarball).buffer }, strict: true, level: 'suggestion' });
  if (lint.messages.length > 0)
    problems.push(`publint --strict:\n${lint.messages.map((m) => `  ${m.type}: ${formatMessage(m, pkg, { color: false })}`).join('\n')}`);

  // --offline: nothing is sent anywhere. npm's note that a real publish needs a login is expected.
  const publish = spawnSync('npm', ['publish', '--dry-run', '--ignore-scripts', '--offline'], { cwd: root, encoding: 'utf8' });
  const warnings = `${publish.stdout}\n${publish.stderr}`
    .split('\n')
    .filter((line) => /^npm (warn|error|ERR)/i.test(line) && !/requires you to be logged in/.test(line));
  if (publish.status !== 0 || warnings.length > 0) problems.push(`npm publish --dry-run:\n${warnings.join('\n') || publish.stderr}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (problems.length > 0) {
  process.stderr.write(`check-package: problems with the package\n\n${problems.join('\n\n')}\n`);
  process.exit(1);
}
process.stdout.write('check-package: attw (esm-only), publint --strict and npm publish --dry-run are clean\n');
