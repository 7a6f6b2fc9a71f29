import { bindCluster, openCluster, type ClusterOptions } from './cluster-setup.js';
import { newHubId } from '../core/broker/options.js';
import type { NatsLink } from '../node/cluster/nats-link.js';
import { mkdir, access, constants } from 'node:fs/promises';
import { Broker } from '../core/broker/broker.js';
import type { BrokerOptions } from '../core/broker/options.js';
import type { BrokerStats } from '../core/broker/events.js';
import type { Metric } from '../core/metrics/metric.js';
import type { HubConfig } from '../core/config/schema.js';
import type { ConsentManager } from '../core/security/consent.js';
import { ConfigError } from '../core/errors/index.js';
import { silentLogger, type Logger } from '../core/util/logger.js';
import { componentLogger } from '../core/util/component-logger.js';
import { TypedEmitter } from '../core/util/emitter.js';
import type { HubEvents } from './events.js';
import { listenWebSocket } from '../transports/websocket/websocket-server.node.js';
import { setupSecurity, writePidFile } from './security-setup.js';
import { acquireFileLock } from '../node/dir-lock.js';
import { HUB_LOCK_FILE_NAME, dataFile } from '../node/paths.js';
import { STATS_TOPIC } from '../core/broker/system-requests.js';
import { statsSnapshot } from './stats-snapshot.js';
import { type HubListenerOptions, configListeners, openSocketListeners } from './socket-listeners.js';
import type { SocketListener, TlsReloadOutcome } from '../transports/net/socket-listener.node.js';
import { openStreams, type HubStreamOptions, type StreamStorageChoice } from './stream-setup.js';
import { hubOverlayService, settingsService, type HubSettingsOptions } from './settings-setup.js';
import { httpEndpoints } from './http-endpoints.js';
import type { AlertService } from '../core/alerts/alert-service.js';
import { type HubAlerts, type HubAlertsOption, setupAlerts } from './alerts-setup.js';
import { adminResponders } from './admin-responders.js';
import { Dashboard, withDashboard } from './dashboard/dashboard.js';
import type { DashboardOptions } from './dashboard/options.js';
import { prometheusRegistry } from '../node/metrics/prometheus.js';
import { DEFAULT_SETTINGS_HISTORY } from '../core/settings/settings-service.js';
import type { Session } from '../core/broker/session.js';
import type { StreamService } from '../core/streams/stream-service.js';
import {
  resolveStaticApps,
  startStaticApps,
  staticAppsFromConfig,
  type StaticAppOptions,
  type StaticAppServer,
} from '../node/static-apps/index.js';
import { openDeployments, type HubDeployOption } from './deploy-setup.js';
import { deployResponders } from './deploy/deploy-responders.js';
import type { DeploymentManager } from './deploy/deployment-manager.js';
import { DEPLOY_ATTACH } from '../core/apps/deploy-topics.js';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_STREAM_STORAGE } from './defaults.js';

