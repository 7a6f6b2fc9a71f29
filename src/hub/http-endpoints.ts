/**
 * The hub's plain HTTP endpoints on its WebSocket port, for supervisors, load balancers and
 * Prometheus: `GET /healthz` (the process answers), `GET /readyz` (it accepts connections: 503
 * while it shuts down), `GET /metrics` (Prometheus text format, see src/node/metrics/prometheus.ts).
 * Scrapes that arrive while one is being rendered share it, so a burst of scrapes on a busy hub
 * costs one rendering.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { PROMETHEUS_CONTENT_TYPE } from '../node/metrics/prometheus.js';

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';

export interface HttpEndpointsOptions {
  /** Makes the registry /metrics renders, on the first scrape (a hub nobody scrapes pays nothing); undefined: not served. */
  registry: (() => Registry) | undefined;
  /** Why the hub is not ready, or undefined when it is. */
  notReady(): string | undefined;
}

export function httpEndpoints(o: HttpEndpointsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  let rendering: Promise<string> | undefined;
  let registry: Registry | undefined;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '').split('?')[0];
    if (path === HEALTH_PATH) {
      json(res, 200, { status: 'ok' });
      return true;
    }
    if (path === READY_PATH) {
      const reason = o.notReady();
      json(res, reason === undefined ? 200 : 503, reason === undefined ? { ready: true } : { ready: false, reason });
      return true;
    }
    if (path === METRICS_PATH && o.registry !== undefined) {
      registry ??= o.registry();
      rendering ??= registry.metrics().finally(() => {
        rendering = undefined;
      });
      rendering.then(
        (text) => {
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
          res.end(text);
        },
        () => json(res, 500, { error: 'the metrics could not be read' }),
      );
      return true;
    }
    return false;
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
