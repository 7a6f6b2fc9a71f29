/**
 * The published package, from its tarball: what it holds and what it leaves out, that every
 * entry it declares is there, that importing an entry changes nothing global (what
 * `sideEffects` promises bundlers), and that its command line reports the package's version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { packAndInstall } from '../helpers/packed-package.js';

const pkg = packAndInstall();
const shipped = new Set(pkg.files);
const manifest = JSON.parse(readFileSync(join(pkg.installed, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  sideEffects: string[];
};

/** Every file path an `exports` entry names, whatever its conditions. */
function targets(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (typeof entry !== 'object' || entry === null) return [];
  return Object.values(entry).flatMap(targets);
}

test('the package holds its license, readme, changelog and security policy', () => {
  for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'SECURITY.md', 'package.json']) assert.ok(shipped.has(file), file);
  assert.match(readFileSync(join(pkg.installed, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} crossbus contributors\n/);
});

test('no test, benchmark or source files, no secrets or hub data', () => {
  const forbidden = [
    /(^|\/)(test|tests|__tests__|bench|src|scripts|node_modules|\.git)\//,
    /\.(test|spec)\.[cm]?[jt]s$/,
    /(^|\/)\.crossbus(-demo)?\//, // a hub's data directory: config with secrets, audit log, streams
    /crossbus\.config\.(json|ya?ml)$/,
    /(^|\/)audit\.jsonl$/,
    /(^|\/)\.env/,
    /\.(pem|key|p12|tgz)$/,
    /^examples\/extension\/config\.json$/, // the demo extension's compiled-in credentials
  ];
  for (const file of pkg.files) {
    for (const re of forbidden) assert.doesNotMatch(file, re, `${file} is not in the package`);
  }
});

test('no source map points at a file the package does not ship', () => {
  for (const file of pkg.files) {
    if (file.endsWith('.map')) {
      const map = JSON.parse(readFileSync(join(pkg.installed, file), 'utf8')) as { sourceRoot?: string; sources: string[] };
      for (const source of map.sources) {
        const path = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
        assert.ok(shipped.has(path), `${file} points at ${path}, which is not in the package`);
      }
    }
    if (/\.[cm]?js$|\.d\.ts$/.test(file)) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(pkg.installed, file), 'utf8'))?.[1];
      if (url !== undefined && !url.startsWith('data:')) {
        const map = posix.normalize(posix.join(posix.dirname(file), url));
        assert.ok(shipped.has(map), `${file} names ${map}, which is not in the package`);
      }
    }
  }
});

test('every file exports and bin name is in the package; bin paths have no ./ for npm to rewrite', () => {
  for (const [subpath, entry] of Object.entries(manifest.exports)) {
    const files = targets(entry);
    assert.ok(files.length > 0, subpath);
    for (const target of files) assert.ok(shipped.has(posix.normalize(target)), `${subpath}: ${target}`);
  }
  for (const [name, path] of Object.entries(manifest.bin)) {
    assert.ok(!path.startsWith('./'), `bin ${name}: ${path}`);
    assert.ok(shipped.has(path), `bin ${name}: ${path}`);
    assert.ok(manifest.sideEffects.includes(`./${path}`), `bin ${name} runs on import: sideEffects lists it`);
  }
});

test('importing any entry in Node leaves the global object as it was (sideEffects lists only the CLI)', () => {
  const subpaths = Object.keys(manifest.exports).filter((s) => !s.endsWith('.json'));
  const script = `
    const before = new Set(Reflect.ownKeys(globalThis));
    for (const s of ${JSON.stringify(subpaths)}) await import('crossbus' + s.slice(1));
    const added = Reflect.ownKeys(globalThis).filter((k) => !before.has(k)).map(String);
    process.stdout.write(JSON.stringify(added));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg.project, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), []);
});

test('the installed command line prints the version from package.json', () => {
  const out = execFileSync(process.execPath, [join(pkg.installed, manifest.bin.crossbus as string), '--version'], {
    cwd: pkg.project,
    encoding: 'utf8',
  });
  assert.equal(out, `crossbus ${manifest.version}\n`);
});
