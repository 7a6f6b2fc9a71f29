/**
 * The broker's modules on their own, wired as the Broker wires them: the outbound queues'
 * accounting and slow-consumer policy, the router's delivery and answers, the session table's
 * close, group member picking, and (checked by the typecheck) who may write a session's fields.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HubCounters } from '../../src/core/broker/counters.js';
import type { BrokerEvents } from '../../src/core/broker/events.js';
import { resolveBrokerOptions, type BrokerOptions } from '../../src/core/broker/options.js';
import { OutboundQueues } from '../../src/core/broker/outbound-queues.js';
import { Router, pickMember } from '../../src/core/broker/router.js';
import { SessionTable } from '../../src/core/broker/session-table.js';
import { Session, type RouteSubscription } from '../../src/core/broker/session.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../../src/core/protocol/envelope.js';
import { TypedEmitter } from '../../src/core/util/emitter.js';
import { StallableTransport, tick } from '../helpers/recording-transport.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

function modules(options: BrokerOptions = {}) {
  const o = resolveBrokerOptions({ heartbeatMs: 0, ...options });
  const events = new TypedEmitter<BrokerEvents>(() => {});
  const totals = new HubCounters();
  const queues = new OutboundQueues(o, events, totals, undefined);
  const router = new Router(o, events, totals, queues, undefined);
  const sessions = new SessionTable(o, events, totals, queues, router, undefined);
  queues.attach(sessions);
  let seq = 0;
  const open = (): { s: Session; t: StallableTransport } => {
    const t = new StallableTransport();
    const s = new Session(++seq, `hub-${seq}`, t, Date.now(), undefined);
    sessions.add(s);
    t.setHandlers({ message: () => {}, close: (info) => sessions.transportClosed(s, info), drain: () => queues.pump(s) });
    sessions.open(s);
    return { s, t };
  };
  return { o, events, totals, queues, router, sessions, open };
}

/** A routed frame as the inbound path hands it over: its envelope and its exact bytes. */
function frame(env: Envelope): { env: Envelope; buf: Uint8Array } {
  const buf = encodeFrame(env);
  let decoded: Envelope | undefined;
  readFrames(buf, DEFAULT_FRAME_LIMITS, (e) => {
    decoded = e;
  });
  return { env: decoded!, buf };
}

