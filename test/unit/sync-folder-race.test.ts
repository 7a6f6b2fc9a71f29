/**
 * The folder mirror when a file changes in the folder and in the document at once (a real temp
 * folder, the document in memory): two texts edited at different lines merge on both sides;
 * overlapping edits, and binary files, keep the folder's version and get the document's as a
 * conflicted copy (a `conflict` event, and the copy in the document too); a delete loses to a
 * change on the other side. Each race is played both ways round: the remote change announced
 * before the folder's notice is handled (the folder's settle is made too long to fire), and the
 * folder's notice handled while the document already holds a change not yet announced. The same
 * with real documents (an in-process hub): the copy is named after the other replica. And the
 * conflicted copies' names.
 */
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderMirror, type FolderMirrorOptions, type MirroredTree, type MirrorEvent } from '../../src/node/sync/folder-mirror.js';
import { conflictedCopyName } from '../../src/node/sync/conflicted-copy.js';
import { sha256Hex, writeAtomically } from '../../src/node/sync/folder-files.js';
import { mirrorStateFile } from '../../src/node/sync/folder-state.js';
import { MemoryTree } from '../helpers/memory-tree.js';
import { until } from '../helpers/wait.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { createSync } from '../../src/client/sync/sync-api.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';

/** 2026-12-03 12:04:30 UTC: the time conflicted copies are named with here. */
const NOW = Date.UTC(2026, 11, 3, 12, 4, 30);
/** The folder's notices are never handled within a test: the remote change is always first. */
const NEVER_SETTLES = 600_000;

const dirs: string[] = [];
const mirrors: FolderMirror[] = [];
/** What the mirrors reported: nothing, in every test here. */
const errors: string[] = [];
afterEach(async () => {
  for (const m of mirrors.splice(0)) await m.stop();
  assert.deepEqual(errors.splice(0), [], 'no mirror reported an error');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'crossbus-race-'));
  dirs.push(d);
  return d;
}

/** A mirror of `dir` and `tree`, joined; its events after the join in `events` (with `join`: from the start). */
async function start(dir: string, tree: MirroredTree, options: FolderMirrorOptions = {}, join = false): Promise<{ events: MirrorEvent[] }> {
  const events: MirrorEvent[] = [];
  const m = new FolderMirror(dir, tree, {
    detect: 'hash',
    scanIntervalMs: 0,
    settleMs: NEVER_SETTLES,
    clock: () => NOW,
    onSynced: (e) => void events.push(e),
    onError: (e, p) => void errors.push(`${p}: ${e.code} ${e.message}`),
    ...options,
  });
  mirrors.push(m);
  await m.start();
  if (!join) events.length = 0;
  return { events };
}

/** A document that runs `onRead` (once) the next time the mirror reads a file of it. */
class EditingTree extends MemoryTree {
  onRead: (() => void) | undefined;
  override readFile(path: string): string | Uint8Array | undefined {
    const hook = this.onRead;
    this.onRead = undefined;
    hook?.();
    return super.readFile(path);
  }
}

const read = (dir: string, name: string): string => readFileSync(join(dir, name), 'utf8');
const copies = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('conflicted copy'));

