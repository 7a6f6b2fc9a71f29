/**
 * How a client command connects: the URL and credentials from flags or the environment, and a
 * refused connection explained in the CLI's terms (which flag or file to check), not the API's.
 */
import { connect, type ConnectOptions, type SyncingBus } from '../node/index.js';
import { isCrossbusError } from '../core/errors/index.js';
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

/** The refusal as the person at the terminal needs it; other errors unchanged. */
export function explainConnectFailure(err: unknown, credentials: Credentials, url: string): unknown {
  if (!isCrossbusError(err)) return err;
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
