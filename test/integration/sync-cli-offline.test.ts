/**
 * `crossbus sync <dir> --doc` (the built CLI) started BEFORE its hub, against a REAL hub process
 * started afterwards on the port the mirror was told: it says it waits for the hub (its address,
 * no secret), joins the folder to the copy its store kept, keeps the folder's edits in the offline
 * queue, and once the hub is up they reach another replica (and that replica's changes reach the
 * folder); a document the store never held is opened once the hub answers; refused credentials
 * still end the run with exit 1 and the CB_ERR code when the hub answers; and a file changed in
 * the folder and in the document while the mirror was not running gets a conflicted copy, with a
 * line for it. Needs `npm run build` first.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { restartOnPort, spawnCli, startHubProcess, type CliProcess, type HubProcess } from '../helpers/hub-process.js';
import { secret as newSecret } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 60_000 };
const hubs: HubProcess[] = [];
const buses: SyncingBus[] = [];
const dirs: string[] = [];

after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  for (const h of hubs) if (h.alive()) await h.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'crossbus-mirror-offline-'));
  dirs.push(d);
  return d;
}

/** A hub's port and data, with the hub stopped: the mirror is started before the next one. */
async function hubThenDown(): Promise<HubProcess> {
  const hub = await startHubProcess();
  hubs.push(hub);
  await hub.stop();
  return hub;
}

async function replicaBus(hub: HubProcess): Promise<SyncingBus> {
  const b = await connect(hub.url, { ...hub.credentials, timeoutMs: 5_000, requestTimeoutMs: 5_000 });
  buses.push(b);
  return b;
}

const creds = (hub: HubProcess): string[] => ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];

async function waitFor(p: CliProcess, stream: 'stdout' | 'stderr', re: RegExp, what: string): Promise<void> {
  await until(() => re.test(p[stream]()), 20_000, `${what}\nstdout: ${p.stdout()}\nstderr: ${p.stderr()}`);
}

test('sync <dir> without its hub: the folder joins the stored copy, edits wait in the queue, and land once the hub is up', T, async () => {
  const hub = await startHubProcess();
  hubs.push(hub);
  const dir = tempDir();
  writeFileSync(join(dir, 'a.txt'), 'v1');
  // A first run with the hub: the store now holds the document.
  const first = spawnCli(['sync', dir, '--doc', 'offline/mirror', ...creds(hub)]);
  await waitFor(first, 'stderr', /mirroring .* <-> offline\/mirror\n/, 'the first run');
  const early = await (await replicaBus(hub)).sync.open('offline/mirror', { kind: 'files' });
  await until(() => early.readFile('/a.txt') === 'v1', 10_000, 'a.txt in the document');
  await early.close();
  first.proc.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);
  await hub.stop();

  const mirror = spawnCli(['sync', dir, '--doc', 'offline/mirror', ...creds(hub)]);
  await waitFor(mirror, 'stderr', /mirroring .* <-> offline\/mirror\n/, 'the mirror started without the hub');
  assert.match(
    mirror.stderr(),
    new RegExp(`^waiting for the hub at ws://127\\.0\\.0\\.1:${hub.port} \\(CB_ERR_CONNECTION_FAILED\\)$`, 'm'),
  );
  assert.match(mirror.stderr(), /^offline\/mirror opened from .*\.crossbus-sync: edits wait there until the hub answers$/m);
  writeFileSync(join(dir, 'b.txt'), 'written while the hub was down');
  writeFileSync(join(dir, 'a.txt'), 'v2, edited while the hub was down');
  await waitFor(mirror, 'stdout', /^up write \/b\.txt$/m, 'b.txt queued');
  await waitFor(mirror, 'stdout', /^up write \/a\.txt$/m, 'the edit of a.txt queued');

  const back = await restartOnPort(hub.port);
  hubs.push(back);
  await waitFor(mirror, 'stderr', /^connected to the hub at ws:\/\/127\.0\.0\.1:\d+$/m, 'the mirror connected');
  const replica = await (await replicaBus(back)).sync.open('offline/mirror', { kind: 'files' });
  await until(
    () =>
      replica.readFile('/b.txt') === 'written while the hub was down' && replica.readFile('/a.txt') === 'v2, edited while the hub was down',
    15_000,
    'the edits made while the hub was down, at another replica',
  );
  // And the other way: a change of the other replica reaches the folder.
  await replica.writeFile('/c.txt', 'from the other replica');
  await until(() => existsSync(join(dir, 'c.txt')), 10_000, 'the remote file in the folder');
  assert.equal(readFileSync(join(dir, 'c.txt'), 'utf8'), 'from the other replica');

  const secret = hub.config?.apps.test.secret as string;
  assert.ok(!mirror.stderr().includes(secret) && !mirror.stdout().includes(secret), 'the secret never shows');
  mirror.proc.kill('SIGTERM');
  const exit = await mirror.exited;
  assert.equal(exit.code, 0, exit.stderr);
  await replica.close();
});