describe('sync: the folder mirror, a file changed here and in the document at once', () => {
  test('texts edited at different lines merge: the folder and the document both end with both edits', async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.files.set('/f.txt', 'one\ntwo\nthree\n');
    const { events } = await start(dir, tree);
    writeFileSync(join(dir, 'f.txt'), 'ONE (here)\ntwo\nthree\n');
    tree.remote('/f.txt', 'one\ntwo\nTHREE (there)\n', 'r-other');
    await until(() => events.some((e) => e.action === 'merge'), 3_000, 'the merge');
    const both = 'ONE (here)\ntwo\nTHREE (there)\n';
    assert.equal(read(dir, 'f.txt'), both);
    assert.equal(tree.files.get('/f.txt'), both, 'sent as an edit');
    assert.deepEqual(tree.edits, [['write', '/f.txt']]);
    assert.deepEqual(events, [{ direction: 'both', action: 'merge', path: '/f.txt' }]);
    assert.deepEqual(copies(dir), []);
  });

  test("the folder's notice first, the document already changed: merged the same", async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.files.set('/f.txt', 'a\nb\nc\n');
    const { events } = await start(dir, tree, { settleMs: 5 });
    tree.apply('/f.txt', 'a\nb\nC\n'); // in the document, its listeners not told yet
    writeFileSync(join(dir, 'f.txt'), 'A\nb\nc\n');
    await until(() => events.some((e) => e.action === 'merge'), 3_000, 'the merge');
    assert.equal(read(dir, 'f.txt'), 'A\nb\nC\n');
    assert.equal(tree.files.get('/f.txt'), 'A\nb\nC\n');
    // The announcement that comes later finds both sides agreeing: nothing more is written or sent.
    tree.announce('/f.txt', 'r-other');
    writeFileSync(join(dir, 'marker.txt'), 'm');
    await until(() => tree.files.get('/marker.txt') === 'm', 3_000, 'a later edit (the announcement was handled before it)');
    assert.deepEqual(tree.edits, [
      ['write', '/f.txt'],
      ['write', '/marker.txt'],
    ]);
    assert.deepEqual(
      events.map((e) => e.action),
      ['merge', 'write'],
    );
  });

  test("overlapping edits: the folder's version stays and is sent, the document's becomes a conflicted copy, in both", async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.files.set('/notes.txt', 'title\n');
    const { events } = await start(dir, tree);
    writeFileSync(join(dir, 'notes.txt'), 'local title\n');
    tree.remote('/notes.txt', 'remote title\n', 'r-other');
    await until(() => events.some((e) => e.action === 'conflict'), 3_000, 'the conflict');
    const copy = '/notes (conflicted copy from r-other 2026-12-03 1204 UTC).txt';
    assert.deepEqual(events, [{ direction: 'both', action: 'conflict', path: '/notes.txt', copy, from: 'r-other' }]);
    assert.equal(read(dir, 'notes.txt'), 'local title\n', 'the folder keeps its version');
    assert.equal(read(dir, copy.slice(1)), 'remote title\n', 'the remote version beside it');
    assert.equal(tree.files.get('/notes.txt'), 'local title\n', "the folder's version is the document's edit");
    assert.equal(tree.files.get(copy), 'remote title\n', 'the copy is a file of the document');
    assert.deepEqual(tree.edits, [
      ['write', '/notes.txt'],
      ['write', copy],
    ]);

    // Again within the same minute: the next copy takes a number, nothing is overwritten.
    writeFileSync(join(dir, 'notes.txt'), 'X\n');
    tree.remote('/notes.txt', 'Y\n', 'r-other');
    await until(() => events.filter((e) => e.action === 'conflict').length === 2, 3_000, 'the second conflict');
    const second = '/notes (conflicted copy from r-other 2026-12-03 1204 UTC 2).txt';
    assert.deepEqual(events[1], { direction: 'both', action: 'conflict', path: '/notes.txt', copy: second, from: 'r-other' });
    assert.equal(read(dir, copy.slice(1)), 'remote title\n');
    assert.equal(read(dir, second.slice(1)), 'Y\n');
    assert.equal(tree.files.get('/notes.txt'), 'X\n');
  });

  test('a binary file changed on both sides: a conflicted copy (bytes are not merged), from "remote" when the replica is not known', async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.files.set('/blob.bin', new Uint8Array([0, 1, 2, 3]));
    const { events } = await start(dir, tree);
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 9]));
    tree.remote('/blob.bin', new Uint8Array([0, 1, 2, 3, 4]));
    await until(() => events.some((e) => e.action === 'conflict'), 3_000, 'the conflict');
    const copy = '/blob (conflicted copy from remote 2026-12-03 1204 UTC).bin';
    assert.deepEqual(events, [{ direction: 'both', action: 'conflict', path: '/blob.bin', copy }]);
    assert.deepEqual([...readFileSync(join(dir, 'blob.bin'))], [0, 9]);
    assert.deepEqual([...readFileSync(join(dir, copy.slice(1)))], [0, 1, 2, 3, 4]);
    assert.deepEqual([...(tree.files.get('/blob.bin') as Uint8Array)], [0, 9]);
    assert.deepEqual([...(tree.files.get(copy) as Uint8Array)], [0, 1, 2, 3, 4]);
  });

  test('a text edited here while the document wrote bytes over it: a conflicted copy', async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.files.set('/data', 'text\n');
    const { events } = await start(dir, tree);
    writeFileSync(join(dir, 'data'), 'text, edited\n');
    tree.remote('/data', new Uint8Array([0, 255]));
    await until(() => events.some((e) => e.action === 'conflict'), 3_000, 'the conflict');
    assert.equal(read(dir, 'data'), 'text, edited\n');
    assert.deepEqual([...readFileSync(join(dir, 'data (conflicted copy from remote 2026-12-03 1204 UTC)'))], [0, 255]);
  });

  test('a file edited between being read and being replaced is read again: the edit is not overwritten', async () => {
    const dir = folder();
    const tree = new EditingTree();
    tree.files.set('/f.txt', 'v1\n');
    const { events } = await start(dir, tree);
    tree.remote('/f.txt', 'v2 (there)\n', 'r-other');
    // When the mirror reads the document's version, after it read the folder's (still v1): an edit here.
    tree.onRead = () => writeFileSync(join(dir, 'f.txt'), 'v2, typed here just then\n');
    await until(() => events.length > 0, 3_000, 'the decision');
    const copy = '/f (conflicted copy from r-other 2026-12-03 1204 UTC).txt';
    assert.deepEqual(events, [{ direction: 'both', action: 'conflict', path: '/f.txt', copy, from: 'r-other' }]);
    assert.equal(read(dir, 'f.txt'), 'v2, typed here just then\n');
    assert.equal(read(dir, copy.slice(1)), 'v2 (there)\n');
  });

  test('maxRereads 0: a file edited between being read and being replaced is left to the notice of that edit, not overwritten', async () => {
    const dir = folder();
    const tree = new EditingTree();
    tree.files.set('/f.txt', 'v1\n');
    const { events } = await start(dir, tree, { maxRereads: 0, settleMs: 5 });
    let edits = 0;
    tree.onRead = () => {
      if (edits++ === 0) writeFileSync(join(dir, 'f.txt'), 'v2, typed here just then\n');
    };
    tree.remote('/f.txt', 'v2 (there)\n', 'r-other');
    await until(() => events.length > 0, 3_000, 'the decision, at the notice of the edit');
    assert.equal(events[0]?.action, 'conflict');
    assert.equal(read(dir, 'f.txt'), 'v2, typed here just then\n');
  });

  test('a replacement only over the file as it was read: a stale size or mtime, or a file where none was, replaces nothing', async () => {
    const dir = folder();
    const file = join(dir, 'x.txt');
    writeFileSync(file, 'one');
    const seen = await writeAtomically(file, Buffer.from('two'));
    const third = await writeAtomically(file, Buffer.from('three'), seen);
    assert.equal(third?.hash, sha256Hex(Buffer.from('three')), 'as it was read: replaced');
    writeFileSync(file, 'edited');
    assert.equal(await writeAtomically(file, Buffer.from('four'), third ?? null), undefined, 'stale');
    assert.equal(await writeAtomically(file, Buffer.from('five'), null), undefined, 'a file is there');
    assert.equal(read(dir, 'x.txt'), 'edited');
    assert.deepEqual(readdirSync(dir), ['x.txt'], 'no temporary file left');
  });

  test('deleted here while changed remotely: the remote change brings the file back, no delete is sent', async () => {
    for (const order of ['remote first', 'notice first'] as const) {
      const dir = folder();
      const tree = new MemoryTree();
      tree.files.set('/gone.txt', 'v1');
      const { events } = await start(dir, tree, order === 'notice first' ? { settleMs: 5 } : {});
      if (order === 'notice first') tree.apply('/gone.txt', 'v2 (remote)');
      unlinkSync(join(dir, 'gone.txt'));
      if (order === 'remote first') tree.remote('/gone.txt', 'v2 (remote)', 'r-other');
      await until(() => events.length > 0, 3_000, `the file back (${order})`);
      assert.deepEqual(events, [{ direction: 'down', action: 'write', path: '/gone.txt' }], order);
      assert.equal(read(dir, 'gone.txt'), 'v2 (remote)', order);
      assert.equal(tree.files.get('/gone.txt'), 'v2 (remote)', order);
      assert.deepEqual(tree.edits, [], order);
    }
  });

  test('edited here while deleted remotely: the edit brings the file back into the document', async () => {
    const dir = folder();
    const tree = new MemoryTree();
    tree.files.set('/kept.txt', 'v1');
    const { events } = await start(dir, tree);
    writeFileSync(join(dir, 'kept.txt'), 'v2 (here)');
    tree.remote('/kept.txt', undefined, 'r-other');
    await until(() => events.length > 0, 3_000, 'the edit sent');
    assert.deepEqual(events, [{ direction: 'up', action: 'write', path: '/kept.txt' }]);
    assert.equal(read(dir, 'kept.txt'), 'v2 (here)');
    assert.equal(tree.files.get('/kept.txt'), 'v2 (here)');
  });

  test('changed here and in the document while the mirror was not running: a conflicted copy at the next start', async () => {
    const dir = folder();
    const stateFile = mirrorStateFile(folder(), 'd');
    writeFileSync(join(dir, 'both.txt'), 'v1\n');
    writeFileSync(join(dir, 'here.txt'), 'v1\n');
    const tree = new MemoryTree();
    await start(dir, tree, { stateFile });
    await mirrors.pop()?.stop();
    writeFileSync(join(dir, 'both.txt'), 'v2 (here)\n');
    writeFileSync(join(dir, 'here.txt'), 'v2 (here)\n');
    tree.files.set('/both.txt', 'v2 (there)\n');
    tree.edits.length = 0;
    const { events } = await start(dir, tree, { stateFile }, true);
    const copy = '/both (conflicted copy from remote 2026-12-03 1204 UTC).txt';
    assert.deepEqual(events, [
      { direction: 'both', action: 'conflict', path: '/both.txt', copy },
      { direction: 'up', action: 'write', path: '/here.txt' },
    ]);
    assert.equal(read(dir, 'both.txt'), 'v2 (here)\n');
    assert.equal(read(dir, copy.slice(1)), 'v2 (there)\n');
    assert.equal(tree.files.get('/both.txt'), 'v2 (here)\n');
    assert.equal(tree.files.get(copy), 'v2 (there)\n');
  });
});

