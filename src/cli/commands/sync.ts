/**
 * `crossbus sync <dir> --doc <name>`: mirrors a folder and a file tree document both ways until
 * SIGINT or SIGTERM. `crossbus sync conflicts --doc <name>`: lists the document's parked
 * conflicts. `crossbus sync resolve --doc <name> --conflict <id> --take local|remote|merged`:
 * settles one, for every replica. Exit codes: 0 ok, 1 the hub or the document refused or failed
 * (the CB_ERR_ code is printed), 2 usage error.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { ConflictInfo } from '../../core/sync/index.js';
import type { SyncDocument } from '../../client/sync/sync-doc.js';
import { MemorySyncStore, type SyncStore } from '../../client/sync/store.js';
import { FileSyncStore } from '../../node/sync/file-sync-store.js';
import { FolderMirror, DEFAULT_FOLDER_DETECT, DEFAULT_FOLDER_SCAN_MS } from '../../node/sync/folder-mirror.js';
import { MIRROR_PRIVATE_PREFIX, contentOf, type FolderDetect } from '../../node/sync/folder-files.js';
import { DEFAULT_SYNC_INTERVAL_MS } from '../../client/sync/defaults.js';
import { connectClient } from '../client-connection.js';
import { CliError, UsageError, defineOptions, intOption, parseOptions } from '../options.js';
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, clientSections, out, printHelp } from './client-command.js';
import { printable } from './streams-format.js';

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
  json: { type: 'boolean', description: 'conflicts: print the ConflictInfo array as JSON' },
  ...COMMON_OPTIONS,
});

const MIRROR_FLAGS = ['doc', 'detect', 'mode', 'interval', 'scan-interval', 'store', 'url', 'help'] as const;
const CONFLICTS_FLAGS = ['doc', 'json', 'url', 'help'] as const;
const RESOLVE_FLAGS = ['doc', 'conflict', 'take', 'value', 'file', 'url', 'help'] as const;

export const SYNC_HELP = `Usage:
  crossbus sync <dir> --doc <name> [--detect timestamp|hash|seq] [--mode realtime|batch] [--store <dir>]
                                       mirror a folder and a file tree document both ways
  crossbus sync conflicts --doc <name> [--json]
                                       list the document's parked conflicts
  crossbus sync resolve --doc <name> --conflict <id> --take local|remote|merged [--value <json> | --file <path>]
                                       settle a conflict, for every replica

The mirror prints one line per file it carries ("up" into the document, "down" into the folder)
and runs until SIGINT or SIGTERM; "mirroring <dir> <-> <name>" goes to stderr once the folder and
the document are joined. A folder named like a subcommand is given as ./conflicts. The app needs
a subscribe grant on sync.<name with dots> and sync.<name>.snap to read, a publish grant on
sync.<name> (and .snap) to write: a document is topics.

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

type Values = ReturnType<typeof parseOptions<typeof SYNC_OPTIONS & typeof CREDENTIAL_OPTIONS>>['values'];

/** Opens `doc` on a fresh connection with a store of its own (a replica for this run), runs `body`, closes. */
async function withDocument(values: Values, doc: string, body: (d: SyncDocument<unknown>) => Promise<number>): Promise<number> {
  const bus = await connectClient(values);
  try {
    const document = await bus.sync.open(doc, { store: new MemorySyncStore() });
    try {
      return await body(document);
    } finally {
      await document.close();
    }
  } finally {
    await bus.close();
  }
}

async function conflictsCommand(values: Values, doc: string): Promise<number> {
  return withDocument(values, doc, async (d) => {
    const conflicts = d.conflicts;
    if (values.json) out(`${JSON.stringify(conflicts)}\n`);
    else out(formatConflicts(doc, conflicts));
    return 0;
  });
}

/** The conflicts as a table, or a line saying there are none. */
export function formatConflicts(doc: string, conflicts: readonly ConflictInfo[]): string {
  if (conflicts.length === 0) return `no parked conflicts in ${printable(doc)}\n`;
  const rows = [
    ['ID', 'PATH', 'STRATEGY', 'REPLICA', 'DETECTED'],
    ...conflicts.map((c) => [c.id, printable(c.path), c.strategy, c.replica, new Date(c.detectionTime).toISOString()]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`).join('');
}

async function resolveCommand(values: Values, doc: string): Promise<number> {
  const id = values.conflict;
  if (id === undefined) throw new UsageError('sync resolve needs --conflict <id>');
  const take = values.take;
  if (take !== 'local' && take !== 'remote' && take !== 'merged') throw new UsageError('--take must be local, remote or merged');
  if (values.value !== undefined && values.file !== undefined) throw new UsageError('give --value or --file, not both');
  const given = values.value !== undefined || values.file !== undefined;
  if (take !== 'merged' && given) throw new UsageError('--value and --file go with --take merged');
  let value: unknown;
  if (values.value !== undefined) {
    try {
      value = JSON.parse(values.value);
    } catch {
      throw new UsageError('--value must be JSON (a string in quotes: \'"text"\')');
    }
  }
  const fileBytes = values.file !== undefined ? await readValueFile(values.file) : undefined;
  return withDocument(values, doc, async (d) => {
    if (!d.conflicts.some((c) => c.id === id)) {
      throw new CliError(
        `document ${printable(doc)} has no parked conflict ${printable(id)} ('crossbus sync conflicts --doc ${doc}' lists them)`,
      );
    }
    if (fileBytes !== undefined) value = d.kind === 'files' ? fileContent(fileBytes) : parseJsonFile(fileBytes, values.file as string);
    d.resolve(id, take, ...(take === 'merged' ? [value] : []));
    await d.flushed();
    out(`resolved ${id} (${take})\n`);
    return 0;
  });
}

async function readValueFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read --file ${path}: ${(err as Error).message}`);
  }
}

function fileContent(bytes: Uint8Array): { text: string } | { base64: string } {
  const c = contentOf(bytes);
  return typeof c === 'string' ? { text: c } : { base64: Buffer.from(c).toString('base64') };
}

function parseJsonFile(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new CliError(`--file ${path} is not JSON (a JSON document's merged value is a JSON value)`);
  }
}

async function mirrorCommand(values: Values, dirArg: string, doc: string): Promise<number> {
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
  const store: SyncStore = new FileSyncStore(values.store !== undefined ? resolvePath(values.store) : join(dir, DEFAULT_MIRROR_STORE));
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
