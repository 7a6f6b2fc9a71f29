/** What a `SyncReplica` tells: its events, what `receive` returns, its counts. */
import type { CrossbusError } from '../errors/index.js';
import type { EntryResult } from './apply-entry.js';
import type { Change, ConflictInfo } from './types.js';

export interface SyncReplicaEvents {
  /** The view changed: by a local change (`change`: publish it through `outgoing()`, which waits for its hash) or by the log. */
  change: { readonly origin: 'local' | 'remote'; readonly seq: number; readonly change?: Change };
  /** A conflict was parked (for a resolver or a person). */
  conflict: ConflictInfo;
  /** A conflict was decided (lww) or settled (a resolve change). */
  resolved: ConflictInfo;
  /** A change was rejected whole (`own`: one of this replica's). */
  rejected: { readonly seq: number; readonly replica: string; readonly rseq: number; readonly own: boolean; readonly error: CrossbusError };
  /** This replica's copy differs from a change's author's (CB_ERR_SYNC_HASH_MISMATCH): reload from a snapshot. */
  corrupt: { readonly seq: number; readonly error: CrossbusError };
}

export interface ReceiveResult extends EntryResult {
  /** CB_ERR_SYNC_HASH_MISMATCH when the hash check failed (also emitted as `corrupt`). */
  readonly hashMismatch?: CrossbusError;
  /** The change's clock was further ahead of the hub's time than `limits.maxClockSkewMs` and was clamped. */
  readonly clockClamped?: boolean;
}

export interface SyncStats {
  readonly seq: number;
  readonly pending: number;
  readonly parkedNow: number;
  readonly parked: number;
  readonly decided: number;
  readonly overflow: number;
  readonly resolved: number;
  readonly rejected: number;
}
