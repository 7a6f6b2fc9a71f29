/**
 * The hub's plain HTTP endpoints: /healthz, /readyz (503 with the reason while not ready),
 * /metrics (scrapes that overlap share one rendering), and everything else left to the caller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { httpEndpoints } from '../../src/hub/http-endpoints.js';
import { prometheusRegistry } from '../../src/node/metrics/prometheus.js';
import { single } from '../../src/core/metrics/metric.js';
import { until } from '../helpers/wait.js';

async function serve(handler: ReturnType<typeof httpEndpoints>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(426);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

test('/readyz says why the hub is not ready; /healthz answers; other paths and methods are not taken', async () => {
  let reason: string | undefined = 'starting';
  const { url, server } = await serve(httpEndpoints({ registry: undefined, notReady: () => reason }));
  try {
    let r = await fetch(`${url}/readyz`);
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), { ready: false, reason: 'starting' });
    reason = undefined;
    r = await fetch(`${url}/readyz?verbose=1`);
    assert.equal(r.status, 200);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/metrics`)).status, 426, 'metrics off: not served');
    assert.equal((await fetch(`${url}/healthz`, { method: 'POST' })).status, 426);
    assert.equal((await fetch(`${url}/other`)).status, 426);
  } finally {
    server.close();
  }
});

test('/metrics: scrapes that arrive while one renders share it; a later one renders again', async () => {
  let renders = 0;
  let finish!: (text: string) => void;
  const registry = {
    metrics: () => {
      renders++;
      return new Promise<string>((resolve) => {
        finish = resolve;
      });
    },
  } as unknown as Registry;
  const endpoints = httpEndpoints({ registry: () => registry, notReady: () => undefined });
  let arrived = 0;
  const { url, server } = await serve((req, res) => {
    arrived++;
    return endpoints(req, res);
  });
  try {
    const scrapes = Array.from({ length: 3 }, () => fetch(`${url}/metrics`).then((r) => r.text()));
    await until(() => arrived === 3, 5_000, 'three scrapes to arrive');
    finish('crossbus_test_total 1\n');
    assert.deepEqual(await Promise.all(scrapes), ['crossbus_test_total 1\n', 'crossbus_test_total 1\n', 'crossbus_test_total 1\n']);
    assert.equal(renders, 1);
    const later = fetch(`${url}/metrics`).then((r) => r.text());
    await until(() => renders === 2, 5_000, 'a second rendering');
    finish('crossbus_test_total 2\n');
    assert.equal(await later, 'crossbus_test_total 2\n');
  } finally {
    server.close();
  }
});

test('prometheusRegistry: the hub metrics read at each scrape', async () => {
  let reads = 0;
  const registry = prometheusRegistry({ metrics: () => [single('counter', 'crossbus_test_total', 'reads', () => ++reads)] });
  assert.match(await registry.metrics(), /^crossbus_test_total 1$/m);
  assert.match(await registry.metrics(), /^crossbus_test_total 2$/m);
});
