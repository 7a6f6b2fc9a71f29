/**
 * Changes on the wire: a batch is the JSON array of its changes in the packed envelope
 * (./packed-json.ts: a header byte, deflated from `compressThreshold` bytes). Decoding refuses
 * what is over `maxBatchBytes`, stops inflating at `maxInflatedBytes`, and checks every change.
 */
import { ConfigError, ValidationError } from '../errors/index.js';
import { changeProblem } from './change-check.js';
import { packJson, unpackJson } from './packed-json.js';
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
  const out = packJson(changes, o.compressThreshold);
  if (out.length > o.maxBatchBytes) throw tooLarge('a sync batch', out.length, 'maxBatchBytes', o.maxBatchBytes);
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
  const value = unpackJson(bytes, o.maxInflatedBytes, 'a sync batch');
  if (!Array.isArray(value)) throw malformed('is not an array of changes');
  for (let i = 0; i < value.length; i++) {
    const problem = changeProblem(value[i]);
    if (problem !== undefined) throw malformed(`holds a malformed change: ${problem}`, { index: i });
  }
  return value as Change[];
}
