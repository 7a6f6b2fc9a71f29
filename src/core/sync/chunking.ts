/**
 * Content-defined chunking (FastCDC's gear hash with normalized chunking): boundaries depend on
 * the bytes around them, not on offsets, so an insertion changes only the chunks it lands in
 * and the rest of a file keeps its chunks. The rolling hash only picks boundaries; a chunk's
 * identity is its SHA-256, from the injected crypto provider.
 */
import { ConfigError } from '../errors/index.js';
import type { Awaitable, CryptoProvider } from '../security/crypto.js';
import { toBase64 } from '../security/bytes.js';
import { DEFAULT_SYNC_CHUNK_AVG_BYTES, DEFAULT_SYNC_CHUNK_MAX_BYTES, DEFAULT_SYNC_CHUNK_MIN_BYTES } from './defaults.js';

export interface ChunkOptions {
  /** Smallest chunk, in bytes (except a file's last), at least 64. @default 2 KiB */
  minBytes?: number;
  /** Average chunk aimed at, in bytes: a power of two between minBytes and maxBytes. @default 8 KiB */
  avgBytes?: number;
  /** Largest chunk, in bytes: a boundary is forced here. @default 64 KiB */
  maxBytes?: number;
}

export type ResolvedChunkOptions = Readonly<Required<ChunkOptions>>;

/** A chunk: bytes `[start, end)` of the file. */
export interface Chunk {
  readonly start: number;
  readonly end: number;
}

/** Throws CB_ERR_INVALID_OPTION or CB_ERR_CONFLICTING_OPTIONS. */
export function resolveChunkOptions(options: ChunkOptions = {}): ResolvedChunkOptions {
  const minBytes = options.minBytes ?? DEFAULT_SYNC_CHUNK_MIN_BYTES;
  const avgBytes = options.avgBytes ?? DEFAULT_SYNC_CHUNK_AVG_BYTES;
  const maxBytes = options.maxBytes ?? DEFAULT_SYNC_CHUNK_MAX_BYTES;
  for (const [name, v] of [
    ['minBytes', minBytes],
    ['avgBytes', avgBytes],
    ['maxBytes', maxBytes],
  ] as const) {
    if (!Number.isInteger(v) || v < 64 || v > 1 << 30) {
      throw new ConfigError('CB_ERR_INVALID_OPTION', `chunk option ${name} must be an integer from 64 to 2^30, got ${String(v)}`, {
        details: { option: name },
      });
    }
  }
  if ((avgBytes & (avgBytes - 1)) !== 0) {
    throw new ConfigError('CB_ERR_INVALID_OPTION', `chunk option avgBytes must be a power of two, got ${avgBytes}`, {
      details: { option: 'avgBytes' },
    });
  }
  if (!(minBytes <= avgBytes && avgBytes <= maxBytes)) {
    throw new ConfigError(
      'CB_ERR_CONFLICTING_OPTIONS',
      `chunk options need minBytes <= avgBytes <= maxBytes (${minBytes}, ${avgBytes}, ${maxBytes})`,
      {
        details: { minBytes, avgBytes, maxBytes },
      },
    );
  }
  return Object.freeze({ minBytes, avgBytes, maxBytes });
}

let gear: Int32Array | undefined;

/** 256 fixed pseudo-random words (splitmix32 from a constant seed): the same on every replica. */
function gearTable(): Int32Array {
  if (gear !== undefined) return gear;
  gear = new Int32Array(256);
  let s = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    gear[i] = z ^ (z >>> 16);
  }
  return gear;
}

/** A mask of the `k` highest of 32 bits (the gear hash's best mixed bits). */
function highBits(k: number): number {
  return (~0 << (32 - k)) | 0;
}

/** The chunks of `bytes`, in order, covering all of it (none for an empty file). */
export function chunk(bytes: Uint8Array, options: ChunkOptions | ResolvedChunkOptions = {}): Chunk[] {
  const { minBytes, avgBytes, maxBytes } = resolveChunkOptions(options);
  const g = gearTable();
  const bits = Math.log2(avgBytes);
  // Normalized chunking: a stricter mask before the average size, a looser one after it.
  const strict = highBits(bits + 1);
  const loose = highBits(bits - 1);
  const out: Chunk[] = [];
  const n = bytes.length;
  let start = 0;
  while (start < n) {
    const end = Math.min(start + maxBytes, n);
    let cut = end;
    if (n - start > minBytes) {
      const normal = Math.min(start + avgBytes, end);
      let h = 0;
      let i = start + minBytes;
      for (; i < normal; i++) {
        h = ((h << 1) + (g[bytes[i] as number] as number)) | 0;
        if ((h & strict) === 0) break;
      }
      if (i === normal) {
        for (; i < end; i++) {
          h = ((h << 1) + (g[bytes[i] as number] as number)) | 0;
          if ((h & loose) === 0) break;
        }
      }
      cut = Math.min(i + 1, end);
    }
    out.push({ start, end: cut });
    start = cut;
  }
  return out;
}

/** SHA-256 of `data`, base64url without padding: a chunk's identity, a change's hash. */
export function sha256Id(crypto: Pick<CryptoProvider, 'sha256'>, data: Uint8Array): Awaitable<string> {
  const digest = crypto.sha256(data);
  return digest instanceof Uint8Array ? base64url(digest) : digest.then(base64url);
}

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The identity (SHA-256, base64url) of each chunk. */
export async function chunkIds(bytes: Uint8Array, chunks: readonly Chunk[], crypto: Pick<CryptoProvider, 'sha256'>): Promise<string[]> {
  const ids: string[] = [];
  for (const c of chunks) ids.push(await sha256Id(crypto, bytes.subarray(c.start, c.end)));
  return ids;
}
