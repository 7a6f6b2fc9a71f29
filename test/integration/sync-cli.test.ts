/**
 * `crossbus sync` (the built CLI) against a REAL hub process: `conflicts` lists a conflict a
 * manual strategy parked, `resolve` settles it for every replica; `crossbus sync <dir> --doc`
 * mirrors a folder both ways, and a file deleted while it was not running is deleted from the
 * document at its next start. Needs `npm run build` first.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SyncingBus } from '../../src/node/index.js';
import type { ConflictInfo } from '../../src/node/sync.js';
import { runCli, spawnCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 30_000 };

let hub: HubProcess;
const buses: SyncingBus[] = [];
const dirs: string[] = [];
/** The CLI authenticates as app `test` from the hub's config. */
const creds = (): string[] => ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];

async function bus(): Promise<SyncingBus> {
  const b = await connect(hub.url, { ...hub.credentials, timeoutMs: 5_000, requestTimeoutMs: 2_000 });
  buses.push(b);
  return b;
}

before(async () => {
  hub = await startHubProcess();
});

after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  await hub?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('sync conflicts lists a parked conflict; sync resolve settles it, seen by the other replica', T, async () => {
  const [busA, busB] = await Promise.all([bus(), bus()]);
  const a = await busA.sync.open<{ price?: number; note?: string }>('shop/prices', {
    strategies: [{ path: '/price', strategy: 'manual' }],
  });
  a.replace({ price: 10 });
  await a.flushed();
  // b edits offline-style (manual mode: kept until sync()), a edits and lands first: concurrent.
  const b = await busB.sync.open<{ price?: number; note?: string }>('shop/prices', { mode: 'manual' });
  b.change((d) => {
    d.price = 12;
  });
  a.change((d) => {
    d.price = 11;
  });
  await a.flushed();
  const parked: ConflictInfo[] = [];
  a.on('conflict', (c) => parked.push(c));
  b.sync();
  await b.flushed();
  await until(() => parked.length === 1, 5_000, 'the conflict parked on a');
  assert.equal(a.value.price, 11, 'a parked conflict leaves the value as it was');
  const id = parked[0]!.id;

  const list = await runCli(['sync', 'conflicts', '--doc', 'shop/prices', ...creds()], 20_000);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ {2}ID +PATH +STRATEGY +REPLICA +DETECTED\n/);
  assert.match(list.stdout, new RegExp(`\\n {2}${id} +/price +manual +${b.replica} +\\d{4}-`));
  const json = await runCli(['sync', 'conflicts', '--doc', 'shop/prices', '--json', ...creds()], 20_000);
  const listed = JSON.parse(json.stdout) as ConflictInfo[];
  assert.deepEqual(
    listed.map((c) => [c.id, c.path, c.remoteChange.value]),
    [[id, '/price', 12]],
  );

  const unknown = await runCli(['sync', 'resolve', '--doc', 'shop/prices', '--conflict', '999:0', '--take', 'remote', ...creds()], 20_000);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no parked conflict 999:0/);
  const usage = await runCli(['sync', 'resolve', '--doc', 'shop/prices', '--conflict', id, '--take', 'theirs', ...creds()], 20_000);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--take must be local, remote or merged/);

  const resolved = await runCli(
    ['sync', 'resolve', '--doc', 'shop/prices', '--conflict', id, '--take', 'merged', '--value', '11.5', ...creds()],
    20_000,
  );
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.equal(resolved.stdout, `resolved ${id} (merged)\n`);
  await until(() => a.conflicts.length === 0 && a.value.price === 11.5, 5_000, 'a sees the resolution');
  await until(() => b.conflicts.length === 0 && b.value.price === 11.5, 5_000, 'b sees the resolution');
  const none = await runCli(['sync', 'conflicts', '--doc', 'shop/prices', ...creds()], 20_000);
  assert.equal(none.stdout, 'no parked conflicts in shop/prices\n');
  await Promise.all([a.close(), b.close()]);
});

