/**
 * The options of `bus.sync` and of `open()`: their defaults and their checks (a bad option fails
 * at once with CB_ERR_INVALID_OPTION naming it).
 */
import { ConfigError } from '../../core/errors/index.js';
import type { Sha256Provider } from './sha256.js';
import { topicProblem } from '../../core/topic.js';
import { DEFAULT_SYNC_TOPIC_PREFIX } from '../../core/sync/defaults.js';
import {
  DEFAULT_SYNC_INTERVAL_MS,
  DEFAULT_SYNC_MAX_ACK_PENDING,
  DEFAULT_SYNC_MAX_ANNOUNCEMENT_BYTES,
  DEFAULT_SYNC_MAX_PENDING_BYTES,
  DEFAULT_SYNC_MAX_PENDING_CHANGES,
  DEFAULT_SYNC_RETRY_MS,
  DEFAULT_SYNC_SNAPSHOT_EVERY,
  MIN_SYNC_ANNOUNCEMENT_BYTES,
} from './defaults.js';
import type { SyncStore } from './store.js';
import type { SyncOptions } from './sync-api.js';

export interface ResolvedSyncOptions {
  topicPrefix: string;
  store: SyncStore;
  crypto: Sha256Provider;
}

function invalid(option: string, why: string, value: unknown): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', `${option} ${why}, got ${String(value).slice(0, 100)}`, { details: { option } });
}

export function resolveSyncOptions(
  o: SyncOptions,
  defaultStore: () => SyncStore,
  defaultCrypto: () => Sha256Provider,
): ResolvedSyncOptions {
  const topicPrefix = o.topicPrefix ?? DEFAULT_SYNC_TOPIC_PREFIX;
  const problem = typeof topicPrefix === 'string' ? topicProblem(topicPrefix, 'topic') : 'is not a string';
  if (problem !== undefined) throw invalid('topicPrefix', problem, topicPrefix);
  if (o.store !== undefined) checkStore(o.store);
  return { topicPrefix, store: o.store ?? defaultStore(), crypto: o.crypto ?? defaultCrypto() };
}

function checkStore(store: SyncStore): void {
  if (typeof store !== 'object' || store === null || typeof store.load !== 'function' || typeof store.save !== 'function') {
    throw invalid('store', 'must be a SyncStore (load, save, remove)', store);
  }
}

/** An integer option within [min, max], or its default. */
export function countOption(name: string, v: number | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw invalid(name, `must be an integer from ${min} to ${max}`, v);
  return v;
}

/** When changes are sent. */
export type SyncMode = 'realtime' | 'batch' | 'manual';

/** The open() options that are this client's alone (the rest go to the replica). */
export interface ClientOpenOptions {
  /**
   * `realtime`: a change is sent at once, and the edits made while it is on its way are sent
   * together next; `batch`: the edits of each `intervalMs` are sent as one change; `manual`: only
   * when `sync()` is called, the edits made until then joined into one change (a change from
   * another replica applied in between starts the next one). @default 'realtime'
   */
  mode?: SyncMode;
  /** Batch mode's interval. @default DEFAULT_SYNC_INTERVAL_MS */
  intervalMs?: number;
  /** Where this document's offline queue is kept. @default the SyncOptions' store */
  store?: SyncStore;
  /** Changes waiting for the log; one more is CB_ERR_SYNC_TOO_LARGE and is not applied. @default DEFAULT_SYNC_MAX_PENDING_CHANGES */
  maxPendingChanges?: number;
  /** Bytes of changes waiting for the log; beyond, CB_ERR_SYNC_TOO_LARGE. @default DEFAULT_SYNC_MAX_PENDING_BYTES */
  maxPendingBytes?: number;
  /** Log entries between two snapshots (the author of the entry at each mark publishes one). @default DEFAULT_SYNC_SNAPSHOT_EVERY */
  snapshotEvery?: number;
  /** Entries the reader holds unacknowledged. @default DEFAULT_SYNC_MAX_ACK_PENDING */
  maxAckPending?: number;
  /** A change the hub did not take is sent again after this long. @default DEFAULT_SYNC_RETRY_MS */
  retryMs?: number;
  /**
   * Announce on `<doc topic>.conflicts` when a change of this replica is parked, or a resolve of
   * this replica settles a conflict (needs a publish grant there: `sync.project.>` covers it). @default true
   */
  announceConflicts?: boolean;
  /** An announcement's JSON stays within this many bytes: the largest values are left out past it. @default DEFAULT_SYNC_MAX_ANNOUNCEMENT_BYTES */
  maxAnnouncementBytes?: number;
}

export interface ResolvedClientOpenOptions {
  mode: SyncMode;
  intervalMs: number;
  maxPendingChanges: number;
  maxPendingBytes: number;
  snapshotEvery: number;
  maxAckPending: number;
  retryMs: number;
  announceConflicts: boolean;
  maxAnnouncementBytes: number;
}

export function resolveClientOpenOptions(o: ClientOpenOptions): ResolvedClientOpenOptions {
  const mode = o.mode ?? 'realtime';
  if (mode !== 'realtime' && mode !== 'batch' && mode !== 'manual') throw invalid('mode', "must be 'realtime', 'batch' or 'manual'", mode);
  if (o.store !== undefined) checkStore(o.store);
  if (o.announceConflicts !== undefined && typeof o.announceConflicts !== 'boolean') {
    throw invalid('announceConflicts', 'must be true or false', o.announceConflicts);
  }
  return {
    mode,
    intervalMs: countOption('intervalMs', o.intervalMs, DEFAULT_SYNC_INTERVAL_MS, 1, 24 * 60 * 60 * 1000),
    maxPendingChanges: countOption('maxPendingChanges', o.maxPendingChanges, DEFAULT_SYNC_MAX_PENDING_CHANGES, 1),
    maxPendingBytes: countOption('maxPendingBytes', o.maxPendingBytes, DEFAULT_SYNC_MAX_PENDING_BYTES, 1),
    snapshotEvery: countOption('snapshotEvery', o.snapshotEvery, DEFAULT_SYNC_SNAPSHOT_EVERY, 1),
    maxAckPending: countOption('maxAckPending', o.maxAckPending, DEFAULT_SYNC_MAX_ACK_PENDING, 1, 1_000_000),
    retryMs: countOption('retryMs', o.retryMs, DEFAULT_SYNC_RETRY_MS, 1, 24 * 60 * 60 * 1000),
    announceConflicts: o.announceConflicts ?? true,
    maxAnnouncementBytes: countOption(
      'maxAnnouncementBytes',
      o.maxAnnouncementBytes,
      DEFAULT_SYNC_MAX_ANNOUNCEMENT_BYTES,
      MIN_SYNC_ANNOUNCEMENT_BYTES,
    ),
  };
}
