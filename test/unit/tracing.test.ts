/**
 * OpenTelemetry spans on the bus: a message's trace context rides in its headers through the hub,
 * a bridge and a stream, and every handler continues the sender's trace (messaging conventions:
 * PRODUCER send spans, CONSUMER process spans, linked to the creation context). Spans are read
 * back from the SDK's in-memory exporter.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Broker } from '../../src/core/broker/broker.js';
import { bridge, connectWith, type Bus, type StreamMessage, type TracedBus } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { startStreamHub, type StreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan => {
  const s = spans().find((x) => x.name === name);
  assert.ok(
    s,
    `a span named ${name} among ${spans()
      .map((x) => x.name)
      .join(', ')}`,
  );
  return s;
};
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('tracing: spans and their context through the bus', () => {
  let hub: StreamHub;
  let a: TracedBus;
  let b: TracedBus;

  before(async () => {
    context.setGlobalContextManager(contextManager.enable());
    hub = await startStreamHub();
    a = (await connectWith(memoryConnector(hub.broker), { tracing: { tracerProvider: provider } })) as TracedBus;
    b = (await connectWith(memoryConnector(hub.broker), { tracing: { tracerProvider: provider } })) as TracedBus;
  });
  after(async () => {
    await a.close();
    await b.close();
    await hub.close();
    context.disable();
  });
  afterEach(() => exporter.reset());

  test('a publish is a PRODUCER span; the handler runs in a CONSUMER span, its child, linked to it', async () => {
    const got: string[] = [];
    const sub = b.subscribe('orders.*', (m) => {
      got.push(String(m.headers.traceparent));
      assert.ok(trace.getActiveSpan(), 'the handler runs inside its span');
    });
    await b.flush();
    await a.publish('orders.created', { id: 1 }, { headers: { 'correlation-id': 'order-1' } });
    await until(() => spans().length === 2, 3_000, 'two spans');
    const send = named('publish orders.created');
    const process = named('process orders.*');
    assert.equal(send.kind, SpanKind.PRODUCER);
    assert.equal(process.kind, SpanKind.CONSUMER);
    assert.equal(process.spanContext().traceId, send.spanContext().traceId);
    assert.equal(parentOf(process), send.spanContext().spanId);
    assert.deepEqual(
      process.links.map((l) => l.context.spanId),
      [send.spanContext().spanId],
    );
    assert.equal(send.attributes['messaging.system'], 'crossbus');
    assert.equal(send.attributes['messaging.destination.name'], 'orders.created');
    assert.equal(send.attributes['messaging.operation.type'], 'send');
    assert.equal(send.attributes['messaging.message.conversation_id'], 'order-1');
    assert.equal(process.attributes['messaging.destination.name'], 'orders.created');
    assert.equal(process.attributes['messaging.destination.template'], 'orders.*');
    assert.equal(process.attributes['messaging.message.conversation_id'], 'order-1', 'the correlation id reaches the consumer');
    assert.equal(process.attributes['messaging.operation.type'], 'process');
    assert.match(got[0] as string, new RegExp(`^00-${send.spanContext().traceId}-${send.spanContext().spanId}-01$`));
    sub.unsubscribe();
  });

  test('a request and its service are one trace; a handler failure marks both spans', async () => {
    const svc = b.serve('svc.echo', (m) => {
      if ((m.data as { fail?: boolean }).fail) throw Object.assign(new Error('no'), { code: 'CB_ERR_HANDLER_FAILED' });
      // A publish made while handling continues the trace (the active span is the process span).
      void b.publish('audit.echo', {});
      return m.data;
    });
    await b.flush();
    assert.deepEqual(await a.request('svc.echo', { x: 1 }), { x: 1 });
    await until(() => spans().length === 3, 3_000, 'three spans').catch((e) => {
      throw new Error(
        `${e.message}: ${spans()
          .map((x) => x.name)
          .join(', ')}`,
      );
    });
    const req = named('request svc.echo');
    const process = named('process svc.echo');
    const nested = named('publish audit.echo');
    assert.equal(parentOf(process), req.spanContext().spanId);
    assert.equal(parentOf(nested), process.spanContext().spanId);
    assert.equal(nested.spanContext().traceId, req.spanContext().traceId);
    assert.equal(process.attributes['messaging.consumer.group.name'], 'svc.echo');
    // Spans are exported as they end (a simple processor), so the order is the order of their ends; span
    // timestamps are not comparable to the microsecond across spans (each is anchored when it starts).
    const order = spans().map((x) => x.name);
    assert.ok(
      order.indexOf('request svc.echo') > order.indexOf('process svc.echo'),
      `the request ends after the reply: ${order.join(', ')}`,
    );
    exporter.reset();

    await assert.rejects(a.request('svc.echo', { fail: true }), { code: 'CB_ERR_HANDLER_FAILED' });
    await until(() => spans().length === 2, 3_000, 'two spans');
    assert.equal(named('process svc.echo').status.code, SpanStatusCode.ERROR);
    assert.equal(named('request svc.echo').status.code, SpanStatusCode.ERROR);
    assert.equal(named('request svc.echo').attributes['error.type'], 'CB_ERR_HANDLER_FAILED');
    svc.unsubscribe();
  });

  test('a durable message carries its trace through the stream to the consumer', async () => {
    await a.streams.create({ name: 'TRACED', topics: ['jobs.>'] });
    const seen: StreamMessage[] = [];
    const consumer = b.consume('TRACED', { durable: 'worker' }, (m) => {
      seen.push(m);
      m.ack();
    });
    await a.publish('jobs.build', { n: 1 }, { durable: true, msgId: 'job-1' });
    await until(() => seen.length === 1 && spans().length === 2, 3_000, 'the delivery handled');
    const send = named('publish jobs.build');
    const process = named('process TRACED');
    assert.equal(send.attributes['messaging.message.id'], 'job-1');
    assert.equal(parentOf(process), send.spanContext().spanId);
    assert.equal(process.attributes['crossbus.stream.name'], 'TRACED');
    assert.equal(process.attributes['messaging.destination.subscription.name'], 'worker');
    assert.equal(process.attributes['crossbus.stream.seq'], 1);
    assert.equal(process.attributes['crossbus.delivery_count'], 1);
    await consumer.close();
  });

  test('a hand-made traceparent is continued; a malformed one is ignored, never an error', async () => {
    const received: string[] = [];
    const sub = b.subscribe('hand.>', (m) => {
      received.push(m.topic);
    });
    await b.flush();
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await a.publish('hand.made', 1, { headers: { traceparent: given } });
    await until(() => spans().length === 2, 3_000, 'two spans');
    assert.equal(named('publish hand.made').spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(parentOf(named('publish hand.made')), '00f067aa0ba902b7');
    exporter.reset();

    // An untraced sender's malformed header reaches a traced subscriber, which starts a trace of its own.
    const plain = await connectWith(memoryConnector(hub.broker), { tracing: false });
    for (const bad of ['garbage', '00-zz-yy-01', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`]) {
      await plain.publish('hand.bad', bad, { headers: { traceparent: bad } });
    }
    await until(() => received.filter((t) => t === 'hand.bad').length === 4 && spans().length === 4, 3_000, 'four deliveries');
    for (const s of spans()) {
      assert.equal(s.name, 'process hand.>');
      assert.equal(parentOf(s), undefined, 'a root span');
      assert.deepEqual(s.links, []);
      assert.equal(s.status.code, SpanStatusCode.UNSET);
    }
    await plain.close();
    sub.unsubscribe();
  });

  test('the trace crosses a bridge between two hubs', async () => {
    const other = new Broker({ heartbeatMs: 0 });
    const remote = await connectWith(memoryConnector(other), { tracing: false });
    const local = await connectWith(memoryConnector(hub.broker), { tracing: false });
    const farSide = (await connectWith(memoryConnector(other), { tracing: { tracerProvider: provider } })) as TracedBus;
    const br = bridge(local, remote, { exports: ['far.>'] });
    await br.ready;
    const sub = farSide.subscribe('far.>', () => {});
    await farSide.flush();
    await a.publish('far.away', 'x');
    await until(() => spans().length === 2, 3_000, 'two spans');
    assert.equal(parentOf(named('process far.>')), named('publish far.away').spanContext().spanId);
    sub.unsubscribe();
    br.close();
    for (const bus of [remote, local, farSide]) await bus.close();
    await other.close(50);
  });
});

describe('tracing: off', () => {
  test('without a tracer provider nothing is added to a message', async () => {
    const hub = await startStreamHub();
    const pub = (await connectWith(memoryConnector(hub.broker))) as TracedBus;
    const sub = await connectWith(memoryConnector(hub.broker));
    assert.equal(pub.tracing, undefined);
    const headers: Record<string, string>[] = [];
    sub.subscribe('quiet', (m) => {
      headers.push({ ...m.headers });
    });
    await sub.flush();
    await pub.publish('quiet', 1);
    await until(() => headers.length === 1);
    assert.deepEqual(headers[0], {});
    await pub.close();
    await sub.close();
    await hub.close();
  });

  test('a global provider is used, unless tracing is false', async () => {
    const hub = await startStreamHub();
    trace.setGlobalTracerProvider(provider);
    try {
      const on = (await connectWith(memoryConnector(hub.broker))) as TracedBus;
      const off = (await connectWith(memoryConnector(hub.broker), { tracing: false })) as TracedBus;
      assert.ok(on.tracing);
      assert.equal(off.tracing, undefined);
      await on.close();
      await off.close();
    } finally {
      trace.disable();
      await hub.close();
    }
  });

  test('a tracing option that is not one is refused', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    for (const tracing of [true, 'yes', { tracerProvider: {} }, { propagator: { inject: 1 } }] as unknown[]) {
      await assert.rejects(connectWith(memoryConnector(broker), { tracing } as never), { code: 'CB_ERR_INVALID_OPTION' });
    }
    await broker.close(50);
  });
});

export type { Bus };
