/**
 * Opening a document: its names, what the store kept, its stream (created by the first replica
 * to open it), the replica (from the kept snapshot, or from the stream's latest one when entries
 * it never read are gone), the log read to its end, the kind checked against the document's, the
 * meta proposed when the log has none, and the offline queue sent. Runtime-neutral.
 */
import { ConfigError, type CrossbusError } from '../../core/errors/index.js';
import {
  DEFAULT_SYNC_MAX_INFLATED_BYTES,
  SyncReplica,
  resolveMeta,
  type Change,
  type DocumentLimits,
  type DocumentMeta,
  type PathStrategy,
  type SyncReplicaOptions,
  type SyncResolver,
  type SyncSnapshot,
} from '../../core/sync/index.js';
import type { Bus } from '../bus.js';
import { DocContext } from './doc-context.js';
import type { DocumentParts } from './sync-doc.js';
import { LocalChanges } from './local-changes.js';
import { LogReader } from './log-reader.js';
import { docNames } from './names.js';
import { resolveClientOpenOptions, type ClientOpenOptions, type ResolvedSyncOptions } from './options.js';
import { OrderedFeed } from './ordered-feed.js';
import { decodeSnapshot } from './snapshot-codec.js';
import { ensureStream, latestSnapshot } from './stream-setup.js';

/** open()'s options: this client's, and what a new document is created with. */
export interface OpenOptions extends ClientOpenOptions {
  /**
   * `json` (any JSON value) or `files` (a tree of text and binary files). A new document is
   * created with it; an existing one must be of it. @default the document's kind; 'json' for a new one
   */
  kind?: 'json' | 'files';
  /** How a file mirror notices changed files (`crossbus sync <dir>`); set when the document is created. @default 'seq' */
  detect?: 'seq' | 'timestamp' | 'hash';
  /** Conflict strategies by path glob, first match first (`lww`, `merge`, `manual`, `custom:<name>`); set when the document is created. @default [] (merge) */
  strategies?: readonly PathStrategy[];
  /** The limits every replica shares (history, conflicts, sizes); set when the document is created. @default see DocumentLimits */
  limits?: DocumentLimits;
  /** Resolvers for `custom:<name>` strategies, run for this replica's own parked changes. @default {} */
  resolvers?: Readonly<Record<string, SyncResolver>>;
  /** The hybrid logical clock's time source. @default Date.now */
  clock?: () => number;
}

const DETECTION = { seq: 'sequence', timestamp: 'timestamp', hash: 'hash' } as const;

function proposedMeta(o: OpenOptions): DocumentMeta {
  const detect = o.detect ?? 'seq';
  if (!(detect in DETECTION)) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `detect must be 'seq', 'timestamp' or 'hash', got ${JSON.stringify(String(detect))}`, {
      details: { option: 'detect' },
    });
  }
  const meta: DocumentMeta = {
    kind: o.kind ?? 'json',
    changeDetection: DETECTION[detect],
    ...(o.strategies !== undefined ? { strategies: o.strategies.map((s) => ({ path: s.path, strategy: s.strategy })) } : {}),
    ...(o.limits !== undefined ? { limits: { ...o.limits } } : {}),
  };
  resolveMeta(meta); // a bad strategy or limit fails here, before anything is sent
  return meta;
}

export async function openDocument(bus: Bus, doc: string, options: OpenOptions, sync: ResolvedSyncOptions): Promise<DocumentParts> {
  const client = resolveClientOpenOptions(options);
  const meta = proposedMeta(options);
  const names = await docNames(doc, sync.topicPrefix, sync.crypto);
  const store = options.store ?? sync.store;
  const stored = await store.load(doc);
  const info = await ensureStream(bus, names);
  const replicaOptions: SyncReplicaOptions = {
    crypto: sync.crypto,
    maxPending: client.maxPendingChanges,
    ...(stored !== undefined ? { replica: stored.replica } : {}),
    ...(options.resolvers !== undefined ? { resolvers: options.resolvers } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  };
  const pending = (stored?.pending ?? []) as Change[];
  const restored = { ...replicaOptions, pending, rseq: stored === undefined ? 0 : stored.nextRseq - 1 };
  let replica =
    stored?.snapshot !== undefined ? SyncReplica.fromSnapshot(stored.snapshot as SyncSnapshot, restored) : new SyncReplica(restored);
  // Entries this replica never read are gone: the latest snapshot stands in for them.
  if (replica.seq + 1 < info.state.firstSeq) {
    const found = await latestSnapshot(bus, names);
    if (found !== undefined) {
      const snapshot = decodeSnapshot(found.data, DEFAULT_SYNC_MAX_INFLATED_BYTES);
      if (snapshot.seq >= replica.seq) replica = SyncReplica.fromSnapshot(snapshot, { ...restored, rseq: replica.rseq });
    }
  }
  const ctx = new DocContext(bus, names, client, store, sync.crypto, { ...replicaOptions, replica: replica.id }, replica, meta);
  const local = new LocalChanges(ctx);
  const reader = new LogReader(ctx, local);
  const feed = new OrderedFeed(bus, { stream: names.stream, afterSeq: replica.seq, maxAckPending: client.maxAckPending }, reader);
  reader.attach(feed);
  const fail = async (error: unknown): Promise<never> => {
    feed.close();
    local.close(error as CrossbusError);
    ctx.closed = true;
    ctx.detach();
    throw error;
  };
  try {
    await feed.start();
    const { state } = await bus.streams.info(names.stream);
    await reader.reached(state.lastSeq);
    const kind = ctx.replica.meta?.kind ?? 'json';
    if (ctx.replica.meta !== undefined && options.kind !== undefined && options.kind !== kind) {
      throw new ConfigError(
        'CB_ERR_CONFLICTING_OPTIONS',
        `document ${JSON.stringify(doc)} is a ${kind === 'files' ? 'file tree' : 'JSON document'}, opened as kind ${JSON.stringify(options.kind)}`,
        {
          details: { option: 'kind', kind },
        },
      );
    }
    // A queue saved first: the replica's id is kept from now on.
    if (stored === undefined) local.save();
    const saved = pending[pending.length - 1]?.rseq ?? 0;
    local.proposeMeta();
    local.start(saved);
  } catch (error) {
    return fail(error);
  }
  return { ctx, local, reader, feed };
}
