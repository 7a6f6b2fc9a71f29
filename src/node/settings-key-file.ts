/**
 * Where the hub's settings key comes from: the environment variable CROSSBUS_SETTINGS_KEY (the
 * base64 of 32 random bytes, for hubs whose data folder must not hold it), else the file
 * `<data>/settings.key` (created with 32 random bytes on the first start, readable by the owner
 * only), else, for a hub without a data folder, a key that lives as long as the process (as do
 * its streams). The key is never logged and never leaves the hub.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors/index.js';
import { SettingsKey } from '../core/settings/settings-key.js';
import { PRIVATE_FILE_MODE } from './atomic-file.js';
import { dataFile } from './paths.js';

export const SETTINGS_KEY_ENV = 'CROSSBUS_SETTINGS_KEY';
export const SETTINGS_KEY_FILE_NAME = 'settings.key';
const KEY_BYTES = 32;

export async function loadSettingsKey(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SettingsKey> {
  const fromEnv = env[SETTINGS_KEY_ENV];
  if (fromEnv !== undefined) {
    const raw = Buffer.from(fromEnv, 'base64');
    if (raw.length !== KEY_BYTES || raw.toString('base64').replace(/=+$/, '') !== fromEnv.trim().replace(/=+$/, '')) {
      throw new ConfigError('CB_ERR_CONFIG_INVALID', `${SETTINGS_KEY_ENV} must be the base64 of ${KEY_BYTES} bytes`, {
        details: { path: SETTINGS_KEY_ENV },
      });
    }
    return SettingsKey.import(raw);
  }
  if (dataDir === undefined) return SettingsKey.import(randomBytes(KEY_BYTES));
  const file = dataFile(dataDir, SETTINGS_KEY_FILE_NAME);
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    raw = randomBytes(KEY_BYTES);
    // 'wx': of two hubs racing on one folder (the lock forbids it, but still) only one writes.
    await writeFile(file, raw, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  }
  if (raw.length !== KEY_BYTES) {
    throw new ConfigError('CB_ERR_CONFIG_INVALID', `${file} must hold ${KEY_BYTES} bytes`, { details: { path: file } });
  }
  return SettingsKey.import(raw);
}
