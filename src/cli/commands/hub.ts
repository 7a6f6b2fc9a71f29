/**
 * `crossbus hub`: starts a hub on this machine and runs it until SIGINT or SIGTERM (SIGHUP
 * reloads its config, SIGUSR2 applies queued consent decisions).
 */
import { CLUSTER_OPTIONS, clusterFlags } from '../cluster-flags.js';
import { startHub } from '../../hub/hub.js';
import type { HubListenerOptions } from '../../hub/socket-listeners.js';
import type { StaticAppOptions } from '../../node/static-apps/index.js';
import { CONFIG_FILE_NAME } from '../../node/config/config-file.js';
import { LOG_OPTIONS, cliLogger, logOptions } from '../logger.js';
import { componentLogger } from '../../core/util/component-logger.js';
import { VERSION } from '../../node/version.js';
import { HELP_OPTION, UsageError, defineOptions, intOption, optionsHelp, parseOptions } from '../options.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_DUPLICATE_IDS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_MAX_TOPIC_LENGTH,
  DEFAULT_MAX_TOTAL_QUEUED_BYTES,
  DEFAULT_SLOW_CONSUMER_POLICY,
} from '../../core/defaults.js';
import { DEFAULT_DATA_DIR } from '../../node/defaults.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../hub/defaults.js';

export const HUB_OPTIONS = defineOptions({
  host: { type: 'string', placeholder: '<addr>', description: 'interface to bind', default: DEFAULT_HOST },
  port: { type: 'string', placeholder: '<n>', description: 'TCP port, 0 for any free port', default: DEFAULT_PORT },
  data: { type: 'string', placeholder: '<dir>', description: 'state directory: config, audit log, consent', default: DEFAULT_DATA_DIR },
  config: { type: 'string', placeholder: '<file>', description: 'config file, JSON or YAML', default: `<data>/${CONFIG_FILE_NAME}` },
  insecure: { type: 'boolean', description: 'NO authentication, encryption or access control (tests only; loudly logged)' },
  'no-metrics': { type: 'boolean', description: 'do not serve GET /metrics (Prometheus); /healthz and /readyz stay' },
  dashboard: { type: 'boolean', description: "serve the dashboard at /dashboard/ (an admin app's login)" },
  'max-frame': { type: 'string', placeholder: '<bytes>', description: 'largest frame', default: DEFAULT_MAX_FRAME_BYTES },
  'max-topic': { type: 'string', placeholder: '<bytes>', description: 'longest topic or pattern', default: DEFAULT_MAX_TOPIC_LENGTH },
  'max-queue-bytes': {
    type: 'string',
    placeholder: '<bytes>',
    description: 'outbound queue bound per connection',
    default: DEFAULT_MAX_QUEUED_BYTES,
  },
  'max-queue-messages': {
    type: 'string',
    placeholder: '<n>',
    description: 'outbound queue bound per connection',
    default: DEFAULT_MAX_QUEUED_MESSAGES,
  },
  'max-total-queue-bytes': {
    type: 'string',
    placeholder: '<bytes>',
    description: 'bound on all outbound queues together',
    default: DEFAULT_MAX_TOTAL_QUEUED_BYTES,
  },
  'slow-consumer': {
    type: 'string',
    placeholder: '<policy>',
    description: 'disconnect | drop, when a queue overflows',
    default: DEFAULT_SLOW_CONSUMER_POLICY,
  },
  'max-connections': { type: 'string', placeholder: '<n>', description: 'connections held at once', default: DEFAULT_MAX_CONNECTIONS },
  'max-pending-handshakes': {
    type: 'string',
    placeholder: '<n>',
    description: 'handshakes in progress at once; more are refused, retryable',
    default: DEFAULT_MAX_PENDING_HANDSHAKES,
  },
  'max-duplicate-ids': {
    type: 'string',
    placeholder: '<n>',
    description: 'message ids one stream remembers to de-duplicate',
    default: DEFAULT_MAX_DUPLICATE_IDS,
  },
  'heartbeat-ms': {
    type: 'string',
    placeholder: '<ms>',
    description: 'ping idle peers after this long, drop after twice it; 0 = off',
    default: DEFAULT_HEARTBEAT_MS,
  },
  tcp: { type: 'string', placeholder: '<host:port>', description: 'also listen on plain TCP (tcp://host:port)' },
  unix: { type: 'string', placeholder: '<path>', description: 'also listen on a Unix domain socket (unix:///path)' },
  tls: { type: 'string', placeholder: '<host:port>', description: 'also listen on TLS (tls://host:port): needs --tls-cert and --tls-key' },
  'tls-cert': { type: 'string', placeholder: '<file>', description: "the TLS listener's certificate (PEM)" },
  'tls-key': { type: 'string', placeholder: '<file>', description: "the TLS listener's private key (PEM)" },
  'tls-ca': { type: 'string', placeholder: '<file>', description: 'CA certificates client certificates are verified against (PEM)' },
  'tls-client-certs': { type: 'boolean', description: 'ask TLS clients for a certificate (mapped to apps by apps.<name>.certificates)' },
  static: {
    type: 'string',
    multiple: true,
    placeholder: '<name=dir>',
    description: 'serve a static web app from <dir> on its own origin, with a strict CSP: <name>=<dir>[@port] (any free port if none)',
  },
  ...CLUSTER_OPTIONS,
  ...LOG_OPTIONS,
  ...HELP_OPTION,
});

