/**
 * Changes on the wire: a batch is one header byte and the JSON array of its changes, deflated
 * (fflate, raw DEFLATE) when the JSON reaches `compressThreshold` bytes. Header 0: JSON as is;
 * 1: deflated. Decoding refuses what is over `maxBatchBytes`, inflates in slices and stops at
 * `maxInflatedBytes` (a few kilobytes of deflate can claim gigabytes), and checks every change.
 */
import { Inflate, deflateSync } from 'fflate';
import { ConfigError, ValidationError } from '../errors/index.js';
import { decodeUtf8, encodeUtf8 } from '../protocol/utf8.js';
import { changeProblem } from './change-check.js';
import { DEFAULT_SYNC_COMPRESS_THRESHOLD, DEFAULT_SYNC_MAX_BATCH_BYTES, DEFAULT_SYNC_MAX_INFLATED_BYTES } from './defaults.js';
import type { Change } from './types.js';

export interface BatchOptions {
  /** JSON of at least this many bytes is deflated; `Infinity` never deflates. @default 1 KiB */
  compressThreshold?: number;
  /** Largest encoded batch, in bytes. @default 1 MiB */
  maxBatchBytes?: number;
  /** Largest batch once inflated, in bytes (at least maxBatchBytes). @default 16 MiB */
  maxInflatedBytes?: number;
}

const RAW = 0;
const DEFLATED = 1;
/** Compressed bytes fed to the inflater at a time: DEFLATE expands at most ~1032 times, so one slice yields at most ~1 MiB past the cap. */
const INFLATE_SLICE = 1024;

function resolveBatchOptions(o: BatchOptions): Required<BatchOptions> {
  const compressThreshold = o.compressThreshold ?? DEFAULT_SYNC_COMPRESS_THRESHOLD;
  const maxBatchBytes = o.maxBatchBytes ?? DEFAULT_SYNC_MAX_BATCH_BYTES;
  const maxInflatedBytes = o.maxInflatedBytes ?? DEFAULT_SYNC_MAX_INFLATED_BYTES;
  if (!(typeof compressThreshold === 'number' && compressThreshold >= 0)) {
    throw new ConfigError(
      'CB_ERR_INVALID_OPTION',
      `batch option compressThreshold must be a number >= 0, got ${String(compressThreshold)}`,
    );
  }
  for (const [name, v] of [
    ['maxBatchBytes', maxBatchBytes],
    ['maxInflatedBytes', maxInflatedBytes],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 2)
      throw new ConfigError('CB_ERR_INVALID_OPTION', `batch option ${name} must be an integer >= 2, got ${String(v)}`);
  }
  if (maxInflatedBytes < maxBatchBytes) {
    throw new ConfigError(
      'CB_ERR_CONFLICTING_OPTIONS',
      `batch option maxInflatedBytes (${maxInflatedBytes}) is below maxBatchBytes (${maxBatchBytes})`,
      {
        details: { maxBatchBytes, maxInflatedBytes },
      },
    );
  }
  return { compressThreshold, maxBatchBytes, maxInflatedBytes };
}

function tooLarge(what: string, size: number, limit: string, max: number): ValidationError {
  return new ValidationError('CB_ERR_SYNC_TOO_LARGE', `${what} is ${size} bytes or more, over ${limit} (${max})`, {
    details: { size, [limit]: max },
  });
}

function malformed(reason: string, details: Record<string, unknown> = {}): ValidationError {
  return new ValidationError('CB_ERR_PAYLOAD_INVALID', `a sync batch ${reason}`, { details });
}

/** The bytes of a batch; throws CB_ERR_SYNC_TOO_LARGE past `maxBatchBytes`. */
export function encodeBatch(changes: readonly Change[], options: BatchOptions = {}): Uint8Array {
  const o = resolveBatchOptions(options);
  const json = encodeUtf8(JSON.stringify(changes));
  const deflate = json.length >= o.compressThreshold;
  const body = deflate ? deflateSync(json, { level: 6 }) : json;
  if (body.length + 1 > o.maxBatchBytes) throw tooLarge('a sync batch', body.length + 1, 'maxBatchBytes', o.maxBatchBytes);
  const out = new Uint8Array(body.length + 1);
  out[0] = deflate ? DEFLATED : RAW;
  out.set(body, 1);
  return out;
}

/**
 * The changes of a batch. Throws CB_ERR_SYNC_TOO_LARGE (over `maxBatchBytes`, or inflating past
 * `maxInflatedBytes`) or CB_ERR_PAYLOAD_INVALID (an unknown header, bad DEFLATE, UTF-8 or JSON,
 * not an array, a change that is malformed: `details.index` says which).
 */
export function decodeBatch(bytes: Uint8Array, options: BatchOptions = {}): Change[] {
  const o = resolveBatchOptions(options);
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw malformed('is empty');
  if (bytes.length > o.maxBatchBytes) throw tooLarge('a sync batch', bytes.length, 'maxBatchBytes', o.maxBatchBytes);
  const header = bytes[0];
  if (header !== RAW && header !== DEFLATED) throw malformed(`has an unknown header byte ${header}`);
  const body = header === DEFLATED ? inflateCapped(bytes.subarray(1), o.maxInflatedBytes) : bytes.subarray(1);
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(body));
  } catch (cause) {
    throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a sync batch is not UTF-8 JSON', { cause });
  }
  if (!Array.isArray(value)) throw malformed('is not an array of changes');
  for (let i = 0; i < value.length; i++) {
    const problem = changeProblem(value[i]);
    if (problem !== undefined) throw malformed(`holds a malformed change: ${problem}`, { index: i });
  }
  return value as Change[];
}

function inflateCapped(data: Uint8Array, max: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > max) throw tooLarge('a sync batch inflated', total, 'maxInflatedBytes', max);
    parts.push(chunk);
    if (final) done = true;
  });
  try {
    if (data.length === 0) inflater.push(data, true);
    for (let i = 0; i < data.length; i += INFLATE_SLICE)
      inflater.push(data.subarray(i, i + INFLATE_SLICE), i + INFLATE_SLICE >= data.length);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('CB_ERR_PAYLOAD_INVALID', 'a sync batch does not inflate', { cause: error });
  }
  if (!done) throw malformed('ends before its DEFLATE stream does');
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
