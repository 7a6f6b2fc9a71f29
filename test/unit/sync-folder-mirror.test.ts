/**
 * The folder mirror against a file tree held in memory (the document's side is the sync
 * client's, tested with a hub elsewhere): the join at start, files written, changed and deleted
 * in a real folder becoming edits, remote changes written atomically without being sent back,
 * each way of detecting a change, and what the state file of the last sync changes at the next
 * start (files deleted or left untouched while the mirror was not running). A file changed on both
 * sides at once: ./sync-folder-race.test.ts.
 */
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, mkdirSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderMirror, type MirrorEvent } from '../../src/node/sync/folder-mirror.js';
import { mirrorStateFile } from '../../src/node/sync/folder-state.js';
import type { FolderDetect } from '../../src/node/sync/folder-files.js';
import { until } from '../helpers/wait.js';
import { MemoryTree } from '../helpers/memory-tree.js';

const dirs: string[] = [];
const mirrors: FolderMirror[] = [];
afterEach(async () => {
  for (const m of mirrors.splice(0)) await m.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'crossbus-mirror-'));
  dirs.push(d);
  return d;
}

async function start(dir: string, tree: MemoryTree, detect: FolderDetect, events: MirrorEvent[] = []): Promise<FolderMirror> {
  const m = new FolderMirror(dir, tree, { detect, scanIntervalMs: 50, settleMs: 5, onSynced: (e) => void events.push(e) });
  mirrors.push(m);
  await m.start();
  return m;
}

