/**
 * The hub's /metrics scraped by a REAL Prometheus (Debian's package): the values read back through
 * Prometheus's HTTP API; `promtool check metrics` passes on the hub's output; /healthz and /readyz
 * answer. Needs `npm run build` first.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';
import { testConfigDocument } from '../helpers/security.js';

let hub: HubProcess | undefined;
let prometheus: ChildProcess | undefined;
let bus: SyncingBus | undefined;
const dir = mkdtempSync(join(tmpdir(), 'cb-prometheus-'));
after(async () => {
  await bus?.close();
  prometheus?.kill('SIGKILL');
  if (hub?.alive()) await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a real Prometheus scrapes the hub; promtool accepts its output; health endpoints answer', { timeout: 90_000 }, async () => {
  // A configured topic pattern gets its own series (metrics.topics); raw topics never do.
  hub = await startHubProcess([], {
    config: testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } }, metrics: { topics: ['metrics.*'] } }),
  });
  const http = hub.url.replace(/^ws:/, 'http:');
  assert.deepEqual(await (await fetch(`${http}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${http}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true });

  bus = (await connect(hub.url, { ...hub.credentials, timeoutMs: 5_000 })) as SyncingBus;
  let delivered = 0;
  await bus.subscribe('metrics.>', () => delivered++).ready;
  for (let i = 0; i < 25; i++) await bus.publish('metrics.test', { i }, { ack: true });
  await until(() => delivered === 25, 5_000, 'the deliveries');

  const res = await fetch(`${http}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^# TYPE crossbus_messages_in_total counter$/m);
  assert.match(text, /^crossbus_handshake_seconds_bucket\{le="\+Inf"\} [1-9]/m);
  assert.match(text, /^process_resident_memory_bytes \d+/m);
  assert.equal(text.includes('metrics.test'), false, 'no raw topic is a label');
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);

  const promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: crossbus\n    static_configs:\n      - targets: ['127.0.0.1:${hub.port}']\n`,
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  const api = `http://127.0.0.1:${promPort}`;
  const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    try {
      const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
      if (!r.ok) return [];
      return ((await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    } catch {
      return []; // not up yet
    }
  };
  let inbound = 0;
  await until(
    async () => {
      const r = await query('sum(crossbus_messages_in_total{job="crossbus"})');
      inbound = Number(r[0]?.value[1] ?? 0);
      return inbound >= 25;
    },
    60_000,
    'Prometheus to have scraped the hub',
  );
  assert.ok(inbound >= 25, `Prometheus read ${inbound} messages in`);
  const up = await query('up{job="crossbus"}');
  assert.equal(up[0]?.value[1], '1');
  const connections = await query('crossbus_connections{job="crossbus"}');
  assert.ok(connections.length > 0, 'the connection gauge is scraped');
  // The metrics issue 20 added, read back through Prometheus.
  const byApp = await query('crossbus_app_connections{job="crossbus"}');
  assert.deepEqual(
    byApp.map((r) => [r.metric.transport, r.metric.app, r.value[1]]),
    [['websocket', 'test', '1']],
  );
  const byTopic = await query('crossbus_topic_messages_total{job="crossbus"}');
  assert.deepEqual(
    byTopic.map((r) => [r.metric.topic, r.value[1]]),
    [['metrics.*', '25']],
  );
  const latency = await query('crossbus_delivery_latency_seconds_count{job="crossbus"}');
  assert.ok(Number(latency[0]?.value[1] ?? 0) > 0, 'delivery latency observed');
  const p99 = await query('histogram_quantile(0.99, sum by (le) (crossbus_delivery_latency_seconds_bucket{job="crossbus"}))');
  assert.ok(Number(p99[0]?.value[1]) < 1, `p99 delivery latency ${p99[0]?.value[1]} s`);
});

test('crossbus hub --no-metrics serves no /metrics, and still /healthz', { timeout: 30_000 }, async () => {
  const quiet = await startHubProcess(['--no-metrics']);
  try {
    const http = quiet.url.replace(/^ws:/, 'http:');
    assert.equal((await fetch(`${http}/metrics`)).status, 426);
    assert.equal((await fetch(`${http}/healthz`)).status, 200);
  } finally {
    await quiet.stop();
  }
});