test('sync <dir> --doc mirrors a folder both ways', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-mirror-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'start.txt'), 'there at start');
  const replica = await (await bus()).sync.open('mirror/project', { kind: 'files' });
  await replica.writeFile('/from-replica-at-start.md', 'written before the mirror ran');
  await replica.flushed();

  const mirror = spawnCli(['sync', dir, '--doc', 'mirror/project', '--detect', 'hash', ...creds()]);
  await until(() => /mirroring .* <-> mirror\/project\n/.test(mirror.stderr()), 15_000, `the mirror to start: ${mirror.stderr()}`);
  assert.equal(readFileSync(join(dir, 'from-replica-at-start.md'), 'utf8'), 'written before the mirror ran');
  await until(() => replica.readFile('/src/start.txt') === 'there at start', 5_000, 'the folder joined the document');

  // A file written in the folder reaches the other replica.
  writeFileSync(join(dir, 'src', 'new.ts'), 'export const x = 1;\n');
  await until(() => replica.readFile('/src/new.ts') === 'export const x = 1;\n', 5_000, 'the new file in the document');
  // A remote change appears as a file; a remote delete removes one.
  await replica.writeFile('/docs/remote.md', 'from afar');
  await until(() => existsSync(join(dir, 'docs', 'remote.md')), 5_000, 'the remote file on disk');
  assert.equal(readFileSync(join(dir, 'docs', 'remote.md'), 'utf8'), 'from afar');
  replica.deleteFile('/src/start.txt');
  await until(() => !existsSync(join(dir, 'src', 'start.txt')), 5_000, 'the remote delete on disk');
  // The mirror's own writes were not sent back as edits: every line it printed is the one expected.
  await until(() => /down write \/docs\/remote\.md\n/.test(mirror.stdout()), 5_000, 'the log line');
  assert.doesNotMatch(mirror.stdout(), /up write \/docs\/remote\.md/);

  mirror.proc.kill('SIGTERM');
  const exit = await mirror.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(existsSync(join(dir, '.crossbus-sync')), 'the offline queue is kept in the folder, not mirrored');
  assert.deepEqual(
    replica.paths().filter((p) => p.includes('.crossbus')),
    [],
  );
  await replica.close();
});

test('sync <dir>: a file deleted while the mirror was not running is deleted from the document at the next start', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-mirror-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'keep.txt'), 'keep');
  writeFileSync(join(dir, 'gone.txt'), 'gone');
  const replica = await (await bus()).sync.open('mirror/deletes', { kind: 'files' });
  const runMirror = async () => {
    const m = spawnCli(['sync', dir, '--doc', 'mirror/deletes', ...creds()]);
    await until(() => /mirroring .* <-> mirror\/deletes\n/.test(m.stderr()), 15_000, `the mirror to start: ${m.stderr()}`);
    return m;
  };
  const first = await runMirror();
  await until(() => replica.readFile('/gone.txt') === 'gone' && replica.readFile('/keep.txt') === 'keep', 5_000, 'both files up');
  first.proc.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);

  unlinkSync(join(dir, 'gone.txt'));
  const second = await runMirror();
  await until(() => replica.readFile('/gone.txt') === undefined, 5_000, 'the delete reached the document');
  assert.match(second.stdout(), /^up delete \/gone\.txt$/m);
  assert.equal(existsSync(join(dir, 'gone.txt')), false, 'not brought back');
  assert.deepEqual(replica.paths(), ['/keep.txt']);
  second.proc.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
  await replica.close();
});

test('sync: usage errors exit 2, a missing folder exits 1', T, async () => {
  const noDoc = await runCli(['sync', 'conflicts', ...creds()]);
  assert.equal(noDoc.code, 2);
  assert.match(noDoc.stderr, /needs --doc <name>/);
  const wrongFlag = await runCli(['sync', 'conflicts', '--doc', 'x', '--take', 'local', ...creds()]);
  assert.equal(wrongFlag.code, 2);
  assert.match(wrongFlag.stderr, /--take does not apply to sync conflicts/);
  const missing = await runCli(['sync', join(tmpdir(), 'no-such-folder-crossbus'), '--doc', 'x', ...creds()]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /is not a folder/);
  const badDoc = await runCli(['sync', 'conflicts', '--doc', 'a..b', ...creds()]);
  assert.equal(badDoc.code, 1);
  assert.match(badDoc.stderr, /CB_ERR_TOPIC_INVALID/);
  const help = await runCli(['help', 'sync']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /crossbus sync <dir> --doc <name>/);
});
