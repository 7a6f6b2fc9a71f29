/**
 * Joins the hub to a NATS cluster (the composition root's share of scale-out): the options given
 * in code over the config file's `cluster` section (its files relative to the config file), the
 * link opened and bound to the broker. Undefined when neither asks for a cluster: a hub on its own.
 */
import { dirname, resolve } from 'node:path';
import type { Broker } from '../core/broker/broker.js';
import type { ClusterConfig } from '../core/config/cluster-schema.js';
import type { Logger } from '../core/util/logger.js';
import { type ClusterOptions, resolveClusterOptions } from '../node/cluster/cluster-options.js';
// Types only: a hub on its own never loads the NATS client (see openCluster).
import type { NatsLink } from '../node/cluster/nats-link.js';
import type { JetStreamCatalog } from '../node/cluster/jetstream-catalog.js';

export type { ClusterOptions } from '../node/cluster/cluster-options.js';

const FILE_KEYS = ['passwordFile', 'tokenFile', 'credsFile', 'nkeySeedFile'] as const;

/** The config section as options: file paths resolved against the config file's folder. */
export function clusterFromConfig(section: ClusterConfig, configPath: string | undefined): ClusterOptions {
  const base = configPath !== undefined ? dirname(configPath) : process.cwd();
  const { servers, tls, ...rest } = section;
  const out: ClusterOptions = { ...rest, servers: [...servers] };
  for (const k of FILE_KEYS) if (section[k] !== undefined) out[k] = resolve(base, section[k] as string);
  if (tls !== undefined)
    out.tls = Object.fromEntries(
      Object.entries(tls)
        .filter(([, p]) => p !== undefined)
        .map(([k, p]) => [k, resolve(base, p as string)]),
    );
  return out;
}

/** The hub's cluster link, open (or, `local-only`, joining): bind it once the broker exists. */
export interface OpenedCluster {
  readonly link: NatsLink;
  /** Where durable streams live in the cluster: JetStream, over the link's connection; undefined while not joined. */
  readonly streams: JetStreamCatalog | undefined;
}

export async function openCluster(
  option: Partial<ClusterOptions> | undefined,
  section: ClusterConfig | undefined,
  configPath: string | undefined,
  hubId: string,
  logger: Logger,
): Promise<OpenedCluster | undefined> {
  if (option === undefined && section === undefined) return undefined;
  const fromFile = section !== undefined ? clusterFromConfig(section, configPath) : undefined;
  // Credentials given in code replace the file's whole (one kind of credential at a time).
  const given = option ?? {};
  const credentialKeys = ['user', 'password', ...FILE_KEYS] as const;
  const codeHasCredentials = credentialKeys.some((k) => given[k] !== undefined);
  const base: Partial<ClusterOptions> = { ...fromFile };
  if (codeHasCredentials) for (const k of credentialKeys) delete base[k];
  const merged = { ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as ClusterOptions;
  const resolved = await resolveClusterOptions(merged);
  const [{ NatsLink }, { JetStreamCatalog }] = await Promise.all([
    import('../node/cluster/nats-link.js'),
    import('../node/cluster/jetstream-catalog.js'),
  ]);
  const link = await NatsLink.open(resolved, hubId, logger);
  const nc = link.connection;
  if (nc === undefined) {
    logger.warn({}, 'durable streams live in JetStream: they are off until the hub starts joined to its cluster');
    return { link, streams: undefined };
  }
  logDurability(nc.info?.version, logger);
  const streams = new JetStreamCatalog(nc, {
    logger,
    ...(resolved.replicas !== undefined ? { replicas: resolved.replicas } : {}),
    ...(resolved.streamPrefix !== undefined ? { prefix: resolved.streamPrefix } : {}),
  });
  return { link, streams };
}

/** Joins the open link to the broker: interest flows out, messages from other hubs flow in. */
export function bindCluster(link: NatsLink, broker: Broker): void {
  link.bind(broker.attachCluster(link, link.hubToken));
}

/**
 * Says once, at join, what a durable publish's acknowledgement means on these servers: JetStream
 * answers once a majority of replicas hold the message, and fsyncs before that only on
 * nats-server 2.10+ configured with `sync_interval: always`, which no client can see.
 */
function logDurability(version: string | undefined, logger: Logger): void {
  const server = version ?? 'unknown';
  if (canSyncEveryWrite(server)) {
    logger.info(
      { server },
      'durable streams in JetStream: fsync before each ack needs `jetstream { sync_interval: always }` on every server',
    );
  } else {
    logger.warn(
      { server },
      'durable streams in JetStream: this nats-server acknowledges a durable publish once a majority of replicas hold it, before any fsync (2.10+ with `sync_interval: always` fsyncs every write)',
    );
  }
}

/** nats-server 2.10 and later can fsync every write (`sync_interval: always`). */
export function canSyncEveryWrite(version: string): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (m === null) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 10);
}
