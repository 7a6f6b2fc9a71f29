/**
 * `crossbus reload` and `crossbus keys rotate <app>`: change what the running hub enforces.
 * Both reach the hub through its pid file (SIGHUP makes it re-read its config).
 */
import { join } from 'node:path';
import { rotateKey, CONFIG_FILE_NAME } from '../../node/config/config-file.js';
import { HELP_OPTION, defineOptions, optionsHelp, parseOptions } from '../options.js';
import { signalHub } from './signal-hub.js';
import { DEFAULT_DATA_DIR, DEFAULT_ROTATION_GRACE_MS } from '../../node/defaults.js';

export interface AdminIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const DAY_MS = 86_400_000;

const RELOAD_OPTIONS = defineOptions({
  data: { type: 'string', placeholder: '<dir>', description: 'the state directory of the hub to reload', default: DEFAULT_DATA_DIR },
  ...HELP_OPTION,
});

const KEYS_OPTIONS = defineOptions({
  config: {
    type: 'string',
    placeholder: '<file>',
    description: 'the config file to add the key to',
    default: `<data>/${CONFIG_FILE_NAME}`,
  },
  data: {
    type: 'string',
    placeholder: '<dir>',
    description: 'the state directory of the hub (its config file, and the hub that reloads)',
    default: DEFAULT_DATA_DIR,
  },
  'grace-days': {
    type: 'string',
    placeholder: '<n>',
    description: "how long the app's current keys stay valid, in days",
    default: DEFAULT_ROTATION_GRACE_MS / DAY_MS,
  },
  ...HELP_OPTION,
});

export const RELOAD_HELP = `Usage: crossbus reload [--data <dir>]

Makes the hub of <dir> (default ${DEFAULT_DATA_DIR}) re-read its config (the same as SIGHUP). Open
connections get the new grants at once: subscriptions no longer allowed end with CB_ERR_FORBIDDEN,
sessions of removed apps or keys are closed with CB_ERR_REVOKED.

${optionsHelp([{ title: 'Options:', options: RELOAD_OPTIONS }])}`;

export const KEYS_HELP = `Usage: crossbus keys rotate <app> [--config <file> | --data <dir>] [--grace-days <n>]

Adds a fresh secret (new key id) to <app> in the config file, prints it once, and sets the expiry of
the app's current keys to now + grace (default ${DEFAULT_ROTATION_GRACE_MS / DAY_MS} days): clients keep working with the old
key until then, and sessions still on it are closed with CB_ERR_KEY_EXPIRED when it expires.
The running hub of <dir> reloads its config at once.

${optionsHelp([{ title: 'Options:', options: KEYS_OPTIONS }])}`;

export async function reloadCommand(args: string[], io: AdminIo): Promise<number> {
  const { values } = parseOptions(RELOAD_OPTIONS, args, false);
  if (values.help) {
    io.stdout(`${RELOAD_HELP}\n`);
    return 0;
  }
  const dataDir = values.data ?? DEFAULT_DATA_DIR;
  const pid = await signalHub(dataDir, 'SIGHUP');
  if (pid === undefined) {
    io.stderr(`crossbus: no running hub found for ${dataDir} (no usable hub.pid)\n`);
    return 1;
  }
  io.stdout(`asked the hub (pid ${pid}) to reload its config; its log and audit log say how it went\n`);
  return 0;
}

export async function keysCommand(args: string[], io: AdminIo): Promise<number> {
  const { values, positionals } = parseOptions(KEYS_OPTIONS, args);
  if (values.help) {
    io.stdout(`${KEYS_HELP}\n`);
    return 0;
  }
  const [sub, app, extra] = positionals;
  if (sub !== 'rotate' || app === undefined || extra !== undefined) {
    io.stderr(`crossbus: keys takes: rotate <app>\n${KEYS_HELP}\n`);
    return 2;
  }
  let graceMs = DEFAULT_ROTATION_GRACE_MS;
  if (values['grace-days'] !== undefined) {
    const days = Number(values['grace-days']);
    if (!(days >= 0 && days <= 3650)) {
      io.stderr('crossbus: --grace-days must be a number in 0..3650\n');
      return 2;
    }
    graceMs = Math.round(days * DAY_MS);
  }
  const dataDir = values.data ?? DEFAULT_DATA_DIR;
  const file = values.config ?? join(dataDir, CONFIG_FILE_NAME);
  const r = await rotateKey(file, app, { graceMs });
  // The one place a secret is printed: to the operator who asked for it, never to a log.
  io.stdout(`new key ${r.keyId} for app ${app}:\n${r.secret}\n`);
  io.stdout(
    r.previousExpiresAt === undefined
      ? 'no earlier key was valid\n'
      : `earlier keys stay valid until ${new Date(r.previousExpiresAt).toISOString()}\n`,
  );
  const pid = await signalHub(dataDir, 'SIGHUP');
  io.stdout(
    pid === undefined
      ? `no running hub found for ${dataDir}: the key applies when it starts\n`
      : `the hub (pid ${pid}) reloads its config now\n`,
  );
  return 0;
}
