/**
 * `crossbus hub --cluster nats://a:4222,nats://b:4222`: the flags that join a hub to a NATS
 * cluster, over the config file's `cluster` section. The hub's NATS password comes from a file or
 * from CROSSBUS_CLUSTER_PASSWORD, never from the command line (which `ps` shows to everyone).
 */
import type { ClusterOptions } from '../node/cluster/cluster-options.js';
import { UsageError, intOption } from './options.js';

export const CLUSTER_PASSWORD_ENV = 'CROSSBUS_CLUSTER_PASSWORD';

export const CLUSTER_OPTIONS = {
  cluster: { type: 'string', placeholder: '<urls>', description: 'join a NATS cluster: nats://host:4222[,…] (hubs on it are one bus)' },
  'cluster-user': {
    type: 'string',
    placeholder: '<name>',
    description: `the hub's NATS user; its password from --cluster-password-file or ${CLUSTER_PASSWORD_ENV}`,
  },
  'cluster-password-file': { type: 'string', placeholder: '<file>', description: "a file holding the NATS user's password" },
  'cluster-token-file': { type: 'string', placeholder: '<file>', description: 'a file holding a NATS token' },
  'cluster-creds': { type: 'string', placeholder: '<file>', description: 'a NATS credentials file (JWT and nkey seed)' },
  'cluster-nkey': { type: 'string', placeholder: '<file>', description: 'a file holding a NATS user nkey seed' },
  'cluster-local-only': { type: 'boolean', description: 'start even when NATS is unreachable: serve local clients, join when it answers' },
  'cluster-replicas': {
    type: 'string',
    placeholder: '<n>',
    description: 'replicas of each durable stream in JetStream (default 3, or the cluster size)',
  },
} as const;

export interface ClusterFlagValues {
  cluster?: string | undefined;
  'cluster-user'?: string | undefined;
  'cluster-password-file'?: string | undefined;
  'cluster-token-file'?: string | undefined;
  'cluster-creds'?: string | undefined;
  'cluster-nkey'?: string | undefined;
  'cluster-local-only'?: boolean | undefined;
  'cluster-replicas'?: string | undefined;
}

/** The cluster flags as options; undefined when none is given (the config file may still have a section). */
export function clusterFlags(values: ClusterFlagValues, env: NodeJS.ProcessEnv = process.env): Partial<ClusterOptions> | undefined {
  const out: Partial<ClusterOptions> = {};
  if (values.cluster !== undefined) {
    const servers = values.cluster
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (servers.length === 0) throw new UsageError('--cluster takes nats://host:port[,nats://host:port…]');
    out.servers = servers;
  }
  if (values['cluster-user'] !== undefined) {
    out.user = values['cluster-user'];
    if (values['cluster-password-file'] !== undefined) out.passwordFile = values['cluster-password-file'];
    else if (env[CLUSTER_PASSWORD_ENV] !== undefined && env[CLUSTER_PASSWORD_ENV] !== '') out.password = env[CLUSTER_PASSWORD_ENV];
    else throw new UsageError(`--cluster-user needs --cluster-password-file <file> or ${CLUSTER_PASSWORD_ENV}`);
  } else if (values['cluster-password-file'] !== undefined) throw new UsageError('--cluster-password-file goes with --cluster-user');
  if (values['cluster-token-file'] !== undefined) out.tokenFile = values['cluster-token-file'];
  if (values['cluster-creds'] !== undefined) out.credsFile = values['cluster-creds'];
  if (values['cluster-nkey'] !== undefined) out.nkeySeedFile = values['cluster-nkey'];
  if (values['cluster-local-only'] === true) out.whenUnreachable = 'local-only';
  const replicas = intOption('cluster-replicas', values['cluster-replicas'], 1, 5);
  if (replicas !== undefined) out.replicas = replicas;
  return Object.keys(out).length === 0 ? undefined : out;
}
