/**
 * App packages (the pipeline's prepare and stage): packApp skips hidden files and node_modules
 * and stops at its limits; checkPackage refuses every path that could leave the staged folder, a
 * duplicate, a package past its limits and a checksum that does not match, before anything is written.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPackage, packApp, packageChecksum, stagedChecksum } from '../../src/node/apps/app-package.js';
import type { CrossbusError } from '../../src/core/errors/index.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-pkg-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const code = (c: string) => (e: CrossbusError) => e.code === c;

describe('app packages', () => {
  test('packs the app files only; the checksum is the one the hub recomputes from disk', async () => {
    const dir = folder({ 'main.mjs': 'x', 'lib/a.js': 'a', '.env': 'SECRET=1', '.git/HEAD': 'h', 'node_modules/dep/index.js': 'd' });
    const pkg = await packApp(dir);
    assert.deepEqual(
      pkg.files.map((f) => f.path),
      ['lib/a.js', 'main.mjs'],
    );
    assert.equal(pkg.checksum, await stagedChecksum(dir));
    assert.equal(checkPackage(pkg).length, 2);
  });

  test('limits at their edge', async () => {
    const dir = folder({ 'a.js': '12345', 'b.js': '12345' });
    await packApp(dir, { maxFiles: 2, maxBytes: 10 });
    await assert.rejects(packApp(dir, { maxFiles: 1 }), code('CB_ERR_INVALID_OPTION'));
    await assert.rejects(packApp(dir, { maxBytes: 9 }), code('CB_ERR_INVALID_OPTION'));
    const pkg = await packApp(dir);
    assert.equal(checkPackage(pkg, { maxFiles: 2, maxBytes: 10 }).length, 2);
    assert.throws(() => checkPackage(pkg, { maxFiles: 1 }), code('CB_ERR_PAYLOAD_INVALID'));
    assert.throws(() => checkPackage(pkg, { maxBytes: 9 }), code('CB_ERR_PAYLOAD_INVALID'));
  });

  test('refuses paths out of the folder, duplicates, bad shapes and a wrong checksum', () => {
    const data = Buffer.from('x').toString('base64');
    const pkgOf = (paths: string[]) => {
      const files = paths.map((path) => ({ path, data }));
      return { files, checksum: packageChecksum(files.map((f) => ({ path: f.path, bytes: Buffer.from('x') }))) };
    };
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\b', 'a//b', './a', '.hidden', 'a/.git/x', 'a\0b', ''])
      assert.throws(() => checkPackage(pkgOf([bad])), code('CB_ERR_PAYLOAD_INVALID'), JSON.stringify(bad));
    assert.throws(() => checkPackage(pkgOf(['a', 'a'])), code('CB_ERR_PAYLOAD_INVALID'));
    for (const shape of [null, [], { files: 'x', checksum: '' }, { files: [{ path: 1, data }], checksum: '' }, { files: [], checksum: '' }])
      assert.throws(() => checkPackage(shape), code('CB_ERR_PAYLOAD_INVALID'));
    assert.throws(() => checkPackage({ ...pkgOf(['a']), checksum: '0'.repeat(64) }), code('CB_ERR_INTEGRITY'));
    assert.equal(checkPackage(pkgOf(['a/b.js'])).length, 1);
  });
});
