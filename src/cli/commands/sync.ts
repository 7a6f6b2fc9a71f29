/**
 * `crossbus sync`: its options, help and subcommands. `crossbus sync <dir> --doc <name>` mirrors
 * a folder and a file tree document both ways (./sync-mirror.ts); `crossbus sync conflicts` and
 * `crossbus sync resolve`: ./sync-conflicts.ts. Exit codes: 0 ok,
 * 1 the hub or the document refused or failed (the CB_ERR_ code is printed), 2 usage error.
 */
import { DEFAULT_FOLDER_DETECT, DEFAULT_FOLDER_SCAN_MS } from '../../node/sync/folder-mirror.js';
import { DEFAULT_SYNC_INTERVAL_MS } from '../../client/sync/defaults.js';
import { UsageError, defineOptions, parseOptions } from '../options.js';
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, clientSections, printHelp } from './client-command.js';
import { conflictsCommand, resolveCommand } from './sync-conflicts.js';
import { DEFAULT_MIRROR_STORE, mirrorCommand } from './sync-mirror.js';

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
the document are joined. A file edited here while another replica changed it is merged when both
are texts whose edits do not overlap ("merge <path>"); otherwise this folder's version is kept and
the other is written beside it as "<name> (conflicted copy from <replica> <date> UTC).<ext>"
("conflict <path>"). Without the hub the mirror starts anyway ("waiting for the hub" on stderr):
the folder is joined to the copy in --store, edits wait there, and all syncs once the hub answers
(a document never mirrored with this store waits for the hub to open). A refusal exits 1.
A folder named like a subcommand is given as ./conflicts. The app needs
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
