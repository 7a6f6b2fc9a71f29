/**
 * The metrics seam: the broker's and the stream service's counters, gauges and histograms, read
 * through the typed Metric interface, agree with what actually happened and with stats().
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../../src/core/metrics/histogram.js';
import type { HistogramSample, Metric, Sample } from '../../src/core/metrics/metric.js';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith, type Bus } from '../../src/client/index.js';
import { createMemoryPair, memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { startHub } from '../../src/hub/hub.js';
import { hubSecurity, testConfigDocument, secret } from '../helpers/security.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { until } from '../helpers/wait.js';

function find(metrics: readonly Metric[], name: string): Metric {
  const m = metrics.find((x) => x.name === name);
  assert.ok(m !== undefined, `no metric ${name}`);
  return m;
}

/** The value of a metric's sample with these labels (0 when there is none). */
function value(metrics: readonly Metric[], name: string, labels: Record<string, string> = {}): number {
  const samples = find(metrics, name).read() as readonly Sample[];
  const s = samples.find((x) => JSON.stringify(x.labels) === JSON.stringify(labels));
  return s?.value ?? 0;
}

function histogram(metrics: readonly Metric[], name: string): HistogramSample {
  const m = find(metrics, name);
  assert.equal(m.type, 'histogram');
  return (m.read() as readonly HistogramSample[])[0]!;
}

describe('Histogram', () => {
  test('cumulative counts per upper bound (a value equal to a bound is in it), count and sum', () => {
    const h = new Histogram([1, 10, 100]);
    for (const v of [0.5, 1, 2, 10, 11, 1000]) h.observe(v);
    const m = h.metric('x_seconds', 'help');
    assert.deepEqual(m.buckets, [1, 10, 100]);
    assert.deepEqual(m.read(), [{ labels: {}, cumulative: [2, 4, 5], count: 6, sum: 1024.5 }]);
  });
});

describe('broker metrics', () => {
  test('names are unique and follow the conventions; every metric reads', () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const metrics = broker.metrics();
    assert.equal(new Set(metrics.map((m) => m.name)).size, metrics.length);
    for (const m of metrics) {
      assert.match(m.name, /^crossbus_[a-z_]+$/);
      assert.equal(m.type === 'counter', m.name.endsWith('_total'), `${m.name}: counters, and only counters, end in _total`);
      assert.ok(m.help.length > 10, `${m.name} says what it counts`);
      assert.ok(Array.isArray(m.read()));
    }
  });

  test('messages, bytes, batches, handshakes and errors by code match what happened and stats()', async () => {
    const broker = new Broker({ heartbeatMs: 0 });
    const buses: Bus[] = [];
    try {
      for (let i = 0; i < 3; i++) buses.push(await connectWith(memoryConnector(broker), { name: `b${i}`, reconnect: false }));
      const [a, b, c] = buses as [Bus, Bus, Bus];
      let got = 0;
      await b.subscribe('m.>', () => got++).ready;
      await c.subscribe('m.>', () => got++).ready;
      for (let i = 0; i < 10; i++) await a.publish(`m.${i}`, { i });
      await assert.rejects(a.request('nobody.home', 1), (e: { code?: string }) => e.code === 'CB_ERR_NO_RESPONDERS');
      await until(() => got === 20, 3_000, 'twenty deliveries');
      await a.flush();
      const m = broker.metrics();
      const stats = broker.stats();
      assert.equal(value(m, 'crossbus_messages_in_total'), 11, 'ten publishes and a request');
      assert.equal(value(m, 'crossbus_messages_out_total'), 20);
      assert.equal(value(m, 'crossbus_messages_in_total'), stats.messagesIn);
      assert.equal(value(m, 'crossbus_received_bytes_total'), stats.bytesIn);
      assert.equal(value(m, 'crossbus_no_responders_total'), 1);
      assert.equal(value(m, 'crossbus_errors_total', { code: 'CB_ERR_NO_RESPONDERS' }), 1);
      assert.equal(value(m, 'crossbus_handshakes_total'), 3);
      assert.equal(value(m, 'crossbus_connections'), 3);
      assert.equal(value(m, 'crossbus_open_connections'), 3);
      assert.equal(value(m, 'crossbus_subscriptions'), stats.subscriptions);
      assert.equal(histogram(m, 'crossbus_handshake_seconds').count, 3);
      // Every write the hub handed to a transport is one observation; together they are all bytes sent.
      const batches = histogram(m, 'crossbus_batch_bytes');
      assert.equal(batches.sum, value(m, 'crossbus_sent_bytes_total'));
      assert.equal(batches.sum, stats.bytesOut);
      assert.ok(batches.count > 0 && batches.count < 40, `${batches.count} writes`);
    } finally {
      for (const bus of buses) await bus.close();
      await broker.close(100);
    }
  });

  test('a secure hub counts refusals by code, security decisions and failed handshakes', async () => {
    const doc = testConfigDocument();
    const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security });
    const crypto = createNodeCryptoProvider();
    const orders = await connectWith(memoryConnector(broker), {
      name: 'orders',
      secret: doc.apps.orders.secret,
      reconnect: false,
      security: { crypto },
    });
    try {
      (orders as unknown as { grants: unknown }).grants = undefined; // play a client that skips its local check
      await assert.rejects(orders.publish('billing.x', 1, { ack: true }), (e: { code?: string }) => e.code === 'CB_ERR_FORBIDDEN');
      await assert.rejects(
        connectWith(memoryConnector(broker), { name: 'orders', secret: secret(), reconnect: false, security: { crypto } }),
        (e: { code?: string }) => e.code === 'CB_ERR_AUTH_FAILED',
      );
      const m = broker.metrics();
      assert.equal(value(m, 'crossbus_errors_total', { code: 'CB_ERR_FORBIDDEN' }), 1);
      assert.equal(value(m, 'crossbus_security_events_total', { action: 'publish', outcome: 'denied' }), 1);
      assert.equal(value(m, 'crossbus_security_events_total', { action: 'auth', outcome: 'success' }), 1);
      assert.equal(value(m, 'crossbus_security_events_total', { action: 'auth', outcome: 'failure' }), 1);
      assert.equal(value(m, 'crossbus_handshakes_total'), 1);
      assert.equal(value(m, 'crossbus_handshake_failures_total'), 1);
      // A peer that leaves in the middle of its handshake counts as a failed one too.
      const [client, server] = createMemoryPair();
      broker.accept(server);
      client.close();
      await until(() => value(broker.metrics(), 'crossbus_handshake_failures_total') === 2, 2_000, 'the second failure');
      assert.equal(value(broker.metrics(), 'crossbus_handshakes_total'), 1);
      assert.equal(value(m, 'crossbus_errors_total', { code: 'CB_ERR_AUTH_FAILED' }), 1);
    } finally {
      await orders.close();
      await broker.close(100);
    }
  });
});

