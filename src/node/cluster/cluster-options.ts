/**
 * How a hub joins a NATS cluster (`startHub({ cluster })`, `crossbus hub --cluster`, the config's
 * `cluster` section): every option, its default and its check. Credentials are the hub's own NATS
 * user: never in a URL (URLs are logged), read from files or given in code.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../core/errors/index.js';

export interface ClusterTlsOptions {
  /** CA bundle that signs the NATS servers' certificates. @default the system's */
  caFile?: string;
  /** Client certificate, for servers that verify clients. @default none */
  certFile?: string;
  /** The client certificate's key. @default none */
  keyFile?: string;
}

export interface ClusterOptions {
  /** NATS servers to join: `nats://host:port` or `tls://host:port`, at least one; the rest are discovered. */
  servers: readonly string[];
  /** The hub's connection name, as NATS monitoring shows it. @default `crossbus-hub-<hub id>` */
  name?: string;
  /** NATS user (with `password` or `passwordFile`). @default none */
  user?: string;
  /** The user's password, given in code. @default none */
  password?: string;
  /** A file holding the user's password. @default none */
  passwordFile?: string;
  /** A file holding a NATS token. @default none */
  tokenFile?: string;
  /** A NATS credentials file (user JWT and nkey seed: NATS accounts). @default none */
  credsFile?: string;
  /** A file holding a user nkey seed (`SU…`). @default none */
  nkeySeedFile?: string;
  /** TLS to the servers (also on with `tls://` URLs). @default none */
  tls?: ClusterTlsOptions;
  /** How long the first connection may take. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * NATS unreachable when the hub starts: `fail` (startHub rejects with CB_ERR_CONNECTION_FAILED)
   * or `local-only` (the hub serves its own clients and joins once NATS answers). @default 'fail'
   */
  whenUnreachable?: 'fail' | 'local-only';
  /** Wait between reconnection attempts after NATS is lost (the hub retries for as long as it runs). @default 250 */
  reconnectWaitMs?: number;
  /** Replicas of each durable stream kept in JetStream (1..5). @default 3, or the cluster's size when smaller */
  replicas?: number;
  /** Names the JetStream streams and bucket of the hubs' durable streams; hubs that share streams use the same. @default 'CB' */
  streamPrefix?: string;
}

export const DEFAULT_CLUSTER_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_CLUSTER_RECONNECT_WAIT_MS = 250;
export const DEFAULT_CLUSTER_WHEN_UNREACHABLE = 'fail';

/** Credentials as nats.js takes them, read from their files. */
export type ClusterCredentials =
  | { kind: 'none' }
  | { kind: 'user'; user: string; pass: string }
  | { kind: 'token'; token: string }
  | { kind: 'creds'; creds: Uint8Array }
  | { kind: 'nkey'; seed: Uint8Array };

export interface ResolvedClusterOptions {
  readonly servers: readonly string[];
  readonly name: string | undefined;
  readonly credentials: ClusterCredentials;
  readonly tls: { ca?: string; cert?: string; key?: string } | undefined;
  readonly connectTimeoutMs: number;
  readonly whenUnreachable: 'fail' | 'local-only';
  readonly reconnectWaitMs: number;
  readonly replicas: number | undefined;
  readonly streamPrefix: string | undefined;
}

function invalid(option: string, message: string): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', `cluster.${option} ${message}`, { details: { option: `cluster.${option}` } });
}

/** Checks a server URL; the message never repeats what it holds after the scheme (a password may hide there). */
export function clusterServerProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL (nats://host:port or tls://host:port)';
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') return `must use nats:// or tls://, not ${u.protocol}//`;
  if (u.username !== '' || u.password !== '')
    return 'must not carry credentials: give cluster.user with cluster.passwordFile, tokenFile, credsFile or nkeySeedFile';
  if (u.hostname === '') return 'has no host';
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') return 'must be only scheme, host and port';
  return undefined;
}

async function secretFile(option: string, path: string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (text === '') throw invalid(option, `file ${path} is empty`);
    return text;
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError('CB_ERR_INVALID_OPTION', `cluster.${option}: cannot read ${path}`, {
      cause,
      details: { option: `cluster.${option}`, path },
    });
  }
}

