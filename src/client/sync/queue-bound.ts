/**
 * The bound on a document's offline queue: how many changes, and how many bytes of them, may wait
 * for the log. An edit past it is refused (CB_ERR_SYNC_TOO_LARGE) before it touches the view, so
 * memory and the store stay bounded while a replica is offline, and nothing is half applied.
 */
import { createError } from '../../core/errors/index.js';

export interface QueueLimits {
  /** @default DEFAULT_SYNC_MAX_PENDING_CHANGES */
  readonly maxPendingChanges: number;
  /** @default DEFAULT_SYNC_MAX_PENDING_BYTES */
  readonly maxPendingBytes: number;
}

/**
 * Throws CB_ERR_SYNC_TOO_LARGE unless a queue of `changes` changes of `bytes` bytes, counted with
 * the edit that asks, fits `limits`.
 */
export function checkQueueRoom(doc: string, limits: QueueLimits, changes: number, bytes: number): void {
  const { maxPendingChanges, maxPendingBytes } = limits;
  if (changes <= maxPendingChanges && bytes <= maxPendingBytes) return;
  const which = changes > maxPendingChanges ? `${maxPendingChanges} changes` : `${maxPendingBytes} bytes`;
  throw createError(
    'CB_ERR_SYNC_TOO_LARGE',
    `document ${JSON.stringify(doc)}: the offline queue would pass its maximum of ${which}; the edit was not applied`,
    { details: { doc, changes, bytes, maxPendingChanges, maxPendingBytes } },
  );
}
