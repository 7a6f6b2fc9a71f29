/**
 * `crossbus sync <dir> --doc <name>`: mirrors a folder and a file tree document both ways
 * (FolderMirror) until SIGINT or SIGTERM. What the folder held at the last sync is kept beside the
 * offline queue, so that a file deleted while the mirror was not running is deleted from the
 * document too.
 *
 * It does not need the hub to start: when the hub cannot be reached, it says so (the hub's address
 * without credentials), opens the document from its store (the offline queue and the last
 * confirmed state, `--store`), joins the folder to it, and keeps the folder's edits in the queue;
 * the bus connects in the background, and once it does the document joins its log and everything
 * syncs. A document the store does not hold yet (never mirrored with this store) needs the hub
 * to open: the mirror starts once the hub answers. A refusal once the hub answers (credentials)
 * ends the command with exit 1 and the CB_ERR code, as it does at the start.
 */
import { stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { isCrossbusError, type CrossbusError } from '../../core/errors/index.js';
import type { SyncingBus } from '../../client/sync/syncing-bus.js';
import type { OpenOptions } from '../../client/sync/open-doc.js';
import type { SyncDocument } from '../../client/sync/sync-doc.js';
import type { SyncStore } from '../../client/sync/store.js';
import { FileSyncStore } from '../../node/sync/file-sync-store.js';
import { FolderMirror, DEFAULT_FOLDER_DETECT, type MirrorEvent } from '../../node/sync/folder-mirror.js';
import { MIRROR_PRIVATE_PREFIX, type FolderDetect } from '../../node/sync/folder-files.js';
import { mirrorStateFile } from '../../node/sync/folder-state.js';
import { connectPatiently } from '../client-connection.js';
import { CliError, UsageError, intOption } from '../options.js';
import { out } from './client-command.js';
import { printable } from './streams-format.js';
import type { SyncValues } from './sync.js';

/** The folder, in the mirrored folder, where the mirror keeps its offline queue unless told otherwise. */
export const DEFAULT_MIRROR_STORE = `${MIRROR_PRIVATE_PREFIX}-sync`;

export async function mirrorCommand(values: SyncValues, dirArg: string, doc: string): Promise<number> {
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
  let bus: SyncingBus | undefined;
  let document: SyncDocument<unknown> | undefined;
  let mirror: FolderMirror | undefined;
  try {
    const connection = await connectPatiently(values);
    bus = connection.bus;
    // The run ends at a signal (undefined), when the bus closes for good (the hub refused it: its
    // error), or when a document opened from its store may not join its log (its error).
    let end: (error: CrossbusError | undefined) => void = () => {};
    const ended = new Promise<CrossbusError | undefined>((resolve) => {
      end = resolve;
      process.once('SIGINT', () => resolve(undefined));
      process.once('SIGTERM', () => resolve(undefined));
      bus?.on('closed', (e) => resolve(e.error));
    });
    if (connection.waiting !== undefined) {
      process.stderr.write(`waiting for the hub at ${printable(connection.hub)} (${connection.waiting.code})\n`);
      const off = bus.on('connected', () => {
        off();
        process.stderr.write(`connected to the hub at ${printable(connection.hub)}\n`);
      });
    }
    const options: OpenOptions = {
      kind: 'files',
      mode,
      store,
      detect: given ?? DEFAULT_FOLDER_DETECT,
      ...(intervalMs !== undefined ? { intervalMs } : {}),
    };
    document = await openWhenPossible(bus, doc, options, storeDir, ended);
    if (document !== undefined) {
      document.on('error', ({ error, joining }) => {
        // Refused for good (not allowed, not valid): the same end as when the document is opened with the hub.
        if (joining === true && !error.retryable) end(error);
        else process.stderr.write(`crossbus: ${printable(doc)}: ${error.message} (${error.code})\n`);
      });
      mirror = new FolderMirror(dir, document, {
        // Given, or as the document was created with (a new one: the mirror's default).
        detect: given ?? document.detect,
        ...(scanIntervalMs !== undefined ? { scanIntervalMs } : {}),
        // Beside the offline queue: what the folder held at the last sync.
        stateFile: mirrorStateFile(storeDir, doc),
        onSynced: (e) => out(mirrorLine(e)),
        onError: (error, path) => process.stderr.write(`crossbus: ${printable(path)}: ${error.message} (${error.code})\n`),
      });
      await mirror.start();
      process.stderr.write(`mirroring ${dir} <-> ${doc}\n`);
    }
    const refused = await ended;
    if (refused !== undefined) throw connection.explain(refused);
  } finally {
    await mirror?.stop();
    await document?.close();
    await bus?.close();
    await store.close?.();
  }
  return 0;
}

/**
 * The document: from the store when the hub is away, or once the hub answers when the store does
 * not hold it (CB_ERR_CONNECTION_FAILED: opening a document the first time needs the hub).
 * Undefined when the run ended first.
 */
async function openWhenPossible(
  bus: SyncingBus,
  doc: string,
  options: OpenOptions,
  storeDir: string,
  ended: Promise<unknown>,
): Promise<SyncDocument<unknown> | undefined> {
  let said = false;
  for (;;) {
    try {
      const document = await bus.sync.open(doc, options);
      if (bus.state !== 'connected') {
        process.stderr.write(`${printable(doc)} opened from ${printable(storeDir)}: edits wait there until the hub answers\n`);
      }
      return document;
    } catch (err) {
      if (!isCrossbusError(err) || err.code !== 'CB_ERR_CONNECTION_FAILED') throw err;
    }
    // Connected meanwhile: open it with the hub.
    if (bus.state === 'connected') continue;
    if (!said) {
      said = true;
      process.stderr.write(`${printable(doc)} is not in ${printable(storeDir)} yet: the mirror starts once the hub answers\n`);
    }
    let off = (): void => {};
    const connected = new Promise<boolean>((resolve) => {
      off = bus.on('connected', () => resolve(true));
    });
    const go = await Promise.race([connected, ended.then(() => false)]);
    off();
    if (!go) return undefined;
  }
}

/** One line per file carried across. */
function mirrorLine(e: MirrorEvent): string {
  const path = printable(e.path);
  if (e.action === 'merge') return `merge ${path}: edited here and remotely, both edits kept\n`;
  if (e.action === 'conflict') {
    return `conflict ${path}: edited here and remotely; this folder's version kept, the other is ${printable(e.copy)}\n`;
  }
  return `${e.direction} ${e.action} ${path}\n`;
}
