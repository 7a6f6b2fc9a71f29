/**
 * Opening a document: its names, what the store kept, the replica (from the kept snapshot and
 * offline queue), its parts, and then joining its log (./log-join.ts). With the bus connected the
 * log is joined before open() resolves; without (an app started while the hub is away, a
 * connection lost), a document the store holds opens from it, takes edits, and joins its log once
 * the bus connects; one the store does not hold needs the hub: CB_ERR_CONNECTION_FAILED.
 * Runtime-neutral.
 */
import { ConfigError, createError, type CrossbusError } from '../../core/errors/index.js';
import {
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
import { ConflictAnnouncer } from './conflict-announcer.js';
import { DocContext } from './doc-context.js';
import type { DocumentParts } from './sync-doc.js';
import { LocalChanges } from './local-changes.js';
import { checkKind, joinLater, joinLog } from './log-join.js';
import { LogReader } from './log-reader.js';
import { docNames } from './names.js';
import { resolveClientOpenOptions, type ClientOpenOptions, type ResolvedSyncOptions } from './options.js';
import { OrderedFeed } from './ordered-feed.js';

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
  const online = bus.state === 'connected';
  if (!online) checkOffline(bus, doc, stored?.snapshot);
  const replicaOptions: SyncReplicaOptions = {
    crypto: sync.crypto,
    maxPending: client.maxPendingChanges,
    ...(stored !== undefined ? { replica: stored.replica } : {}),
    ...(options.resolvers !== undefined ? { resolvers: options.resolvers } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  };
  const pending = (stored?.pending ?? []) as Change[];
  const restored = { ...replicaOptions, pending, rseq: stored === undefined ? 0 : stored.nextRseq - 1 };
  const replica =
    stored?.snapshot !== undefined ? SyncReplica.fromSnapshot(stored.snapshot as SyncSnapshot, restored) : new SyncReplica(restored);
  const ctx = new DocContext(bus, names, client, store, sync.crypto, { ...replicaOptions, replica: replica.id }, replica, meta);
  const local = new LocalChanges(ctx);
  const announcer = new ConflictAnnouncer(ctx);
  const reader = new LogReader(ctx, local, announcer);
  const feed = new OrderedFeed(bus, { stream: names.stream, afterSeq: replica.seq, maxAckPending: client.maxAckPending }, reader);
  reader.attach(feed);
  const parts: DocumentParts = { ctx, local, reader, feed, announcer, stopJoining: () => {} };
  // The changes the store kept were saved before: they go once the log is joined.
  const saved = pending[pending.length - 1]?.rseq ?? 0;
  try {
    if (online) {
      await joinLog(parts, options.kind, saved);
      // A queue saved first: the replica's id is kept from now on.
      if (stored === undefined) local.save();
    } else {
      checkKind(ctx, options.kind);
      parts.stopJoining = joinLater(parts, options.kind, saved);
    }
  } catch (error) {
    feed.close();
    local.close(error as CrossbusError);
    ctx.closed = true;
    ctx.detach();
    throw error;
  }
  return parts;
}

/** Opening without the hub: the bus must be open, and the store must hold the document (its confirmed state). */
function checkOffline(bus: Bus, doc: string, snapshot: unknown): void {
  if (bus.state === 'closed' || bus.state === 'draining') {
    throw createError(bus.state === 'closed' ? 'CB_ERR_CONNECTION_CLOSED' : 'CB_ERR_DRAINING', `bus is ${bus.state}`);
  }
  if (snapshot === undefined) {
    throw createError(
      'CB_ERR_CONNECTION_FAILED',
      `document ${JSON.stringify(doc)} is not in this store: opening it the first time needs the hub (the bus is ${bus.state})`,
      { details: { doc, state: bus.state } },
    );
  }
}