describe('sync: the folder mirror', () => {
  test('the join: files only in the folder go up, files only in the document come down, equal ones stay', async () => {
    const dir = folder();
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.txt'), 'local a');
    writeFileSync(join(dir, 'same.txt'), 'same');
    writeFileSync(join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 255]));
    const tree = new MemoryTree();
    tree.files.set('/same.txt', 'same');
    tree.files.set('/docs/b.md', 'remote b');
    const events: MirrorEvent[] = [];
    await start(dir, tree, 'timestamp', events);
    assert.equal(tree.files.get('/src/a.txt'), 'local a');
    assert.deepEqual([...(tree.files.get('/bin.dat') as Uint8Array)], [0, 1, 2, 255], 'not UTF-8: bytes');
    assert.equal(readFileSync(join(dir, 'docs', 'b.md'), 'utf8'), 'remote b');
    assert.deepEqual(tree.edits.sort(), [
      ['write', '/bin.dat'],
      ['write', '/src/a.txt'],
    ]);
    assert.deepEqual(events.map((e) => `${e.direction} ${e.action} ${e.path}`).sort(), [
      'down write /docs/b.md',
      'up write /bin.dat',
      'up write /src/a.txt',
    ]);
  });

  for (const detect of ['timestamp', 'hash', 'seq'] as const) {
    test(`detect ${detect}: a file written, changed and deleted in the folder becomes an edit each time`, async () => {
      const dir = folder();
      const tree = new MemoryTree();
      await start(dir, tree, detect);
      writeFileSync(join(dir, 'n.txt'), 'one');
      await until(() => tree.files.get('/n.txt') === 'one', 3_000, 'the new file');
      writeFileSync(join(dir, 'n.txt'), 'one two');
      await until(() => tree.files.get('/n.txt') === 'one two', 3_000, 'the change');
      mkdirSync(join(dir, 'deep', 'er'), { recursive: true });
      writeFileSync(join(dir, 'deep', 'er', 'x.json'), '{}');
      await until(() => tree.files.get('/deep/er/x.json') === '{}', 3_000, 'a file in new folders');
      unlinkSync(join(dir, 'n.txt'));
      await until(() => !tree.files.has('/n.txt'), 3_000, 'the delete');
      assert.deepEqual(
        tree.edits.filter(([, p]) => p === '/n.txt').map(([e]) => e),
        ['write', 'write', 'delete'],
      );
    });
  }

  test('a remote change is written atomically and is not sent back; a remote delete removes the file', async () => {
    const dir = folder();
    const tree = new MemoryTree();
    const events: MirrorEvent[] = [];
    await start(dir, tree, 'seq', events);
    tree.remote('/r/remote.txt', 'from afar');
    await until(() => existsSync(join(dir, 'r', 'remote.txt')), 3_000, 'the remote file');
    assert.equal(readFileSync(join(dir, 'r', 'remote.txt'), 'utf8'), 'from afar');
    // A positive signal that the folder's notices of that write were handled: a later local edit arrives.
    writeFileSync(join(dir, 'marker.txt'), 'm');
    await until(() => tree.files.get('/marker.txt') === 'm', 3_000, 'the marker');
    await until(() => events.some((e) => e.path === '/marker.txt'), 3_000, 'the marker event');
    assert.deepEqual(tree.edits, [['write', '/marker.txt']], 'the remote write was not sent back');
    assert.deepEqual(
      readdirSync(join(dir, 'r')).filter((n) => n.startsWith('.crossbus')),
      [],
      'no temporary file left',
    );
    tree.remote('/r/remote.txt', undefined);
    await until(() => !existsSync(join(dir, 'r', 'remote.txt')), 3_000, 'the remote delete');
    assert.deepEqual(tree.edits, [['write', '/marker.txt']]);
  });

  test('an edit the document refuses is reported and the mirror goes on', async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.refuse = '/big.bin';
    const errors: string[] = [];
    const m = new FolderMirror(dir, tree, { scanIntervalMs: 0, settleMs: 5, onError: (e, p) => void errors.push(`${p} ${e.code}`) });
    mirrors.push(m);
    await m.start();
    writeFileSync(join(dir, 'big.bin'), 'x');
    await until(() => errors.length > 0, 3_000, 'the refusal');
    assert.deepEqual(errors, ['/big.bin CB_ERR_PAYLOAD_INVALID']);
    writeFileSync(join(dir, 'ok.txt'), 'fine');
    await until(() => tree.files.get('/ok.txt') === 'fine', 3_000, 'the next file');
  });

  test('bad options are refused with CB_ERR_INVALID_OPTION', () => {
    const tree = new MemoryTree();
    assert.throws(() => new FolderMirror('/tmp', tree, { detect: 'mtime' as never }), { code: 'CB_ERR_INVALID_OPTION' });
    assert.throws(() => new FolderMirror('/tmp', tree, { scanIntervalMs: -1 }), { code: 'CB_ERR_INVALID_OPTION' });
    assert.throws(() => new FolderMirror('/tmp', tree, { maxRereads: -1 }), { code: 'CB_ERR_INVALID_OPTION' });
    assert.throws(() => new FolderMirror('/tmp', tree, { maxRereads: 1.5 }), { code: 'CB_ERR_INVALID_OPTION' });
  });
});

