/**
 * Publish/subscribe against a real hub process (`node dist/cli/main.js hub`): payloads, headers,
 * wildcards, unsubscribe, async iteration, topic validation and ordering.
 * Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CrossbusError, type Bus, type Message } from '../../src/node/index.js';
import { Kind, envelope } from '../../src/core/protocol/envelope.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { RawClient } from '../helpers/raw-ws.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 20_000 };

let hub: HubProcess;
let pub: Bus;
let sub: Bus;

before(async () => {
  hub = await startHubProcess();
  pub = await openBus(hub.url, { name: 'publisher' });
  sub = await openBus(hub.url, { name: 'subscriber' });
});

after(async () => {
  await closeBus(pub);
  await closeBus(sub);
  await hub?.stop();
});

let syncSeq = 0;
/**
 * Waits until everything `from` published before this call has reached `to`: the hub keeps
 * per-connection order, so once a sentinel sent after them arrives, they have arrived too.
 */
async function barrier(from: Bus, to: Bus): Promise<void> {
  const topic = `sync.${process.pid}.${++syncSeq}`;
  let got = false;
  const s = to.subscribe(topic, () => {
    got = true;
  });
  await s.ready;
  await from.publish(topic, null);
  await until(() => got, 5_000, `sentinel ${topic}`);
  s.unsubscribe();
}