export interface HubOptions extends Omit<BrokerOptions, 'security' | 'streams'> {
  /** Interface to bind. @default DEFAULT_HOST */
  host?: string;
  /** TCP port; 0 picks a free one. @default DEFAULT_PORT */
  port?: number;
  /**
   * Directory for the hub's state: config (created with fresh secrets when missing), audit log,
   * consent decisions, pid file. Created if missing. One hub per folder: a second one is refused
   * with CB_ERR_DATA_DIR_LOCKED while the first runs (a crashed hub's lock is taken over). @default none
   */
  dataDir?: string;
  /** Config file (JSON or YAML). @default `<dataDir>/crossbus.config.json` */
  configFile?: string;
  /** Config as an object instead of a file (embedding, tests). Conflicts with configFile. @default none */
  config?: unknown;
  /**
   * No authentication, record protection, access control or rate limits: anyone who reaches the
   * port can do anything. Loudly logged. Origins are still checked. @default false
   */
  insecure?: boolean;
  /** Audit log file. @default `<dataDir>/audit.jsonl` */
  auditFile?: string;
  /**
   * Identify a browser page that connects without a secret by its WebSocket `Origin` header: the
   * app whose `origins` lists it (the header must be on `origins` too), as a browser hub does with
   * postMessage origins. A page cannot forge that header, so no secret has to be served to it; any
   * other program that reaches the port can send any header, though, and such sessions have no
   * record protection. For a hub bound to loopback on a machine whose local programs you trust
   * (the demo's bridging page); apps with a secret are unaffected. @default false
   */
  identifyByOrigin?: boolean;
  /** How long close() waits for queues to drain. @default DEFAULT_SHUTDOWN_TIMEOUT_MS */
  shutdownTimeoutMs?: number;
  /**
   * Where durable streams live: 'auto' stores them under `<dataDir>/streams` when there is a data
   * directory and in memory otherwise; joined to a cluster (`cluster`), in JetStream, shared by the
   * hubs. @default DEFAULT_STREAM_STORAGE
   */
  streamStorage?: StreamStorageChoice;
  /**
   * More listeners besides the WebSocket one: `{ kind: 'tcp', host, port }`, `{ kind: 'unix', path }`,
   * `{ kind: 'tls', host, port, cert, key, ca?, requestClientCertificates?, watchFiles?, reloadDebounceMs? }`,
   * each with its own `maxConnections`, `keepAliveMs`, `tlsHandshakeTimeoutMs` and
   * `handshakeTimeoutMs` (the hub's `handshakeTimeoutMs` when left out; the WebSocket listener
   * always has the hub's). Every listener's URL is in `urls`, in each WELCOME and at
   * `GET /.well-known/crossbus` on the WebSocket port. @default []
   */
  listeners?: readonly HubListenerOptions[];
  /** Stream limits: maxStreams (1000), maxConsumersPerStream (1000), maxDuplicateIds (100,000); retentionIntervalMs, saveDelayMs. @default {} */
  streamOptions?: HubStreamOptions;
  /** Serve `GET /metrics` (Prometheus text format) on the WebSocket port; /healthz and /readyz are always served. @default true */
  metrics?: boolean;
  /** The settings service's limits: maxWaitMs (60 s), maxWaiters (10,000), history (50 versions per layer). @default {} */
  settings?: HubSettingsOptions;
  /**
   * The alert engine: the config's `alerts` section given in code (it replaces the file's, and is
   * checked the same way), or false for no alerts. @default the config file's section (default rules, log and bus)
   */
  alerts?: HubAlertsOption;
  /**
   * Serve the dashboard under `/dashboard/` on the WebSocket port, behind an admin app's login
   * (see src/hub/dashboard/dashboard.ts): `true` for its defaults, or its options. Needs the
   * built page (`npm run build`) and a secure hub. @default false
   */
  dashboard?: boolean | DashboardOptions;
  /**
   * Static web apps, each served from its folder on a port of its own (so on an origin of its own,
   * never the hub's) with a strict CSP and security headers; see src/node/static-apps/. Their
   * pages may connect to the hub's WebSocket (`connect-src`). Served after the config file's
   * `staticApps`. @default []
   */
  staticApps?: readonly StaticAppOptions[];
  /**
   * App deployments (src/hub/deploy/): the hub runs the apps deployed to it (`crossbus deploy`)
   * and answers `$SYS.REQ.DEPLOY.*`. Needs a data folder (deployments survive restarts); `false`
   * turns them off. @default true
   */
  deployments?: HubDeployOption;
  /**
   * Joins a NATS cluster: hubs on it are one bus (topics as NATS subjects, each hub forwarding only
   * its clients' interest). Over the config file's `cluster` section. @default none (a hub on its own)
   */
  cluster?: Partial<ClusterOptions>;
}

