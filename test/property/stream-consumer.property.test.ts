import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Bus, StreamConsumer, StreamMessage } from '../../src/client/index.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { sleep } from '../helpers/wait.js';

const seed = Number(process.env.FC_SEED ?? 20261122);

/**
 * Whatever members do (ack, nak, term, ignore, leave, join) and in whatever order messages are
 * published, a shared durable consumer loses nothing: once the members settle everything, every
 * stored message was acknowledged or dead-lettered, no accepted settlement named a stale
 * delivery, no message was delivered more than maxDeliver times, and a member sees the first
 * deliveries of messages in stream order.
 */
type Action = 'ack' | 'nak' | 'term' | 'ignore';
type Op =
  | { op: 'publish'; n: number }
  | { op: 'settle'; member: number; action: Action }
  | { op: 'leave'; member: number }
  | { op: 'join'; member: number }
  | { op: 'wait' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('publish' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    op: fc.constant('settle' as const),
    member: fc.integer({ min: 0, max: 2 }),
    action: fc.constantFrom<Action>('ack', 'ack', 'ack', 'nak', 'term', 'ignore'),
  }),
  fc.record({ op: fc.constant('leave' as const), member: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ op: fc.constant('join' as const), member: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ op: 'wait' as const }),
);

const MAX_DELIVER = 3;

test(`a shared durable consumer settles every message exactly as told, whatever its members do (fast-check seed ${seed})`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(arbOp, { minLength: 5, maxLength: 25 }), async (ops) => {
      const hub = await startStreamHub();
      try {
        const pub = await hub.connect();
        await pub.streams.create({ name: 'P', topics: ['p'] });
        const buses: Bus[] = await Promise.all([hub.connect(), hub.connect(), hub.connect()]);
        const consumers: Array<StreamConsumer | undefined> = [undefined, undefined, undefined];
        const inbox: StreamMessage[][] = [[], [], []];
        const firstSeen: number[][] = [[], [], []];
        const acked = new Set<number>();
        const termed = new Set<number>();
        const maxCount = new Map<number, number>();
        let published = 0;
        const join = async (k: number): Promise<void> => {
          if (consumers[k] !== undefined) return;
          const c = buses[k]!.consume('P', { durable: 'prop', ackWaitMs: 40, maxDeliver: MAX_DELIVER, maxAckPending: 8 }, (m) => {
            inbox[k]!.push(m);
            maxCount.set(m.seq, Math.max(maxCount.get(m.seq) ?? 0, m.deliveryCount));
            if (m.deliveryCount === 1) firstSeen[k]!.push(m.seq);
          });
          consumers[k] = c;
          await c.ready;
        };
        await join(0);
        const settle = async (m: StreamMessage, action: Action): Promise<void> => {
          try {
            if (action === 'ack') {
              await m.ack();
              assert.ok(!acked.has(m.seq), `seq ${m.seq} acknowledged twice`);
              acked.add(m.seq);
            } else if (action === 'nak') await m.nak();
            else if (action === 'term') {
              await m.term('prop');
              termed.add(m.seq);
            }
          } catch (err) {
            // A refusal must name a stale delivery (or a connection this member closed).
            assert.ok(
              ['CB_ERR_ACK_STALE', 'CB_ERR_CONNECTION_LOST', 'CB_ERR_CONNECTION_CLOSED'].includes((err as { code?: string }).code ?? ''),
              String(err),
            );
          }
        };
        for (const op of ops) {
          if (op.op === 'publish') {
            await Promise.all(Array.from({ length: op.n }, () => pub.publish('p', ++published, { durable: true })));
          } else if (op.op === 'settle') {
            const m = inbox[op.member]!.shift();
            if (m !== undefined) await settle(m, op.action);
          } else if (op.op === 'leave') {
            await consumers[op.member]?.close();
            consumers[op.member] = undefined;
            inbox[op.member]!.length = 0;
          } else if (op.op === 'join') await join(op.member);
          else await sleep(50);
        }
        // Settle everything from now on with acks, through one member.
        await join(0);
        const deadline = Date.now() + 8_000;
        for (;;) {
          const info = await pub.streams.info('P');
          const dead = (await pub.streams.info('P.DLQ')).state.messages;
          const done = info.consumers[0]!.ackFloor === published && info.consumers[0]!.pending === 0 && info.consumers[0]!.waiting === 0;
          if (done) {
            // Every message was acknowledged by us or dead-lettered, and no message is both.
            const deadSeqs = new Set((await pub.streams.read('P.DLQ')).map((d) => Number(d.headers?.['cb-dlq-seq'])));
            assert.equal(dead, deadSeqs.size, 'each message dead-lettered at most once');
            for (let seq = 1; seq <= published; seq++) {
              assert.ok(acked.has(seq) !== deadSeqs.has(seq), `seq ${seq}: acked ${acked.has(seq)}, dead ${deadSeqs.has(seq)}`);
            }
            for (const seq of termed) assert.ok(deadSeqs.has(seq) || acked.has(seq), `termed ${seq} is dead-lettered`);
            break;
          }
          assert.ok(
            Date.now() < deadline,
            `not settled in time: ${JSON.stringify(info.consumers)}, published ${published}, acked ${acked.size}, dead ${dead}`,
          );
          for (let k = 0; k < 3; k++) {
            for (const m of inbox[k]!.splice(0)) await settle(m, 'ack');
          }
          await sleep(10);
        }
        for (const [seq, n] of maxCount) assert.ok(n <= MAX_DELIVER, `seq ${seq} delivered ${n} times`);
        for (const seen of firstSeen)
          for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `first deliveries out of order: ${seen}`);
      } catch (err) {
        process.stderr.write(`PROPERTY FAILURE: ${String((err as Error)?.stack ?? err)}\n`);
        throw err;
      } finally {
        await hub.close();
      }
    }),
    { seed, numRuns: 25, endOnFailure: true },
  );
});
