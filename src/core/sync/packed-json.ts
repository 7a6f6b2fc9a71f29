/**
 * The envelope sync puts JSON in on the wire (change batches, snapshots): one header byte, then
 * the JSON's UTF-8, deflated (fflate, raw DEFLATE) when it reaches a threshold. Header 0: as is;
 * 1: deflated. Unpacking inflates in slices and stops at a cap, because a few kilobytes of
 * DEFLATE can claim gigabytes.
 */
import { Inflate, deflateSync } from 'fflate';
import { ValidationError } from '../errors/index.js';
import { decodeUtf8, encodeUtf8 } from '../protocol/utf8.js';

const RAW = 0;
const DEFLATED = 1;
/** Compressed bytes fed to the inflater at a time: DEFLATE expands at most ~1032 times, so one slice yields at most ~1 MiB past the cap. */
const INFLATE_SLICE = 1024;

/** `value` as JSON in the envelope, deflated when its JSON is at least `compressThreshold` bytes. */
export function packJson(value: unknown, compressThreshold: number): Uint8Array {
  const json = encodeUtf8(JSON.stringify(value));
  const deflate = json.length >= compressThreshold;
  const body = deflate ? deflateSync(json, { level: 6 }) : json;
  const out = new Uint8Array(body.length + 1);
  out[0] = deflate ? DEFLATED : RAW;
  out.set(body, 1);
  return out;
}

/**
 * The JSON value in the envelope. `what` names the message in errors ("a sync batch").
 * CB_ERR_PAYLOAD_INVALID (empty, unknown header, bad DEFLATE, UTF-8 or JSON) or
 * CB_ERR_SYNC_TOO_LARGE (inflating past `maxInflatedBytes`, `details.maxInflatedBytes`).
 */
export function unpackJson(bytes: unknown, maxInflatedBytes: number, what: string): unknown {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw invalid(what, 'is empty or not bytes');
  const header = bytes[0];
  if (header !== RAW && header !== DEFLATED) throw invalid(what, `has an unknown header byte ${header}`);
  const body = header === DEFLATED ? inflateCapped(bytes.subarray(1), maxInflatedBytes, what) : bytes.subarray(1);
  try {
    return JSON.parse(decodeUtf8(body));
  } catch (cause) {
    throw invalid(what, 'is not UTF-8 JSON', cause);
  }
}

function invalid(what: string, reason: string, cause?: unknown): ValidationError {
  return new ValidationError('CB_ERR_PAYLOAD_INVALID', `${what} ${reason}`, cause === undefined ? {} : { cause });
}

function inflateCapped(data: Uint8Array, max: number, what: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > max) {
      throw new ValidationError('CB_ERR_SYNC_TOO_LARGE', `${what} inflated to ${total} bytes or more, over maxInflatedBytes (${max})`, {
        details: { size: total, maxInflatedBytes: max },
      });
    }
    parts.push(chunk);
    if (final) done = true;
  });
  try {
    if (data.length === 0) inflater.push(data, true);
    for (let i = 0; i < data.length; i += INFLATE_SLICE)
      inflater.push(data.subarray(i, i + INFLATE_SLICE), i + INFLATE_SLICE >= data.length);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw invalid(what, 'does not inflate', error);
  }
  if (!done) throw invalid(what, 'ends before its DEFLATE stream does');
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
