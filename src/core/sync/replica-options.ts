/**
 * A replica's own options (what only this replica decides: its id, clock, crypto, resolvers,
 * the bound of its offline queue) and their check. What every replica must share is the
 * document's meta, in the log.
 */
import { ConfigError } from '../errors/index.js';
import type { CryptoProvider } from '../security/crypto.js';
import { randomHex } from '../util/random.js';
import { DEFAULT_SYNC_MAX_PENDING } from './defaults.js';
import { replicaIdProblem } from './hlc.js';
import type { Change, ConflictInfo } from './types.js';

/**
 * Computes the value of a conflict parked under `custom:<name>`: what should be at
 * `conflict.path`, given what is there now (`current`). Its result is published as a
 * `resolve` change (`take: 'merged'`); `undefined` deletes the path. A resolver that throws
 * leaves the conflict parked.
 */
export type SyncResolver = (conflict: ConflictInfo, current: unknown) => unknown;

export interface SyncReplicaOptions {
  /** This replica's id (1 to 64 letters, digits, `_`, `-`): stable, persisted with the offline queue. @default a random id */
  replica?: string;
  /** Milliseconds since the epoch, for the hybrid logical clock. @default Date.now */
  clock?: () => number;
  /** SHA-256 for change hashes; without it changes carry no hash and none is checked. @default none */
  crypto?: Pick<CryptoProvider, 'sha256'>;
  /** Resolvers by name, for strategies `custom:<name>`: run for this replica's own parked changes. @default {} */
  resolvers?: Readonly<Record<string, SyncResolver>>;
  /** Local changes waiting to be confirmed (the offline queue) before `edit` refuses with CB_ERR_SYNC_TOO_LARGE. @default 10_000 */
  maxPending?: number;
  /** The offline queue restored after a restart: this replica's changes not yet confirmed, in rseq order. @default [] */
  pending?: readonly Change[];
  /** The last rseq this replica used (persist it: a reused rseq is taken for a duplicate). @default from pending and the log */
  rseq?: number;
  /** Where errors thrown by event listeners and resolvers go. @default ignored */
  onError?: (error: unknown) => void;
}

export interface ResolvedReplicaOptions {
  readonly replica: string;
  readonly clock: () => number;
  readonly crypto: Pick<CryptoProvider, 'sha256'> | undefined;
  readonly resolvers: Readonly<Record<string, SyncResolver>>;
  readonly maxPending: number;
  readonly pending: readonly Change[];
  readonly rseq: number;
  readonly onError: (error: unknown) => void;
}

function fail(option: string, rule: string, value: unknown): never {
  throw new ConfigError('CB_ERR_INVALID_OPTION', `sync replica option ${option} must be ${rule}, got ${String(value).slice(0, 100)}`, {
    details: { option },
  });
}

/** Throws CB_ERR_INVALID_OPTION or CB_ERR_CONFLICTING_OPTIONS. */
export function resolveReplicaOptions(options: SyncReplicaOptions = {}): ResolvedReplicaOptions {
  const replica = options.replica ?? `r-${randomHex(8)}`;
  if (replicaIdProblem(replica) !== undefined) fail('replica', '1 to 64 letters, digits, "_" or "-"', replica);
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') fail('clock', 'a function', clock);
  const crypto = options.crypto;
  if (crypto !== undefined && typeof crypto?.sha256 !== 'function') fail('crypto', 'a provider with sha256', crypto);
  const resolvers = options.resolvers ?? {};
  for (const [name, fn] of Object.entries(resolvers)) {
    if (!/^[\w-]{1,64}$/.test(name) || typeof fn !== 'function')
      fail(`resolvers.${name}`, 'a function under a name of letters, digits, "_", "-"', fn);
  }
  const maxPending = options.maxPending ?? DEFAULT_SYNC_MAX_PENDING;
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) fail('maxPending', 'an integer >= 1', maxPending);
  const pending = options.pending ?? [];
  if (!Array.isArray(pending)) fail('pending', 'an array of changes', pending);
  let last = 0;
  for (const c of pending) {
    if (c?.replica !== replica) {
      throw new ConfigError('CB_ERR_CONFLICTING_OPTIONS', 'sync replica option pending holds a change of another replica', {
        details: { replica, other: String(c?.replica).slice(0, 64) },
      });
    }
    if (!(c.rseq > last)) fail('pending', 'changes in rising rseq order', c.rseq);
    last = c.rseq;
  }
  if (pending.length > maxPending) {
    throw new ConfigError(
      'CB_ERR_CONFLICTING_OPTIONS',
      `sync replica option pending holds ${pending.length} changes, over maxPending (${maxPending})`,
      {
        details: { pending: pending.length, maxPending },
      },
    );
  }
  const rseq = options.rseq ?? 0;
  if (!Number.isSafeInteger(rseq) || rseq < 0) fail('rseq', 'an integer >= 0', rseq);
  const onError = options.onError ?? (() => {});
  if (typeof onError !== 'function') fail('onError', 'a function', onError);
  return Object.freeze({ replica, clock, crypto, resolvers, maxPending, pending, rseq: Math.max(rseq, last), onError });
}
