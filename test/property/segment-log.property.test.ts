import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../../src/core/streams/memory-storage.js';
import type { AppendInput, RetentionLimits, StoredMessage } from '../../src/core/streams/storage.js';
import { SegmentLog } from '../../src/node/streams/segment-log.js';

const seed = Number(process.env.FC_SEED ?? 20261122);

const arbMsg: fc.Arbitrary<AppendInput> = fc
  .record({
    time: fc.integer({ min: 0, max: 2_000_000 }),
    topic: fc.stringMatching(/^[a-z]{1,6}(\.[a-z0-9]{1,6}){0,3}$/),
    headers: fc.option(
      fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.string({ maxLength: 12 }), { minKeys: 1, maxKeys: 3 }),
      { nil: undefined },
    ),
    payloadType: fc.constantFrom(1 as const, 2 as const),
    payload: fc.uint8Array({ maxLength: 120 }),
    msgId: fc.option(fc.string({ minLength: 1, maxLength: 10 }), { nil: undefined }),
  })
  .map((m) => {
    const out: AppendInput = { time: m.time, topic: m.topic, payloadType: m.payloadType, payload: m.payload };
    if (m.headers && !('cb-msg-id' in m.headers)) out.headers = m.headers;
    if (m.msgId !== undefined) out.msgId = m.msgId;
    return out;
  });

type Op = { op: 'append'; msgs: AppendInput[]; concurrent: boolean } | { op: 'reopen' } | { op: 'read'; from: number; max: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      msgs: fc.array(arbMsg, { minLength: 1, maxLength: 5 }),
      concurrent: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('read' as const), from: fc.integer({ min: 0, max: 40 }), max: fc.integer({ min: 1, max: 50 }) }),
  },
);

const plain = (m: StoredMessage | (AppendInput & { seq: number })) => ({
  ...m,
  payload: [...m.payload],
  headers: m.headers ? { ...m.headers } : undefined,
});

test(`segment log equals an in-memory model (seed ${seed})`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(arbOp, { maxLength: 25 }), fc.integer({ min: 100, max: 2000 }), async (ops, maxSegmentBytes) => {
      const dir = mkdtempSync(join(tmpdir(), 'cb-seglog-prop-'));
      let log = await SegmentLog.open(dir, { maxSegmentBytes });
      const model: Array<AppendInput & { seq: number }> = [];
      let lastTime = 0;
      try {
        for (const o of ops) {
          if (o.op === 'append') {
            const batches = o.concurrent ? o.msgs.map((m) => [m]) : [o.msgs];
            const ranges = await Promise.all(batches.map((b) => log.append(b)));
            for (const [k, b] of batches.entries()) {
              assert.equal(ranges[k]!.firstSeq, model.length + 1);
              for (const m of b) {
                lastTime = Math.max(lastTime, m.time);
                model.push({ ...m, time: lastTime, seq: model.length + 1 });
              }
            }
          } else if (o.op === 'reopen') {
            await log.close();
            log = await SegmentLog.open(dir, { maxSegmentBytes });
            assert.equal(log.recovered, undefined);
          } else {
            const got = await log.read(o.from, { maxMessages: o.max });
            const want = model.slice(Math.max(o.from, 1) - 1, Math.max(o.from, 1) - 1 + o.max);
            assert.deepEqual(got.map(plain), want.map(plain));
          }
          assert.equal(log.state().lastSeq, model.length);
        }
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { seed, numRuns: 30 },
  );
});

// --- deletes inside the log, against MemoryStorage as the model -------------------------------

type DeleteOp =
  | { op: 'append'; msgs: AppendInput[]; concurrent: boolean }
  | { op: 'delete'; seq: number }
  | { op: 'purgeTopic'; topic: string; keep: number }
  | { op: 'purge'; upToSeq: number }
  | { op: 'lastForTopic'; topic: string }
  | { op: 'read'; from: number; max: number }
  | { op: 'reopen' }
  | { op: 'compact' };

const keyTopic = fc.constantFrom('kv.a', 'kv.b', 'kv.c', 'kv.d.e');
const arbPut: fc.Arbitrary<AppendInput> = fc.tuple(arbMsg, keyTopic).map(([m, topic]) => ({ ...m, topic }));

