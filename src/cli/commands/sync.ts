/**
 * `crossbus sync <dir> --doc <name>`: mirrors a folder and a file tree document both ways until
 * SIGINT or SIGTERM; what the folder held at the last sync is kept beside the offline queue, so
 * that a file deleted while the mirror was not running is deleted from the document too.
 * `crossbus sync conflicts` and `crossbus sync resolve`: ./sync-conflicts.ts. Exit codes: 0 ok,
 * 1 the hub or the document refused or failed (the CB_ERR_ code is printed), 2 usage error.
 */
import { stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { SyncStore } from '../../client/sync/store.js';
import { FileSyncStore } from '../../node/sync/file-sync-store.js';
import { FolderMirror, DEFAULT_FOLDER_DETECT, DEFAULT_FOLDER_SCAN_MS } from '../../node/sync/folder-mirror.js';
import { MIRROR_PRIVATE_PREFIX, type FolderDetect } from '../../node/sync/folder-files.js';
import { mirrorStateFile } from '../../node/sync/folder-state.js';
import { DEFAULT_SYNC_INTERVAL_MS } from '../../client/sync/defaults.js';
import { connectClient } from '../client-connection.js';
import { CliError, UsageError, defineOptions, intOption, parseOptions } from '../options.js';
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, clientSections, out, printHelp } from './client-command.js';
import { printable } from './streams-format.js';
import { conflictsCommand, resolveCommand } from './sync-conflicts.js';

/** The folder, in the mirrored folder, where the mirror keeps its offline queue unless told otherwise. */
export const DEFAULT_MIRROR_STORE = `${MIRROR_PRIVATE_PREFIX}-sync`;

const SYNC_OPTIONS = defineOptions({
  doc: { type: 'string', placeholder: '<name>', description: 'the document: tokens separated by "/" (project/42)' },
  detect: {
    type: 'string',
    placeholder: '<how>',
    description: 'how a changed file is noticed: timestamp (size and mtime), hash (SHA-256 of every file), seq (every notice)',
    default: `the document's, or ${DEFAULT_FOLDER_DETECT} for a new one`,
  },
  mode: {
    type: 'string',
    placeholder: '<mode>',
    description: 'realtime (each change at once) or batch (every --interval)',
    default: 'realtime',
  },
  interval: {
    type: 'string',
    placeholder: '<ms>',
    description: 'batch mode: send the edits of this long as one change',
    default: DEFAULT_SYNC_INTERVAL_MS,
  },
  'scan-interval': {
    type: 'string',
    placeholder: '<ms>',
    description: 'scan the folder this often besides watching it; 0: never',
    default: DEFAULT_FOLDER_SCAN_MS,
  },
  store: {
    type: 'string',
    placeholder: '<dir>',
    description: 'where edits made offline are kept until the hub has them',
    default: `<dir>/${DEFAULT_MIRROR_STORE}`,
  },
  conflict: { type: 'string', placeholder: '<id>', description: 'resolve: the conflict, as listed by `crossbus sync conflicts`' },
  take: { type: 'string', placeholder: '<side>', description: 'resolve: local (keep what is there), remote (the parked change) or merged' },
  value: { type: 'string', placeholder: '<json>', description: 'resolve --take merged: the value, as JSON' },
  file: {
    type: 'string',
    placeholder: '<path>',
    description: "resolve --take merged: the value from a file (a file tree's file content, or JSON)",
  },
  json: {
    type: 'boolean',
    description: 'conflicts: print the ConflictInfo array as JSON (with --watch, then each announcement as JSON, one per line)',
  },
  watch: {
    type: 'boolean',
    description: 'conflicts: after the list, print each conflict parked or resolved as it is announced, until SIGINT or SIGTERM',
  },
  ...COMMON_OPTIONS,
});

const MIRROR_FLAGS = ['doc', 'detect', 'mode', 'interval', 'scan-interval', 'store', 'url', 'help'] as const;
const CONFLICTS_FLAGS = ['doc', 'json', 'watch', 'url', 'help'] as const;
const RESOLVE_FLAGS = ['doc', 'conflict', 'take', 'value', 'file', 'url', 'help'] as const;

