/**
 * Conflicts announced on the bus, against a REAL hub process: two replicas make a conflict that a
 * manual strategy parks, and a third client, subscribed to the document's conflicts topic with an
 * app that may only read `sync.project.>`, sees it parked (once: only the parked change's author
 * announces) and then resolved (by the replica that resolved it), values beyond the bound left
 * out and named; the document's stream keeps none of it. `crossbus sync conflicts --watch` prints
 * the same live. Needs `npm run build` first.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type SyncingBus } from '../../src/node/index.js';
import type { ConflictAnnouncement, SyncDocument } from '../../src/node/sync.js';
import { spawnCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { secret, testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 30_000 };

const config = testConfigDocument({
  apps: {
    test: { secret: secret(), roles: ['all'] },
    editor: { secret: secret(), roles: ['sync-writer'] },
    dashboard: { secret: secret(), roles: ['sync-reader'] },
  },
  roles: {
    all: { publish: ['>'], subscribe: ['>'], request: ['>'] },
    // The grants a document already needs cover its conflicts topic.
    'sync-writer': { publish: ['sync.project.>'], subscribe: ['sync.project.>'], request: [] },
    'sync-reader': { publish: [], subscribe: ['sync.project.>'], request: [] },
  },
  limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
});

let hub: HubProcess;
const buses: SyncingBus[] = [];

async function bus(app: keyof typeof config.apps): Promise<SyncingBus> {
  const b = await connect(hub.url, { name: app, secret: config.apps[app]!.secret, timeoutMs: 5_000, requestTimeoutMs: 2_000 });
  buses.push(b);
  return b;
}

before(async () => {
  hub = await startHubProcess([], { config });
});

after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  await hub?.stop();
});

type Doc = { title?: string; body?: string };

/** `a` and `b` at one log position, b's manual edit of `/title` parked against a's. */
async function parkOne(a: SyncDocument<Doc>, b: SyncDocument<Doc>, fromA: string, fromB: string): Promise<void> {
  b.change((d) => {
    d.title = fromB;
  });
  a.change((d) => {
    d.title = fromA;
  });
  await a.flushed();
  b.sync();
  await b.flushed();
  await until(() => a.seq === b.seq && a.conflicts.length > 0, 5_000, 'the conflict parked on both');
}

test('a third client sees a conflict parked once and then its resolution; big values are left out, named', T, async () => {
  const [busA, busB, dashboard] = await Promise.all([bus('editor'), bus('editor'), bus('dashboard')]);
  const a = await busA.sync.open<Doc>('project/announce', { strategies: [{ path: '/title', strategy: 'manual' }] });
  a.replace({ title: 'draft', body: 'x' });
  await a.flushed();
  const b = await busB.sync.open<Doc>('project/announce', { mode: 'manual' });
  assert.equal(a.topic, 'sync.project.announce');

  const seen: ConflictAnnouncement[] = [];
  const sub = dashboard.subscribe<ConflictAnnouncement>('sync.project.announce.conflicts', (m) => void seen.push(m.data));
  await sub.ready;

  // b's change is parked: b, its author, announces; a, which parked it too, does not.
  const big = 'B'.repeat(40_000);
  await parkOne(a, b, 'from a', big);
  const [conflict] = a.conflicts;
  assert.ok(conflict);
  await until(() => seen.length >= 1, 5_000, 'the parked conflict announced');
  // a resolves it: a announces the resolution. a's messages reach the dashboard in order, so had
  // a announced the parked conflict as well, that would have come before this one.
  a.resolve(conflict.id, 'local');
  await a.flushed();
  await until(() => seen.some((s) => s.event === 'resolved'), 5_000, 'the resolution announced');
  await until(() => b.conflicts.length === 0, 5_000, 'b sees the resolution');
  assert.deepEqual(
    seen.map((s) => [s.event, s.doc, s.conflict.id, s.conflict.path]),
    [
      ['parked', 'project/announce', conflict.id, '/title'],
      ['resolved', 'project/announce', conflict.id, '/title'],
    ],
  );
  const [parked, resolved] = seen as [ConflictAnnouncement, ConflictAnnouncement];
  assert.equal(parked.conflict.replica, b.replica);
  assert.equal(parked.conflict.strategy, 'manual');
  assert.deepEqual(parked.truncated, ['remoteChange.value'], 'the 40 kB value is left out');
  assert.equal(parked.conflict.remoteChange?.value, undefined);
  assert.equal(parked.conflict.localChange?.value, 'from a', 'the small one stays');
  assert.ok(JSON.stringify(parked).length <= 16_384);
  assert.equal(resolved.conflict.resolution, 'local');
  assert.equal(resolved.conflict.resolvedBy, a.replica);
  assert.equal(typeof resolved.conflict.resolvedTime, 'number');

  // The document's stream keeps the changes and snapshots only.
  const stream = (await busA.streams.list()).find((s) => s.topics.includes('sync.project.announce'));
  assert.deepEqual(stream?.topics, ['sync.project.announce', 'sync.project.announce.snap']);
  const kept = await busA.streams.read(stream.name);
  assert.ok(kept.length > 0);
  assert.deepEqual(
    kept.filter((m) => m.topic.endsWith('.conflicts')),
    [],
  );
  sub.unsubscribe();
  await Promise.all([a.close(), b.close()]);
});

test('crossbus sync conflicts --watch lists what is parked, then prints each conflict as it is announced', T, async () => {
  const [busA, busB] = await Promise.all([bus('editor'), bus('editor')]);
  const a = await busA.sync.open<Doc>('project/watched', { strategies: [{ path: '/title', strategy: 'manual' }] });
  a.replace({ title: 'draft' });
  await a.flushed();
  const b = await busB.sync.open<Doc>('project/watched', { mode: 'manual' });
  await parkOne(a, b, 'from a', 'from b');
  const first = a.conflicts[0]!;

  const creds = ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];
  const watch = spawnCli(['sync', 'conflicts', '--doc', 'project/watched', '--watch', ...creds]);
  await until(() => /watching the conflicts of project\/watched/.test(watch.stderr()), 15_000, `the watch to start: ${watch.stderr()}`);
  assert.match(watch.stdout(), new RegExp(`^ {2}ID +PATH +STRATEGY +REPLICA +DETECTED\\n {2}${first.id} +/title +manual +${b.replica} `));

  await parkOne(a, b, 'again from a', 'again from b');
  const second = a.conflicts.find((c) => c.id !== first.id)!;
  await until(() => watch.stdout().includes(`parked ${second.id} `), 5_000, `the parked line: ${watch.stdout()}`);
  a.resolve(first.id, 'remote');
  await a.flushed();
  await until(() => watch.stdout().includes(`resolved ${first.id} `), 5_000, `the resolved line: ${watch.stdout()}`);
  const lines = watch.stdout().split('\n').slice(2).filter(Boolean);
  assert.equal(lines.length, 2, watch.stdout());
  assert.equal(lines[0], `parked ${second.id} /title (manual) by ${b.replica}`);
  assert.match(lines[1]!, new RegExp(`^resolved ${first.id} /title \\(manual\\) remote by ${a.replica} after \\d+\\.\\d s$`));
  watch.proc.kill('SIGTERM');
  const exit = await watch.exited;
  assert.equal(exit.code, 0, exit.stderr);
  await Promise.all([a.close(), b.close()]);
});
