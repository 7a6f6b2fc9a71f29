/**
 * The alert webhook against real local HTTP servers: a notification arrives as JSON; a target
 * that hangs is cut off by the timeout and retried a bounded number of times, while evaluations
 * go on at once; the queue is bounded; the URL's token never reaches the log; close() aborts.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as v from 'valibot';
import { WebhookAlertSink } from '../../src/node/alerts/webhook-sink.js';
import { WebhookSchema, AlertsSchema } from '../../src/core/alerts/alert-schema.js';
import { AlertService, type AlertNotification } from '../../src/core/alerts/alert-service.js';
import { single, type Sample } from '../../src/core/metrics/metric.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { until } from '../helpers/wait.js';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
});

async function server(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handle(req, res, body));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

const notification = (name: string): AlertNotification => ({
  status: 'firing',
  groupLabels: { alertname: name },
  hubId: 'hub-1',
  alerts: [
    {
      fingerprint: name,
      name,
      state: 'firing',
      severity: 'warning',
      labels: { alertname: name, severity: 'warning' },
      annotations: {},
      value: 1,
      activeAt: 1,
      firedAt: 1,
      resolvedAt: 0,
      silencedBy: undefined,
    },
  ],
});

function outcomes(sink: WebhookAlertSink): Record<string, number> {
  const [m] = sink.metrics();
  return Object.fromEntries(((m?.read() ?? []) as Sample[]).map((s) => [s.labels.outcome, s.value]));
}

describe('alert webhook', () => {
  test('POSTs the notification as JSON', async () => {
    const got: unknown[] = [];
    const url = await server((req, res, body) => {
      got.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
      res.end('ok');
    });
    const sink = new WebhookAlertSink(v.parse(WebhookSchema, { url: `${url}/hook` }));
    sink.notify(notification('A'));
    await until(() => got.length === 1, 3_000, 'the POST');
    const [first] = got as { method: string; type: string; body: { version: string; status: string; alerts: { name: string }[] } }[];
    assert.equal(first?.method, 'POST');
    assert.equal(first?.type, 'application/json');
    assert.equal(first?.body.version, '1');
    assert.equal(first?.body.alerts[0]?.name, 'A');
    await until(() => outcomes(sink).sent === 1, 1_000, 'counted as sent');
    sink.close();
  });

  test('a refusal is retried, with a pause, up to `retries` times', async () => {
    let calls = 0;
    const url = await server((_req, res) => {
      calls++;
      res.statusCode = calls < 3 ? 503 : 200;
      res.end();
    });
    const sink = new WebhookAlertSink(v.parse(WebhookSchema, { url, retries: 2, retryDelayMs: 10 }));
    sink.notify(notification('A'));
    await until(() => outcomes(sink).sent === 1, 3_000, 'the third attempt to succeed');
    assert.equal(calls, 3);
    assert.equal(outcomes(sink).retried, 2);
    sink.close();
  });

  test('a target that hangs is cut off by the timeout; evaluation never waits for it; the token is never logged', async () => {
    let arrived = 0;
    const url = await server(() => {
      arrived++; // never answers
    });
    const { logger, records } = recordingLogger();
    const webhook = new WebhookAlertSink(
      v.parse(WebhookSchema, { url: `${url}/hook?token=s3cr3t-t0ken`, timeoutMs: 200, retries: 1, retryDelayMs: 10 }),
      logger,
    );
    let x = 0;
    const service = new AlertService({
      config: v.parse(AlertsSchema, { defaultRules: false, rules: [{ name: 'X', metric: 'x', threshold: 0 }], repeatIntervalMs: 1000 }),
      metrics: () => [single('gauge', 'x', 'x', () => x)],
      sinks: [webhook],
      hubId: 'h',
    });
    x = 1;
    const started = performance.now();
    const sent = service.evaluate();
    assert.equal(sent.length, 1);
    assert.ok(performance.now() - started < 100, 'evaluate() returned without waiting for the webhook');
    await until(() => outcomes(webhook).failed === 1, 5_000, 'both attempts to time out');
    assert.equal(arrived, 2, 'the first attempt and one retry');
    const text = JSON.stringify(records);
    assert.match(text, /no answer within 200 ms/);
    assert.equal(text.includes('s3cr3t'), false, 'the URL token is not in the log');
    assert.equal(text.includes('/hook'), false, 'nor is the path');
    service.close();
  });

  test('the queue is bounded: the oldest waiting notification is dropped and counted', async () => {
    const url = await server(() => {}); // hangs
    const sink = new WebhookAlertSink(v.parse(WebhookSchema, { url, maxQueue: 2, timeoutMs: 60_000, retries: 0 }));
    for (let i = 0; i < 5; i++) sink.notify(notification(`N${i}`));
    // One in flight, two waiting, two dropped.
    assert.equal(sink.queued, 2);
    assert.equal(outcomes(sink).dropped, 2);
    sink.close();
    assert.equal(sink.queued, 0);
  });

  test('close() aborts the POST in flight', async () => {
    let closedByClient = false;
    let arrived = false;
    const url = await server((req) => {
      arrived = true;
      req.socket.on('close', () => {
        closedByClient = true;
      });
    });
    const sink = new WebhookAlertSink(v.parse(WebhookSchema, { url, timeoutMs: 60_000, retries: 3 }));
    sink.notify(notification('A'));
    await until(() => arrived, 3_000, 'the POST to arrive');
    sink.close();
    await until(() => closedByClient, 3_000, 'the connection to be closed');
    assert.equal(outcomes(sink).failed, 0, 'an aborted POST at close is not a failure');
  });
});
