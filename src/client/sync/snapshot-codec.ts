/**
 * Snapshots on the wire (`<doc topic>.snap`): the snapshot's JSON in the packed envelope the
 * core's batches use (a header byte, deflated from the threshold). A snapshot holds the whole
 * document and its history, so it compresses well and is decoded with a cap on what it may
 * inflate to.
 */
import { DEFAULT_SYNC_COMPRESS_THRESHOLD, type SyncSnapshot } from '../../core/sync/index.js';
import { packJson, unpackJson } from '../../core/sync/packed-json.js';

export function encodeSnapshot(snapshot: SyncSnapshot): Uint8Array {
  return packJson(snapshot, DEFAULT_SYNC_COMPRESS_THRESHOLD);
}

/** The snapshot a message holds (checked by `SyncReplica.fromSnapshot`); CB_ERR_PAYLOAD_INVALID or CB_ERR_SYNC_TOO_LARGE. */
export function decodeSnapshot(data: unknown, maxInflatedBytes: number): SyncSnapshot {
  return unpackJson(data, maxInflatedBytes, 'a sync snapshot message') as SyncSnapshot;
}
