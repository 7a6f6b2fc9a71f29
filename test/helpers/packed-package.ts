/**
 * The package as a user gets it: `npm pack` of the built repository, unpacked into a temporary
 * project's node_modules/crossbus, without the network. The project's other node_modules entries
 * are links to the repository's, so the package's dependencies (and TypeScript, @types/node)
 * resolve as they would after `npm install crossbus`. Removed when the test file ends.
 *
 * Needs a build: run `npm run build` first (`npm test` does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PackedPackage {
  /** The .tgz `npm pack` wrote. */
  tarball: string;
  /** Every path in the tarball, relative to the package root (`dist/node/index.js`, `LICENSE`, …). */
  files: string[];
  /** A project (`"type": "module"`) with the package in node_modules/crossbus. */
  project: string;
  /** Where the package is unpacked: `<project>/node_modules/crossbus`. */
  installed: string;
}

interface NpmPackResult {
  filename: string;
  files: Array<{ path: string }>;
}

/** Packs the repository once per call (without running `prepare`: the build is already there). */
export function packAndInstall(): PackedPackage {
  if (!existsSync(join(REPO_ROOT, 'dist', 'node', 'index.js'))) throw new Error('no dist/: run `npm run build` first');
  const root = mkdtempSync(join(tmpdir(), 'crossbus-pack-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(out) as NpmPackResult[];
  if (packed === undefined) throw new Error(`npm pack printed no result: ${out}`);
  const tarball = join(root, packed.filename);

  const project = join(root, 'project');
  const modules = join(project, 'node_modules');
  const installed = join(modules, 'crossbus');
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  const repoModules = join(REPO_ROOT, 'node_modules');
  for (const entry of readdirSync(repoModules)) {
    if (entry.startsWith('.') || entry === 'crossbus') continue;
    symlinkSync(join(repoModules, entry), join(modules, entry));
  }
  return { tarball, files: packed.files.map((f) => f.path).sort(), project, installed };
}
