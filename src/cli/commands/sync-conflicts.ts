/**
 * `crossbus sync conflicts --doc <name>`: lists the document's parked conflicts; with `--watch`,
 * then prints each conflict parked or resolved as its replica announces it on
 * `<doc topic>.conflicts`, until SIGINT or SIGTERM. `crossbus sync resolve --doc <name> --conflict
 * <id> --take local|remote|merged`: settles one, for every replica.
 */
import { readFile } from 'node:fs/promises';
import { syncConflictsTopic, syncDocTopic, type ConflictInfo } from '../../core/sync/index.js';
import type { ConflictAnnouncement } from '../../client/sync/conflict-announcer.js';
import type { SyncDocument } from '../../client/sync/sync-doc.js';
import { MemorySyncStore } from '../../client/sync/store.js';
import { contentOf } from '../../node/sync/folder-files.js';
import { connectClient } from '../client-connection.js';
import { CliError, UsageError } from '../options.js';
import { out } from './client-command.js';
import { printable } from './streams-format.js';
import type { SyncValues as Values } from './sync.js';

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

export async function conflictsCommand(values: Values, doc: string): Promise<number> {
  if (values.watch) return watchConflicts(values, doc);
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

export async function resolveCommand(values: Values, doc: string): Promise<number> {
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

/**
 * The list, then each announcement as it comes. Subscribed before the list is read, so that
 * nothing announced in between is missed; what arrives meanwhile waits in the subscription.
 */
async function watchConflicts(values: Values, doc: string): Promise<number> {
  const topic = syncConflictsTopic(syncDocTopic(doc));
  const bus = await connectClient(values, undefined, { reconnect: true });
  try {
    const sub = bus.subscribe<unknown>(topic);
    await sub.ready;
    const document = await bus.sync.open(doc, { store: new MemorySyncStore() });
    const conflicts = document.conflicts;
    await document.close();
    out(values.json ? `${JSON.stringify(conflicts)}\n` : formatConflicts(doc, conflicts));
    process.stderr.write(`watching the conflicts of ${printable(doc)} (${topic})\n`);
    const stop = (): void => sub.unsubscribe();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    bus.on('closed', stop);
    for await (const msg of sub) out(values.json ? `${JSON.stringify(msg.data)}\n` : formatAnnouncement(msg.data));
  } finally {
    await bus.close();
  }
  return 0;
}

/** One line per announcement: what happened, to which conflict, by whom. Anything else on the topic is shown as it is. */
export function formatAnnouncement(data: unknown): string {
  const a = data as Partial<ConflictAnnouncement> | null;
  const c = a?.conflict;
  if ((a?.event !== 'parked' && a?.event !== 'resolved') || typeof c?.id !== 'string') {
    return `(not a conflict announcement) ${printable(JSON.stringify(data) ?? '')}\n`;
  }
  const head = `${a.event} ${printable(c.id)} ${printable(String(c.path))} (${printable(String(c.strategy))})`;
  if (a.event === 'parked') return `${head} by ${printable(String(c.replica))}\n`;
  const seconds = typeof c.resolvedTime === 'number' ? ` after ${((c.resolvedTime - c.detectionTime) / 1000).toFixed(1)} s` : '';
  return `${head} ${printable(String(c.resolution))} by ${printable(String(c.resolvedBy))}${seconds}\n`;
}
