/**
 * Conflict announcements (`<doc topic>.conflicts`): the bound on what one carries (at its edge,
 * the largest values left out and named, a path too long cut), their options (checked at their
 * edges), and, against an in-process hub, a subscriber that sees the parked conflict once (its
 * author's) and the resolution once (its resolver's), and nothing from a replica that turned
 * announcements off. The same against a real hub: test/integration/sync-announce.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStreamHub } from '../helpers/stream-hub.js';
import { createSync } from '../../src/client/sync/sync-api.js';
import { MemorySyncStore } from '../../src/client/sync/store.js';
import { boundAnnouncement, type ConflictAnnouncement } from '../../src/client/sync/conflict-announcer.js';
import type { ConflictInfo } from '../../src/core/sync/index.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { Bus } from '../../src/client/bus.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

const crypto = createNodeCryptoProvider();
const sync = (bus: Bus) => createSync(bus, { crypto, store: new MemorySyncStore() });

describe('conflict announcements: their bound', () => {
  const conflict = (value: unknown, path = '/notes.md'): ConflictInfo => ({
    id: '7:0',
    path,
    localChange: { type: 'update', path, value, oldValue: 'base', timestamp: 1 },
    remoteChange: { type: 'update', path, value: 'theirs', oldValue: 'base', timestamp: 2 },
    detectionTime: 2,
    strategy: 'manual',
    replica: 'r1',
  });
  const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

  test('within the bound a conflict goes whole; past it the largest values go, named in truncated', () => {
    const small = boundAnnouncement('parked', 'project/42', conflict('ours'), 1024);
    assert.deepEqual(small, { event: 'parked', doc: 'project/42', conflict: conflict('ours') });
    // Exactly at the bound: whole.
    const edge = conflict('x');
    const room = 1024 - bytes({ event: 'parked', doc: 'project/42', conflict: edge });
    const atEdge = conflict('x'.repeat(1 + room));
    assert.equal(bytes({ event: 'parked', doc: 'project/42', conflict: atEdge }), 1024);
    assert.equal(boundAnnouncement('parked', 'project/42', atEdge, 1024).truncated, undefined);
    const over = conflict('x'.repeat(2 + room));
    const cut = boundAnnouncement('parked', 'project/42', over, 1024);
    assert.deepEqual(cut.truncated, ['localChange.value']);
    assert.equal(cut.conflict.localChange?.value, undefined);
    assert.equal(cut.conflict.remoteChange?.value, 'theirs', 'the smaller values stay');
    assert.ok(bytes(cut) <= 1024);
  });

  test('a path too long for the bound: the changes go, the path is cut to fit', () => {
    const path = `/${'é'.repeat(5000)}`;
    const cut = boundAnnouncement('resolved', 'project/42', conflict('v', path), 2048);
    assert.deepEqual(cut.truncated, ['localChange', 'remoteChange', 'path']);
    assert.equal(cut.conflict.localChange, undefined);
    assert.ok(path.startsWith(cut.conflict.path) && cut.conflict.path.length > 100);
    assert.ok(bytes(cut) <= 2048, `${bytes(cut)}`);
    assert.equal(cut.conflict.id, '7:0');
  });
});

describe('conflict announcements on the bus', () => {
  test('the parked conflict once, by its author; the resolution once, by its resolver; none with announceConflicts: false', async () => {
    const hub = await startStreamHub();
    const [busA, busB, watcher] = [await hub.connect(), await hub.connect(), await hub.connect()];
    const seen: Array<{ from: string; a: ConflictAnnouncement }> = [];
    const sub = watcher.subscribe<unknown>('sync.announce.doc.>', (m) => {
      if (m.topic.endsWith('.conflicts')) seen.push({ from: 'conflicts', a: m.data as ConflictAnnouncement });
      else seen.push({ from: m.topic, a: m.data as ConflictAnnouncement });
    });
    await sub.ready;
    const a = await sync(busA).open<{ t?: string }>('announce/doc', { strategies: [{ path: '/t', strategy: 'manual' }] });
    a.replace({ t: 'x' });
    await a.flushed();
    const b = await sync(busB).open<{ t?: string }>('announce/doc', { mode: 'manual' });
    b.replace({ t: 'b' });
    a.replace({ t: 'a' });
    await a.flushed();
    b.sync();
    await b.flushed();
    await until(() => a.conflicts.length === 1 && a.seq === b.seq, 3_000, 'parked');
    // Announcements of different replicas are not ordered among themselves: the parked one first, then the resolve.
    await until(() => seen.length === 1, 3_000, 'the parked conflict announced');
    a.resolve(a.conflicts[0]!.id, 'remote');
    await a.flushed();
    await until(() => b.conflicts.length === 0, 3_000, 'b applied the resolve');
    // Each bus's messages arrive in order: once a marker of each is in, every announcement either
    // replica made (or would wrongly have made) before it is in too.
    await Promise.all([busA.publish('sync.announce.doc.marker', 'a'), busB.publish('sync.announce.doc.marker', 'b')]);
    await until(() => seen.filter((s) => s.from.endsWith('.marker')).length === 2, 3_000, 'both markers');
    assert.deepEqual(
      seen.filter((s) => s.from === 'conflicts').map((s) => [s.a.event, s.a.conflict.replica, s.a.conflict.resolvedBy]),
      [
        ['parked', b.replica, undefined],
        ['resolved', b.replica, a.replica],
      ],
    );
    seen.length = 0;

    // A replica that turned them off: its parked change is not announced. Its own later message
    // (a marker) is the positive signal: had it announced, that would have come first.
    const c = await sync(busB).open<{ t?: string }>('announce/doc', {
      mode: 'manual',
      announceConflicts: false,
      store: new MemorySyncStore(),
    });
    c.replace({ t: 'c' });
    a.replace({ t: 'a again' });
    await a.flushed();
    c.sync();
    await c.flushed();
    await until(() => c.conflicts.length === 1, 3_000, 'parked again');
    await busB.publish('sync.announce.doc.marker', 'after');
    await until(() => seen.length === 1, 3_000, 'the marker');
    assert.equal(seen[0]?.from, 'sync.announce.doc.marker', 'no announcement before it');
    sub.unsubscribe();
    await Promise.all([a.close(), b.close(), c.close()]);
    await hub.close();
  });

  test('options: announceConflicts a boolean; maxAnnouncementBytes at least 1024', async () => {
    const hub = await startStreamHub();
    const api = sync(await hub.connect());
    await rejectsWithCode(api.open('announce/opts', { announceConflicts: 'yes' as never }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(api.open('announce/opts', { maxAnnouncementBytes: 1023 }), 'CB_ERR_INVALID_OPTION');
    await rejectsWithCode(api.open('announce/opts', { maxAnnouncementBytes: 1.5e3 + 0.5 }), 'CB_ERR_INVALID_OPTION');
    const doc = await api.open('announce/opts', { maxAnnouncementBytes: 1024 });
    await doc.close();
    await hub.close();
  });
});