const arbDeleteOp: fc.Arbitrary<DeleteOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      msgs: fc.array(arbPut, { minLength: 1, maxLength: 4 }),
      concurrent: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), seq: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('purgeTopic' as const), topic: keyTopic, keep: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('purge' as const), upToSeq: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('lastForTopic' as const), topic: keyTopic }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('read' as const), from: fc.integer({ min: 0, max: 60 }), max: fc.integer({ min: 1, max: 20 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'compact' as const }) },
);

const arbLimits = fc.record({
  maxMessagesPerTopic: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  maxMessages: fc.option(fc.integer({ min: 3, max: 20 }), { nil: undefined }),
  maxSegmentBytes: fc.integer({ min: 150, max: 1500 }),
  minCompactBytes: fc.integer({ min: 100, max: 800 }),
});

test(`segment log deletes, limits and compaction equal MemoryStorage (seed ${seed})`, async () => {
  await fc.assert(
    fc.asyncProperty(arbLimits, fc.array(arbDeleteOp, { maxLength: 60 }), async (limits, ops) => {
      const retention: RetentionLimits = {};
      if (limits.maxMessagesPerTopic !== undefined) retention.maxMessagesPerTopic = limits.maxMessagesPerTopic;
      if (limits.maxMessages !== undefined) retention.maxMessages = limits.maxMessages;
      const options = { retention, maxSegmentBytes: limits.maxSegmentBytes, minCompactBytes: limits.minCompactBytes };
      const dir = mkdtempSync(join(tmpdir(), 'cb-seglog-del-prop-'));
      let log = await SegmentLog.open(dir, options);
      const model = new MemoryStorage(retention);
      // Times rise here (the first property checks how lower ones are raised): a log emptied by a
      // purge and reopened no longer knows the time of what it dropped, the model does.
      let clock = 0;
      try {
        for (const o of ops) {
          switch (o.op) {
            case 'append': {
              const msgs = o.msgs.map((m) => ({ ...m, time: (clock += m.time % 3) }));
              const batches = o.concurrent ? msgs.map((m) => [m]) : [msgs];
              const got = await Promise.all(batches.map((b) => log.append(b)));
              const want: Array<{ firstSeq: number; lastSeq: number }> = [];
              for (const b of batches) want.push(await model.append(b));
              assert.deepEqual(got, want);
              break;
            }
            case 'delete':
              assert.equal(await log.deleteMessage(o.seq), await model.deleteMessage(o.seq), `delete ${o.seq}`);
              break;
            case 'purgeTopic':
              assert.equal(await log.purgeTopic(o.topic, { keep: o.keep }), await model.purgeTopic(o.topic, { keep: o.keep }));
              break;
            case 'purge':
              assert.equal(await log.purge({ upToSeq: o.upToSeq }), await model.purge({ upToSeq: o.upToSeq }));
              break;
            case 'lastForTopic': {
              const [a, b] = [await log.lastForTopic(o.topic), await model.lastForTopic(o.topic)];
              assert.deepEqual(a === undefined ? a : plain(a), b === undefined ? b : plain(b));
              break;
            }
            case 'read':
              assert.deepEqual(
                (await log.read(o.from, { maxMessages: o.max })).map(plain),
                (await model.read(o.from, { maxMessages: o.max })).map(plain),
              );
              break;
            case 'reopen':
              await log.close();
              log = await SegmentLog.open(dir, options);
              assert.equal(log.recovered, undefined);
              break;
            case 'compact':
              await log.compact();
              break;
          }
          const [a, b] = [log.state(), model.state()];
          assert.deepEqual(
            [a.firstSeq, a.lastSeq, a.messages, a.firstTime, a.lastTime, a.bytes > 0],
            [b.firstSeq, b.lastSeq, b.messages, b.firstTime, b.lastTime, b.bytes > 0],
            `state after ${o.op}`,
          );
        }
        assert.deepEqual((await log.read(0, { maxMessages: 1000 })).map(plain), (await model.read(0, { maxMessages: 1000 })).map(plain));
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { seed, numRuns: Number(process.env.FC_RUNS ?? 80) },
  );
});