describe('sync: the folder mirror racing another replica (real documents, an in-process hub)', () => {
  test('non-overlapping edits merge on every replica; overlapping ones leave a copy named after the other replica', async () => {
    const hub = await startStreamHub();
    try {
      const crypto = createNodeCryptoProvider();
      const here = await createSync(await hub.connect(), { crypto }).open('race/real', { kind: 'files' });
      const there = await createSync(await hub.connect(), { crypto }).open('race/real', { kind: 'files' });
      await there.writeFile('/f.txt', 'one\ntwo\nthree\n');
      await there.flushed();
      await until(() => here.readFile('/f.txt') !== undefined, 3_000, 'the file here');
      const dir = folder();
      const { events } = await start(dir, here);
      writeFileSync(join(dir, 'f.txt'), 'ONE\ntwo\nthree\n');
      await there.writeFile('/f.txt', 'one\ntwo\nTHREE\n');
      await there.flushed();
      await until(() => events.some((e) => e.action === 'merge'), 3_000, 'the merge');
      await here.flushed();
      await until(() => there.readFile('/f.txt') === 'ONE\ntwo\nTHREE\n', 3_000, 'the merge at the other replica');
      assert.equal(read(dir, 'f.txt'), 'ONE\ntwo\nTHREE\n');

      writeFileSync(join(dir, 'f.txt'), 'mine\n');
      await there.writeFile('/f.txt', 'theirs\n');
      await there.flushed();
      await until(
        () => events.some((e) => e.action === 'conflict'),
        3_000,
        `the conflict ${JSON.stringify(events)} ${JSON.stringify(here.readFile('/f.txt'))} ${read(dir, 'f.txt')}`,
      );
      const copy = `/f (conflicted copy from ${there.replica} 2026-12-03 1204 UTC).txt`;
      assert.deepEqual(events[1], { direction: 'both', action: 'conflict', path: '/f.txt', copy, from: there.replica });
      await here.flushed();
      await until(() => there.readFile('/f.txt') === 'mine\n' && there.readFile(copy) === 'theirs\n', 3_000, 'both at the other replica');
      assert.equal(read(dir, copy.slice(1)), 'theirs\n');
      await here.close();
      await there.close();
    } finally {
      await hub.close();
    }
  });
});

