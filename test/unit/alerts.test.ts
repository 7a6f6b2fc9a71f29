/**
 * The alert engine with a hand-driven clock: rules over metrics (value, rate, increase, quantile),
 * pending → firing → resolved, de-duplication and repeats, grouping, silences, and every limit at
 * its edge. The metrics are plain `Metric`s whose values the tests set.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { AlertsSchema, type AlertsConfigInput } from '../../src/core/alerts/alert-schema.js';
import { AlertService, type AlertClock, type AlertNotification, type AlertSink } from '../../src/core/alerts/alert-service.js';
import {
  alertResponders,
  ALERTS_SILENCE_ADD_TOPIC,
  ALERTS_SILENCE_REMOVE_TOPIC,
  ALERTS_LIST_TOPIC,
} from '../../src/core/alerts/alert-requests.js';
import { histogramQuantile } from '../../src/core/alerts/rule-series.js';
import { defaultAlertRules } from '../../src/core/alerts/default-rules.js';
import { Histogram } from '../../src/core/metrics/histogram.js';
import { labelled, single, type Metric, type Sample } from '../../src/core/metrics/metric.js';
import type { AuditEvent } from '../../src/core/security/audit.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import { parseHubConfig } from '../../src/core/config/parse.js';
import { serializeHubConfig } from '../../src/core/config/serialize.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { DEFAULT_MAX_ACTIVE_ALERTS, DEFAULT_MAX_ALERT_RULES, DEFAULT_MAX_ALERT_SILENCES } from '../../src/core/alerts/defaults.js';

class HandClock implements AlertClock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
  every(): () => void {
    return () => {};
  }
}

class Recorder implements AlertSink {
  readonly name = 'recorder';
  readonly got: AlertNotification[] = [];
  notify(n: AlertNotification): void {
    this.got.push(n);
  }
}

function engine(config: AlertsConfigInput, metrics: () => readonly Metric[], extra: { audit?: AuditEvent[] } = {}) {
  const clock = new HandClock();
  const sink = new Recorder();
  const service = new AlertService({
    config: v.parse(AlertsSchema, { defaultRules: false, ...config }),
    metrics,
    sinks: [sink],
    hubId: 'hub-1',
    clock,
    ...(extra.audit ? { audit: { record: (e: AuditEvent) => extra.audit?.push(e) } } : {}),
  });
  return { clock, sink, service };
}

describe('alert rules', () => {
  test('a gauge above its threshold: pending, firing after forMs, notified once, resolved once', () => {
    let lag = 0;
    const { clock, sink, service } = engine(
      { rules: [{ name: 'Lag', metric: 'lag', threshold: 100, forMs: 30_000, annotations: { summary: 'lag is {{ $value }}' } }] },
      () => [single('gauge', 'lag', 'lag', () => lag)],
    );
    service.evaluate();
    assert.equal(service.snapshot().alerts.length, 0);
    lag = 150;
    clock.t += 10_000;
    service.evaluate();
    assert.deepEqual(
      service.snapshot().alerts.map((a) => a.state),
      ['pending'],
    );
    assert.equal(sink.got.length, 0, 'pending is not notified');
    clock.t += 29_999;
    service.evaluate();
    assert.equal(sink.got.length, 0, 'one millisecond short of forMs');
    clock.t += 1;
    service.evaluate();
    assert.equal(sink.got.length, 1);
    const [n] = sink.got;
    assert.equal(n?.status, 'firing');
    assert.deepEqual(n?.groupLabels, { alertname: 'Lag' });
    assert.equal(n?.alerts[0]?.annotations.summary, 'lag is 150');
    assert.equal(n?.alerts[0]?.labels.severity, 'warning');
    // De-duplicated: still firing, nothing new.
    for (let i = 0; i < 5; i++) {
      clock.t += 15_000;
      service.evaluate();
    }
    assert.equal(sink.got.length, 1);
    lag = 10;
    clock.t += 15_000;
    service.evaluate();
    assert.equal(sink.got.length, 2);
    assert.equal(sink.got[1]?.status, 'resolved');
    assert.ok((sink.got[1]?.alerts[0]?.resolvedAt ?? 0) > 0);
    assert.equal(service.snapshot().alerts.length, 0);
    clock.t += 15_000;
    service.evaluate();
    assert.equal(sink.got.length, 2, 'a resolution is notified once');
  });

  test('a pending alert that clears is never notified', () => {
    let x = 5;
    const { clock, sink, service } = engine({ rules: [{ name: 'X', metric: 'x', threshold: 1, forMs: 60_000 }] }, () => [
      single('gauge', 'x', 'x', () => x),
    ]);
    service.evaluate();
    x = 0;
    clock.t += 1000;
    service.evaluate();
    assert.equal(sink.got.length, 0);
    assert.equal(service.snapshot().alerts.length, 0);
  });

  test('a firing alert is notified again after repeatIntervalMs, not before', () => {
    const { clock, sink, service } = engine({ repeatIntervalMs: 60_000, rules: [{ name: 'X', metric: 'x', threshold: 1 }] }, () => [
      single('gauge', 'x', 'x', () => 2),
    ]);
    service.evaluate();
    clock.t += 59_999;
    service.evaluate();
    assert.equal(sink.got.length, 1);
    clock.t += 1;
    service.evaluate();
    assert.equal(sink.got.length, 2);
    assert.equal(sink.got[1]?.status, 'firing');
  });

  test('rate and increase of a counter over the window; a reset counts as new', () => {
    let errors = 0;
    const { clock, service } = engine(
      {
        rules: [
          { name: 'Rate', metric: 'errors_total', fn: 'rate', windowMs: 60_000, threshold: 1 },
          { name: 'Increase', metric: 'errors_total', fn: 'increase', windowMs: 60_000, threshold: 100 },
        ],
      },
      () => [single('counter', 'errors_total', 'e', () => errors)],
    );
    service.evaluate(); // the base: no rate yet
    assert.equal(service.snapshot().alerts.length, 0);
    errors = 90;
    clock.t += 60_000;
    service.evaluate(); // 1.5/s, increase 90
    assert.deepEqual(
      service.snapshot().alerts.map((a) => [a.name, a.value]),
      [['Rate', 1.5]],
    );
    errors = 200;
    clock.t += 60_000;
    service.evaluate(); // over the last minute: 110, 1.83/s
    assert.deepEqual(
      service
        .snapshot()
        .alerts.map((a) => a.name)
        .sort(),
      ['Increase', 'Rate'],
    );
    errors = 30; // the hub restarted
    clock.t += 60_000;
    service.evaluate();
    assert.deepEqual(
      service.snapshot().alerts.map((a) => [a.name, a.value]),
      [],
      'after a reset, 30 in a minute is below both thresholds',
    );
  });

  test('by: one alert per group; match filters; grouping by a label puts them in one notification', () => {
    const samples: Sample[] = [
      { labels: { stream: 'A', consumer: 'c1' }, value: 500 },
      { labels: { stream: 'A', consumer: 'c2' }, value: 5 },
      { labels: { stream: 'B', consumer: 'c1' }, value: 900 },
      { labels: { stream: 'C', consumer: 'c1' }, value: 10_000 },
    ];
    const { sink, service } = engine(
      {
        groupBy: ['alertname'],
        rules: [{ name: 'Lag', metric: 'lag', by: ['stream', 'consumer'], match: { consumer: 'c1' }, threshold: 100 }],
      },
      () => [labelled('gauge', 'lag', 'lag', ['stream', 'consumer'], () => samples)],
    );
    service.evaluate();
    assert.equal(sink.got.length, 1, 'one notification for the group');
    assert.deepEqual(sink.got[0]?.alerts.map((a) => a.labels.stream).sort(), ['A', 'B', 'C']);
    assert.equal(new Set(sink.got[0]?.alerts.map((a) => a.fingerprint)).size, 3);
  });

  test('groupBy a label: a notification per value', () => {
    const { sink, service } = engine(
      {
        groupBy: ['stream'],
        rules: [{ name: 'Lag', metric: 'lag', by: ['stream'], threshold: 1 }],
      },
      () => [
        labelled('gauge', 'lag', 'lag', ['stream'], () => [
          { labels: { stream: 'A' }, value: 5 },
          { labels: { stream: 'B' }, value: 5 },
        ]),
      ],
    );
    service.evaluate();
    assert.deepEqual(sink.got.map((n) => n.groupLabels.stream).sort(), ['A', 'B']);
  });

  test('quantile of a histogram over the window, from the observations in it only', () => {
    const h = new Histogram([0.01, 0.1, 1]);
    const { clock, service } = engine(
      { rules: [{ name: 'P99', metric: 'lat_seconds', fn: 'quantile', quantile: 0.99, windowMs: 60_000, threshold: 0.5 }] },
      () => [h.metric('lat_seconds', 'latency')],
    );
    for (let i = 0; i < 1000; i++) h.observe(0.005);
    service.evaluate();
    clock.t += 60_000;
    for (let i = 0; i < 100; i++) h.observe(0.8); // the last minute: all slow
    service.evaluate();
    const [a] = service.snapshot().alerts;
    assert.equal(a?.name, 'P99');
    assert.ok((a?.value ?? 0) > 0.9 && (a?.value ?? 0) <= 1, `p99 ${a?.value}`);
    clock.t += 60_000;
    for (let i = 0; i < 1000; i++) h.observe(0.005);
    service.evaluate();
    assert.equal(service.snapshot().alerts.length, 0, 'the slow minute is out of the window');
  });

  test('histogramQuantile interpolates as Prometheus does', () => {
    assert.equal(histogramQuantile(0.5, [1, 2, 4], [0, 10, 10], 10), 1.5);
    assert.equal(histogramQuantile(0.99, [1, 2], [0, 0], 10), 2, 'in +Inf: the highest bound');
    assert.ok(Number.isNaN(histogramQuantile(0.5, [1], [0], 0)));
    assert.equal(histogramQuantile(0.25, [1, 2], [4, 4], 4), 0.25);
  });

  test('a metric the hub does not have makes no alert; op < compares below', () => {
    const { service } = engine(
      {
        rules: [
          { name: 'Missing', metric: 'nope', threshold: 0 },
          { name: 'Low', metric: 'x', op: '<', threshold: 1 },
        ],
      },
      () => [single('gauge', 'x', 'x', () => 0)],
    );
    service.evaluate();
    assert.deepEqual(
      service.snapshot().alerts.map((a) => a.name),
      ['Low'],
    );
  });
});

describe('silences', () => {
  test('a silenced alert is listed but not notified; it is notified when the silence ends', () => {
    const audit: AuditEvent[] = [];
    const { clock, sink, service } = engine(
      { rules: [{ name: 'X', metric: 'x', threshold: 1 }] },
      () => [single('gauge', 'x', 'x', () => 2)],
      {
        audit,
      },
    );
    const s = service.addSilence({ matchers: { alertname: 'X' }, expiresAt: clock.t + 60_000, comment: 'deploy' }, 'ops');
    service.evaluate();
    assert.equal(sink.got.length, 0);
    assert.equal(service.snapshot().alerts[0]?.silencedBy, s.id);
    clock.t += 60_000;
    service.evaluate();
    assert.equal(sink.got.length, 1, 'notified once the silence expired');
    assert.equal(service.snapshot().silences.length, 0, 'the expired silence is forgotten');
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor.app, e.reason]),
      [['alert-silence', 'ops', 'added']],
    );
  });

  test('a silence that does not match leaves the alert alone; removing one is audited', () => {
    const audit: AuditEvent[] = [];
    const { clock, sink, service } = engine(
      { rules: [{ name: 'X', metric: 'x', threshold: 1 }] },
      () => [single('gauge', 'x', 'x', () => 2)],
      {
        audit,
      },
    );
    const s = service.addSilence({ matchers: { alertname: 'Y' }, expiresAt: clock.t + 60_000 }, 'ops');
    service.evaluate();
    assert.equal(sink.got.length, 1);
    assert.equal(service.removeSilence(s.id, 'ops')?.id, s.id);
    assert.equal(service.removeSilence(s.id, 'ops'), undefined);
    assert.deepEqual(
      audit.map((e) => e.reason),
      ['added', 'removed'],
    );
  });

  test('the requests: list, add (with durationMs), remove; bad input is CB_ERR_PAYLOAD_INVALID', async () => {
    const { clock, service } = engine({ rules: [{ name: 'X', metric: 'x', threshold: 1 }] }, () => [single('gauge', 'x', 'x', () => 2)]);
    const r = alertResponders(service, () => clock.t);
    const added = r[ALERTS_SILENCE_ADD_TOPIC]?.({
      app: 'admin',
      connectionId: 'c1',
      data: { matchers: { alertname: 'X' }, durationMs: 1000 },
    }) as {
      id: string;
      expiresAt: number;
      createdBy: string;
    };
    assert.equal(added.expiresAt, clock.t + 1000);
    assert.equal(added.createdBy, 'admin');
    const listed = r[ALERTS_LIST_TOPIC]?.({ app: 'admin', connectionId: 'c1', data: undefined }) as {
      silences: { id: string }[];
      rules: { name: string }[];
    };
    assert.deepEqual(
      listed.silences.map((s) => s.id),
      [added.id],
    );
    assert.deepEqual(
      listed.rules.map((x) => x.name),
      ['X'],
    );
    for (const data of [
      null,
      { matchers: {}, durationMs: 1000 },
      { matchers: { alertname: 'X' } },
      { matchers: { alertname: 'X' }, durationMs: 0 },
      { matchers: { alertname: 'X' }, durationMs: 1000, expiresAt: '2030-01-01T00:00:00Z' },
      { matchers: { alertname: 'X' }, durationMs: 31 * 86_400_000 },
      { matchers: { 'bad label': 'X' }, durationMs: 1000 },
    ]) {
      assert.throws(
        () => r[ALERTS_SILENCE_ADD_TOPIC]?.({ app: 'admin', connectionId: 'c1', data }),
        (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_PAYLOAD_INVALID',
        JSON.stringify(data),
      );
    }
    assert.throws(
      () => r[ALERTS_SILENCE_REMOVE_TOPIC]?.({ app: 'admin', connectionId: 'c1', data: { id: 'nope' } }),
      (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_PAYLOAD_INVALID',
    );
    const removed = r[ALERTS_SILENCE_REMOVE_TOPIC]?.({ app: 'admin', connectionId: 'c1', data: { id: added.id } }) as { id: string };
    assert.equal(removed.id, added.id);
  });
});

describe('limits', () => {
  test('maxSilences: the last one fits, one more is refused', () => {
    const { clock, service } = engine({ maxSilences: 2, rules: [] }, () => []);
    service.addSilence({ matchers: { a: '1' }, expiresAt: clock.t + 1000 }, 'ops');
    service.addSilence({ matchers: { a: '2' }, expiresAt: clock.t + 1000 }, 'ops');
    assert.throws(
      () => service.addSilence({ matchers: { a: '3' }, expiresAt: clock.t + 1000 }, 'ops'),
      (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_INVALID_OPTION' && (e.details as { limit: number }).limit === 2,
    );
    assert.equal(DEFAULT_MAX_ALERT_SILENCES, v.parse(AlertsSchema, {}).maxSilences);
  });

  test('maxActiveAlerts: alerts past it are not tracked', () => {
    const samples: Sample[] = [1, 2, 3].map((i) => ({ labels: { s: String(i) }, value: 5 }));
    const { service } = engine({ maxActiveAlerts: 2, rules: [{ name: 'X', metric: 'x', by: ['s'], threshold: 1 }] }, () => [
      labelled('gauge', 'x', 'x', ['s'], () => samples),
    ]);
    service.evaluate();
    assert.equal(service.snapshot().alerts.length, 2);
    assert.equal(DEFAULT_MAX_ACTIVE_ALERTS, v.parse(AlertsSchema, {}).maxActiveAlerts);
  });

  test('maxSeriesPerRule: groups past it are ignored, and logged once', () => {
    const samples: Sample[] = [1, 2, 3].map((i) => ({ labels: { s: String(i) }, value: 5 }));
    const { logger, records } = recordingLogger();
    const service = new AlertService({
      config: v.parse(AlertsSchema, {
        defaultRules: false,
        maxSeriesPerRule: 2,
        rules: [{ name: 'X', metric: 'x', by: ['s'], threshold: 1 }],
      }),
      metrics: () => [labelled('gauge', 'x', 'x', ['s'], () => samples)],
      sinks: [],
      hubId: 'h',
      clock: new HandClock(),
      logger,
    });
    service.evaluate();
    service.evaluate();
    assert.equal(service.snapshot().alerts.length, 2);
    assert.deepEqual(
      records.filter((r) => r.message.includes('maxSeriesPerRule')).map((r) => r.fields?.ignored),
      [1],
    );
  });

  test('maxRules: counted with the default rules; the config refuses more rules than it allows', () => {
    const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `R${i}`, metric: 'x', threshold: 1 }));
    const defaults = defaultAlertRules().length;
    assert.doesNotThrow(() => engine({ maxRules: 3, rules: rules(3) }, () => []));
    assert.throws(() => v.parse(AlertsSchema, { maxRules: 3, rules: rules(4) }));
    const clock = new HandClock();
    assert.throws(
      () =>
        new AlertService({
          config: v.parse(AlertsSchema, { maxRules: defaults, rules: rules(1) }),
          metrics: () => [],
          sinks: [],
          hubId: 'h',
          clock,
        }),
      (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_CONFIG_INVALID',
    );
    assert.doesNotThrow(
      () =>
        new AlertService({
          config: v.parse(AlertsSchema, { maxRules: defaults + 1, rules: rules(1) }),
          metrics: () => [],
          sinks: [],
          hubId: 'h',
          clock,
        }),
    );
    assert.equal(DEFAULT_MAX_ALERT_RULES, v.parse(AlertsSchema, {}).maxRules);
  });
});

describe('the alerts section of the hub config', () => {
  test('parsed with defaults, written back and parsed again to the same', () => {
    const cfg = parseHubConfig({
      apps: {},
      metrics: { topics: ['orders.*'] },
      alerts: {
        intervalMs: 1000,
        rules: [{ name: 'P99', metric: 'crossbus_delivery_latency_seconds', fn: 'quantile', quantile: 0.99, threshold: 0.5 }],
        webhook: { url: 'https://hooks.example/x?token=abc' },
        silences: [{ matchers: { alertname: 'P99' }, expiresAt: '2030-01-01T00:00:00Z' }],
      },
    });
    assert.equal(cfg.alerts.rules[0]?.windowMs, 300_000);
    assert.equal(cfg.alerts.webhook?.timeoutMs, 5_000);
    assert.equal(cfg.alerts.silences[0]?.expiresAt, Date.parse('2030-01-01T00:00:00Z'));
    assert.deepEqual(parseHubConfig(serializeHubConfig(cfg)), cfg);
  });

  test('bad rules are named with their paths', () => {
    for (const [alerts, path] of [
      [{ rules: [{ name: 'X', metric: 'x', fn: 'quantile', threshold: 1 }] }, 'alerts.rules[0].quantile'],
      [{ rules: [{ name: 'X', metric: 'x y', threshold: 1 }] }, 'alerts.rules[0].metric'],
      [{ rules: [{ name: 'X', metric: 'x', threshold: Number.NaN }] }, 'alerts.rules[0].threshold'],
      [{ rules: [{ name: 'X', metric: 'x', threshold: 1, severity: 'page' }] }, 'alerts.rules[0].severity'],
      [{ webhook: { url: 'ftp://x' } }, 'alerts.webhook.url'],
      [{ silences: [{ matchers: {}, expiresAt: '2030-01-01T00:00:00Z' }] }, 'alerts.silences[0].matchers'],
      [{ intervalMs: 10 }, 'alerts.intervalMs'],
      [{ bogus: 1 }, 'alerts.bogus'],
    ] as const) {
      assert.throws(
        () => parseHubConfig({ apps: {}, alerts }),
        (e: unknown) => e instanceof CrossbusError && (e.details as { path: string }).path === path,
        path,
      );
    }
  });

  test('metrics.topics: patterns only, at most 100', () => {
    const many = Array.from({ length: 100 }, (_, i) => `t${i}.*`);
    assert.equal(parseHubConfig({ apps: {}, metrics: { topics: many } }).metrics.topics.length, 100);
    assert.throws(() => parseHubConfig({ apps: {}, metrics: { topics: [...many, 'x'] } }), /at most 100/);
    assert.throws(() => parseHubConfig({ apps: {}, metrics: { topics: ['a..b'] } }), /metrics\.topics\[0\]/);
  });
});
