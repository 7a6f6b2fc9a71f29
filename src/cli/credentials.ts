/**
 * Where the CLI's client commands get an app's credentials, in order: --secret-file or
 * CROSSBUS_SECRET_FILE; the app's newest valid key in --config; the hub config in the default
 * data directory (so that `crossbus pub` works next to a hub started with defaults). A secret is
 * never taken from the command line, and never appears in an error message.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfigFile, CONFIG_FILE_NAME } from '../node/config/config-file.js';
import { toBase64 } from '../core/security/bytes.js';
import { DEFAULT_DATA_DIR } from '../node/defaults.js';
import { DEFAULT_CLIENT_APP } from './defaults.js';
import { ENV_NAME, ENV_SECRET_FILE, nonEmpty } from './client-flags.js';
import { CliError } from './options.js';

/** The shortest secret the client accepts, in bytes. */
const MIN_SECRET_BYTES = 32;

export interface Credentials {
  name: string;
  secret?: string;
  /** Where the secret came from, for error messages that say what to check. */
  source: { kind: 'secret-file'; path: string; fromEnv: boolean } | { kind: 'config'; path: string } | { kind: 'none' };
}

export interface CredentialFlags {
  name?: string | undefined;
  'secret-file'?: string | undefined;
  config?: string | undefined;
  data?: string | undefined;
  insecure?: boolean | undefined;
}

/** `defaultApp`: the app used when neither --name nor CROSSBUS_NAME names one (the admin commands use "admin"). */
export async function resolveCredentials(flags: CredentialFlags, defaultApp = DEFAULT_CLIENT_APP): Promise<Credentials> {
  // Earlier versions read the secret itself from the environment; ignoring it silently would
  // connect as another app, or as none.
  if (process.env.CROSSBUS_SECRET !== undefined) {
    throw new CliError(
      `CROSSBUS_SECRET is no longer read: put the secret in a file only you can read and set ${ENV_SECRET_FILE} to its path`,
    );
  }
  const name = flags.name ?? nonEmpty(process.env[ENV_NAME]) ?? defaultApp;
  if (flags.insecure) return { name: flags.name ?? 'crossbus-cli', source: { kind: 'none' } };
  const envFile = nonEmpty(process.env[ENV_SECRET_FILE]);
  const secretFile = flags['secret-file'] ?? envFile;
  if (secretFile !== undefined) {
    const fromEnv = flags['secret-file'] === undefined;
    return { name, secret: await readSecretFile(secretFile, fromEnv), source: { kind: 'secret-file', path: secretFile, fromEnv } };
  }
  const file = flags.config ?? join(flags.data ?? DEFAULT_DATA_DIR, CONFIG_FILE_NAME);
  if (flags.config === undefined && !existsSync(file)) return { name: flags.name ?? 'crossbus-cli', source: { kind: 'none' } };
  const config = await loadConfigFile(file);
  const app = config.apps.get(name);
  if (app === undefined) throw new CliError(`app ${JSON.stringify(name)} is not in ${file}: pass --name or set ${ENV_NAME}`);
  const now = Date.now();
  const valid = app.keys.filter(
    (k) => (k.notBefore === undefined || k.notBefore <= now) && (k.expiresAt === undefined || k.expiresAt > now),
  );
  // The newest key: the one a rotation added last.
  const key = valid[valid.length - 1];
  if (key === undefined)
    throw new CliError(`app ${JSON.stringify(name)} has no valid key in ${file}: add one with 'crossbus keys rotate ${name}'`);
  return { name, secret: toBase64(key.secret), source: { kind: 'config', path: file } };
}

async function readSecretFile(path: string, fromEnv: boolean): Promise<string> {
  const flag = fromEnv ? ENV_SECRET_FILE : '--secret-file';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read the secret file ${path} (${flag}): ${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')}`);
  }
  const secret = text.trim();
  if (secret === '') throw new CliError(`the secret file ${path} (${flag}) is empty`);
  // The same rule as the client's, said in terms of the file (and never showing what is in it).
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret) || Buffer.from(secret, 'base64').length < MIN_SECRET_BYTES)
    throw new CliError(`the secret file ${path} (${flag}) does not hold a secret: base64 of at least ${MIN_SECRET_BYTES} bytes`);
  return secret;
}
