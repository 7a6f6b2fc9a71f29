/**
 * `bus.sync` against a REAL hub process (its streams on disk): Node replicas of one JSON document
 * and of one file tree editing at once and converging; a replica cut off from the hub editing,
 * restarting from its FileSyncStore and its edits landing; grants (a subscribe-only app reads
 * but its edits are refused, typed); document names that are not topics refused.
 * Needs `npm run build` first.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { FileSyncStore, type SyncDocument } from '../../src/node/sync.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { secret, testConfigDocument } from '../helpers/security.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 30_000 };

const config = testConfigDocument({
  apps: {
    test: { secret: secret(), roles: ['all'] },
    orders: { secret: secret(), roles: ['all'] },
    billing: { secret: secret(), roles: ['all'] },
    editor: { secret: secret(), roles: ['sync-writer'] },
    viewer: { secret: secret(), roles: ['sync-reader'] },
  },
  roles: {
    all: { publish: ['>'], subscribe: ['>'], request: ['>'] },
    'sync-writer': { publish: ['sync.>'], subscribe: ['sync.>'], request: [] },
    // Reading a document takes subscribe grants on its topic and its snapshots' (sync.<name>.snap).
    'sync-reader': { publish: [], subscribe: ['sync.project.>'], request: [] },
  },
  limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } },
});

let hub: HubProcess;
const buses: SyncingBus[] = [];
const dirs: string[] = [];

async function bus(app: keyof typeof config.apps, url = hub.url): Promise<SyncingBus> {
  const b = await connect(url, {
    name: app,
    secret: config.apps[app]!.secret,
    timeoutMs: 5_000,
    requestTimeoutMs: 2_000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  buses.push(b);
  return b;
}

before(async () => {
  hub = await startHubProcess([], { config });
});

after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  await hub?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Both replicas at the stream's end with equal values. */
async function converged<T>(a: SyncDocument<T>, b: SyncDocument<T>, what: string): Promise<void> {
  await until(
    () => a.pendingChanges === 0 && b.pendingChanges === 0 && a.seq === b.seq && JSON.stringify(a.value) === JSON.stringify(b.value),
    10_000,
    what,
  );
}

type Board = { cards: Record<string, { title: string; votes?: number }>; log: string[] };

test('two replicas of a JSON document edit at once and converge, no edit lost', T, async () => {
  const [busA, busB] = await Promise.all([bus('editor'), bus('test')]);
  const a = await busA.sync.open<Board>('project/42', { kind: 'json' });
  await a.flushed();
  a.replace({ cards: {}, log: [] });
  await a.flushed();
  const b = await busB.sync.open<Board>('project/42');
  assert.deepEqual(b.value, { cards: {}, log: [] }, 'a replica that opens reads the log to its end first');
  const remote: string[][] = [];
  b.on('change', (e) => {
    if (e.origin === 'remote') remote.push([...e.paths]);
  });
  // Interleaved edits on both, none awaited: each replica's are folded while one is in flight.
  for (let i = 0; i < 20; i++) {
    a.change((d) => {
      d.cards[`a${i}`] = { title: `from a ${i}` };
    });
    b.change((d) => {
      d.cards[`b${i}`] = { title: `from b ${i}` };
      d.log.push(`b${i}`);
    });
  }
  await Promise.all([a.flushed(), b.flushed()]);
  await converged(a, b, 'the JSON replicas converge');
  for (let i = 0; i < 20; i++) {
    assert.equal(a.value.cards[`a${i}`]?.title, `from a ${i}`);
    assert.equal(a.value.cards[`b${i}`]?.title, `from b ${i}`);
  }
  assert.equal(a.value.log.length, 20);
  assert.ok(remote.length > 0, 'b heard a');
  // One card edited on both at once, at different paths: both edits stay (merge).
  a.change((d) => {
    d.cards.b0!.votes = 1;
  });
  b.change((d) => {
    d.cards.b0!.title = 'renamed by b';
  });
  await Promise.all([a.flushed(), b.flushed()]);
  await converged(a, b, 'the second round converges');
  assert.deepEqual(a.value.cards.b0, { title: 'renamed by b', votes: 1 });
  assert.deepEqual(a.conflicts, []);
  await Promise.all([a.close(), b.close()]);
});

test('two replicas of a file tree: text edits of one file merge, files come and go, binaries travel', T, async () => {
  const [busA, busB] = await Promise.all([bus('editor'), bus('editor')]);
  const a = await busA.sync.open('project/42-files', { kind: 'files' });
  const text = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
  await a.writeFile('/src/main.ts', text);
  await a.writeFile('/README.md', '# project');
  await a.flushed();
  const b = await busB.sync.open('project/42-files');
  assert.equal(b.kind, 'files', "the document's kind comes from its log");
  assert.equal(b.readFile('/src/main.ts'), text);
  // The same file edited on both at once, different lines: a three-way merge keeps both.
  // Each edits the file as it has it (as an editor does).
  await a.writeFile('/src/main.ts', (a.readFile('/src/main.ts') as string).replace('line 3', 'line 3 (a)'));
  await b.writeFile('/src/main.ts', (b.readFile('/src/main.ts') as string).replace('line 25', 'line 25 (b)'));
  await b.writeFile('/docs/guide.md', 'guide');
  b.deleteFile('/README.md');
  const bytes = new Uint8Array(50_000).map((_, i) => (i * 31) % 256);
  await a.writeFile('/assets/logo.bin', bytes);
  await Promise.all([a.flushed(), b.flushed()]);
  await converged(a, b, 'the file trees converge');
  const merged = a.readFile('/src/main.ts') as string;
  assert.match(merged, /line 3 \(a\)/);
  assert.match(merged, /line 25 \(b\)/);
  assert.deepEqual(a.paths(), ['/assets/logo.bin', '/docs/guide.md', '/src/main.ts']);
  assert.deepEqual([...(b.readFile('/assets/logo.bin') as Uint8Array)], [...bytes]);
  await Promise.all([a.close(), b.close()]);
});

