/**
 * The metrics issue 20 added: connections by transport and app (configured apps only: a
 * client-chosen string never becomes a label value), rate limiting by app, delivery latency and
 * request round trips, and messages by configured topic pattern (never by raw topic).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistogramSample, Metric, Sample } from '../../src/core/metrics/metric.js';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith, type Bus } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { connect } from '../../src/node/index.js';
import { startHub } from '../../src/hub/hub.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import { DEFAULT_MAX_METRIC_TOPICS } from '../../src/core/defaults.js';
import { hubSecurity, secret, testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

function samples(metrics: readonly Metric[], name: string): readonly Sample[] {
  const m = metrics.find((x) => x.name === name);
  assert.ok(m !== undefined, `no metric ${name}`);
  return m.read() as readonly Sample[];
}

function histogram(metrics: readonly Metric[], name: string): HistogramSample {
  const m = metrics.find((x) => x.name === name);
  assert.ok(m?.type === 'histogram', `no histogram ${name}`);
  return (m.read() as readonly HistogramSample[])[0]!;
}

/** Every label value of every metric, for "this string never became a label". */
function allLabelValues(metrics: readonly Metric[]): string[] {
  return metrics.flatMap((m) => (m.read() as readonly { labels: Record<string, string> }[]).flatMap((s) => Object.values(s.labels)));
}

describe('connections by transport and app', () => {
  test('configured apps by name; a hostile client name never becomes a label', async () => {
    const doc = testConfigDocument();
    const hub = await startHub({ port: 0, config: doc, alerts: false });
    const buses: Bus[] = [];
    try {
      const hostile = 'evil"} 1\ncrossbus_pwned{x="';
      buses.push(await connect(hub.url, { name: 'orders', secret: doc.apps.orders.secret, reconnect: false }));
      buses.push(await connect(hub.url, { name: 'test', secret: doc.apps.test.secret, reconnect: false }));
      buses.push(await connect(hub.url, { name: 'test', secret: doc.apps.test.secret, reconnect: false }));
      // A name that is no app is refused at the handshake: it never gets a session to be labelled by.
      await assert.rejects(connect(hub.url, { name: hostile, secret: secret(), reconnect: false, timeoutMs: 3_000 }));
      const m = hub.metrics();
      const byApp = samples(m, 'crossbus_app_connections').map((s) => `${s.labels.transport}/${s.labels.app}=${s.value}`);
      assert.deepEqual(byApp.sort(), ['websocket/orders=1', 'websocket/test=2']);
      assert.equal(
        allLabelValues(m).some((v) => v.includes('evil')),
        false,
        'the client-chosen name is nowhere in a label',
      );
    } finally {
      for (const b of buses) await b.close();
      await hub.close();
    }
  });

  test('an insecure hub labels every session anonymous, whatever name it gives', async () => {
    const hub = await startHub({ port: 0, insecure: true, alerts: false });
    const bus = await connect(hub.url, { name: 'evil"}\n', reconnect: false });
    try {
      assert.deepEqual(
        samples(hub.metrics(), 'crossbus_app_connections').map((s) => [s.labels, s.value]),
        [[{ transport: 'websocket', app: 'anonymous' }, 1]],
      );
    } finally {
      await bus.close();
      await hub.close();
    }
  });

  test('the broker alone names no app: other, and anonymous without security', async () => {
    const doc = testConfigDocument();
    const secure = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security });
    const open = new Broker({ heartbeatMs: 0 });
    const crypto = createNodeCryptoProvider();
    const a = await connectWith(memoryConnector(secure), {
      name: 'orders',
      secret: doc.apps.orders.secret,
      reconnect: false,
      security: { crypto },
    });
    const b = await connectWith(memoryConnector(open), { name: 'whoever', reconnect: false });
    try {
      assert.deepEqual(
        samples(secure.metrics(), 'crossbus_app_connections').map((s) => s.labels),
        [{ transport: 'memory', app: 'other' }],
      );
      assert.deepEqual(
        samples(open.metrics(), 'crossbus_app_connections').map((s) => s.labels),
        [{ transport: 'memory', app: 'anonymous' }],
      );
    } finally {
      await a.close();
      await b.close();
      await secure.close(100);
      await open.close(100);
    }
  });
});