describe('sync: the folder mirror remembers the last sync (stateFile)', () => {
  /** A mirror over `dir` with its state in `state`, started; stop() it to end "a run". */
  async function run(dir: string, tree: MemoryTree, stateFile: string | undefined, errors: string[] = []): Promise<FolderMirror> {
    const m = new FolderMirror(dir, tree, {
      scanIntervalMs: 0,
      settleMs: 5,
      ...(stateFile !== undefined ? { stateFile } : {}),
      onError: (e, p) => void errors.push(`${p} ${e.code}`),
    });
    mirrors.push(m);
    await m.start();
    return m;
  }

  test('a file deleted while the mirror was not running is deleted from the document; without a state file it comes back', async () => {
    for (const remember of [true, false]) {
      const dir = folder();
      const stateFile = remember ? mirrorStateFile(folder(), 'project/42') : undefined;
      writeFileSync(join(dir, 'keep.txt'), 'keep');
      writeFileSync(join(dir, 'gone.txt'), 'gone');
      const tree = new MemoryTree();
      const first = await run(dir, tree, stateFile);
      assert.deepEqual(tree.paths().sort(), ['/gone.txt', '/keep.txt']);
      await first.stop();
      if (remember) assert.ok(existsSync(stateFile as string), 'the state is saved');

      unlinkSync(join(dir, 'gone.txt'));
      tree.edits.length = 0;
      await run(dir, tree, stateFile);
      if (remember) {
        assert.deepEqual(tree.paths(), ['/keep.txt'], 'a local delete');
        assert.deepEqual(tree.edits, [['delete', '/gone.txt']]);
        assert.equal(existsSync(join(dir, 'gone.txt')), false);
      } else {
        assert.equal(readFileSync(join(dir, 'gone.txt'), 'utf8'), 'gone', 'nothing known of the last sync: it comes back');
        assert.deepEqual(tree.edits, []);
      }
    }
  });

  test("a file untouched while stopped takes the document's change, or goes with its delete; one edited here is sent", async () => {
    const dir = folder();
    const stateFile = mirrorStateFile(folder(), 'd');
    for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(dir, name), `${name} v1`);
    const tree = new MemoryTree();
    await (await run(dir, tree, stateFile)).stop();
    // While the mirror is not running: another replica edits a.txt and deletes b.txt; c.txt is edited here.
    tree.files.set('/a.txt', 'a.txt v2 (remote)');
    tree.files.delete('/b.txt');
    writeFileSync(join(dir, 'c.txt'), 'c.txt v2 (local)');
    tree.edits.length = 0;
    await run(dir, tree, stateFile);
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'a.txt v2 (remote)', 'not reverted by the old copy');
    assert.equal(existsSync(join(dir, 'b.txt')), false, 'the remote delete');
    assert.equal(tree.files.get('/c.txt'), 'c.txt v2 (local)');
    assert.deepEqual(tree.edits, [['write', '/c.txt']], 'only the local edit went up');
  });

  test('a file deleted here while the document changed it comes back with the change: nothing is lost', async () => {
    const dir = folder();
    const stateFile = mirrorStateFile(folder(), 'd');
    writeFileSync(join(dir, 'n.txt'), 'v1');
    const tree = new MemoryTree();
    await (await run(dir, tree, stateFile)).stop();
    unlinkSync(join(dir, 'n.txt'));
    tree.files.set('/n.txt', 'v2 (remote)');
    tree.edits.length = 0;
    await run(dir, tree, stateFile);
    assert.equal(readFileSync(join(dir, 'n.txt'), 'utf8'), 'v2 (remote)');
    assert.deepEqual(tree.edits, []);
  });

  test('a file the document refused is not recorded as synced: the next start sends it again and never deletes it', async () => {
    const dir = folder();
    const stateFile = mirrorStateFile(folder(), 'd');
    writeFileSync(join(dir, 'big.bin'), 'too large for the document');
    const tree = new MemoryTree();
    tree.refuse = '/big.bin';
    const errors: string[] = [];
    await (await run(dir, tree, stateFile, errors)).stop();
    assert.deepEqual(errors, ['/big.bin CB_ERR_PAYLOAD_INVALID']);
    tree.refuse = undefined;
    await run(dir, tree, stateFile, errors);
    assert.equal(tree.files.get('/big.bin'), 'too large for the document');
    assert.ok(existsSync(join(dir, 'big.bin')));
  });

  test("a damaged state file is reported and the mirror starts as without one; another folder's state is ignored", async () => {
    const dir = folder();
    const stateFile = mirrorStateFile(folder(), 'd');
    writeFileSync(join(dir, 'x.txt'), 'x');
    const tree = new MemoryTree();
    await (await run(dir, tree, stateFile)).stop();
    unlinkSync(join(dir, 'x.txt'));
    // The same state, for another folder: nothing is known of this one's last sync.
    const other = folder();
    const errors: string[] = [];
    await (await run(other, tree, stateFile, errors)).stop();
    assert.equal(readFileSync(join(other, 'x.txt'), 'utf8'), 'x', 'the document is not emptied by a state of another folder');
    assert.deepEqual(errors, []);
    writeFileSync(stateFile, '{ not json');
    await run(dir, tree, stateFile, errors);
    assert.deepEqual(errors, ['/ CB_ERR_STREAM_CORRUPT']);
    assert.equal(readFileSync(join(dir, 'x.txt'), 'utf8'), 'x', 'as without a state file: it comes back');
    assert.equal(tree.files.get('/x.txt'), 'x');
  });
});