function collect<T = unknown>(bus: Bus, pattern: string): { msgs: Message<T>[]; ready: Promise<void>; unsubscribe(): void } {
  const msgs: Message<T>[] = [];
  const s = bus.subscribe<T>(pattern, (m) => {
    msgs.push(m);
  });
  return { msgs, ready: s.ready, unsubscribe: () => s.unsubscribe() };
}

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<CrossbusError> {
  let caught: unknown;
  await p.then(
    () => assert.fail(`expected a rejection with ${code}`),
    (e: unknown) => (caught = e),
  );
  assert.ok(caught instanceof CrossbusError, `expected a CrossbusError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

describe('pub/sub through a hub process', () => {
  test('JSON payloads arrive deep-equal', T, async () => {
    const c = collect(sub, 'json.t');
    await c.ready;
    const values: unknown[] = [
      { a: 1, nested: { list: [1, 'two', null, true], s: 'ünïcødé ✓ 😀' } },
      [1, 2, 3],
      'a plain string',
      42.5,
      0,
      false,
      null,
    ];
    for (const v of values) await pub.publish('json.t', v);
    await until(() => c.msgs.length === values.length, 5_000, 'all JSON messages');
    assert.deepEqual(
      c.msgs.map((m) => m.data),
      values,
    );
    assert.ok(c.msgs.every((m) => m.topic === 'json.t' && m.replyTo === ''));
    c.unsubscribe();
  });

  test('Uint8Array payloads arrive byte-identical', T, async () => {
    const c = collect<Uint8Array>(sub, 'bytes.t');
    await c.ready;
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const big = new Uint8Array(randomBytes(512 * 1024));
    const empty = new Uint8Array(0);
    const payloads = [allBytes, big, empty];
    for (const p of payloads) await pub.publish('bytes.t', p);
    await until(() => c.msgs.length === payloads.length, 10_000, 'all byte messages');
    for (let i = 0; i < payloads.length; i++) {
      const got = c.msgs[i]!.data;
      assert.ok(got instanceof Uint8Array, `message ${i} is a Uint8Array`);
      assert.equal(got.length, payloads[i]!.length);
      assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(payloads[i]!)), 0, `message ${i} is byte-identical`);
    }
    c.unsubscribe();
  });

  test('headers pass through unchanged (traceparent included)', T, async () => {
    const c = collect(sub, 'hdr.t');
    await c.ready;
    const headers = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
      'correlation-id': 'req-123',
      'X-Mixed-Case': 'Value With Spaces',
      'x-unicode': 'ünïcødé ✓',
      'x-empty': '',
    };
    await pub.publish('hdr.t', { ok: true }, { headers });
    await pub.publish('hdr.t', new Uint8Array([1, 2, 3]), { headers: { traceparent: headers.traceparent } });
    await pub.publish('hdr.t', 'no headers');
    await until(() => c.msgs.length === 3, 5_000, 'the header messages');
    assert.deepEqual({ ...c.msgs[0]!.headers }, headers);
    assert.deepEqual(c.msgs[0]!.data, { ok: true });
    assert.deepEqual({ ...c.msgs[1]!.headers }, { traceparent: headers.traceparent });
    assert.deepEqual({ ...c.msgs[2]!.headers }, {});
    c.unsubscribe();
  });

  test('wildcards * and > match exactly what they should', T, async () => {
    const patterns = ['w.*', 'w.>', 'w.a.*', 'w.*.c', 'w.a.>', '>', 'w.a.b.c'];
    const subs = new Map(patterns.map((p) => [p, collect(sub, p)]));
    await Promise.all([...subs.values()].map((s) => s.ready));
    const topics = ['w', 'w.a', 'w.a.b', 'w.x.c', 'w.a.b.c', 'other'];
    for (const t of topics) await pub.publish(t, t);
    await barrier(pub, sub);
    const got = (p: string): string[] =>
      subs
        .get(p)!
        .msgs.map((m) => m.topic)
        .filter((t) => !t.startsWith('sync.'));
    assert.deepEqual(got('w.*'), ['w.a']);
    assert.deepEqual(got('w.>'), ['w.a', 'w.a.b', 'w.x.c', 'w.a.b.c']);
    assert.deepEqual(got('w.a.*'), ['w.a.b'], 'a.* must not match a.b.c (nor a)');
    assert.deepEqual(got('w.*.c'), ['w.x.c']);
    assert.deepEqual(got('w.a.>'), ['w.a.b', 'w.a.b.c'], 'a.> must not match a itself');
    assert.deepEqual(got('>'), topics);
    assert.deepEqual(got('w.a.b.c'), ['w.a.b.c']);
    for (const s of subs.values()) s.unsubscribe();
  });

  test('a.> does not match a; a.* does not match a.b.c', T, async () => {
    const gt = collect(sub, 'neg.>');
    const star = collect(sub, 'neg.*');
    await Promise.all([gt.ready, star.ready]);
    await pub.publish('neg', 1);
    await pub.publish('neg.b.c', 2);
    await pub.publish('neg.b', 3);
    await barrier(pub, sub);
    assert.deepEqual(
      gt.msgs.map((m) => m.topic),
      ['neg.b.c', 'neg.b'],
    );
    assert.deepEqual(
      star.msgs.map((m) => m.topic),
      ['neg.b'],
    );
    gt.unsubscribe();
    star.unsubscribe();
  });

  test('unsubscribe stops delivery', T, async () => {
    const c = collect(sub, 'unsub.t');
    await c.ready;
    await pub.publish('unsub.t', 1);
    await until(() => c.msgs.length === 1, 5_000, 'the first message');
    c.unsubscribe();
    await sub.flush(); // the hub has processed the UNSUBSCRIBE
    for (let i = 0; i < 5; i++) await pub.publish('unsub.t', i);
    await barrier(pub, sub);
    assert.equal(c.msgs.length, 1);
  });

  test('unsubscribe stops routing at the hub (seen from a raw connection)', T, async () => {
    const raw = await RawClient.handshake(hub.url, 'raw-unsub');
    try {
      await raw.subscribe(7, 'rawunsub.t');
      await raw.subscribe(8, 'rawunsub.sync');
      await pub.publish('rawunsub.t', 'before');
      await pub.publish('rawunsub.sync', 1);
      await until(() => raw.messages.filter((m) => m.sid === 8).length === 1, 5_000, 'first sync');
      await raw.sendEnvelope(envelope(Kind.UNSUBSCRIBE, { id: 77, sid: 7 }));
      await raw.waitForControl((e) => e.kind === Kind.OK && e.id === 77, 5_000, 'OK for UNSUBSCRIBE');
      await pub.publish('rawunsub.t', 'after');
      await pub.publish('rawunsub.sync', 2);
      await until(() => raw.messages.filter((m) => m.sid === 8).length === 2, 5_000, 'second sync');
      const forSid7 = raw.messages.filter((m) => m.sid === 7);
      assert.equal(forSid7.length, 1);
      assert.equal(forSid7[0]!.topic, 'rawunsub.t');
      assert.deepEqual(raw.errors(), []);
    } finally {
      raw.terminate();
    }
  });

  test('async-iterator subscription', T, async () => {
    const s = sub.subscribe<{ n: number }>('x.>');
    await s.ready;
    const topics = ['x.a', 'x.b.c', 'x.d'];
    for (let i = 0; i < topics.length; i++) await pub.publish(topics[i]!, { n: i });
    const seen: Array<[string, number]> = [];
    for await (const msg of s) {
      seen.push([msg.topic, msg.data.n]);
      if (seen.length === topics.length) break;
    }
    assert.deepEqual(seen, [
      ['x.a', 0],
      ['x.b.c', 1],
      ['x.d', 2],
    ]);
    assert.equal(s.closed, true, 'breaking out of for-await unsubscribes');
  });

  test('sub.ready rejects with CB_ERR_TOPIC_INVALID for invalid patterns', T, async () => {
    for (const pattern of ['a..b', 'a.>.b', '', '.a', 'a.', 'a b', 'a*.b', 'a.b>']) {
      const s = sub.subscribe(pattern, () => {});
      const err = await rejectsWithCode(s.ready, 'CB_ERR_TOPIC_INVALID');
      assert.equal(err.retryable, false);
      assert.equal(s.closed, true, `subscription ${JSON.stringify(pattern)} is closed`);
    }
  });

  test('the hub itself refuses invalid patterns sent past the client checks', T, async () => {
    const raw = await RawClient.handshake(hub.url, 'raw-bad-pattern');
    try {
      let id = 500;
      for (const pattern of ['a..b', 'a.>.b']) {
        const myId = ++id;
        await raw.sendEnvelope(envelope(Kind.SUBSCRIBE, { id: myId, sid: myId, topic: pattern }));
        const env = await raw.waitForControl((e) => e.id === myId, 5_000, `reply to SUBSCRIBE ${pattern}`);
        assert.equal(env.kind, Kind.ERROR);
        assert.equal(JSON.parse(new TextDecoder().decode(env.payload)).code, 'CB_ERR_TOPIC_INVALID');
      }
      assert.equal(raw.isOpen, true, 'a refused subscription does not close the connection');
    } finally {
      raw.terminate();
    }
  });

  test('publish to a wildcard topic rejects at once with CB_ERR_TOPIC_INVALID', T, async () => {
    for (const topic of ['a.*', 'a.>', '*', '>', 'a..b']) {
      const started = Date.now();
      await rejectsWithCode(pub.publish(topic, 1), 'CB_ERR_TOPIC_INVALID');
      assert.ok(Date.now() - started < 100, 'rejected without a round trip');
    }
    assert.equal(pub.state, 'connected', 'a refused publish leaves the bus usable');
  });

  test('publish with a topic over the length limit rejects with CB_ERR_TOPIC_TOO_LONG', T, async () => {
    const limit = pub.info!.limits.maxTopicLength;
    assert.equal(limit, 256);
    await rejectsWithCode(pub.publish('t'.repeat(limit + 1), 1), 'CB_ERR_TOPIC_TOO_LONG');
    // 129 characters but 258 UTF-8 bytes: the limit is in bytes.
    await rejectsWithCode(pub.publish('é'.repeat(129), 1), 'CB_ERR_TOPIC_TOO_LONG');
    await rejectsWithCode(sub.subscribe('t'.repeat(limit + 1)).ready, 'CB_ERR_TOPIC_TOO_LONG');
    // Exactly at the limit is fine end to end.
    const atLimit = 't'.repeat(limit);
    const c = collect(sub, atLimit);
    await c.ready;
    await pub.publish(atLimit, 'edge');
    await until(() => c.msgs.length === 1, 5_000, 'message on a topic of exactly the limit');
    c.unsubscribe();
  });

  test('order is preserved for 10,000 messages from one publisher', T, async () => {
    const N = 10_000;
    const got: number[] = [];
    const s = sub.subscribe<number>('order.t', (m) => {
      got.push(m.data);
    });
    await s.ready;
    for (let i = 0; i < N; i++) await pub.publish('order.t', i);
    await until(() => got.length >= N, 15_000, `${N} messages (have ${got.length})`);
    assert.equal(got.length, N);
    for (let i = 0; i < N; i++) {
      if (got[i] !== i) assert.fail(`message ${i} out of order: got ${got[i]}`);
    }
    s.unsubscribe();
  });
});
