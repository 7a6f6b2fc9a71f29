import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppendInput, StoredMessage } from '../../src/core/streams/storage.js';
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