test('rate limiting is counted by app and limit', async () => {
  const doc = testConfigDocument();
  (doc.apps as Record<string, unknown>).limited = { secret: secret(), roles: ['all'], rate: { perSecond: 1, burst: 2 } };
  const { security } = hubSecurity(doc);
  const broker = new Broker({ heartbeatMs: 0, security, metricsAppLabel: (app) => (app === 'limited' ? app : 'other') });
  const bus = await connectWith(memoryConnector(broker), {
    name: 'limited',
    secret: (doc.apps as Record<string, { secret: string }>).limited?.secret,
    reconnect: false,
    security: { crypto: createNodeCryptoProvider() },
  });
  try {
    let refused = 0;
    for (let i = 0; i < 5; i++) {
      await bus.publish('x.y', i, { ack: true }).catch((e: { code?: string }) => {
        if (e.code === 'CB_ERR_RATE_LIMITED') refused++;
      });
    }
    assert.ok(refused >= 2, `${refused} refused`);
    assert.deepEqual(
      samples(broker.metrics(), 'crossbus_rate_limited_total').map((s) => [s.labels, s.value]),
      [[{ app: 'limited', kind: 'app' }, refused]],
    );
  } finally {
    await bus.close();
    await broker.close(100);
  }
});

test('delivery latency: one observation per batch handed to a subscriber; request round trips at the hub', async () => {
  const broker = new Broker({ heartbeatMs: 0 });
  const pub = await connectWith(memoryConnector(broker), { name: 'pub', reconnect: false });
  const sub = await connectWith(memoryConnector(broker), { name: 'sub', reconnect: false });
  try {
    let got = 0;
    await sub.subscribe('lat.>', () => got++).ready;
    sub.serve('svc.echo', (m) => m.data);
    await sub.flush();
    const before = histogram(broker.metrics(), 'crossbus_delivery_latency_seconds').count;
    for (let i = 0; i < 20; i++) await pub.publish(`lat.${i}`, i);
    await until(() => got === 20, 3_000, 'twenty deliveries');
    const lat = histogram(broker.metrics(), 'crossbus_delivery_latency_seconds');
    assert.ok(lat.count > before && lat.count <= before + 20, `${lat.count - before} batches timed`);
    assert.ok(lat.sum >= 0 && lat.sum < 10);
    // Control frames (OK, PONG) alone are not timed.
    await pub.flush();
    assert.equal(await pub.request('svc.echo', 7), 7);
    const rtt = histogram(broker.metrics(), 'crossbus_request_duration_seconds');
    assert.equal(rtt.count, 1);
    assert.ok(rtt.sum >= 0 && rtt.sum < 10);
  } finally {
    await pub.close();
    await sub.close();
    await broker.close(100);
  }
});

describe('messages by configured topic pattern', () => {
  test('each pattern counts the topics it matches; other topics are not labelled', async () => {
    const broker = new Broker({ heartbeatMs: 0, metricsTopics: ['orders.*', 'orders.>'] });
    const bus = await connectWith(memoryConnector(broker), { name: 'p', reconnect: false });
    try {
      await bus.publish('orders.a', 1, { ack: true });
      await bus.publish('orders.b.c', 1, { ack: true });
      await bus.publish('secret-customer-42.x', 1, { ack: true });
      const m = broker.metrics();
      assert.deepEqual(
        samples(m, 'crossbus_topic_messages_total').map((s) => [s.labels.topic, s.value]),
        [
          ['orders.*', 1],
          ['orders.>', 2],
        ],
      );
      assert.equal(
        allLabelValues(m).some((v) => v.includes('secret-customer')),
        false,
      );
    } finally {
      await bus.close();
      await broker.close(100);
    }
  });

  test('without patterns there is no such metric; bad patterns and too many are refused', () => {
    assert.equal(
      new Broker({ heartbeatMs: 0 }).metrics().some((m) => m.name === 'crossbus_topic_messages_total'),
      false,
    );
    const max = Array.from({ length: DEFAULT_MAX_METRIC_TOPICS }, (_, i) => `t${i}.>`);
    assert.doesNotThrow(() => new Broker({ heartbeatMs: 0, metricsTopics: max }));
    for (const metricsTopics of [[...max, 'one.more'], ['a..b'], [42 as unknown as string]]) {
      assert.throws(
        () => new Broker({ heartbeatMs: 0, metricsTopics }),
        (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_INVALID_OPTION',
      );
    }
  });

  test('the hub takes them from its config (metrics.topics)', async () => {
    const hub = await startHub({ port: 0, config: testConfigDocument({ metrics: { topics: ['orders.>'] } }), alerts: false });
    try {
      assert.deepEqual(
        samples(hub.metrics(), 'crossbus_topic_messages_total').map((s) => s.labels),
        [{ topic: 'orders.>' }],
      );
    } finally {
      await hub.close();
    }
  });
});