export const HUB_HELP = `Usage: crossbus hub [options]

Starts a hub on its embedded defaults. Stops gracefully (draining) on SIGINT or SIGTERM;
SIGHUP reloads the config; SIGUSR2 applies consent decisions queued by 'crossbus consent'.

Every client must authenticate as an app of the config. Without --config the hub uses
<data>/${CONFIG_FILE_NAME}, creating it with fresh secrets (apps "admin" and "app") if missing.

${optionsHelp([{ title: 'Options:', options: HUB_OPTIONS }])}`;

/** The --tcp, --unix and --tls flags as listener options. */
function listenerFlags(values: {
  tcp?: string | undefined;
  unix?: string | undefined;
  tls?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
  'tls-ca'?: string | undefined;
  'tls-client-certs'?: boolean | undefined;
}): HubListenerOptions[] {
  const out: HubListenerOptions[] = [];
  if (values.tcp !== undefined) out.push({ kind: 'tcp', ...hostPort('tcp', values.tcp) });
  if (values.unix !== undefined) {
    if (!values.unix.startsWith('/')) throw new UsageError('--unix takes an absolute path');
    out.push({ kind: 'unix', path: values.unix });
  }
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if (values.tls === undefined) {
    if (cert !== undefined || key !== undefined || values['tls-ca'] !== undefined || values['tls-client-certs'] === true)
      throw new UsageError('--tls-cert, --tls-key, --tls-ca and --tls-client-certs go with --tls <host:port>');
    return out;
  }
  if (cert === undefined || key === undefined) throw new UsageError('--tls needs --tls-cert <file> and --tls-key <file>');
  out.push({
    kind: 'tls',
    ...hostPort('tls', values.tls),
    cert: { file: cert },
    key: { file: key },
    ...(values['tls-ca'] !== undefined ? { ca: { file: values['tls-ca'] } } : {}),
    requestClientCertificates: values['tls-client-certs'] === true,
  });
  return out;
}

/** The --static flags: `<name>=<dir>[@port]` each (the folder and the limits are checked by startHub). */
export function staticFlags(values: readonly string[] | undefined): StaticAppOptions[] {
  return (values ?? []).map((value) => {
    const m = /^([A-Za-z0-9._-]{1,64})=(.+?)(?:@(\d{1,5}))?$/.exec(value);
    const port = m?.[3] === undefined ? 0 : Number(m[3]);
    if (m === null || port > 65535)
      throw new UsageError(`--static takes <name>=<dir>[@port] (a name of letters, digits, ".", "_", "-"), got ${JSON.stringify(value)}`);
    return { name: m[1] as string, root: m[2] as string, port };
  });
}