describe('sync: the names of conflicted copies', () => {
  test('the replica and the time (UTC) before the extension; a number when taken; never over 255 bytes', () => {
    assert.equal(conflictedCopyName('notes.txt', 'r-1f2e', NOW), 'notes (conflicted copy from r-1f2e 2026-12-03 1204 UTC).txt');
    assert.equal(conflictedCopyName('notes.txt', 'r-1f2e', NOW, 3), 'notes (conflicted copy from r-1f2e 2026-12-03 1204 UTC 3).txt');
    assert.equal(conflictedCopyName('Makefile', undefined, NOW), 'Makefile (conflicted copy from remote 2026-12-03 1204 UTC)');
    assert.equal(conflictedCopyName('.env', 'r-1', NOW), '.env (conflicted copy from r-1 2026-12-03 1204 UTC)');
    assert.equal(conflictedCopyName('a.tar.gz', 'r-1', NOW), 'a.tar (conflicted copy from r-1 2026-12-03 1204 UTC).gz');
    assert.equal(
      conflictedCopyName('x.txt', '../../etc', NOW),
      'x (conflicted copy from remote 2026-12-03 1204 UTC).txt',
      'not a replica id',
    );
    const long = conflictedCopyName(`${'é'.repeat(200)}.md`, 'r-1', NOW);
    assert.ok(Buffer.byteLength(long) <= 255, `${Buffer.byteLength(long)} bytes`);
    assert.match(long, /^é+ \(conflicted copy from r-1 2026-12-03 1204 UTC\)\.md$/);
  });
});