describe('stream metrics', () => {
  test('what a stream holds, consumer lag and pending, dead letters', async () => {
    const hub = await startStreamHub();
    try {
      const bus = await hub.connect({ name: 'm' });
      await bus.streams.create({ name: 'MET', topics: ['met.>'] });
      for (let i = 0; i < 5; i++) await bus.publish(`met.${i}`, { i }, { durable: true });
      const consumer = bus.consume<{ i: number }>('MET', { durable: 'w', maxAckPending: 1 });
      const it = consumer[Symbol.asyncIterator]();
      const first = (await it.next()).value!;
      await first.ack();
      const second = (await it.next()).value!;
      await second.term('no');
      await until(() => (hub.service.info('MET.DLQ')?.state.messages ?? 0) === 1, 3_000, 'a dead letter');
      await until(() => hub.service.info('MET')?.consumers[0]?.pending === 1, 3_000, 'one pending delivery');
      const m = hub.service.metrics();
      assert.equal(value(m, 'crossbus_stream_messages', { stream: 'MET' }), 5);
      assert.equal(value(m, 'crossbus_stream_messages', { stream: 'MET.DLQ' }), 1);
      assert.equal(value(m, 'crossbus_stream_last_seq', { stream: 'MET' }), 5);
      assert.ok(value(m, 'crossbus_stream_bytes', { stream: 'MET' }) > 0);
      assert.equal(
        value(m, 'crossbus_stream_consumer_lag', { stream: 'MET', consumer: 'w' }),
        3,
        'seq 1 and 2 are settled; 3, 4, 5 are not',
      );
      assert.equal(value(m, 'crossbus_stream_consumer_pending', { stream: 'MET', consumer: 'w' }), 1);
      assert.equal(value(m, 'crossbus_stream_dead_letters_total', { stream: 'MET' }), 1);
      await consumer.close();
    } finally {
      await hub.close();
    }
  });

  test('a hub joins the broker and stream metrics', async () => {
    const hub = await startHub({ port: 0, insecure: true });
    try {
      const names = hub.metrics().map((m) => m.name);
      assert.ok(names.includes('crossbus_messages_in_total') && names.includes('crossbus_stream_consumer_lag'));
    } finally {
      await hub.close();
    }
  });
});
