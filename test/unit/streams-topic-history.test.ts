/**
 * `maxMessagesPerTopic` through a hub: the stream keeps the last N messages of each topic (the
 * history of a key-value bucket), in memory and on disk, and a consumer that starts with
 * `deliver: 'last-per-topic'` sees the last value of each topic.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../../src/client/index.js';
import type { StreamCatalog } from '../../src/core/streams/catalog.js';
import { MemoryCatalog } from '../../src/core/streams/memory-catalog.js';
import { FileCatalog } from '../../src/node/streams/file-catalog.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { startStreamHub, take } from '../helpers/stream-hub.js';

async function stored(bus: Bus, name: string): Promise<string[]> {
  return (await bus.streams.read(name)).map((m) => `${m.seq}:${m.topic}=${JSON.stringify(m.data)}`);
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

const catalogs: Array<[string, () => { catalog: StreamCatalog; done(): void }]> = [
  ['memory', () => ({ catalog: new MemoryCatalog(), done: () => {} })],
  [
    'files',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cb-topic-history-'));
      return { catalog: new FileCatalog(dir), done: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

describe('streams: maxMessagesPerTopic', () => {
  test('files: FileCatalog passes minCompactBytes on, so a bucket-like stream stays small on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-topic-compact-'));
    const hub = await startStreamHub({ catalog: new FileCatalog(dir, { minCompactBytes: 4_096 }) });
    try {
      const bus = await hub.connect();
      await bus.streams.create({ name: 'KVC', topics: ['kvc.>'], maxMessagesPerTopic: 1, durability: 'interval' });
      const value = 'v'.repeat(100);
      for (let i = 0; i < 2_000; i++) await bus.publish(`kvc.k${i % 2}`, `${value}${i}`, { durable: true });
      assert.deepEqual(
        (await stored(bus, 'KVC')).map((m) => m.split('=')[0]),
        ['1999:kvc.k0', '2000:kvc.k1'],
      );
      // About 300 KB were written; with the early seal, compaction keeps a few segments of 4 KiB.
      assert.ok(dirBytes(join(dir, 'KVC')) < 64 * 1024, `${dirBytes(join(dir, 'KVC'))} bytes on disk`);
    } finally {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [kind, make] of catalogs) {
    test(`${kind}: the last N per topic are kept; 'last-per-topic' delivers the last value of each`, async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const bus = await hub.connect();
        const info = await bus.streams.create({ name: 'KV', topics: ['kv.>'], maxMessagesPerTopic: 2 });
        assert.equal(info.maxMessagesPerTopic, 2);
        for (const [topic, value] of [
          ['kv.a', 1],
          ['kv.b', 1],
          ['kv.a', 2],
          ['kv.a', 3],
          ['kv.c.x', 1],
          ['kv.b', 2],
          ['kv.a', 4],
          ['kv.b', 3],
        ] as const)
          await bus.publish(topic, value, { durable: true });
        assert.deepEqual(await stored(bus, 'KV'), ['4:kv.a=3', '5:kv.c.x=1', '6:kv.b=2', '7:kv.a=4', '8:kv.b=3']);
        const st = (await bus.streams.info('KV')).state;
        assert.deepEqual([st.firstSeq, st.lastSeq, st.messages], [4, 8, 5]);

        const c = bus.consume<number>('KV', { deliver: 'last-per-topic' });
        await c.ready;
        const it = c[Symbol.asyncIterator]();
        const last = await take(it, 3);
        assert.deepEqual(
          last.map((m) => [m.seq, m.topic, m.data]),
          [
            [5, 'kv.c.x', 1],
            [7, 'kv.a', 4],
            [8, 'kv.b', 3],
          ],
        );
        for (const m of last) await m.ack();
        // Then everything new, in order, while the limit keeps applying.
        await bus.publish('kv.c.x', 2, { durable: true });
        const [next] = await take(it, 1);
        assert.deepEqual([next!.seq, next!.topic, next!.data], [9, 'kv.c.x', 2]);
        c.close();

        // Lowering the limit applies it to what is stored; the seqs stay.
        const updated = await bus.streams.update({ name: 'KV', topics: ['kv.>'], maxMessagesPerTopic: 1 });
        assert.equal(updated.maxMessagesPerTopic, 1);
        assert.deepEqual(await stored(bus, 'KV'), ['7:kv.a=4', '8:kv.b=3', '9:kv.c.x=2']);
        assert.equal((await bus.publish('kv.a', 5, { durable: true })).seq, 10);
        assert.deepEqual(await stored(bus, 'KV'), ['8:kv.b=3', '9:kv.c.x=2', '10:kv.a=5']);
      } finally {
        await hub.close();
        done();
      }
    });
  }

  test('the option is validated, compared by create and listed', async () => {
    const hub = await startStreamHub();
    const bus = await hub.connect();
    for (const bad of [0, -1, 1.5, '2', null])
      await rejectsWithCode(bus.streams.create({ name: 'X', topics: ['x.>'], maxMessagesPerTopic: bad as never }), 'CB_ERR_INVALID_OPTION');
    await bus.streams.create({ name: 'KV', topics: ['kv.>'], maxMessagesPerTopic: 1 });
    assert.equal((await bus.streams.create({ name: 'KV', topics: ['kv.>'], maxMessagesPerTopic: 1 })).name, 'KV', 'idempotent');
    await rejectsWithCode(bus.streams.create({ name: 'KV', topics: ['kv.>'], maxMessagesPerTopic: 2 }), 'CB_ERR_STREAM_EXISTS');
    await rejectsWithCode(bus.streams.create({ name: 'KV', topics: ['kv.>'] }), 'CB_ERR_STREAM_EXISTS');
    const listed = (await bus.streams.list()).find((s) => s.name === 'KV');
    assert.equal(listed?.maxMessagesPerTopic, 1);
    assert.equal((await bus.streams.create({ name: 'PLAIN', topics: ['p.>'] })).maxMessagesPerTopic, undefined, 'absent: unlimited');
    await hub.close();
  });

  for (const [kind, make] of catalogs) {
    test(`${kind}: over the wire, one message deleted, one topic purged but its newest, and a topic's last message`, async () => {
      const { catalog, done } = make();
      const hub = await startStreamHub({ catalog });
      try {
        const bus = await hub.connect();
        await bus.streams.create({ name: 'OPS', topics: ['ops.>'] });
        for (const [topic, value] of [
          ['ops.a', 1],
          ['ops.b', 1],
          ['ops.a', 2],
          ['ops.a', 3],
          ['ops.b', 2],
        ] as const)
          await bus.publish(topic, value, { durable: true });
        assert.equal((await bus.streams.last('OPS', 'ops.a'))?.data, 3);
        assert.equal(await bus.streams.last('OPS', 'ops.none'), undefined);
        assert.equal(await bus.streams.deleteMessage('OPS', 5), true);
        assert.equal(await bus.streams.deleteMessage('OPS', 5), false, 'gone already');
        assert.equal((await bus.streams.last('OPS', 'ops.b'))?.seq, 2, 'the newest still stored');
        assert.deepEqual(await bus.streams.purgeTopic('OPS', 'ops.a', { keep: 1 }), { purged: 2 });
        assert.deepEqual(await stored(bus, 'OPS'), ['2:ops.b=1', '4:ops.a=3']);
        assert.deepEqual(await bus.streams.purgeTopic('OPS', 'ops.b'), { purged: 1 });
        assert.deepEqual(await stored(bus, 'OPS'), ['4:ops.a=3']);
        // Bad input, refused typed by the client before anything is sent, and by the hub.
        await rejectsWithCode(bus.streams.deleteMessage('OPS', 0), 'CB_ERR_INVALID_OPTION');
        await rejectsWithCode(bus.streams.purgeTopic('OPS', 'ops.*'), 'CB_ERR_INVALID_OPTION');
        await rejectsWithCode(bus.streams.purgeTopic('OPS', 'ops.a', { keep: -1 }), 'CB_ERR_INVALID_OPTION');
        await rejectsWithCode(bus.streams.last('OPS', 'ops.>'), 'CB_ERR_INVALID_OPTION');
        await rejectsWithCode(bus.streams.last('NOPE', 'ops.a'), 'CB_ERR_STREAM_NOT_FOUND');
        const raw = (op: object): Promise<unknown> =>
          (bus as unknown as { streams: { send: (o: object) => Promise<unknown> } }).streams.send(op);
        await rejectsWithCode(raw({ op: 'delete-message', name: 'OPS', seq: 1.5 }), 'CB_ERR_INVALID_OPTION');
        await rejectsWithCode(raw({ op: 'purge-topic', name: 'OPS', topic: 'ops.>' }), 'CB_ERR_INVALID_OPTION');
        await rejectsWithCode(raw({ op: 'last', name: 'OPS', topic: 7 }), 'CB_ERR_INVALID_OPTION');
        assert.deepEqual(await stored(bus, 'OPS'), ['4:ops.a=3'], 'nothing changed by the refused ones');
      } finally {
        await hub.close();
        done();
      }
    });
  }
});