test('sync <dir> with a document its store never held: the mirror starts once the hub answers', T, async () => {
  const hub = await hubThenDown();
  const dir = tempDir();
  writeFileSync(join(dir, 'x.txt'), 'there before');
  const mirror = spawnCli(['sync', dir, '--doc', 'offline/fresh', ...creds(hub)]);
  await waitFor(mirror, 'stderr', /^offline\/fresh is not in .*\.crossbus-sync yet: the mirror starts once the hub answers$/m, 'the wait');
  assert.match(mirror.stderr(), /^waiting for the hub at ws:\/\/127\.0\.0\.1:\d+ \(CB_ERR_CONNECTION_FAILED\)$/m);
  writeFileSync(join(dir, 'y.txt'), 'written while waiting');
  const back = await restartOnPort(hub.port);
  hubs.push(back);
  await waitFor(mirror, 'stderr', /mirroring .* <-> offline\/fresh\n/, 'the mirror started');
  const replica = await (await replicaBus(back)).sync.open('offline/fresh', { kind: 'files' });
  await until(
    () => replica.readFile('/x.txt') === 'there before' && replica.readFile('/y.txt') === 'written while waiting',
    15_000,
    'the folder in the document',
  );
  mirror.proc.kill('SIGTERM');
  assert.equal((await mirror.exited).code, 0);
  await replica.close();
});

test('sync <dir>: refused credentials exit 1 with CB_ERR_AUTH_FAILED, at the start and once a late hub answers', T, async () => {
  const hub = await startHubProcess();
  hubs.push(hub);
  const dir = tempDir();
  const wrong = newSecret();
  const wrongFile = join(tempDir(), 'wrong.secret');
  writeFileSync(wrongFile, wrong);
  const args = ['sync', dir, '--doc', 'offline/refused', '--url', hub.url, '--name', 'test', '--secret-file', wrongFile];
  const atOnce = await spawnCli(args).exited;
  assert.equal(atOnce.code, 1);
  assert.match(atOnce.stderr, /the hub refused the secret for app "test".*\(CB_ERR_AUTH_FAILED\)\n$/);

  await hub.stop();
  const late = spawnCli(args);
  await waitFor(late, 'stderr', /^waiting for the hub at /m, 'the wait');
  const back = await restartOnPort(hub.port);
  hubs.push(back);
  const exit = await late.exited;
  assert.equal(exit.code, 1, exit.stderr);
  assert.match(exit.stderr, /the hub refused the secret for app "test".*\(CB_ERR_AUTH_FAILED\)\n$/);
  for (const text of [atOnce.stderr, exit.stderr, exit.stdout]) assert.ok(!text.includes(wrong), 'the secret never shows');
});

test(
  'sync <dir> opened from its store: a hub that no longer lets the app read the document ends the run, exit 1 with CB_ERR_FORBIDDEN',
  T,
  async () => {
    const hub = await startHubProcess();
    hubs.push(hub);
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'v1');
    const first = spawnCli(['sync', dir, '--doc', 'offline/revoked', ...creds(hub)]);
    await waitFor(first, 'stderr', /mirroring .* <-> offline\/revoked\n/, 'the first run');
    first.proc.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);
    await hub.stop();
    // Meanwhile the app's grants were narrowed: it may no longer read or write sync documents.
    const configFile = join(hub.dataDir, 'crossbus.config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { roles: Record<string, unknown> };
    config.roles.all = { publish: ['other.>'], subscribe: ['other.>'], request: [] };
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    const mirror = spawnCli(['sync', dir, '--doc', 'offline/revoked', ...creds(hub)]);
    await waitFor(mirror, 'stderr', /mirroring .* <-> offline\/revoked\n/, 'started from the store');
    hubs.push(await restartOnPort(hub.port));
    const exit = await mirror.exited;
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /\(CB_ERR_FORBIDDEN\)\n$/);
  },
);

test('sync <dir>: a file changed here and in the document while the mirror was not running gets a conflicted copy', T, async () => {
  const hub = await startHubProcess();
  hubs.push(hub);
  const dir = tempDir();
  writeFileSync(join(dir, 'notes.txt'), 'title\n');
  const runMirror = async (): Promise<CliProcess> => {
    const m = spawnCli(['sync', dir, '--doc', 'offline/conflict', ...creds(hub)]);
    await waitFor(m, 'stderr', /mirroring .* <-> offline\/conflict\n/, 'the mirror');
    return m;
  };
  const first = await runMirror();
  const replica = await (await replicaBus(hub)).sync.open('offline/conflict', { kind: 'files' });
  await until(() => replica.readFile('/notes.txt') === 'title\n', 10_000, 'notes.txt in the document');
  first.proc.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);

  writeFileSync(join(dir, 'notes.txt'), 'title, as edited here\n');
  await replica.writeFile('/notes.txt', 'another title\n');
  await replica.flushed();
  const second = await runMirror();
  await waitFor(second, 'stdout', /^conflict \/notes\.txt: /m, 'the conflict line');
  const line =
    /^conflict \/notes\.txt: edited here and remotely; this folder's version kept, the other is (\/notes \(conflicted copy from remote \d{4}-\d\d-\d\d \d{4} UTC\)\.txt)$/m.exec(
      second.stdout(),
    );
  assert.ok(line !== null, second.stdout());
  const copy = line[1] as string;
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'title, as edited here\n');
  assert.equal(readFileSync(join(dir, copy.slice(1)), 'utf8'), 'another title\n');
  assert.deepEqual(
    readdirSync(dir).filter((n) => !n.startsWith('.crossbus')),
    [copy.slice(1), 'notes.txt'].sort(),
  );
  await until(
    () => replica.readFile('/notes.txt') === 'title, as edited here\n' && replica.readFile(copy) === 'another title\n',
    10_000,
    'both versions in the document',
  );
  second.proc.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
  await replica.close();
});
