/**
 * OTLP/HTTP export from real processes: `crossbus reply` and `crossbus request`, both pointed at a
 * collector by the standard environment, export their spans, and the collector sees one trace:
 * the request span and, its child, the service's process span. Without an endpoint nothing is
 * registered; a bad endpoint is a clear error before anything connects.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { otlpEndpointFrom, startOtlpTracing } from '../../src/node/tracing/otlp.js';
import { runCli, spawnCli, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}
interface Exported {
  service: string;
  span: OtlpSpan;
}

let hub: HubProcess;
let collector: Server;
let endpoint = '';
const exported: Exported[] = [];
const requestHeaders: string[] = [];

const T = { timeout: 30_000 };

describe('OTLP/HTTP export from the CLI', () => {
  before(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        requestHeaders.push(String(req.headers['x-collector-token']));
        const doc = JSON.parse(body) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
            scopeSpans: Array<{ spans: OtlpSpan[] }>;
          }>;
        };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const span of ss.spans) exported.push({ service, span });
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    hub = await startHubProcess();
  });
  after(async () => {
    await hub?.stop();
    await new Promise((resolve) => collector?.close(resolve));
  });

  test('a request from one CLI process to another is one trace at the collector', T, async () => {
    const creds = ['--url', hub.url, '--data', hub.dataDir, '--name', 'test'];
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=t0ken',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const reply = spawnCli(['reply', 'otlp.echo', '--echo', '--count', '1', ...creds], { env });
    await until(() => reply.stderr().includes('serving otlp.echo'), 10_000, 'the service up');
    const req = await runCli(['request', 'otlp.echo', '{"x":1}', ...creds], 15_000, { env: { ...env, OTEL_SERVICE_NAME: 'asker' } });
    assert.equal(req.code, 0, req.stderr);
    assert.equal((await reply.exited).code, 0, reply.stderr());
    await until(() => exported.length >= 2, 10_000, 'two spans exported');
    const request = exported.find((e) => e.span.name === 'request otlp.echo');
    const served = exported.find((e) => e.span.name === 'process otlp.echo');
    assert.ok(request && served, exported.map((e) => e.span.name).join(', '));
    assert.equal(request.service, 'asker');
    assert.equal(served.service, 'crossbus-reply');
    assert.equal(served.span.traceId, request.span.traceId);
    assert.equal(served.span.parentSpanId, request.span.spanId);
    assert.ok(
      requestHeaders.every((h) => h === 't0ken'),
      'the exporter sent the headers from the environment',
    );
  });

  test('a bad endpoint is refused before anything connects', T, async () => {
    for (const bad of ['not a url', 'ftp://127.0.0.1:1', 'http://user:pw@127.0.0.1:1']) {
      const r = await runCli(['request', 'otlp.echo', '1', '--url', hub.url], 10_000, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: bad } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CB_ERR_INVALID_OPTION/);
      assert.equal(r.stderr.includes('pw'), false, 'no credential echoed');
    }
  });
});

describe('OTLP configuration', () => {
  test('nothing is registered without an endpoint, or when the SDK is turned off', () => {
    for (const env of [
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_SDK_DISABLED: 'true' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_TRACES_EXPORTER: 'none' },
    ]) {
      assert.equal(startOtlpTracing(env, 'svc'), undefined);
    }
    assert.equal(trace.getTracerProvider().getTracer('x').startSpan('probe').isRecording(), false, 'no provider registered');
  });

  test('the traces endpoint wins over the base one, which gets /v1/traces', () => {
    assert.equal(otlpEndpointFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }), 'http://c:4318/v1/traces');
    assert.equal(
      otlpEndpointFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t:1/x' }),
      'https://t:1/x',
    );
  });
});