describe('broker modules', () => {
  test('outbound queues: the hub-wide total follows every queue, and a flush empties it', async () => {
    const m = modules();
    const a = m.open();
    const b = m.open();
    const { buf } = frame(envelope(Kind.PUBLISH, { topic: 'x', payload: new Uint8Array(50) }));
    assert.equal(m.queues.deliver(a.s, buf, 0, buf.length, 7), true);
    assert.equal(m.queues.deliver(b.s, buf, 0, buf.length, 8), true);
    m.queues.enqueueControl(a.s, envelope(Kind.PING));
    assert.equal(m.queues.queuedBytes, a.s.queue.out.length + b.s.queue.out.length);
    assert.equal(a.s.queue.queuedMessages, 2);
    assert.equal(m.totals.messagesOut, 2, 'control frames are not messages');
    await tick();
    assert.equal(m.queues.queuedBytes, 0);
    assert.deepEqual(
      a.t.received.map((e) => [e.kind, e.sid]),
      [
        [Kind.MESSAGE, 7],
        [Kind.PING, 0],
      ],
    );
    assert.equal(a.s.counters.bytesOut + b.s.counters.bytesOut, m.totals.bytesOut);
  });

  test("outbound queues: 'disconnect' closes a full queue's session through the session table", async () => {
    const m = modules({ maxQueuedMessages: 2 });
    const slow = m.open();
    slow.t.stalled = true;
    slow.t.buffered = m.o.transportHighWaterBytes; // the transport is full: nothing leaves the queue
    const { buf } = frame(envelope(Kind.PUBLISH, { topic: 'x' }));
    assert.equal(m.queues.deliver(slow.s, buf, 0, buf.length, 1), true);
    assert.equal(m.queues.deliver(slow.s, buf, 0, buf.length, 1), true);
    await tick();
    assert.equal(m.queues.deliver(slow.s, buf, 0, buf.length, 1), false);
    assert.equal(slow.t.closed?.code, 4008);
    assert.equal(slow.s.state, 'closed');
    assert.equal(m.sessions.size, 0);
    assert.equal(m.queues.queuedBytes, 0, 'what the closed session held is no longer counted');
    assert.deepEqual([m.totals.dropped, m.totals.slowConsumers, m.totals.errors], [1, 1, 1]);
  });

  test('router: one member per group, OK for a publish with an id, NO_RESPONDERS for a request nobody takes', async () => {
    const m = modules();
    const pub = m.open();
    const members = [m.open(), m.open()];
    for (const x of members) {
      const { env } = frame(envelope(Kind.SUBSCRIBE, { id: 1, sid: 3, topic: 'jobs.*', group: 'workers' }));
      assert.equal(m.router.subscribe(x.s, env), undefined);
    }
    assert.equal(m.router.size, 2);
    for (let i = 0; i < 4; i++) {
      const { env, buf } = frame(envelope(Kind.PUBLISH, { id: 10 + i, topic: 'jobs.a' }));
      m.router.publish(pub.s, env, buf, 0, buf.length);
    }
    const req = frame(envelope(Kind.REQUEST, { id: 20, topic: 'nobody', replyTo: '_INBOX.x.1' }));
    m.router.publish(pub.s, req.env, req.buf, 0, req.buf.length);
    await tick();
    assert.deepEqual(
      members.map((x) => x.t.received.filter((e) => e.kind === Kind.MESSAGE).length),
      [2, 2],
    );
    assert.deepEqual(
      pub.t.received.filter((e) => e.kind === Kind.OK).map((e) => [e.id, e.seq]),
      [
        [10, 1],
        [11, 1],
        [12, 1],
        [13, 1],
      ],
    );
    assert.deepEqual(pub.t.errors(), ['CB_ERR_NO_RESPONDERS']);
    assert.equal(m.totals.noResponders, 1);
    const { env } = frame(
      envelope(Kind.SUBSCRIBE, {
        id: 2,
        sid: 4,
        topic: 'w',
        payloadType: PayloadType.JSON,
        payload: new TextEncoder().encode('{"weight":0}'),
      }),
    );
    assert.match(m.router.subscribe(pub.s, env) ?? '', /weight/, 'a bad weight is refused for the caller to answer');
  });

  test('session table: closing detaches from routing and fails requests only the leaver could answer', async () => {
    const m = modules();
    const requester = m.open();
    const responder = m.open();
    const { env: sub } = frame(envelope(Kind.SUBSCRIBE, { id: 1, sid: 1, topic: 'svc' }));
    m.router.subscribe(responder.s, sub);
    const req = frame(envelope(Kind.REQUEST, { id: 5, topic: 'svc', replyTo: '_INBOX.r.1' }));
    m.router.publish(requester.s, req.env, req.buf, 0, req.buf.length);
    assert.equal(responder.s.routing.inflight.size, 1);
    m.sessions.close(responder.s, 1000, 'bye');
    assert.equal(m.router.size, 0);
    await tick();
    assert.deepEqual(requester.t.errors(), ['CB_ERR_RESPONDER_GONE']);
    assert.equal(requester.t.received.find((e) => e.kind === Kind.ERROR)?.id, 5);
  });

  test('pickMember: equal weights take turns; over sum(weights) messages each member gets its weight', () => {
    const sub = (weight: number) => ({ weight, session: { routing: { trafficWeight: 1 } } }) as unknown as RouteSubscription;
    assert.deepEqual(
      [0, 1, 2, 3].map((c) => pickMember([sub(1), sub(1), sub(1)], c)),
      [0, 1, 2, 0],
    );
    const members = [sub(1), sub(3), sub(2)];
    const counts = [0, 0, 0];
    for (let c = 100; c < 106; c++) counts[pickMember(members, c)]!++;
    assert.deepEqual(counts, [1, 3, 2]);
  });

  test('a session is read-only outside the modules that own its fields (checked by the typecheck)', () => {
    const readOnly = (s: Session): void => {
      // @ts-expect-error lifecycle: the session table writes it
      s.state = 'open';
      // @ts-expect-error the outbound queues write it
      s.queue.queuedMessages = 0;
      // @ts-expect-error the access gate writes it
      s.auth.app = 'other';
      // @ts-expect-error the router writes it
      s.routing.subscriptions.clear();
      // @ts-expect-error the parts themselves are not replaced
      // biome-ignore lint/correctness/noSelfAssign: the assignment itself is what must not compile
      s.counters = s.counters;
    };
    assert.equal(typeof readOnly, 'function');
  });
});

describe('queued bytes across the hub', () => {
  test('ACK confirmations are counted in and out like every other frame: the total returns to 0, never below', async () => {
    const hub = await startStreamHub();
    try {
      const bus = await hub.connect({ name: 'acker' });
      await bus.streams.create({ name: 'ACKS', topics: ['acks.>'] });
      for (let i = 0; i < 20; i++) await bus.publish(`acks.${i}`, i, { durable: true });
      const consumer = bus.consume('ACKS', { durable: 'c' });
      let acked = 0;
      for await (const m of consumer) {
        await m.ack();
        if (++acked === 20) break;
      }
      await bus.flush();
      await until(() => hub.broker.stats().queuedBytes === 0, 3_000, 'the queues to empty');
      assert.equal(hub.broker.stats().queuedBytes, 0);
    } finally {
      await hub.close();
    }
  });
});