/** A TCP proxy in front of the hub's WebSocket port that can be cut: the replica behind it is offline. */
async function cuttableProxy(target: number): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = netConnect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('offline: a replica cut off from the hub edits, restarts from its FileSyncStore, and its edits land', T, async () => {
  const proxy = await cuttableProxy(hub.port);
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-sync-store-'));
  dirs.push(dir);
  const online = await bus('editor');
  const other = await online.sync.open<Record<string, number>>('project/offline');
  const away = await bus('editor', proxy.url);
  const store = new FileSyncStore(dir);
  const mine = await away.sync.open<Record<string, number>>('project/offline', { store });
  mine.replace({ before: 1 });
  await mine.flushed();
  await until(() => other.value.before === 1, 5_000, 'the first edit, online');

  proxy.cut();
  await until(() => away.state === 'reconnecting', 5_000, 'the replica is offline');
  for (let i = 0; i < 5; i++) {
    mine.change((d) => {
      d[`offline${i}`] = i;
    });
  }
  other.change((d) => {
    d.meanwhile = 1;
  });
  await other.flushed();
  assert.equal(mine.value.offline4, 4, 'offline edits show at once');
  assert.equal(mine.value.meanwhile, undefined);
  // The process "ends": the bus closes without ever reconnecting; the queue is in the store.
  await mine.close();
  await away.close();
  await store.close();
  await proxy.close();

  const back = await bus('editor');
  const again = new FileSyncStore(dir);
  const restarted = await back.sync.open<Record<string, number>>('project/offline', { store: again });
  assert.equal(restarted.replica, mine.replica, 'the same replica, from the store');
  await restarted.flushed();
  await converged(restarted, other, 'the offline edits landed');
  assert.deepEqual(other.value, { before: 1, meanwhile: 1, offline0: 0, offline1: 1, offline2: 2, offline3: 3, offline4: 4 });
  await restarted.close();
  await again.close();
  await other.close();
});

test('grants: a subscribe-only app reads a document, and its edits are refused with CB_ERR_FORBIDDEN', T, async () => {
  const writer = await (await bus('editor')).sync.open<{ text?: string; n?: number }>('project/readonly');
  writer.replace({ text: 'hello' });
  await writer.flushed();
  const viewerBus = await bus('viewer');
  const reader = await viewerBus.sync.open<{ text?: string; n?: number }>('project/readonly');
  assert.deepEqual(reader.value, { text: 'hello' });
  writer.change((d) => {
    d.n = 1;
  });
  await until(() => reader.value.n === 1, 5_000, 'the reader follows');

  const rejected: string[] = [];
  reader.on('rejected', (e) => rejected.push(e.error.code));
  reader.change((d) => {
    d.text = 'vandalized';
  });
  assert.equal(reader.value.text, 'vandalized', 'shown at once, as every edit is');
  await rejectsWithCode(reader.flushed(), 'CB_ERR_FORBIDDEN');
  assert.deepEqual(reader.value, { text: 'hello', n: 1 }, 'the refused edit left the value');
  assert.deepEqual(rejected, ['CB_ERR_FORBIDDEN']);
  const rejectedTotal = reader.metrics().find((m) => m.name === 'crossbus_sync_changes_rejected_total');
  assert.deepEqual(
    rejectedTotal?.type !== 'histogram' ? rejectedTotal?.read() : undefined,
    [
      { labels: { doc: 'project/readonly', origin: 'local' }, value: 1 },
      { labels: { doc: 'project/readonly', origin: 'remote' }, value: 0 },
    ],
    'the refused change is counted',
  );
  assert.throws(
    () =>
      reader.change((d) => {
        d.n = 2;
      }),
    { code: 'CB_ERR_FORBIDDEN' },
    'later edits are refused at once',
  );
  assert.equal(reader.pendingChanges, 0);
  // A document outside its grants cannot be opened at all.
  await rejectsWithCode(viewerBus.sync.open('other/doc'), 'CB_ERR_FORBIDDEN');
  await Promise.all([writer.close(), reader.close()]);
});

test('a document name that is not a valid topic is refused with CB_ERR_TOPIC_INVALID', T, async () => {
  const b = await bus('editor');
  for (const name of ['', 'a..b', 'a//b', 'a/b.c', 'a/*/b', 'a/>', 'has space', '/lead', 'trail/']) {
    const e = await rejectsWithCode(b.sync.open(name), 'CB_ERR_TOPIC_INVALID');
    assert.ok(e.message.length > 0, name);
  }
  assert.deepEqual(
    (await b.streams.list()).filter((s) => s.name.startsWith('sync-') && s.topics.some((t) => t.includes('*'))),
    [],
  );
});
