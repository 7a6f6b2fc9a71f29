/** Options of the embedded segment log, their defaults, and their validation. */
import { ConfigError } from '../../core/errors/index.js';
import type { DurabilityPolicy, RetentionLimits } from '../../core/streams/storage.js';
import { silentLogger, type Logger } from '../../core/util/logger.js';
import { nodeStorageFs, type StorageFs } from './file-ops.js';
import {
  DEFAULT_DURABILITY,
  DEFAULT_MAX_SEGMENT_BYTES,
  DEFAULT_MIN_COMPACT_BYTES,
  DEFAULT_RETENTION,
  DEFAULT_SYNC_INTERVAL_MS,
} from '../defaults.js';

export interface SegmentLogOptions {
  /** @default DEFAULT_RETENTION */
  retention?: RetentionLimits;
  /**
   * `fsync`: an append resolves once its bytes are fdatasync'ed; concurrent appends share one
   * write and one fdatasync (group commit). `interval`: an append resolves after write(2) and the
   * log fdatasyncs every `syncIntervalMs`; a process crash loses nothing (the kernel holds the
   * bytes), but a power loss or kernel crash loses what was acknowledged in the last interval.
   * @default DEFAULT_DURABILITY
   */
  durability?: DurabilityPolicy;
  /** @default DEFAULT_SYNC_INTERVAL_MS */
  syncIntervalMs?: number;
  /** @default DEFAULT_MAX_SEGMENT_BYTES */
  maxSegmentBytes?: number;
  /**
   * The active segment is sealed early (a new one started) once it holds this many bytes and
   * half of them are deleted records, so that compaction can free them: with deletes (the
   * per-topic limit, `deleteMessage`, `purgeTopic`) the log stays near this plus what it stores.
   * @default DEFAULT_MIN_COMPACT_BYTES
   */
  minCompactBytes?: number;
  /** Torn tails are reported with `warn`, failed interval fsyncs with `error`. @default silentLogger */
  logger?: Logger;
  /** File operations (tests inject faults). @default nodeStorageFs */
  fs?: StorageFs;
  /** Milliseconds since the epoch, for retention by age. @default Date.now */
  clock?: () => number;
}

export interface ResolvedOptions {
  retention: RetentionLimits;
  durability: DurabilityPolicy;
  syncIntervalMs: number;
  maxSegmentBytes: number;
  minCompactBytes: number;
  logger: Logger;
  fs: StorageFs;
  clock: () => number;
}

function invalid(option: string, why: string, value: unknown): ConfigError {
  return new ConfigError('CB_ERR_INVALID_OPTION', `${option}: ${why}, got ${String(value)}`, { details: { option } });
}

function checkCount(option: string, value: unknown, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < min)) {
    throw invalid(option, `must be an integer >= ${min}`, value);
  }
}

export function resolveSegmentLogOptions(dir: unknown, o: SegmentLogOptions): ResolvedOptions {
  if (typeof dir !== 'string' || dir === '') throw invalid('dir', 'must be a non-empty string', dir);
  if (o.durability !== undefined && o.durability !== 'fsync' && o.durability !== 'interval') {
    throw invalid('durability', "must be 'fsync' or 'interval'", o.durability);
  }
  checkCount('syncIntervalMs', o.syncIntervalMs, 1);
  checkCount('maxSegmentBytes', o.maxSegmentBytes, 1);
  checkCount('minCompactBytes', o.minCompactBytes, 1);
  const r = o.retention ?? DEFAULT_RETENTION;
  if (typeof r !== 'object' || r === null) throw invalid('retention', 'must be an object', r);
  checkCount('retention.maxAgeMs', r.maxAgeMs, 0);
  checkCount('retention.maxBytes', r.maxBytes, 0);
  checkCount('retention.maxMessages', r.maxMessages, 0);
  checkCount('retention.maxMessagesPerTopic', r.maxMessagesPerTopic, 1);
  if (o.clock !== undefined && typeof o.clock !== 'function') throw invalid('clock', 'must be a function', o.clock);
  return {
    retention: { ...r },
    durability: o.durability ?? DEFAULT_DURABILITY,
    syncIntervalMs: o.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
    maxSegmentBytes: o.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES,
    minCompactBytes: o.minCompactBytes ?? DEFAULT_MIN_COMPACT_BYTES,
    logger: o.logger ?? silentLogger,
    fs: o.fs ?? nodeStorageFs,
    clock: o.clock ?? Date.now,
  };
}
