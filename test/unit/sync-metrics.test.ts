/**
 * A document's metrics against an in-process hub with streams: real concurrent edits of two
 * replicas park a conflict (manual), decide one (lww) and merge one (two edits of a long text), a
 * resolve settles the parked one after a known time (the replicas' clocks are injected), and the
 * counts, the resolution histogram, the gauges and the change counters move accordingly, on both
 * replicas alike; `bus.sync.metrics()` joins the open documents under the label `doc`; entries
 * read again after a reload are not counted twice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStreamHub } from '../helpers/stream-hub.js';
import { createSync } from '../../src/client/sync/sync-api.js';
import { MemorySyncStore } from '../../src/client/sync/store.js';
import type { SyncDocument } from '../../src/client/sync/sync-doc.js';
import { encodeBatch, formatHlc, syncDocTopic } from '../../src/core/sync/index.js';
import type { HistogramSample, Metric, Sample } from '../../src/core/metrics/metric.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import type { Bus } from '../../src/client/bus.js';
import { until } from '../helpers/wait.js';

const crypto = createNodeCryptoProvider();
const sync = (bus: Bus) => createSync(bus, { crypto, store: new MemorySyncStore() });

function metric(metrics: readonly Metric[], name: string): Metric {
  const m = metrics.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
}

/** The value of the sample of `name` whose labels include `labels` (0 when there is none). */
function value(doc: { metrics(): readonly Metric[] }, name: string, labels: Record<string, string> = {}): number {
  const m = metric(doc.metrics(), name);
  assert.notEqual(m.type, 'histogram');
  const found = (m.read() as readonly Sample[]).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)}: one sample`);
  return found[0]?.value ?? 0;
}

function resolution(doc: SyncDocument<unknown>, strategy: string): HistogramSample | undefined {
  const m = metric(doc.metrics(), 'crossbus_sync_conflict_resolution_seconds');
  assert.equal(m.type, 'histogram');
  return (m.read() as readonly HistogramSample[]).find((s) => s.labels.strategy === strategy);
}

type Doc = { price: number; score: number; notes: string };
const lines = Array.from({ length: 60 }, (_, i) => `line ${i}`);

describe('sync metrics', () => {
  test('conflicts by strategy and outcome, resolution time, changes and gauges move with real conflicts', async () => {
    const hub = await startStreamHub();
    const [busA, busB] = [await hub.connect(), await hub.connect()];
    let now = 1_700_000_000_000;
    const clock = () => now;
    const apiA = sync(busA);
    const a = await apiA.open<Doc>('metrics/doc', {
      strategies: [
        { path: '/price', strategy: 'manual' },
        { path: '/score', strategy: 'lww' },
      ],
      clock,
    });
    a.replace({ price: 10, score: 0, notes: lines.join('\n') });
    await a.flushed();
    const b = await sync(busB).open<Doc>('metrics/doc', { mode: 'manual', clock });
    for (const d of [a, b]) {
      assert.equal(value(d, 'crossbus_sync_conflicts_total'), 0, 'no conflict yet');
      assert.equal(value(d, 'crossbus_sync_conflicts_parked', { doc: 'metrics/doc' }), 0);
    }
    // b's edits wait (manual mode) while a's land: each of the three paths is concurrent.
    b.change((d) => {
      d.price = 12;
      d.score = 2;
      d.notes = d.notes.replace('line 50', 'line 50 (b)');
    });
    assert.equal(value(b, 'crossbus_sync_pending_changes', { doc: 'metrics/doc' }), 1, 'the offline queue');
    a.change((d) => {
      d.price = 11;
      d.score = 1;
      d.notes = d.notes.replace('line 3', 'line 3 (a)');
    });
    await a.flushed();
    b.sync();
    await b.flushed();
    await until(() => a.seq === b.seq && a.conflicts.length === 1, 3_000, 'both replicas at the end of the log');
    assert.match(a.value.notes, /line 3 \(a\)[\s\S]*line 50 \(b\)/, 'the texts merged');
    for (const d of [a, b]) {
      assert.equal(value(d, 'crossbus_sync_conflicts_total', { doc: 'metrics/doc', strategy: 'manual', outcome: 'parked' }), 1);
      assert.equal(value(d, 'crossbus_sync_conflicts_total', { strategy: 'lww', outcome: 'lww' }), 1);
      assert.equal(value(d, 'crossbus_sync_conflicts_total', { strategy: 'merge', outcome: 'merged' }), 1);
      assert.equal(value(d, 'crossbus_sync_conflicts_total', { outcome: 'resolved' }), 0);
      assert.equal(value(d, 'crossbus_sync_conflicts_parked'), 1);
      assert.equal(resolution(d, 'manual'), undefined, 'nothing resolved yet');
      assert.equal(value(d, 'crossbus_sync_pending_changes'), 0);
    }

    // A person takes 90 s (by the replicas' clocks) to decide.
    now += 90_000;
    a.resolve(a.conflicts[0]!.id, 'remote');
    await a.flushed();
    await until(() => b.conflicts.length === 0, 3_000, 'b sees the resolution');
    for (const d of [a, b]) {
      assert.equal(value(d, 'crossbus_sync_conflicts_total', { strategy: 'manual', outcome: 'resolved' }), 1);
      assert.equal(value(d, 'crossbus_sync_conflicts_total', { strategy: 'manual', outcome: 'parked' }), 1, 'a counter: stays');
      assert.equal(value(d, 'crossbus_sync_conflicts_parked'), 0);
      const h = resolution(d, 'manual');
      assert.ok(h);
      assert.equal(h.count, 1);
      assert.equal(h.sum, 90);
      const buckets = metric(d.metrics(), 'crossbus_sync_conflict_resolution_seconds') as { buckets: readonly number[] };
      assert.equal(h.cumulative[buckets.buckets.indexOf(60)], 0, 'not within 60 s');
      assert.equal(h.cumulative[buckets.buckets.indexOf(300)], 1, 'within 300 s');
    }
    assert.equal(a.value.price, 12);

    // Changes: a made the meta, the first value, its edit and the resolve; b its one edit.
    assert.equal(value(a, 'crossbus_sync_changes_sent_total'), 4);
    assert.equal(value(b, 'crossbus_sync_changes_sent_total'), 1);
    assert.equal(value(a, 'crossbus_sync_changes_applied_total', { origin: 'local' }), 4);
    assert.equal(value(a, 'crossbus_sync_changes_applied_total', { origin: 'remote' }), 1);
    assert.equal(value(b, 'crossbus_sync_changes_applied_total', { origin: 'local' }), 1);
    assert.equal(value(b, 'crossbus_sync_changes_applied_total', { origin: 'remote' }), 4);

    // A change that does not apply, published by someone else: rejected by the log's rules on both.
    const bad = {
      replica: 'intruder',
      rseq: 1,
      base: a.seq,
      hlc: formatHlc(now, 0, 'intruder'),
      ops: [{ type: 'delete', path: '/nope', timestamp: now }],
    };
    await busA.publish(syncDocTopic('metrics/doc'), encodeBatch([bad as never]), { durable: true });
    await until(() => value(b, 'crossbus_sync_changes_rejected_total', { origin: 'remote' }) === 1, 3_000, 'b counts the rejected change');
    await until(() => value(a, 'crossbus_sync_changes_rejected_total', { origin: 'remote' }) === 1, 3_000, 'a counts it too');
    assert.equal(value(a, 'crossbus_sync_changes_rejected_total', { origin: 'local' }), 0);

    // Every open document of a bus, one Metric per name, a sample per document.
    const other = await apiA.open('metrics/other');
    const all = apiA.metrics();
    assert.deepEqual(
      all.map((m) => m.name),
      a.metrics().map((m) => m.name),
    );
    const parkedNow = metric(all, 'crossbus_sync_conflicts_parked').read() as readonly Sample[];
    assert.deepEqual(parkedNow.map((s) => s.labels.doc).sort(), ['metrics/doc', 'metrics/other']);
    for (const m of all) assert.match(m.name, /^crossbus_sync_[a-z_]+$/);
    await other.close();
    assert.deepEqual(
      (metric(apiA.metrics(), 'crossbus_sync_conflicts_parked').read() as readonly Sample[]).map((s) => s.labels.doc),
      ['metrics/doc'],
      'a closed document leaves',
    );
    await Promise.all([a.close(), b.close()]);
    await hub.close();
  });

  test('entries read again after a reload (a copy found corrupt) are not counted twice', async () => {
    const hub = await startStreamHub();
    const [busA, busB, raw] = [await hub.connect(), await hub.connect(), await hub.connect()];
    const a = await sync(busA).open<Record<string, number>>('metrics/reload', { strategies: [{ path: '/**', strategy: 'manual' }] });
    a.replace({ x: 0 });
    await a.flushed();
    const b = await sync(busB).open<Record<string, number>>('metrics/reload', { mode: 'manual' });
    b.replace({ x: 2 });
    a.replace({ x: 1 });
    await a.flushed();
    b.sync();
    await b.flushed();
    await until(() => a.conflicts.length === 1 && a.seq === b.seq, 3_000, 'parked');
    const applied = value(a, 'crossbus_sync_changes_applied_total', { origin: 'local' });
    assert.equal(value(a, 'crossbus_sync_conflicts_total', { outcome: 'parked' }), 1);
    // A change whose hash nobody can match: each copy reloads (from the log's start: no snapshot
    // yet) and reads every entry again, the one that parked the conflict too.
    const reloads: string[] = [];
    a.on('error', (e) => reloads.push(e.error.code));
    const bogus = {
      replica: 'r-liar',
      rseq: 1,
      base: a.seq,
      hlc: formatHlc(Date.now(), 0, 'r-liar'),
      ops: [{ type: 'insert', path: '/y', value: 2, timestamp: 0 }],
      hash: 'A'.repeat(43),
    };
    await raw.publish('sync.metrics.reload', encodeBatch([bogus as never]), { durable: true });
    a.change((d) => {
      d.z = 3;
    });
    await a.flushed();
    assert.deepEqual(reloads, ['CB_ERR_SYNC_HASH_MISMATCH', 'CB_ERR_SYNC_HASH_MISMATCH'], 'a read the log again');
    assert.equal(value(a, 'crossbus_sync_conflicts_total', { outcome: 'parked' }), 1, 'the parked conflict counted once');
    assert.equal(value(a, 'crossbus_sync_changes_applied_total', { origin: 'local' }), applied + 1, 'only the new change');
    assert.equal(value(a, 'crossbus_sync_changes_applied_total', { origin: 'remote' }), 2, "b's change and the liar's");
    await Promise.all([a.close(), b.close()]);
    await hub.close();
  });

  test("a change stamped an hour ahead of the hub's time is clamped on every replica, and counted", async () => {
    const hub = await startStreamHub();
    const [busA, busB] = [await hub.connect(), await hub.connect()];
    const strategies = [{ path: '/**', strategy: 'lww' as const }];
    const ahead = await sync(busA).open<{ v?: string }>('metrics/skew', { strategies, clock: () => Date.now() + 3_600_000 });
    const onTime = await sync(busB).open<{ v?: string }>('metrics/skew', { strategies });
    ahead.replace({ v: 'ahead' });
    await ahead.flushed();
    await until(() => onTime.seq === ahead.seq, 3_000, 'the change reached the other replica');
    for (const d of [ahead, onTime]) assert.ok(value(d, 'crossbus_sync_clocks_clamped_total', { doc: 'metrics/skew' }) >= 1);
    // The replica on time made its change after it saw the clamped one: it orders after, by at most the bound.
    onTime.replace({ v: 'on time' });
    await onTime.flushed();
    await until(() => ahead.seq === onTime.seq, 3_000, 'back');
    assert.equal(ahead.value.v, 'on time');
    assert.equal(
      value(onTime, 'crossbus_sync_clocks_clamped_total', { doc: 'metrics/skew' }),
      value(ahead, 'crossbus_sync_clocks_clamped_total'),
    );
    await Promise.all([ahead.close(), onTime.close()]);
    await hub.close();
  });
});