/** Validates the options and reads the credential and certificate files; conflicting credentials are refused. */
export async function resolveClusterOptions(options: ClusterOptions): Promise<ResolvedClusterOptions> {
  if (options === null || typeof options !== 'object') throw invalid('', 'must be an object');
  const { servers } = options;
  if (!Array.isArray(servers) || servers.length === 0) throw invalid('servers', 'must list at least one NATS URL');
  servers.forEach((url, i) => {
    const problem = typeof url === 'string' ? clusterServerProblem(url) : 'must be a string';
    if (problem !== undefined) throw invalid(`servers[${i}]`, problem);
  });
  const kinds = (['password', 'passwordFile', 'tokenFile', 'credsFile', 'nkeySeedFile'] as const).filter((k) => options[k] !== undefined);
  if (kinds.length > 1 && !(kinds.length === 2 && kinds.includes('password') && kinds.includes('passwordFile')))
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', `cluster credentials: give one of ${kinds.join(', ')}`, {
      details: { options: kinds },
    });
  if (options.password !== undefined && options.passwordFile !== undefined)
    throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'cluster credentials: give password or passwordFile, not both');
  const hasPassword = options.password !== undefined || options.passwordFile !== undefined;
  if (hasPassword !== (options.user !== undefined))
    throw invalid(hasPassword ? 'user' : 'password', 'goes with a user and a password (or passwordFile)');
  let credentials: ClusterCredentials = { kind: 'none' };
  if (options.user !== undefined) {
    if (typeof options.user !== 'string' || options.user === '') throw invalid('user', 'must be a non-empty string');
    const pass = options.password ?? (await secretFile('passwordFile', options.passwordFile as string));
    if (typeof pass !== 'string' || pass === '') throw invalid('password', 'must be a non-empty string');
    credentials = { kind: 'user', user: options.user, pass };
  } else if (options.tokenFile !== undefined) credentials = { kind: 'token', token: await secretFile('tokenFile', options.tokenFile) };
  else if (options.credsFile !== undefined)
    credentials = { kind: 'creds', creds: new TextEncoder().encode(await secretFile('credsFile', options.credsFile)) };
  else if (options.nkeySeedFile !== undefined)
    credentials = { kind: 'nkey', seed: new TextEncoder().encode(await secretFile('nkeySeedFile', options.nkeySeedFile)) };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CLUSTER_CONNECT_TIMEOUT_MS;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 100 || connectTimeoutMs > 600_000)
    throw invalid('connectTimeoutMs', 'must be an integer in 100..600000');
  const reconnectWaitMs = options.reconnectWaitMs ?? DEFAULT_CLUSTER_RECONNECT_WAIT_MS;
  if (!Number.isInteger(reconnectWaitMs) || reconnectWaitMs < 10 || reconnectWaitMs > 60_000)
    throw invalid('reconnectWaitMs', 'must be an integer in 10..60000');
  const whenUnreachable = options.whenUnreachable ?? DEFAULT_CLUSTER_WHEN_UNREACHABLE;
  if (whenUnreachable !== 'fail' && whenUnreachable !== 'local-only') throw invalid('whenUnreachable', "must be 'fail' or 'local-only'");
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
    throw invalid('name', 'must be a non-empty string');
  let tls: ResolvedClusterOptions['tls'];
  if (options.tls !== undefined) {
    const t = options.tls;
    if ((t.certFile === undefined) !== (t.keyFile === undefined)) throw invalid('tls', 'needs certFile and keyFile together');
    const read = async (option: string, path: string | undefined): Promise<string | undefined> =>
      path === undefined ? undefined : await secretFile(`tls.${option}`, path);
    const [ca, cert, key] = await Promise.all([read('caFile', t.caFile), read('certFile', t.certFile), read('keyFile', t.keyFile)]);
    tls = { ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}) };
  }
  const { replicas, streamPrefix } = options;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1 || replicas > 5))
    throw invalid('replicas', 'must be an integer in 1..5');
  if (streamPrefix !== undefined && (typeof streamPrefix !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(streamPrefix)))
    throw invalid('streamPrefix', 'must be 1 to 32 letters, digits, "_" or "-"');
  return {
    servers: [...servers],
    name: options.name,
    credentials,
    tls,
    connectTimeoutMs,
    whenUnreachable,
    reconnectWaitMs,
    replicas,
    streamPrefix,
  };
}
