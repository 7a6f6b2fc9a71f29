/**
 * How a client command connects: the URL and credentials from flags or the environment, and a
 * refused connection explained in the CLI's terms (which flag or file to check), not the API's.
 */
import { connect, type ConnectOptions, type SyncingBus } from '../node/index.js';
import { isCrossbusError, type CrossbusError } from '../core/errors/index.js';
import { ENV_NAME, ENV_SECRET_FILE, ENV_URL, hubUrl, type URL_OPTION } from './client-flags.js';
import { resolveCredentials, type CredentialFlags, type Credentials } from './credentials.js';
import { CliError, type OptionValues } from './options.js';

export type ClientFlags = CredentialFlags & OptionValues<typeof URL_OPTION>;

/** Connects as the app the flags name (no reconnects: a command run ends when its connection does). */
export async function connectClient(flags: ClientFlags, defaultApp?: string, options: ConnectOptions = {}): Promise<SyncingBus> {
  const url = hubUrl(flags);
  const credentials = await resolveCredentials(flags, defaultApp);
  const { source: _, ...auth } = credentials;
  try {
    return await connect(url, { ...auth, reconnect: false, ...options });
  } catch (err) {
    throw explainConnectFailure(err, credentials, url);
  }
}

/** A connection of a command that may start before its hub (`crossbus sync <dir>`). */
export interface PatientConnection {
  bus: SyncingBus;
  /** Why the first attempt failed, when it failed for a passing reason: the bus connects in the background meanwhile. */
  waiting?: CrossbusError;
  /** The hub, without credentials, query or fragment: for a line the person reads. */
  hub: string;
  /** A refusal that closed the bus later, explained as at the start. */
  explain(err: unknown): unknown;
}

/**
 * Connects as the app the flags name, with reconnects; when the hub cannot be reached (the first
 * attempt fails for a passing reason: not running, busy, a timeout) the bus is returned still
 * connecting and keeps trying in the background. A refusal (credentials, grants) throws, explained,
 * as connectClient does; one that comes once the hub answers closes the bus with it.
 */
export async function connectPatiently(flags: ClientFlags, options: ConnectOptions = {}): Promise<PatientConnection> {
  const url = hubUrl(flags);
  const credentials = await resolveCredentials(flags);
  const { source: _, ...auth } = credentials;
  const explain = (err: unknown): unknown => explainConnectFailure(err, credentials, url);
  const hub = hubLabel(url);
  try {
    return { bus: await connect(url, { ...auth, reconnect: true, ...options }), hub, explain };
  } catch (err) {
    if (!isCrossbusError(err) || !err.retryable) throw explain(err);
    const bus = await connect(url, { ...auth, reconnect: true, ...options, waitForHub: false });
    return { bus, waiting: err, hub, explain };
  }
}

/** `url` without what it may carry that is not for a terminal: user, password, query, fragment. */
export function hubLabel(url: string): string {
  const hidden = 'the hub given by --url';
  try {
    const u = new URL(url);
    // No host to read a user from (`me:pw@host` parses as a scheme and a path): all of it may be secret.
    if (u.host === '' && url.includes('@')) return hidden;
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.href.replace(/\/$/, '');
  } catch {
    // Not a URL (a socket's path): nothing to hide, unless it looks like it holds a user.
    return url.includes('@') ? hidden : url;
  }
}

/** The refusal as the person at the terminal needs it; other errors unchanged. */
export function explainConnectFailure(err: unknown, credentials: Credentials, hubUrlGiven: string): unknown {
  if (!isCrossbusError(err)) return err;
  const url = hubLabel(hubUrlGiven);
  const app = JSON.stringify(credentials.name);
  const src = credentials.source;
  const check =
    src.kind === 'secret-file'
      ? `check ${src.fromEnv ? ENV_SECRET_FILE : '--secret-file'} (${src.path})`
      : src.kind === 'config'
        ? `check that ${src.path} is the config of the hub at ${url} (--config, --data), or pass --secret-file`
        : `pass --secret-file <path> or set ${ENV_SECRET_FILE}`;
  const said = (text: string): CliError => new CliError(`${text} (${err.code})`);
  switch (err.code) {
    case 'CB_ERR_AUTH_FAILED':
      return said(`the hub refused the secret for app ${app}: ${check}; or name another app with --name or ${ENV_NAME}`);
    case 'CB_ERR_AUTH_REQUIRED':
      return said(`the hub at ${url} requires credentials: ${check}`);
    case 'CB_ERR_KEY_EXPIRED':
      return said(`the key of app ${app} has expired or is not valid yet: ${check}, or add a key with 'crossbus keys rotate'`);
    case 'CB_ERR_REVOKED':
      return said(`the hub revoked app ${app}'s access: ${check}`);
    case 'CB_ERR_HUB_AUTH_FAILED':
      return said(`the hub at ${url} could not prove it knows app ${app}'s secret: ${check}, or check --url`);
    case 'CB_ERR_CONNECTION_FAILED':
      return said(`cannot reach a hub at ${url}: is it running? (--url or ${ENV_URL})`);
    default:
      return err;
  }
}
