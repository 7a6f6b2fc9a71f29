/**
 * Snapshots on the wire (`<doc topic>.snap`): one header byte and the snapshot's JSON, deflated
 * (fflate) when it reaches the threshold, as the core's batches are. A snapshot holds the whole
 * document and its history, so it compresses well and is decoded with a cap on what it may
 * inflate to (a few kilobytes of DEFLATE can claim gigabytes).
 */
import { Inflate, deflateSync } from 'fflate';
import { ValidationError } from '../../core/errors/index.js';
import { decodeUtf8, encodeUtf8 } from '../../core/protocol/utf8.js';
import { DEFAULT_SYNC_COMPRESS_THRESHOLD, type SyncSnapshot } from '../../core/sync/index.js';

const RAW = 0;
const DEFLATED = 1;
/** Compressed bytes fed to the inflater at a time, so the cap is checked as it goes. */
const SLICE = 4096;

export function encodeSnapshot(snapshot: SyncSnapshot): Uint8Array {
  const json = encodeUtf8(JSON.stringify(snapshot));
  const deflate = json.length >= DEFAULT_SYNC_COMPRESS_THRESHOLD;
  const body = deflate ? deflateSync(json, { level: 6 }) : json;
  const out = new Uint8Array(body.length + 1);
  out[0] = deflate ? DEFLATED : RAW;
  out.set(body, 1);
  return out;
}

function invalid(reason: string, cause?: unknown): ValidationError {
  return new ValidationError('CB_ERR_PAYLOAD_INVALID', `a sync snapshot message ${reason}`, cause === undefined ? {} : { cause });
}

/** The snapshot a message holds (checked by `SyncReplica.fromSnapshot`); CB_ERR_PAYLOAD_INVALID or CB_ERR_SYNC_TOO_LARGE. */
export function decodeSnapshot(data: unknown, maxInflatedBytes: number): SyncSnapshot {
  if (!(data instanceof Uint8Array) || data.length === 0) throw invalid('is not bytes');
  const header = data[0];
  if (header !== RAW && header !== DEFLATED) throw invalid(`has an unknown header byte ${header}`);
  const body = header === RAW ? data.subarray(1) : inflateCapped(data.subarray(1), maxInflatedBytes);
  try {
    return JSON.parse(decodeUtf8(body)) as SyncSnapshot;
  } catch (cause) {
    throw invalid('is not UTF-8 JSON', cause);
  }
}

function inflateCapped(data: Uint8Array, max: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > max) {
      throw new ValidationError('CB_ERR_SYNC_TOO_LARGE', `a sync snapshot inflates past ${max} bytes`, {
        details: { maxInflatedBytes: max },
      });
    }
    parts.push(chunk);
    if (final) done = true;
  });
  try {
    if (data.length === 0) inflater.push(data, true);
    for (let i = 0; i < data.length; i += SLICE) inflater.push(data.subarray(i, i + SLICE), i + SLICE >= data.length);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw invalid('does not inflate', error);
  }
  if (!done) throw invalid('ends before its DEFLATE stream does');
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