/** A static app the hub serves. */
export interface HubStaticApp {
  readonly name: string;
  /** http://<host>:<port>/ */
  readonly url: string;
}

export interface ReloadResult {
  /** Sessions closed because their app or key is gone or expired. */
  closed: number;
  /** Subscriptions ended because their grant is gone. */
  endedSubscriptions: number;
  /** What each TLS listener did with its certificate files (reloaded before the config). */
  certificates: readonly CertificateReload[];
}

/** One TLS listener's certificate reload: see `Hub.reloadCertificates()`. */
export interface CertificateReload {
  /** The listener's URL. */
  listener: string;
  outcome: TlsReloadOutcome;
}

/** What a hub shows of its cluster link. */
export type HubCluster = Pick<NatsLink, 'state' | 'server' | 'interestCount' | 'events' | 'hubToken'>;

export interface Hub {
  /** ws://host:port */
  readonly url: string;
  /** Every listener's URL: the WebSocket's first, then `listeners` in order (tcp://, unix://, tls://). */
  readonly urls: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly broker: Broker;
  /** The config in force (undefined for an insecure hub without one). */
  readonly config: HubConfig | undefined;
  readonly configPath: string | undefined;
  readonly auditFile: string | undefined;
  readonly consent: ConsentManager | undefined;
  readonly insecure: boolean;
  stats(): BrokerStats;
  /**
   * Every counter, gauge and histogram the hub keeps (messages, bytes, drops, queue depths,
   * refusals by code, handshakes, stream sizes and consumer lag), for an exporter to register
   * against (see src/core/metrics/metric.ts).
   */
  metrics(): readonly Metric[];
  /** The alert engine (undefined when alerts are off): its rules, alerts, silences. */
  readonly alerts: AlertService | undefined;
  /** The hub's own events: `tls-reload`. */
  readonly events: TypedEmitter<HubEvents>;
  /**
   * Reloads the TLS listeners' certificates (see `reloadCertificates()`), then re-reads the config
   * file and applies it to open connections at once (SIGHUP, `crossbus reload`).
   */
  reload(): Promise<ReloadResult>;
  /**
   * Makes every TLS listener read its certificate, key and CA files again; new connections get
   * the new certificate, open ones keep theirs. One that fails keeps the previous certificate and
   * says so (a `tls-reload` event with CB_ERR_TLS, the log, the audit log). Never rejects.
   * Listeners also do this by themselves when the files change (`watchFiles`).
   */
  reloadCertificates(): Promise<readonly CertificateReload[]>;
  /** The dashboard's URL, when it is served. */
  readonly dashboardUrl: string | undefined;
  /** The static apps served, in the order given, each on its own origin. */
  readonly staticApps: readonly HubStaticApp[];
  /** The deployment manager (undefined without a data folder or with `deployments: false`). */
  readonly deployments: DeploymentManager | undefined;
  /** The hub's link to its NATS cluster (state, server, interest, events), when it joined one. */
  readonly cluster: HubCluster | undefined;
  /** Applies consent decisions queued by the CLI (SIGUSR2). */
  processConsentInbox(): Promise<number>;
  /** Graceful: tells clients, drains queues, then closes the listener. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a hub: the composition root that wires the isomorphic Broker, the security layer (config,
 * keys, roles, rate limits, consent, audit) and a WebSocket listener.
 */
export async function startHub(options: HubOptions = {}): Promise<Hub> {
  const {
    host = DEFAULT_HOST,
    port = DEFAULT_PORT,
    dataDir,
    shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS,
    configFile,
    config,
    insecure = false,
    auditFile,
    identifyByOrigin = false,
    streamStorage = DEFAULT_STREAM_STORAGE,
    streamOptions,
    settings: settingsOptions,
    metrics: serveMetrics = true,
    listeners: socketListenerOptions = [],
    alerts: alertsOption,
    dashboard: dashboardOption = false,
    staticApps: staticAppOptions = [],
    deployments: deployOption = true,
    cluster: clusterOption,
    ...brokerOptions
  } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `port must be an integer in 0..65535, got ${String(port)}`);
  }
  if (dataDir !== undefined) {
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      await access(dataDir, constants.W_OK);
    } catch (cause) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `data directory ${dataDir} cannot be created or written`, {
        cause,
        details: { dataDir },
      });
    }
  }
  // Checked before anything opens: a wrong app must not leave a half-started hub behind.
  resolveStaticApps(staticAppOptions, host, port);
  if (dashboardOption !== false && insecure) {
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'the dashboard needs a secure hub: its login is an admin app of the config');
  }
  const startedAt = Date.now();
  // Chosen before the broker: the cluster link, opened first, names the hub with it.
  const hubId = brokerOptions.hubId ?? newHubId();
  // Each part logs under its own component name (LogEntry.component).
  const partLogger = (component: string): Logger => componentLogger(brokerOptions.logger ?? silentLogger, component);
  const logger = partLogger('hub');
  const events = new TypedEmitter<HubEvents>((error) => logger.error({ error: String(error) }, 'hub event listener threw'));
  // Before anything in the folder is read or written: a second hub must not touch the first's files.
  const lock = dataDir !== undefined ? await acquireFileLock(dataFile(dataDir, HUB_LOCK_FILE_NAME)) : undefined;
  // What start-up has opened so far: if a later step fails, closed again, newest first.
  const opened: Array<() => Promise<unknown>> = [];
  if (lock !== undefined) opened.push(() => lock.release());
  let sec: Awaited<ReturnType<typeof setupSecurity>>;
  let broker: Broker;
  let urls: readonly string[] = [];
  let streams: StreamService<Session> | undefined;
  let closing: Promise<void> | undefined;
  // What /metrics and hub.metrics() read: the broker's, the streams' and the alert engine's (read when asked).
  let alerts: HubAlerts | undefined;
  let deployments: DeploymentManager | undefined;
  let cluster: NatsLink | undefined;
  const hubMetrics = (): readonly Metric[] => [
    ...broker.metrics(),
    ...(cluster?.metrics() ?? []),
    ...(streams?.metrics() ?? []),
    ...(alerts?.metrics() ?? []),
    ...(deployments?.metrics() ?? []),
  ];
  let settings: Awaited<ReturnType<typeof settingsService>>;
  let listener: Awaited<ReturnType<typeof listenWebSocket>>;
  let socketListeners: SocketListener[];
  let dashboard: Dashboard | undefined;
  let staticApps: StaticAppServer[] = [];
  try {
    if (dashboardOption !== false) {
      dashboard = await Dashboard.open(dashboardOption === true ? {} : dashboardOption, {
        security: () => sec?.security,
        audit: () => sec.audit,
        reapply: () => broker.reapplySecurity(),
      });
      const d = dashboard;
      opened.push(async () => d.close());
    }
    sec = await setupSecurity({
      dataDir,
      configFile,
      config,
      insecure,
      auditFile,
      identifyByOrigin,
      logger: partLogger('security'),
      ...(dashboard !== undefined ? { extraKeys: dashboard.busKeysOf } : {}),
    });
    opened.push(() => sec.close());
    const joined = await openCluster(clusterOption, sec.config?.cluster, sec.configPath, hubId, partLogger('cluster'));
    cluster = joined?.link;
    if (joined !== undefined) opened.push(() => joined.link.close());
    // Joined to a cluster, durable streams live in JetStream unless a store is named (off while not joined).
    const streamChoice: StreamStorageChoice =
      joined === undefined || streamStorage !== DEFAULT_STREAM_STORAGE ? streamStorage : (joined.streams ?? 'off');
    const stored = await openStreams(dataDir, streamChoice, partLogger('streams'), brokerOptions, streamOptions);
    streams = stored;
    if (stored !== undefined) opened.push(() => stored.close());
    settings = await settingsService(dataDir, stored, sec, settingsOptions);
    const openedSettings = settings;
    opened.push(async () => openedSettings.close());
    const hubSettings = hubOverlayService(
      stored,
      sec,
      () => broker.reapplySecurity(),
      settingsOptions?.history ?? DEFAULT_SETTINGS_HISTORY,
    );
    const openedAlerts = (alerts = setupAlerts({
      option: alertsOption,
      section: sec.config?.alerts,
      metrics: hubMetrics,
      publish: (topic, alert) => broker.publishFromHub(topic, alert),
      hubId: () => broker.options.hubId,
      logger,
      audit: sec.audit,
    }));
    opened.push(async () => openedAlerts.close());
    broker = new Broker({
      // Only the apps the operator configured are named in metrics: never a client's string.
      metricsAppLabel: (app) => (app === '' ? 'anonymous' : sec.config?.apps.has(app) === true ? app : 'other'),
      metricsTopics: sec.config?.metrics.topics ?? [],
      ...brokerOptions,
      hubId,
      logger: partLogger('broker'),
      advertisedListeners: () => urls,
      systemResponders: {
        [STATS_TOPIC]: () => statsSnapshot(broker, stored, startedAt),
        ...settings.responders(),
        ...hubSettings.responders(),
        ...openedAlerts.responders,
        ...adminResponders({ consent: sec.consent, audit: sec.audit, auditFile: sec.auditFile, metrics: hubMetrics }),
        ...deployResponders(() => deployments),
      },
      openSystemRequests: [DEPLOY_ATTACH],
      ...(sec.security !== undefined ? { security: sec.security } : {}),
      ...(stored ? { streams: stored } : {}),
    });
    opened.push(() => broker.close(0));
    if (cluster !== undefined) bindCluster(cluster, broker);
    (sec as { setRevokedHandler?: (fn: () => void) => void }).setRevokedHandler?.(() => broker.reapplySecurity());
    // The hub's limits and roles changed with `crossbus config set --hub`, over the config file.
    if (stored !== undefined && sec.security !== undefined) {
      await hubSettings.restore().catch((err: unknown) => {
        logger.error(
          { error: String(err) },
          'the hub settings in the settings bucket do not fit the config file: the file alone is in force',
        );
      });
      // Hubs of a cluster share the bucket: a change stored through any of them applies on each.
      if (stored.shared) {
        const stop = await hubSettings.follow((err) =>
          logger.error({ error: String(err) }, 'the hub settings another hub stored do not fit this config file: not applied here'),
        );
        opened.push(async () => stop());
      }
    }
    const limits = broker.options.limits;
    listener = await listenWebSocket({
      host,
      port,
      // Room for one maximal frame plus a batch of small ones in the same WebSocket message.
      maxMessageBytes: 2 * (limits.maxFrameBytes + 4),
      onConnection: (transport) => broker.accept(transport),
      discovery: () => urls,
      http: withDashboard(
        dashboard,
        httpEndpoints({
          registry: serveMetrics ? () => prometheusRegistry({ metrics: hubMetrics }) : undefined,
          notReady: () =>
            closing !== undefined
              ? 'shutting down'
              : urls.length === 0
                ? 'starting'
                : cluster !== undefined && cluster.state !== 'connected'
                  ? 'not joined to its NATS cluster'
                  : undefined,
        }),
      ),
      vouchOrigin: identifyByOrigin,
      checkOrigin: (origin, peer) => {
        if (sec.originAllowed(origin) || dashboard?.originAllowed(origin) === true) return true;
        sec.audit.record({
          actor: { origin: origin ?? '', address: peer },
          action: 'origin',
          target: origin ?? '',
          outcome: 'denied',
          reason: 'CB_ERR_ORIGIN_REFUSED: origin not in the allow-list',
        });
        logger.warn({ origin, peer }, 'refused a WebSocket from a disallowed origin');
        return false;
      },
    });
    const ws = listener;
    opened.push(() => ws.close());
    dashboard?.listening(host, listener.port);
    // The config file's apps first, then those given in code (CLI flags), as with listeners.
    staticApps = await startStaticApps([...staticAppsFromConfig(sec.config?.staticApps ?? [], sec.configPath), ...staticAppOptions], {
      host,
      port: listener.port,
      wsOrigins: wsOriginsOf(host, listener.port),
    });
    const apps = staticApps;
    opened.push(() => Promise.all(apps.map((a) => a.close())));
    deployments = await openDeployments({
      dataDir,
      option: deployOption,
      broker,
      url: listener.url,
      config: sec.config,
      consent: sec.consent,
      grants: sec.security,
      audit: sec.audit,
      logger: partLogger('deploy'),
    });
    const openedDeployments = deployments;
    opened.push(async () => openedDeployments?.close());
    // The config file's listeners first, then those given in code (CLI flags).
    const fromConfig = configListeners(sec.config?.listeners ?? [], sec.configPath);
    socketListeners = await openSocketListeners([...fromConfig, ...socketListenerOptions], broker, {
      logger: partLogger('listeners'),
      audit: sec.audit,
      events,
    });
  } catch (err) {
    for (const close of opened.reverse()) await close();
    throw err;
  }
  urls = Object.freeze([listener.url, ...socketListeners.map((l) => l.url)]);
  const removePid = dataDir !== undefined ? await writePidFile(dataDir, listener.url) : undefined;
  if (dataDir !== undefined) await sec.processConsentInbox();
  alerts.service?.start();
  const reloadCertificates = (): Promise<CertificateReload[]> =>
    Promise.all(
      socketListeners.flatMap((l) =>
        l.reloadCertificates === undefined ? [] : [l.reloadCertificates().then((outcome) => ({ listener: l.url, outcome }))],
      ),
    );
  return {
    url: listener.url,
    urls,
    host,
    port: listener.port,
    broker,
    get config() {
      return sec.config;
    },
    configPath: sec.configPath,
    auditFile: sec.auditFile,
    consent: sec.consent,
    dashboardUrl: dashboard?.url,
    staticApps: Object.freeze(staticApps.map((a) => Object.freeze({ name: a.name, url: a.url }))),
    deployments,
    cluster,
    insecure,
    stats: () => broker.stats(),
    metrics: hubMetrics,
    alerts: alerts.service,
    events,
    reloadCertificates,
    reload: async () => {
      const certificates = await reloadCertificates();
      await sec.reloadConfig();
      const result = { ...broker.reapplySecurity(), certificates };
      logger.info({ ...result }, 'config reloaded');
      return result;
    },
    processConsentInbox: () => sec.processConsentInbox(),
    close: () => {
      closing ??= (async () => {
        alerts?.close();
        settings.close();
        dashboard?.close();
        await deployments?.close();
        await broker.close(shutdownTimeoutMs);
        await Promise.all(staticApps.map((a) => a.close()));
        await listener.close();
        await Promise.all(socketListeners.map((l) => l.close()));
        await streams?.close();
        // After the streams: what they still save goes through the cluster's connection.
        await cluster?.close();
        await sec.close();
        await removePid?.();
        await lock?.release();
      })();
      return closing;
    },
  };
}

/**
 * The hub's WebSocket origins as a CSP names them: its address's, and the localhost names when
 * bound to loopback (an IPv6 literal is no valid CSP source: such a hub is left to 'self' and the
 * app's own `csp` option).
 */
function wsOriginsOf(host: string, port: number): string[] {
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const hosts = loopback ? ['127.0.0.1', 'localhost'] : host.includes(':') ? [] : [host];
  return hosts.map((h) => `ws://${h}:${port}`);
}
