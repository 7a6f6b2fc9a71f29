/**
 * The extension's service worker: a crossbus hub. Its content scripts (one connection per frame)
 * and the web pages allowed in config.pageOrigins connect to it over chrome.runtime ports; it is
 * bridged to the Node hub over WebSocket with its own credentials, and durable publishes are
 * handed to the Node hub so that nothing acknowledged is lost when Chrome stops this worker.
 *
 * With a project configured, the worker keeps a replica of that document (./project.ts): the
 * popup edits its notes, and the editor page and the preview see them.
 *
 * Chrome starts the worker again when a port connects: everything here is registered
 * synchronously at the top level (no top-level await), and clients reconnect and resubscribe.
 */
import { Broker, HubSecurity, createWebCryptoProvider, parseHubConfig, type AuditEvent } from '../../../src/core/index.js';
import { bridge, connect, connectWith, forwardDurablePublishes, memoryConnector, type SyncingBus } from '../../../src/browser/index.js';
import type { SyncDocument } from '../../../src/browser/sync.js';
import { listenExtension } from '../../../src/transports/extension/index.js';
import { config } from './config.js';
import { serveProject } from './project.js';

const self = `chrome-extension://${chrome.runtime.id}`;
const startedAt = Date.now();

/** The last security events (refusals, denials), for the popup-less demo and the tests. */
const audit: AuditEvent[] = [];
const record = (e: AuditEvent): void => {
  audit.push({ ...e, details: { ...e.details, at: Date.now() } });
  if (audit.length > 200) audit.shift();
};

const hubConfig = parseHubConfig({
  apps: {
    extension: { origins: [self], roles: ['extension'] },
    ...(config.pageOrigins.length > 0 ? { page: { origins: config.pageOrigins, roles: ['page'] } } : {}),
  },
  roles: {
    // The worker's own contexts: content scripts, the popup (project.>), and the bridge (which serves format.> for the Node service).
    extension: {
      publish: ['ext.>', 'edits.>', 'build.>', 'project.>'],
      subscribe: ['ext.>', 'edits.>', 'build.>', 'format.>', 'project.>'],
      request: ['ext.>', 'format.>', 'project.>'],
    },
    page: { publish: ['ext.page.>', 'ext.orders.>'], subscribe: ['ext.>', 'edits.>', 'build.>'], request: ['ext.>', 'format.>'] },
  },
});

// The Node hub, if configured: reached once, reused by the bridge and the durable forwarder.
const remote: Promise<SyncingBus> | undefined =
  config.hubUrl === '' ? undefined : connect(config.hubUrl, { name: config.name, secret: config.secret });
remote?.catch(() => {}); // reported below; an unhandled rejection would only add noise

const broker = new Broker({
  heartbeatMs: 10_000,
  security: new HubSecurity({ crypto: createWebCryptoProvider(), config: hubConfig, audit: { record }, identifyByOrigin: true }),
  ...(remote !== undefined ? { streams: forwardDurablePublishes(remote) } : {}),
});

listenExtension({
  allowedOrigins: config.pageOrigins,
  onConnection: (t) => broker.accept(t),
  onRefused: ({ origin, reason }) =>
    record({ actor: { origin }, action: 'origin', outcome: 'denied', reason: 'CB_ERR_ORIGIN_REFUSED', details: { why: reason } }),
});

/** The project document, once configured and opened. */
let project: Promise<SyncDocument> | undefined;

async function start(): Promise<void> {
  const local = await connectWith(memoryConnector(broker, { vouchedOrigin: self }), { name: 'extension' });
  local.serve('ext.info', () => ({
    id: chrome.runtime.id,
    startedAt,
    connections: broker.stats().connections.map((c) => ({ name: c.name, peer: c.peer })),
    bridged: remote !== undefined,
  }));
  if (remote === undefined) return;
  if (config.project !== undefined) {
    project = serveProject(local, remote, config.project);
    project.catch((err: unknown) =>
      record({ actor: { origin: self }, action: 'project', outcome: 'failure', reason: (err as { code?: string }).code ?? String(err) }),
    );
  }
  const r = await remote;
  const link = await connectWith(memoryConnector(broker, { vouchedOrigin: self }), { name: 'bridge' });
  await bridge(link, r, { exports: ['ext.>'], imports: ['edits.>', 'build.>'], remoteServices: ['format.>'] }).ready;
}

const started = start().catch((err: unknown) =>
  record({ actor: { origin: self }, action: 'bridge', outcome: 'failure', reason: (err as { code?: string }).code ?? String(err) }),
);

// For the tests (evaluated in the worker) and for anyone inspecting the worker in DevTools.
Object.assign(globalThis, { crossbusExtension: { broker, audit, started, startedAt, project: () => project } });