export const SYNC_HELP = `Usage:
  crossbus sync <dir> --doc <name> [--detect timestamp|hash|seq] [--mode realtime|batch] [--store <dir>]
                                       mirror a folder and a file tree document both ways
  crossbus sync conflicts --doc <name> [--json] [--watch]
                                       list the document's parked conflicts; --watch: then
                                       each one parked or resolved, as it is announced
  crossbus sync resolve --doc <name> --conflict <id> --take local|remote|merged [--value <json> | --file <path>]
                                       settle a conflict, for every replica

The mirror prints one line per file it carries ("up" into the document, "down" into the folder)
and runs until SIGINT or SIGTERM; "mirroring <dir> <-> <name>" goes to stderr once the folder and
the document are joined. A folder named like a subcommand is given as ./conflicts. The app needs
a subscribe grant on sync.<name with dots> and sync.<name>.snap to read, a publish grant on
sync.<name> (and .snap) to write: a document is topics. Conflicts are announced on
sync.<name>.conflicts (--watch subscribes there).

${clientSections(SYNC_OPTIONS)}`;

export async function syncCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...SYNC_OPTIONS, ...CREDENTIAL_OPTIONS }, argv);
  if (values.help) return printHelp(SYNC_HELP);
  const [first, extra] = positionals;
  if (first === undefined) throw new UsageError('sync takes <dir>, conflicts or resolve');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  const sub = first === 'conflicts' || first === 'resolve' ? first : 'mirror';
  const allowed: readonly string[] = sub === 'mirror' ? MIRROR_FLAGS : sub === 'conflicts' ? CONFLICTS_FLAGS : RESOLVE_FLAGS;
  const own = Object.keys(SYNC_OPTIONS).filter((k) => !allowed.includes(k) && values[k as keyof typeof values] !== undefined);
  if (own.length > 0) throw new UsageError(`--${own[0]} does not apply to sync ${sub === 'mirror' ? '<dir>' : sub}`);
  const doc = values.doc;
  if (doc === undefined) throw new UsageError(`sync ${sub === 'mirror' ? '<dir>' : sub} needs --doc <name>`);
  if (sub === 'conflicts') return conflictsCommand(values, doc);
  if (sub === 'resolve') return resolveCommand(values, doc);
  return mirrorCommand(values, first, doc);
}

export type SyncValues = ReturnType<typeof parseOptions<typeof SYNC_OPTIONS & typeof CREDENTIAL_OPTIONS>>['values'];

async function mirrorCommand(values: SyncValues, dirArg: string, doc: string): Promise<number> {
  const dir = resolvePath(dirArg);
  const given = values.detect as FolderDetect | undefined;
  if (given !== undefined && !['timestamp', 'hash', 'seq'].includes(given)) throw new UsageError('--detect must be timestamp, hash or seq');
  const mode = values.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'batch') throw new UsageError('--mode must be realtime or batch');
  const intervalMs = intOption('interval', values.interval, 1, 86_400_000);
  const scanIntervalMs = intOption('scan-interval', values['scan-interval'], 0, 86_400_000);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new CliError(`${dir} is not a folder`);
  const storeDir = values.store !== undefined ? resolvePath(values.store) : join(dir, DEFAULT_MIRROR_STORE);
  const store: SyncStore = new FileSyncStore(storeDir);
  const bus = await connectClient(values, undefined, { reconnect: true });
  let mirror: FolderMirror | undefined;
  try {
    const document = await bus.sync.open(doc, {
      kind: 'files',
      mode,
      store,
      detect: given ?? DEFAULT_FOLDER_DETECT,
      ...(intervalMs !== undefined ? { intervalMs } : {}),
    });
    mirror = new FolderMirror(dir, document, {
      // Given, or as the document was created with (a new one: the mirror's default).
      detect: given ?? document.detect,
      ...(scanIntervalMs !== undefined ? { scanIntervalMs } : {}),
      // Beside the offline queue: what the folder held at the last sync.
      stateFile: mirrorStateFile(storeDir, doc),
      onSynced: (e) => out(`${e.direction} ${e.action} ${printable(e.path)}\n`),
      onError: (error, path) => process.stderr.write(`crossbus: ${printable(path)}: ${error.message} (${error.code})\n`),
    });
    await mirror.start();
    process.stderr.write(`mirroring ${dir} <-> ${doc}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      bus.on('closed', () => resolve());
    });
    await mirror.stop();
    await document.close();
  } finally {
    await mirror?.stop();
    await bus.close();
    await store.close?.();
  }
  return 0;
}