function hostPort(flag: string, value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (m === null || port > 65535) throw new UsageError(`--${flag} takes host:port (port 0 for any free one), got ${JSON.stringify(value)}`);
  const host = m[1] as string;
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

const withCluster = (cluster: ReturnType<typeof clusterFlags>) => (cluster !== undefined ? { cluster } : {});

export async function hubCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(HUB_OPTIONS, argv);
  if (values.help) {
    process.stdout.write(`${HUB_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const logger = componentLogger(cliLogger(logOptions(values['log-level'], values['log-format'])), 'hub');
  const policy = values['slow-consumer'];
  if (policy !== undefined && policy !== 'disconnect' && policy !== 'drop')
    throw new UsageError('--slow-consumer must be disconnect or drop');
  const numeric = {
    maxFrameBytes: intOption('max-frame', values['max-frame'], 64, 0xffff_fff0),
    maxTopicLength: intOption('max-topic', values['max-topic'], 1, 0xffff),
    maxQueuedBytes: intOption('max-queue-bytes', values['max-queue-bytes'], 1024, Number.MAX_SAFE_INTEGER),
    maxQueuedMessages: intOption('max-queue-messages', values['max-queue-messages'], 1, Number.MAX_SAFE_INTEGER),
    heartbeatMs: intOption('heartbeat-ms', values['heartbeat-ms'], 0, 3_600_000),
    maxConnections: intOption('max-connections', values['max-connections'], 1, 10_000_000),
    maxPendingHandshakes: intOption('max-pending-handshakes', values['max-pending-handshakes'], 1, 10_000_000),
    maxTotalQueuedBytes: intOption('max-total-queue-bytes', values['max-total-queue-bytes'], 1024, Number.MAX_SAFE_INTEGER),
  };
  const given = Object.fromEntries(Object.entries(numeric).filter(([, v]) => v !== undefined));
  const maxDuplicateIds = intOption('max-duplicate-ids', values['max-duplicate-ids'], 1, Number.MAX_SAFE_INTEGER);
  const dataDir = values.data ?? DEFAULT_DATA_DIR;
  // The first line says which build this is and which process, for whoever reads the log later.
  logger.info({ version: VERSION, node: process.version, dataDir }, 'crossbus hub starting'); // pino adds pid
  const hub = await startHub({
    host: values.host ?? DEFAULT_HOST,
    port: intOption('port', values.port, 0, 65535) ?? DEFAULT_PORT,
    dataDir,
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    insecure: values.insecure === true,
    metrics: values['no-metrics'] !== true,
    dashboard: values.dashboard === true,
    ...(policy !== undefined ? { slowConsumerPolicy: policy } : {}),
    ...given,
    ...(maxDuplicateIds !== undefined ? { streamOptions: { maxDuplicateIds } } : {}),
    listeners: listenerFlags(values),
    staticApps: staticFlags(values.static),
    ...withCluster(clusterFlags(values)),
    logger,
  });
  hub.broker.events.on('connection', (e) => logger.info(e, 'client connected'));
  hub.broker.events.on('disconnection', (e) => logger.info(e, 'client disconnected'));
  hub.broker.events.on('slow-consumer', (e) => logger.warn(e, 'slow consumer'));
  hub.broker.events.on('protocol-error', (e) => logger.warn(e, 'protocol error'));
  hub.broker.events.on('security', (e) => {
    const correlationId = e.details?.correlationId;
    if (e.outcome === 'success' || e.action === 'rate-limit')
      logger.debug({ actor: e.actor, target: e.target, correlationId }, `security: ${e.action} ${e.outcome}`);
    else
      logger.warn(
        {
          actor: e.actor,
          correlationId,
        },
        `security: ${e.action} ${e.outcome}${e.target ? ` ${e.target}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
      );
  });
  // Signal handlers go in before the ready line: a supervisor may signal as soon as it reads it.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal}: draining and shutting down`);
      void hub.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.on('SIGHUP', () => {
    hub
      .reload()
      .catch((err: unknown) =>
        logger.error(`config reload failed; the previous config stays in force: ${err instanceof Error ? err.message : String(err)}`),
      );
  });
  process.on('SIGUSR2', () => {
    hub.processConsentInbox().catch((err: unknown) => logger.error({ error: String(err) }, 'applying consent decisions failed'));
  });
  if (hub.configPath !== undefined) process.stdout.write(`crossbus hub config: ${hub.configPath}\n`);
  // One line per listener; the WebSocket's comes first (scripts and tests read it).
  for (const url of hub.urls) process.stdout.write(`crossbus hub listening on ${url}\n`);
  if (hub.dashboardUrl !== undefined)
    process.stdout.write(`crossbus hub dashboard: ${hub.dashboardUrl} (log in with an admin app's id and secret)\n`);
  for (const app of hub.staticApps) process.stdout.write(`crossbus hub static app ${app.name}: ${app.url}\n`);
  if (hub.cluster !== undefined) {
    process.stdout.write(
      `crossbus hub cluster: ${hub.cluster.state}${hub.cluster.server !== undefined ? ` via ${hub.cluster.server}` : ''}\n`,
    );
    hub.cluster.events.on('state', (e) => logger.info(e, `cluster ${e.state}`));
  }
  await stopped;
  process.stdout.write('crossbus hub stopped\n');
  return 0;
}
