/**
 * The dead-letter replay engine on its own: pacing on an injected clock, the slowdown after a
 * rate-limit refusal, the purgeable prefix under out-of-order acks, failures, and the window.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CrossbusError, createError } from '../../src/core/errors/index.js';
import type { PublishAck, StreamRecord, StreamsClient } from '../../src/cli/commands/streams-api.js';
import { AckedPrefix, DeadLetterReplay, MAX_RATE_LIMITED_RETRIES, ReplayPacer } from '../../src/cli/dlq-replay.js';

const seed = Number(process.env.FC_SEED ?? 20260214);

/** A clock that only moves when someone sleeps. */
function fakeTime() {
  const clock = { t: 1_000_000, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
}

function record(seq: number, headers?: Record<string, string>): StreamRecord {
  return { seq, time: seq, topic: `orders.n${seq}`, data: { seq }, ...(headers ? { headers } : {}) };
}

async function* pagesOf(seqs: number[], pageSize = 7): AsyncGenerator<StreamRecord[]> {
  for (let i = 0; i < seqs.length; i += pageSize) yield seqs.slice(i, i + pageSize).map((s) => record(s));
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

type Publish = Pick<StreamsClient, 'publish'>['publish'];
interface Sent {
  topic: string;
  msgId: string;
  headers?: Record<string, string> | undefined;
  at: number;
}

/** A publisher answering each publish with `answer` (an ack after a turn by default), recording what was sent. */
function publisher(now: () => number, answer?: (seq: number, attempt: number) => Promise<PublishAck>) {
  const sent: Sent[] = [];
  const attempts = new Map<number, number>();
  const publish: Publish = async (topic, _data, options) => {
    const seq = Number(/-(\d+)$/.exec(options.msgId)?.[1]);
    const attempt = attempts.get(seq) ?? 0;
    attempts.set(seq, attempt + 1);
    sent.push({ topic, msgId: options.msgId, headers: options.headers, at: now() });
    if (answer !== undefined) return answer(seq, attempt);
    await tick();
    return { stream: 'ORDERS', seq: 1000 + seq, duplicate: false };
  };
  return { client: { publish }, sent };
}

describe('ReplayPacer', () => {
  test('each wait takes the next slot, 1000/rate ms after the one before', async () => {
    const time = fakeTime();
    const pacer = new ReplayPacer(100, time.now, time.sleep);
    const start = time.clock.t;
    for (let i = 0; i < 5; i++) await pacer.wait();
    assert.deepEqual(time.clock.sleeps, [10, 10, 10, 10]);
    assert.equal(time.clock.t - start, 40);
  });

  test('a slot less than 4 ms ahead is taken without sleeping; rate 0 never sleeps', async () => {
    const time = fakeTime();
    const fast = new ReplayPacer(500, time.now, time.sleep);
    await fast.wait(); // now
    await fast.wait(); // 2 ms ahead: taken
    await fast.wait(); // 4 ms ahead: slept
    assert.deepEqual(time.clock.sleeps, [4]);
    const unpaced = new ReplayPacer(0, time.now, time.sleep);
    for (let i = 0; i < 100; i++) await unpaced.wait();
    assert.deepEqual(time.clock.sleeps, [4]);
  });

  test('a refusal pauses every slot past retryAfterMs and slows down once per generation', async () => {
    const time = fakeTime();
    const pacer = new ReplayPacer(100, time.now, time.sleep);
    await pacer.wait();
    const g = pacer.generation;
    pacer.refused(50, g);
    // Halved (50/s), and under what the retry delay suggests (800/50 = 16/s).
    assert.equal(pacer.rate, 16);
    assert.equal(pacer.generation, g + 1);
    // Another send of the same generation refused: it pauses, but does not slow down again.
    pacer.refused(200, g);
    assert.equal(pacer.rate, 16);
    const start = time.clock.t;
    await pacer.wait();
    assert.equal(time.clock.t - start, 200, 'waited out the longest pause');
    pacer.refused(undefined, pacer.generation);
    assert.equal(pacer.rate, 8, 'no retryAfterMs: 100 ms assumed, 800/100');
  });

  test('a refusal of an unpaced replay gives it a pace; long pauses are capped at 10 s; never below 1/s', () => {
    const time = fakeTime();
    const pacer = new ReplayPacer(0, time.now, time.sleep);
    pacer.refused(400, 0);
    assert.equal(pacer.rate, 2);
    pacer.refused(60_000, 1);
    assert.equal(pacer.rate, 1);
    const start = time.clock.t;
    return pacer.wait().then(() => assert.equal(time.clock.t - start, 10_000));
  });

  test('stop() ends a wait for a slot at once', async () => {
    const time = fakeTime();
    const pacer = new ReplayPacer(1, time.now, () => new Promise<void>(() => {}));
    await pacer.wait();
    const waiting = pacer.wait();
    pacer.stop();
    await waiting;
    await pacer.wait(); // and every wait after it
  });
});

describe('AckedPrefix', () => {
  test('acks out of order: upTo is the end of the longest acknowledged prefix', () => {
    const p = new AckedPrefix();
    for (const seq of [10, 12, 15, 16, 20]) p.issue(seq);
    const upTos = [15, 10, 20, 12, 16].map((seq) => {
      p.ack(seq);
      return p.upTo;
    });
    assert.deepEqual(upTos, [0, 10, 10, 15, 20]);
  });

  test(`any order of acks: upTo covers exactly the acknowledged prefix (seed ${seed})`, () => {
    const issued = fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 60 }).map((a) => a.sort((x, y) => x - y));
    fc.assert(
      fc.property(
        issued.chain((seqs) => fc.tuple(fc.constant(seqs), fc.shuffledSubarray(seqs))),
        ([seqs, acks]) => {
          const p = new AckedPrefix();
          for (const s of seqs) p.issue(s);
          const acked = new Set<number>();
          for (const s of acks) {
            p.ack(s);
            acked.add(s);
            let k = 0;
            while (k < seqs.length && acked.has(seqs[k]!)) k++;
            assert.equal(p.upTo, k === 0 ? 0 : seqs[k - 1]);
          }
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

describe('DeadLetterReplay', () => {
  test('republishes each dead letter with its original headers and msgId, paced, and reports the prefix', async () => {
    const time = fakeTime();
    const { client, sent } = publisher(time.now);
    const replayed: number[] = [];
    const replay = new DeadLetterReplay(client, {
      stream: 'ORDERS',
      rate: 100,
      now: time.now,
      sleep: time.sleep,
      onReplayed: (n) => replayed.push(n),
    });
    async function* one(): AsyncGenerator<StreamRecord[]> {
      yield [record(3, { 'cb-dlq-reason': 'max-deliver', 'CB-DLQ-Seq': '9', traceparent: 't' }), record(4)];
    }
    const start = time.clock.t;
    const outcome = await replay.run(one());
    assert.deepEqual(
      sent.map((s) => ({ ...s, at: s.at - start })),
      [
        { topic: 'orders.n3', msgId: 'dlq-ORDERS-3', headers: { traceparent: 't' }, at: 0 },
        { topic: 'orders.n4', msgId: 'dlq-ORDERS-4', headers: undefined, at: 10 },
      ],
    );
    assert.deepEqual(outcome, { replayed: 2, duplicates: 0, upTo: 4, rateLimited: 0, rate: 100 });
    assert.deepEqual(replayed, [1, 2]);
  });

  test('pacing over many pages: 51 dead letters at 100/s take 500 ms of the injected clock', async () => {
    const time = fakeTime();
    const { client, sent } = publisher(time.now);
    const start = time.clock.t;
    const outcome = await new DeadLetterReplay(client, { stream: 'S', rate: 100, now: time.now, sleep: time.sleep }).run(
      pagesOf(range(1, 51)),
    );
    assert.equal(time.clock.t - start, 500);
    assert.deepEqual(
      sent.map((s) => s.at - start),
      range(0, 50).map((i) => i * 10),
    );
    assert.equal(outcome.upTo, 51);
  });

  test('duplicates are counted (a msgId the hub had stored)', async () => {
    const time = fakeTime();
    const { client } = publisher(time.now, async (seq) => ({ stream: 'S', seq, duplicate: seq % 2 === 0 }));
    const outcome = await new DeadLetterReplay(client, { stream: 'S', rate: 0, now: time.now, sleep: time.sleep }).run(
      pagesOf(range(1, 10)),
    );
    assert.equal(outcome.replayed, 10);
    assert.equal(outcome.duplicates, 5);
  });

  test('acks arriving out of order: upTo is the last of the acknowledged prefix', async () => {
    const time = fakeTime();
    const acks = new Map<number, () => void>();
    const { client } = publisher(
      time.now,
      (seq) => new Promise((resolve) => acks.set(seq, () => resolve({ stream: 'S', seq, duplicate: false }))),
    );
    const running = new DeadLetterReplay(client, { stream: 'S', rate: 0, now: time.now, sleep: time.sleep }).run(pagesOf([1, 2, 3, 5, 8]));
    while (acks.size < 5) await tick();
    for (const seq of [8, 2, 3, 5, 1]) acks.get(seq)!();
    const outcome = await running;
    assert.equal(outcome.upTo, 8);
    assert.equal(outcome.replayed, 5);
  });

  test('a failure stops further sends and keeps the dead letters from the earliest failed one on', async () => {
    const time = fakeTime();
    const answers = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
    const { client, sent } = publisher(
      time.now,
      (seq) =>
        new Promise((resolve, reject) =>
          answers.set(seq, {
            resolve: () => resolve({ stream: 'S', seq, duplicate: false }),
            reject,
          }),
        ),
    );
    const running = new DeadLetterReplay(client, { stream: 'S', rate: 0, window: 4, now: time.now, sleep: time.sleep }).run(
      pagesOf(range(1, 20)),
    );
    while (answers.size < 4) await tick();
    // 1 and 2 acknowledged, 4 fails before 3 does: the earliest failure is the one kept.
    answers.get(1)!.resolve();
    answers.get(2)!.resolve();
    answers.get(4)!.reject(new CrossbusError('CB_ERR_FORBIDDEN', 'no'));
    await tick();
    answers.get(3)!.reject(createError('CB_ERR_STORAGE', 'disk full'));
    for (let i = 0; i < 5; i++) await tick();
    // Whatever went out while the failures arrived is still answered; nothing goes out after.
    for (const [seq, a] of answers) if (seq > 4) a.resolve();
    const outcome = await running;
    const sentSeqs = sent.map((s) => Number(s.msgId.split('-').pop()));
    assert.ok(sentSeqs.length <= 6, `sent after the failure: ${sentSeqs.join(',')}`);
    assert.deepEqual(sentSeqs, range(1, sentSeqs.length));
    assert.equal(outcome.failure?.seq, 3);
    assert.match(String((outcome.failure!.error as Error).message), /disk full/);
    assert.equal(outcome.upTo, 2, 'the prefix stops before the failed dead letter, whatever came after it');
  });

  test('a failure ends the wait for the next slot', async () => {
    const time = fakeTime();
    const { client, sent } = publisher(time.now, async () => {
      await tick();
      throw new CrossbusError('CB_ERR_FORBIDDEN', 'no');
    });
    // 1/s and a sleep that never ends: only the failure can end the wait for the second slot.
    const outcome = await new DeadLetterReplay(client, {
      stream: 'S',
      rate: 1,
      now: time.now,
      sleep: () => new Promise<void>(() => {}),
    }).run(pagesOf(range(1, 3)));
    assert.equal(sent.length, 1);
    assert.equal(outcome.failure?.seq, 1);
    assert.equal(outcome.upTo, 0);
  });

  test('reading the dead letters fails: what is in flight settles, the failure has no seq', async () => {
    const time = fakeTime();
    const { client } = publisher(time.now);
    async function* broken(): AsyncGenerator<StreamRecord[]> {
      yield [record(1), record(2)];
      throw new Error('read failed');
    }
    const outcome = await new DeadLetterReplay(client, { stream: 'S', rate: 0, now: time.now, sleep: time.sleep }).run(broken());
    assert.equal(outcome.failure?.seq, Number.POSITIVE_INFINITY);
    assert.equal(outcome.upTo, 2);
  });

  test('rate-limit refusals: paused, slowed down, sent again; the pace is reported', async () => {
    const time = fakeTime();
    const { client, sent } = publisher(time.now, async (seq, attempt) => {
      await tick();
      if (seq === 2 && attempt < 2) throw createError('CB_ERR_RATE_LIMITED', 'slow down', { details: { retryAfterMs: 100 } });
      return { stream: 'S', seq, duplicate: false };
    });
    const start = time.clock.t;
    const outcome = await new DeadLetterReplay(client, { stream: 'S', rate: 50, window: 1, now: time.now, sleep: time.sleep }).run(
      pagesOf(range(1, 3)),
    );
    assert.equal(outcome.rateLimited, 2);
    // 50/s halved to 25, then 800/100 = 8 caps it; the second refusal (a new generation) halves it again: 4.
    assert.equal(outcome.rate, 4);
    assert.equal(outcome.upTo, 3);
    assert.deepEqual(
      sent.map((s) => s.msgId),
      ['dlq-S-1', 'dlq-S-2', 'dlq-S-2', 'dlq-S-2', 'dlq-S-3'],
    );
    const at = sent.map((s) => s.at - start);
    assert.ok(at[2]! - at[1]! >= 100, `the resend waited out retryAfterMs: ${at.join(',')}`);
  });

  test(`refused more than ${MAX_RATE_LIMITED_RETRIES} times: gives up with the refusal`, async () => {
    const time = fakeTime();
    const { client, sent } = publisher(time.now, async () => {
      throw createError('CB_ERR_RATE_LIMITED', 'slow down', { details: { retryAfterMs: 5 } });
    });
    const outcome = await new DeadLetterReplay(client, { stream: 'S', rate: 0, window: 1, now: time.now, sleep: time.sleep }).run(
      pagesOf([1, 2]),
    );
    assert.equal(sent.length, MAX_RATE_LIMITED_RETRIES + 1);
    assert.equal(outcome.rateLimited, MAX_RATE_LIMITED_RETRIES);
    assert.equal(outcome.failure?.seq, 1);
    assert.ok((outcome.failure!.error as CrossbusError).code === 'CB_ERR_RATE_LIMITED');
  });

  test('the window bounds the publishes not yet acknowledged', async () => {
    const time = fakeTime();
    const acks: Array<() => void> = [];
    let inflight = 0;
    let most = 0;
    const { client, sent } = publisher(time.now, (seq) => {
      most = Math.max(most, ++inflight);
      return new Promise((resolve) =>
        acks.push(() => {
          inflight--;
          resolve({ stream: 'S', seq, duplicate: false });
        }),
      );
    });
    const running = new DeadLetterReplay(client, { stream: 'S', rate: 0, window: 3, now: time.now, sleep: time.sleep }).run(
      pagesOf(range(1, 10)),
    );
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(sent.length, 3, 'stops at the window');
    acks.shift()!();
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(sent.length, 4, 'one acknowledged, one more sent');
    while (sent.length < 10 || acks.length > 0) {
      acks.shift()?.();
      await tick();
    }
    const outcome = await running;
    assert.equal(most, 3);
    assert.equal(outcome.upTo, 10);
  });
});
