/**
 * SegmentLog deletes on disk: tombstones that survive a restart and a crash, compaction and the
 * removal of emptied segments, a crash in the middle of either, and a bounded directory under a
 * key-value workload (many values written to few topics with a per-topic limit).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCrossbusError } from '../../src/core/errors/index.js';
import type { RetentionLimits } from '../../src/core/streams/storage.js';
import { SegmentLog } from '../../src/node/streams/segment-log.js';
import type { SegmentLogOptions } from '../../src/node/streams/segment-log-options.js';
import { segmentFileName } from '../../src/node/streams/segment.js';
import { encodeTombstones, tombstoneFileName } from '../../src/node/streams/tombstones.js';
import { faultyFs } from '../helpers/faulty-storage-fs.js';
import { put } from '../helpers/storage-contract.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cb-seglog-del-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const files = (dir: string, ext: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .sort();
const dirBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const text = (p: Uint8Array): string => new TextDecoder().decode(p);
/** Every stored message as `seq:topic=value`. */
async function contents(log: SegmentLog): Promise<string[]> {
  const out: string[] = [];
  for (let from = 1; ; ) {
    const page = await log.read(from, { maxMessages: 100 });
    if (page.length === 0) return out;
    for (const m of page) out.push(`${m.seq}:${m.topic}=${text(m.payload)}`);
    from = page[page.length - 1]!.seq + 1;
  }
}
const small = (retention: RetentionLimits = {}, more: SegmentLogOptions = {}): SegmentLogOptions => ({
  retention,
  maxSegmentBytes: 300,
  minCompactBytes: 150,
  ...more,
});

