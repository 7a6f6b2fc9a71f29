import { afterEach, describe, test } from 'node:test';
import { until } from '../helpers/wait.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, StorageError, isCrossbusError } from '../../src/core/errors/index.js';
import type { AppendInput } from '../../src/core/streams/storage.js';
import { SegmentLog } from '../../src/node/streams/segment-log.js';
import { segmentFileName } from '../../src/node/streams/segment.js';
import { silentLogger, type Logger } from '../../src/core/util/logger.js';
import { faultyFs } from '../helpers/faulty-storage-fs.js';
import { crc32 } from 'node:zlib';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cb-seglog-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const enc = new TextEncoder();
const msg = (i: number, time = 1000 + i): AppendInput => ({
  time,
  topic: `orders.${i}`,
  payloadType: 2,
  payload: enc.encode(`payload-${i}`),
});
const segFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
const isCode = (code: string) => (err: unknown) => isCrossbusError(err) && err.code === code && err instanceof StorageError;

describe('SegmentLog', () => {
  test('append, read and reopen round trip (headers, msgId, payload types)', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir);
    const input: AppendInput[] = [
      { time: 5, topic: 'a.b', payloadType: 1, payload: enc.encode('{"x":1}'), headers: { traceparent: 't1' }, msgId: 'm-1' },
      { time: 6, topic: 'a.c', payloadType: 0, payload: new Uint8Array(0) },
      { time: 7, topic: 'a.d', payloadType: 2, payload: new Uint8Array([0, 255, 7]), msgId: 'm-3' },
    ];
    assert.deepEqual(await log.append(input), { firstSeq: 1, lastSeq: 3 });
    const expected = input.map((m, i) => ({ ...m, seq: i + 1 }));
    const norm = (ms: object[]) => ms.map((m) => JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? [...v] : v))));
    assert.deepEqual(norm(await log.read(1)), norm(expected));
    await log.close();
    await assert.rejects(log.append([msg(1)]), (e) => isCrossbusError(e) && e.code === 'CB_ERR_STREAM_CLOSED');
    const again = await SegmentLog.open(dir);
    assert.equal(again.recovered, undefined);
    assert.deepEqual(norm(await again.read(0)), norm(expected));
    assert.deepEqual(norm(await again.read(2, { maxMessages: 1 })), norm(expected.slice(1, 2)));
    assert.deepEqual(await again.read(4), []);
    const st = again.state();
    assert.equal(st.firstSeq, 1);
    assert.equal(st.lastSeq, 3);
    assert.equal(st.messages, 3);
    assert.equal(st.firstTime, 5);
    assert.equal(st.lastTime, 7);
    assert.equal(st.bytes, statSync(join(dir, segmentFileName(1))).size);
    await again.close();
  });

  test('sequence numbers stay contiguous across segments and reopen; segments roll at maxSegmentBytes', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, { maxSegmentBytes: 300 });
    for (let i = 1; i <= 20; i++) assert.deepEqual(await log.append([msg(i)]), { firstSeq: i, lastSeq: i });
    const files = segFiles(dir);
    assert.ok(files.length > 3, `segments: ${files.length}`);
    for (const f of files) assert.ok(statSync(join(dir, f)).size <= 300);
    await log.close();
    const again = await SegmentLog.open(dir, { maxSegmentBytes: 300 });
    assert.equal(again.state().segments, files.length);
    assert.deepEqual(await again.append([msg(21), msg(22)]), { firstSeq: 21, lastSeq: 22 });
    assert.deepEqual(
      (await again.read(1)).map((m) => m.seq),
      Array.from({ length: 22 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      (await again.read(1, { maxBytes: 1 })).map((m) => m.seq),
      [1],
      'at least one message whatever maxBytes',
    );
    assert.deepEqual(
      (await again.read(5, { maxMessages: 7 })).map((m) => m.topic),
      [5, 6, 7, 8, 9, 10, 11].map((i) => `orders.${i}`),
    );
    await again.close();
  });

  test('seqAtTime finds the first message at or after a time; times never go backwards', async () => {
    const log = await SegmentLog.open(tmp(), { maxSegmentBytes: 200 });
    await log.append([msg(1, 100), msg(2, 200), msg(3, 200), msg(4, 300), msg(5, 250)]);
    assert.equal(await log.seqAtTime(0), 1);
    assert.equal(await log.seqAtTime(150), 2);
    assert.equal(await log.seqAtTime(200), 2);
    assert.equal(await log.seqAtTime(300), 4);
    assert.equal(await log.seqAtTime(301), undefined);
    assert.equal((await log.read(5))[0]!.time, 300, 'a clock stepping back is clamped');
    await log.close();
  });

  test('group commit: 100 concurrent appends share few fsyncs, none resolves before its fsync', async () => {
    const { fs, ctl } = faultyFs();
    const log = await SegmentLog.open(tmp(), { fs });
    ctl.syncDelayMs = 5;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        log.append([msg(i)]).then((r) => {
          for (let s = r.firstSeq; s <= r.lastSeq; s++) assert.ok(ctl.durable.has(s), `seq ${s} resolved before its fsync`);
          return r.firstSeq;
        }),
      ),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.ok(ctl.syncs <= 3, `fsyncs: ${ctl.syncs}`);
    // Appends arriving while an fsync runs go out together in the next one.
    const syncing = new Promise<void>((resolve) => (ctl.onSyncStart = resolve));
    const first = log.append([msg(101)]);
    await syncing; // the fsync for 101 runs (it takes syncDelayMs)
    ctl.onSyncStart = undefined;
    const later = Array.from({ length: 50 }, (_, i) => log.append([msg(102 + i)]));
    const before = ctl.syncs;
    await Promise.all([first, ...later]);
    assert.ok(ctl.syncs - before <= 2, `fsyncs: ${ctl.syncs - before}`);
    await log.close();
  });

  test('interval policy resolves after write and fsyncs on a timer and at close', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const { fs, ctl } = faultyFs();
    const log = await SegmentLog.open(tmp(), { fs, durability: 'interval', syncIntervalMs: 20 });
    await log.append([msg(1)]);
    assert.equal(ctl.syncs, 0);
    assert.equal(ctl.durable.has(1), false);
    t.mock.timers.tick(20);
    await until(() => ctl.durable.has(1), 2_000, 'the interval fsync'); // the fsync itself is real I/O
    assert.ok(ctl.durable.has(1));
    await log.append([msg(2)]);
    await log.close();
    assert.ok(ctl.durable.has(2), 'close syncs');
  });

  for (const kind of ['cut mid-record', 'garbage appended'] as const) {
    test(`torn tail (${kind}) is cut, logged and reported; appends continue at the right seq`, async () => {
      const dir = tmp();
      const log = await SegmentLog.open(dir);
      await log.append([msg(1), msg(2), msg(3)]);
      await log.close();
      const file = join(dir, segmentFileName(1));
      const size = statSync(file).size;
      if (kind === 'cut mid-record') truncateSync(file, size - 5);
      else appendFileSync(file, Buffer.from([0, 0, 0, 90, 1, 2, 3, 4, 5, 6, 7]));
      const warnings: string[] = [];
      const logger: Logger = {
        ...silentLogger,
        warn: (...args: [string] | [Record<string, unknown>, string]) => warnings.push(args[args.length - 1] as string),
      };
      const again = await SegmentLog.open(dir, { logger });
      assert.equal(warnings.length, 1);
      assert.equal(again.recovered?.file, segmentFileName(1));
      const lastSeq = kind === 'cut mid-record' ? 2 : 3;
      assert.equal(again.state().lastSeq, lastSeq);
      assert.deepEqual(await again.append([msg(9)]), { firstSeq: lastSeq + 1, lastSeq: lastSeq + 1 });
      await again.close();
      const third = await SegmentLog.open(dir);
      assert.equal(third.recovered, undefined);
      assert.deepEqual((await third.read(1)).map((m) => m.topic).at(-1), 'orders.9');
      await third.close();
    });
  }

  test('a bit flipped inside an earlier record: open throws CB_ERR_STREAM_CORRUPT naming file and offset', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir);
    await log.append([msg(1), msg(2), msg(3)]);
    await log.close();
    const file = join(dir, segmentFileName(1));
    const bytes = readFileSync(file);
    bytes[40]! ^= 0x10;
    writeFileSync(file, bytes);
    await assert.rejects(
      SegmentLog.open(dir),
      (e) =>
        isCode('CB_ERR_STREAM_CORRUPT')(e) &&
        (e as StorageError).details?.file === segmentFileName(1) &&
        (e as StorageError).details?.offset === 0,
    );
  });

  test('a bad record in an older segment is corruption, not a torn tail', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, { maxSegmentBytes: 200 });
    for (let i = 1; i <= 6; i++) await log.append([msg(i)]);
    await log.close();
    const first = join(dir, segFiles(dir)[0]!);
    truncateSync(first, statSync(first).size - 3);
    await assert.rejects(SegmentLog.open(dir, { maxSegmentBytes: 200 }), isCode('CB_ERR_STREAM_CORRUPT'));
  });

  test('a bit flipped after open: read throws, nothing corrupt is delivered', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir);
    await log.append([msg(1), msg(2)]);
    const file = join(dir, segmentFileName(1));
    const bytes = readFileSync(file);
    bytes[bytes.length - 2]! ^= 1;
    writeFileSync(file, bytes);
    assert.equal((await log.read(1, { maxMessages: 1 }))[0]!.seq, 1);
    await assert.rejects(log.read(1), isCode('CB_ERR_STREAM_CORRUPT'));
    await assert.rejects(log.read(2), isCode('CB_ERR_STREAM_CORRUPT'));
    await log.close();
  });

  for (const fault of ['write ENOSPC', 'fsync EIO'] as const) {
    test(`${fault}: CB_ERR_STORAGE, lastSeq unchanged, the next append continues cleanly`, async () => {
      const dir = tmp();
      const { fs, ctl } = faultyFs();
      const log = await SegmentLog.open(dir, { fs });
      await log.append([msg(1)]);
      if (fault === 'write ENOSPC') ctl.failWrite = 'ENOSPC';
      else ctl.failSync = 'EIO';
      const code = fault === 'write ENOSPC' ? 'ENOSPC' : 'EIO';
      const failed = await Promise.allSettled([log.append([msg(2), msg(3)]), log.append([msg(4)])]);
      for (const r of failed) {
        assert.equal(r.status, 'rejected');
        const e = (r as PromiseRejectedResult).reason;
        assert.ok(isCode('CB_ERR_STORAGE')(e));
        assert.equal(e.retryable, true);
        assert.equal(e.details.errno, code);
      }
      assert.equal(log.state().lastSeq, 1);
      ctl.failWrite = undefined;
      ctl.failSync = undefined;
      assert.deepEqual(await log.append([msg(5)]), { firstSeq: 2, lastSeq: 2 });
      assert.deepEqual(
        (await log.read(1)).map((m) => m.topic),
        ['orders.1', 'orders.5'],
      );
      await log.close();
      const again = await SegmentLog.open(dir);
      assert.equal(again.recovered, undefined, 'no garbage left behind');
      assert.deepEqual(
        (await again.read(1)).map((m) => m.topic),
        ['orders.1', 'orders.5'],
      );
      await again.close();
    });
  }

  test('an unusable directory refuses to open with CB_ERR_STORAGE', async () => {
    const { fs } = faultyFs();
    const broken = {
      ...fs,
      mkdir: async () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
    };
    await assert.rejects(
      SegmentLog.open(join(tmp(), 's'), { fs: broken }),
      (e) => isCode('CB_ERR_STORAGE')(e) && (e as StorageError).details?.errno === 'EACCES',
    );
  });

  test('retention by maxMessages: exactly N kept, the N+1th drops the oldest; old segments deleted', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, { retention: { maxMessages: 5 }, maxSegmentBytes: 200 });
    for (let i = 1; i <= 5; i++) await log.append([msg(i)]);
    assert.equal(log.state().firstSeq, 1);
    await log.append([msg(6)]);
    assert.deepEqual([log.state().firstSeq, log.state().messages], [2, 5]);
    for (let i = 7; i <= 30; i++) await log.append([msg(i)]);
    assert.deepEqual(
      (await log.read(1)).map((m) => m.seq),
      [26, 27, 28, 29, 30],
    );
    assert.equal(segFiles(dir).length, log.state().segments);
    assert.ok(segFiles(dir).length <= 4, `segments: ${segFiles(dir)}`);
    await log.close();
    const again = await SegmentLog.open(dir, { retention: { maxMessages: 5 }, maxSegmentBytes: 200 });
    assert.deepEqual([again.state().firstSeq, again.state().lastSeq], [26, 30]);
    await again.close();
  });

  test('retention by maxBytes and by maxAgeMs (injected clock)', async () => {
    const byBytes = await SegmentLog.open(tmp(), { retention: { maxBytes: 300 } });
    for (let i = 1; i <= 10; i++) await byBytes.append([msg(i)]);
    const st = byBytes.state();
    assert.ok(st.bytes <= 300 && st.bytes > 300 - 100, `bytes ${st.bytes}`);
    assert.equal(st.lastSeq, 10);
    await byBytes.close();

    let now = 10_000;
    const dir = tmp();
    const byAge = await SegmentLog.open(dir, { retention: { maxAgeMs: 1000 }, clock: () => now, maxSegmentBytes: 150 });
    for (let i = 0; i < 5; i++) await byAge.append([msg(i, 10_000 + i * 100)]);
    now = 11_200; // age of seq 1..3 is 1200, 1100, 1000: the first two go, exactly maxAgeMs stays
    assert.equal(await byAge.enforceRetention(), 2);
    assert.equal(byAge.state().firstSeq, 3);
    now = 20_000;
    assert.equal(await byAge.enforceRetention(), 3);
    assert.deepEqual([byAge.state().firstSeq, byAge.state().messages, byAge.state().segments], [6, 0, 1]);
    assert.deepEqual(segFiles(dir), [segmentFileName(6)]);
    assert.deepEqual(await byAge.append([msg(9, 20_000)]), { firstSeq: 6, lastSeq: 6 });
    await byAge.close();
  });

  test('purge up to a seq survives reopen; purge all keeps counting', async () => {
    const dir = tmp();
    const log = await SegmentLog.open(dir, { maxSegmentBytes: 250 });
    for (let i = 1; i <= 10; i++) await log.append([msg(i)]);
    assert.equal(await log.purge({ upToSeq: 4 }), 4);
    assert.equal(await log.purge({ upToSeq: 2 }), 0);
    assert.deepEqual((await log.read(1, { maxMessages: 1 }))[0]!.seq, 5);
    await log.close();
    const again = await SegmentLog.open(dir, { maxSegmentBytes: 250 });
    assert.equal(again.state().firstSeq, 5);
    assert.equal(await again.purge(), 6);
    assert.deepEqual(await again.read(1), []);
    assert.equal(again.state().messages, 0);
    assert.equal(segFiles(dir).length, 1);
    await again.close();
    const third = await SegmentLog.open(dir);
    assert.deepEqual([third.state().firstSeq, third.state().lastSeq], [11, 10]);
    assert.deepEqual(await third.append([msg(11)]), { firstSeq: 11, lastSeq: 11 });
    await third.close();
  });

  test('records are checked with the standard CRC-32 (IEEE, the zlib/PNG polynomial)', () => {
    assert.equal(crc32(enc.encode('123456789')), 0xcbf43926);
  });

  test('invalid options throw ConfigError CB_ERR_INVALID_OPTION', async () => {
    for (const o of [
      { durability: 'never' },
      { syncIntervalMs: 0 },
      { maxSegmentBytes: -1 },
      { retention: { maxMessages: 1.5 } },
      { retention: { maxMessagesPerTopic: 0 } },
      { minCompactBytes: 0 },
    ]) {
      await assert.rejects(SegmentLog.open(tmp(), o as never), (e) => e instanceof ConfigError && e.code === 'CB_ERR_INVALID_OPTION');
    }
  });
});
