/**
 * Loading an app manifest from disk: JSON and YAML, a folder holding one, the entry resolved
 * against the manifest's folder and checked (a file for node, a folder for static); each failure
 * a ConfigError CB_ERR_CONFIG_INVALID naming the file, the path and what was looked for.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppManifest } from '../../src/node/apps/manifest-file.js';
import { rejectsWithCode } from '../helpers/rejects.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-manifest-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
const JSON_MANIFEST = JSON.stringify({ name: 'orders', version: '1.0.0', kind: 'node', entry: 'lib/main.js' });

describe('loadAppManifest', () => {
  test('a folder holding crossbus.app.json: the entry resolved against it', async () => {
    const dir = folder({ 'crossbus.app.json': JSON_MANIFEST, 'lib/main.js': '' });
    const loaded = await loadAppManifest(dir);
    assert.equal(loaded.file, join(dir, 'crossbus.app.json'));
    assert.equal(loaded.dir, dir);
    assert.equal(loaded.entryPath, join(dir, 'lib/main.js'));
    assert.equal(loaded.manifest.name, 'orders');
  });

  test('YAML, named directly; a static app whose entry is a folder', async () => {
    const dir = folder({ 'app.yml': 'name: site\nversion: 0.1.0\nkind: static\nentry: public\n', 'public/index.html': '' });
    const loaded = await loadAppManifest(join(dir, 'app.yml'));
    assert.equal(loaded.manifest.kind, 'static');
    assert.equal(loaded.entryPath, join(dir, 'public'));
  });

  test('an entry that does not exist names the path looked for', async () => {
    const dir = folder({ 'crossbus.app.json': JSON_MANIFEST });
    const err = await rejectsWithCode(loadAppManifest(dir), 'CB_ERR_CONFIG_INVALID');
    assert.equal(err.message, `${join(dir, 'crossbus.app.json')}: entry: ${join(dir, 'lib/main.js')} does not exist`);
    assert.equal((err.details as { path: string }).path, 'entry');
  });

  test('a node entry that is a folder, a static entry that is a file', async () => {
    let dir = folder({ 'crossbus.app.json': JSON_MANIFEST, 'lib/main.js/x': '' });
    assert.match((await rejectsWithCode(loadAppManifest(dir), 'CB_ERR_CONFIG_INVALID')).message, /entry: .* is not a file/);
    dir = folder({
      'crossbus.app.json': JSON.stringify({ name: 's', version: '1.0.0', kind: 'static', entry: 'index.html' }),
      'index.html': '',
    });
    assert.match((await rejectsWithCode(loadAppManifest(dir), 'CB_ERR_CONFIG_INVALID')).message, /entry: .* is not a folder/);
  });

  test('no manifest, a folder without one, bad syntax, a wrong field', async () => {
    const dir = folder({ 'other.txt': '' });
    assert.match(
      (await rejectsWithCode(loadAppManifest(join(dir, 'nope.json')), 'CB_ERR_CONFIG_INVALID')).message,
      /no such manifest file/,
    );
    assert.match((await rejectsWithCode(loadAppManifest(dir), 'CB_ERR_CONFIG_INVALID')).message, /holds no crossbus\.app\.json/);
    const bad = folder({ 'crossbus.app.json': '{"name": ' });
    assert.match((await rejectsWithCode(loadAppManifest(bad), 'CB_ERR_CONFIG_INVALID')).message, /invalid JSON/);
    const wrong = folder({
      'crossbus.app.json': JSON.stringify({ name: 'orders', version: '1.0.0', kind: 'node', entry: 'm.js', instances: 'two' }),
    });
    const err = await rejectsWithCode(loadAppManifest(wrong), 'CB_ERR_CONFIG_INVALID');
    assert.equal((err.details as { path: string }).path, 'instances');
  });
});