describe('SegmentLog deletes', () => {
  test('explicit deletes, purgeTopic and the per-topic limit survive close and reopen', async () => {
    const dir = tmp();
    let log = await SegmentLog.open(dir, small({ maxMessagesPerTopic: 2 }));
    for (let i = 1; i <= 30; i++) await log.append([put(`kv.${i % 4}`, `v${i}`)]);
    assert.equal(await log.deleteMessage(29), true);
    assert.equal(await log.purgeTopic('kv.2', { keep: 1 }), 1);
    const before = await contents(log);
    const state = log.state();
    // The last two of each topic (23 27, 24 28, 25 29, 26 30), less 29 and 26.
    assert.deepEqual(before, ['23:kv.3=v23', '24:kv.0=v24', '25:kv.1=v25', '27:kv.3=v27', '28:kv.0=v28', '30:kv.2=v30']);
    await log.close();
    log = await SegmentLog.open(dir, small({ maxMessagesPerTopic: 2 }));
    assert.deepEqual(await contents(log), before);
    assert.deepEqual(log.state(), state);
    await log.close();
    // Without the limit, what it deleted stays deleted (its tombstones were written).
    log = await SegmentLog.open(dir, small());
    assert.deepEqual(await contents(log), before);
    assert.equal((await log.lastForTopic('kv.1'))!.seq, 25);
    assert.deepEqual(await log.append([put('kv.1', 'v31')]), { firstSeq: 31, lastSeq: 31 });
    await log.close();
  });

  test('compaction rewrites half-deleted segments with their stored records, seqs kept; emptied ones go', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, small({}, { minCompactBytes: 1_000_000 }));
    for (let i = 1; i <= 40; i++) await log.append([put(`t.${i % 3}`, `value-${i}`)]);
    const segs = files(dir, '.log');
    assert.ok(segs.length >= 8, `segments: ${segs}`);
    const bytesBefore = dirBytes(dir);
    // Every segment but the active loses all but one record; the second segment loses all.
    const keep = (seq: number) => seq % 5 === 0 || seq >= 38;
    for (let seq = 1; seq <= 40; seq++) if (!keep(seq)) assert.equal(await log.deleteMessage(seq), true);
    await log.compact();
    const expected = Array.from({ length: 40 }, (_, k) => k + 1)
      .filter(keep)
      .map((seq) => `${seq}:t.${seq % 3}=value-${seq}`);
    assert.deepEqual(await contents(log), expected);
    assert.equal(files(dir, '.del').length, 1, `only the active segment keeps its tombstones: ${files(dir, '.del')}`);
    assert.ok(files(dir, '.log').length < segs.length, 'segments that stored nothing were removed');
    assert.ok(dirBytes(dir) < bytesBefore / 2, `${dirBytes(dir)} of ${bytesBefore} bytes`);
    assert.deepEqual([log.state().firstSeq, log.state().lastSeq, log.state().messages], [5, 40, expected.length]);
    await log.close();
    const again = await SegmentLog.open(dir, small());
    assert.equal(again.recovered, undefined);
    assert.deepEqual(await contents(again), expected, 'sparse segments load with their seqs');
    assert.equal(await again.seqAtTime(0), 5);
    assert.deepEqual(await again.append([put('t.x', 'after')]), { firstSeq: 41, lastSeq: 41 });
    assert.equal(await again.purge({ upToSeq: 20 }), 4, '5, 10, 15 and 20');
    assert.equal((await again.read(1, { maxMessages: 1 }))[0]!.seq, 25);
    await again.close();
  });

  test('a crash mid-compaction: the temporary file is removed at open, the old segment used', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, small());
    for (let i = 1; i <= 12; i++) await log.append([put('t.a', `v${i}`)]);
    assert.equal(await log.deleteMessage(2), true);
    const expected = await contents(log);
    await log.close();
    const temp = join(dir, `.${segmentFileName(1)}.tmp`);
    writeFileSync(temp, readFileSync(join(dir, segmentFileName(1))).subarray(0, 50)); // half written
    const { logger, records } = recordingLogger();
    const again = await SegmentLog.open(dir, small({}, { logger }));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.ok(records.some((r) => r.level === 'warn' && /interrupted compaction/.test(r.message)));
    assert.deepEqual(await contents(again), expected);
    await again.close();
  });

  test('a crash after the rename, before the tombstones went: their stale entries are ignored', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, small({}, { minCompactBytes: 1_000_000 }));
    for (let i = 1; i <= 12; i++) await log.append([put('t.a', `v${i}`)]);
    const first = files(dir, '.log')[0]!;
    const del = join(dir, tombstoneFileName(1));
    for (const seq of [1, 2, 3]) assert.equal(await log.deleteMessage(seq), true);
    const saved = readFileSync(del);
    await log.compact();
    assert.deepEqual(files(dir, '.del'), [], 'compaction removed the tombstones');
    const expected = await contents(log);
    assert.equal(expected[0], '4:t.a=v4');
    await log.close();
    writeFileSync(del, saved); // as if the crash came before the unlink
    assert.ok(files(dir, '.log').includes(first));
    const again = await SegmentLog.open(dir, small());
    assert.deepEqual(await contents(again), expected);
    assert.equal(again.state().messages, 9);
    assert.equal(await again.deleteMessage(4), true, 'a new delete is appended to that file');
    await again.close();
    const third = await SegmentLog.open(dir, small());
    assert.equal((await contents(third))[0], '5:t.a=v5');
    await third.close();
  });

  test('a torn tombstone at the end is cut (that delete was never acknowledged); rot inside is corruption', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir);
    for (let i = 1; i <= 5; i++) await log.append([put('t.a', `v${i}`)]);
    assert.equal(await log.deleteMessage(2), true);
    await log.close();
    const del = join(dir, tombstoneFileName(1));
    appendFileSync(del, encodeTombstones([4]).subarray(0, 7)); // a torn write
    const { logger, records } = recordingLogger();
    let again = await SegmentLog.open(dir, { logger });
    assert.equal(statSync(del).size, 12);
    assert.ok(records.some((r) => /torn tombstone/.test(r.message)));
    assert.deepEqual(
      (await again.read(1)).map((m) => m.seq),
      [1, 3, 4, 5],
    );
    await again.close();
    const flipped = encodeTombstones([4]);
    flipped[11]! ^= 1; // a whole entry whose checksum fails, at the end: torn too
    appendFileSync(del, flipped);
    again = await SegmentLog.open(dir);
    assert.deepEqual(
      (await again.read(1)).map((m) => m.seq),
      [1, 3, 4, 5],
    );
    await again.close();
    writeFileSync(del, Buffer.concat([flipped, encodeTombstones([2])])); // bad, then good: rot
    await assert.rejects(SegmentLog.open(dir), (e) => isCrossbusError(e) && e.code === 'CB_ERR_STREAM_CORRUPT');
  });

  test('per-topic limit deletes lost to a power loss are made again at open', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, small({ maxMessagesPerTopic: 2 }, { minCompactBytes: 1_000_000 }));
    for (let i = 1; i <= 20; i++) await log.append([put(`kv.${i % 3}`, `v${i}`)]);
    const expected = await contents(log);
    assert.equal(expected.length, 6);
    await log.close();
    for (const f of files(dir, '.del')) unlinkSync(join(dir, f));
    const again = await SegmentLog.open(dir, small({ maxMessagesPerTopic: 2 }, { minCompactBytes: 1_000_000 }));
    assert.deepEqual(await contents(again), expected);
    await again.close();
    const lowered = await SegmentLog.open(dir, small({ maxMessagesPerTopic: 1 }));
    assert.deepEqual(await contents(lowered), ['18:kv.0=v18', '19:kv.1=v19', '20:kv.2=v20'], 'a lowered limit applies at open');
    await lowered.close();
  });

  test("fsync policy: a delete resolves once its tombstone is fdatasync'ed; a failed fsync keeps the message", async () => {
    const dir = tmp();
    const { fs, ctl } = faultyFs();
    const log = await SegmentLog.open(dir, { fs });
    for (let i = 1; i <= 3; i++) await log.append([put('t.a', `v${i}`)]);
    const syncs = ctl.syncs;
    assert.equal(await log.deleteMessage(2), true);
    assert.equal(ctl.syncs, syncs + 1);
    ctl.failSync = 'EIO';
    const err = await rejectsWithCode(log.deleteMessage(3), 'CB_ERR_STORAGE');
    assert.equal(err.details?.errno, 'EIO');
    assert.deepEqual(
      (await log.read(1)).map((m) => m.seq),
      [1, 3],
    );
    ctl.failSync = undefined;
    ctl.failWrite = 'ENOSPC'; // half the entry written, then the disk is full
    const full = await rejectsWithCode(log.deleteMessage(1), 'CB_ERR_STORAGE');
    assert.equal(full.details?.errno, 'ENOSPC');
    assert.equal(log.state().messages, 2);
    ctl.failWrite = undefined;
    assert.equal(await log.purgeTopic('t.a', { keep: 1 }), 1);
    await log.close();
    assert.equal(statSync(join(dir, tombstoneFileName(1))).size, 24, 'the torn entry was cut back before the next one');
    const { logger, records } = recordingLogger();
    const again = await SegmentLog.open(dir, { logger });
    assert.deepEqual(records, []);
    assert.deepEqual(
      (await again.read(1)).map((m) => m.seq),
      [3],
    );
    await again.close();
    await rejectsWithCode(again.deleteMessage(3), 'CB_ERR_STREAM_CLOSED');
    await rejectsWithCode(again.purgeTopic('t.a'), 'CB_ERR_STREAM_CLOSED');
  });

  test('interval policy: a delete resolves after the write; the timer fdatasyncs it', async () => {
    const { fs, ctl } = faultyFs();
    const log = await SegmentLog.open(tmp(), { fs, durability: 'interval', syncIntervalMs: 20 });
    await log.append([put('t.a', 'v1'), put('t.a', 'v2')]);
    await until(() => ctl.syncs > 0, 3_000, 'the interval fsync of the appends');
    const syncs = ctl.syncs;
    assert.equal(await log.deleteMessage(1), true);
    assert.equal(ctl.syncs, syncs, 'resolved before any fsync');
    await until(() => ctl.syncs > syncs, 3_000, 'the interval fsync of the tombstone');
    await log.close();
  });

  test('minCompactBytes: the active segment is sealed and compacted at the threshold, not below it', async () => {
    const dir = tmp();
    const probe = await SegmentLog.open(tmp());
    await probe.append([put('kv.a', 'v0')]);
    const r = probe.state().bytes;
    await probe.close();
    const log = await SegmentLog.open(dir, { retention: { maxMessagesPerTopic: 1 }, minCompactBytes: 3 * r });
    await log.append([put('kv.a', 'v1')]);
    await log.append([put('kv.a', 'v2')]);
    await log.enforceRetention(); // runs after the compaction the append left queued
    assert.deepEqual(files(dir, '.log'), [segmentFileName(1)], 'below the threshold: kept');
    assert.equal(statSync(join(dir, segmentFileName(1))).size, 2 * r);
    await log.append([put('kv.a', 'v3')]);
    await log.enforceRetention();
    assert.deepEqual(files(dir, '.log'), [segmentFileName(1), segmentFileName(4)], 'at the threshold: sealed');
    assert.equal(statSync(join(dir, segmentFileName(1))).size, r, 'and compacted to its one stored record');
    await log.append([put('kv.a', 'v4')]);
    await log.compact();
    assert.deepEqual(files(dir, '.log'), [segmentFileName(4)], 'a sealed segment storing nothing is removed');
    assert.equal(text((await log.lastForTopic('kv.a'))!.payload), 'v4');
    await log.close();
  });

  test('disk use stays bounded: 10,000 puts to 10 topics with maxMessagesPerTopic 2', async () => {
    const dir = tmp();
    const options = small({ maxMessagesPerTopic: 2 }, { maxSegmentBytes: 64 * 1024, minCompactBytes: 16 * 1024, durability: 'interval' });
    const log = await SegmentLog.open(dir, options);
    let written = 0;
    for (let i = 0; i < 10_000; i += 50) {
      const puts = Array.from({ length: 50 }, (_, k) => log.append([put(`kv.key${(i + k) % 10}`, `value-${i + k}`)]));
      await Promise.all(puts);
      written = log.state().lastSeq;
    }
    assert.equal(written, 10_000);
    await log.compact();
    const st = log.state();
    assert.equal(st.messages, 20);
    const want = Array.from({ length: 20 }, (_, k) => 9_980 + k + 1).map((seq) => `${seq}:kv.key${(seq - 1) % 10}=value-${seq - 1}`);
    assert.deepEqual(await contents(log), want);
    const onDisk = dirBytes(dir);
    assert.ok(onDisk < 40 * 1024, `the directory holds ${onDisk} bytes (${st.bytes} stored, ${readdirSync(dir).length} files)`);
    await log.close();
    const again = await SegmentLog.open(dir, options);
    assert.deepEqual(await contents(again), want);
    assert.equal((await again.lastForTopic('kv.key3'))!.seq, 9_994);
    await again.close();
  });
});
