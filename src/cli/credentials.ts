/**
 * Where the CLI's client commands (pub, sub, request) get an app's credentials, in order:
 * --secret or CROSSBUS_SECRET; the app's newest valid key in --config; the hub config in the
 * default data directory (so that `crossbus pub` works next to a hub started with defaults).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile, CONFIG_FILE_NAME } from '../node/config/config-file.js';
import { toBase64 } from '../core/security/bytes.js';
import { DEFAULT_DATA_DIR } from '../node/defaults.js';
import { DEFAULT_CLIENT_APP } from './defaults.js';

export interface Credentials {
  name: string;
  secret?: string;
}

/** `defaultApp`: the app used when neither --name nor CROSSBUS_NAME names one (the stream commands use "admin"). */
export async function resolveCredentials(
  flags: {
    name?: string | undefined;
    secret?: string | undefined;
    config?: string | undefined;
    data?: string | undefined;
    insecure?: boolean | undefined;
  },
  defaultApp = DEFAULT_CLIENT_APP,
): Promise<Credentials> {
  const secret = flags.secret ?? process.env.CROSSBUS_SECRET;
  if (flags.insecure) return { name: flags.name ?? 'crossbus-cli' };
  if (secret !== undefined) return { name: flags.name ?? process.env.CROSSBUS_NAME ?? defaultApp, secret };
  const file = flags.config ?? join(flags.data ?? DEFAULT_DATA_DIR, CONFIG_FILE_NAME);
  if (flags.config === undefined && !existsSync(file)) return { name: flags.name ?? 'crossbus-cli' };
  const config = await loadConfigFile(file);
  const name = flags.name ?? process.env.CROSSBUS_NAME ?? defaultApp;
  const app = config.apps.get(name);
  if (app === undefined) throw new Error(`app ${JSON.stringify(name)} is not in ${file} (use --name)`);
  const now = Date.now();
  const valid = app.keys.filter(
    (k) => (k.notBefore === undefined || k.notBefore <= now) && (k.expiresAt === undefined || k.expiresAt > now),
  );
  // The newest key: the one a rotation added last.
  const key = valid[valid.length - 1];
  if (key === undefined) throw new Error(`app ${JSON.stringify(name)} has no valid key in ${file}`);
  return { name, secret: toBase64(key.secret) };
}
