/**
 * Deletes from the middle of a segment log are recorded next to the segment they hit: the
 * tombstone file `<base>.del` of segment `<base>.log` lists the deleted sequences, appended to
 * and fdatasync'ed like records (the log decides when). Each entry is 12 bytes:
 *
 *   u64 seq | u32 CRC-32 of those 8 bytes
 *
 * so a torn entry at the end (a crash mid-write: that delete was never acknowledged) is told from
 * a rotten one. The file goes with its segment: deleted with it, or after compaction rewrote the
 * segment without the deleted records. Entries naming a sequence the segment does not hold (left
 * by a crash between those two steps) are ignored.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { StorageFile, StorageFs } from './file-ops.js';
import { corrupt, storageFailure } from './storage-errors.js';

export const TOMBSTONE_ENTRY_BYTES = 12;
const NAME_RE = /^(\d{20})\.del$/;
const TWO_32 = 2 ** 32;

export function tombstoneFileName(baseSeq: number): string {
  return `${String(baseSeq).padStart(20, '0')}.del`;
}

/** The base sequence of a tombstone file name, or undefined for any other file. */
export function parseTombstoneFileName(name: string): number | undefined {
  const m = NAME_RE.exec(name);
  return m === null ? undefined : Number(m[1]);
}

export function encodeTombstones(seqs: readonly number[]): Uint8Array {
  const out = new Uint8Array(seqs.length * TOMBSTONE_ENTRY_BYTES);
  const v = new DataView(out.buffer);
  seqs.forEach((seq, k) => {
    const p = k * TOMBSTONE_ENTRY_BYTES;
    v.setUint32(p, Math.floor(seq / TWO_32));
    v.setUint32(p + 4, seq >>> 0);
    v.setUint32(p + 8, crc32(out.subarray(p, p + 8)));
  });
  return out;
}

export interface TombstoneScan {
  seqs: number[];
  /** Where the valid entries end. */
  end: number;
  /** A torn entry at the end (cut at open). */
  torn: boolean;
}

/**
 * The sequences a tombstone file lists. A bad entry at the end is a torn write; a bad entry with
 * valid ones after it is rot: CB_ERR_STREAM_CORRUPT, as for records.
 */
export function scanTombstones(buf: Uint8Array, file: string): TombstoneScan {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const seqs: number[] = [];
  const ok = (p: number): boolean => v.getUint32(p + 8) === crc32(buf.subarray(p, p + 8));
  let p = 0;
  for (; p + TOMBSTONE_ENTRY_BYTES <= buf.length; p += TOMBSTONE_ENTRY_BYTES) {
    if (!ok(p)) {
      for (let q = p + TOMBSTONE_ENTRY_BYTES; q + TOMBSTONE_ENTRY_BYTES <= buf.length; q += TOMBSTONE_ENTRY_BYTES)
        if (ok(q)) throw corrupt(file, p, 'bad-checksum tombstone followed by valid ones');
      return { seqs, end: p, torn: true };
    }
    seqs.push(v.getUint32(p) * TWO_32 + v.getUint32(p + 4));
  }
  return { seqs, end: p, torn: p < buf.length };
}

/** The open tombstone file of one segment. */
export class TombstoneFile {
  /** Written and not yet fdatasync'ed. */
  dirty = false;
  #file: StorageFile | undefined;
  #size = 0;
  /** A failed write may have left bytes past `#size`: cut them before the next write. */
  #needsTruncate = false;

  constructor(
    readonly dir: string,
    readonly baseSeq: number,
    private readonly fs: StorageFs,
  ) {}

  get path(): string {
    return join(this.dir, tombstoneFileName(this.baseSeq));
  }

  /** Bytes of whole entries written so far (once opened). */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends entries for `seqs` (one write), without waiting for stable storage: `sync()` does.
   * Rejects with CB_ERR_STORAGE, leaving the file as it was (as far as it can be cut back).
   */
  async append(seqs: readonly number[]): Promise<void> {
    const path = this.path;
    try {
      const file = this.#file ?? (await this.#open());
      if (this.#needsTruncate) {
        await file.truncate(this.#size);
        this.#needsTruncate = false;
      }
      const buf = encodeTombstones(seqs);
      this.#needsTruncate = true;
      for (let done = 0; done < buf.length; ) done += await file.write(buf, done, buf.length - done, this.#size + done);
      this.#needsTruncate = false;
      this.#size += buf.length;
      this.dirty = true;
    } catch (err) {
      if (this.#needsTruncate)
        await this.#file?.truncate(this.#size).then(
          () => (this.#needsTruncate = false),
          () => {},
        );
      throw storageFailure('append to', path, err);
    }
  }

  /** fdatasync when something was written since the last one. */
  async sync(): Promise<void> {
    if (!this.dirty || this.#file === undefined) return;
    this.dirty = false;
    try {
      await this.#file.datasync();
    } catch (err) {
      this.dirty = true;
      throw storageFailure('sync', this.path, err);
    }
  }

  /** Takes back what was appended after `size` (best effort: a delete that could not be made durable). */
  async cutTo(size: number): Promise<void> {
    if (this.#file === undefined || size >= this.#size) return;
    try {
      await this.#file.truncate(size);
      this.#size = size;
    } catch {
      this.#needsTruncate = true;
      this.#size = size;
    }
  }

  async close(): Promise<void> {
    const f = this.#file;
    this.#file = undefined;
    await f?.close().catch(() => {});
  }

  /** Opens the file, creating it (and making its name durable) when it does not exist yet. */
  async #open(): Promise<StorageFile> {
    let file: StorageFile;
    try {
      file = await this.fs.open(this.path, false);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      file = await this.fs.open(this.path, true);
      try {
        await this.fs.syncDir(this.dir);
      } catch (e) {
        await file.close().catch(() => {});
        throw e;
      }
    }
    // Whole entries only: a torn tail left by a failed write in an earlier run is overwritten.
    this.#size = Math.floor((await file.size()) / TOMBSTONE_ENTRY_BYTES) * TOMBSTONE_ENTRY_BYTES;
    this.#file = file;
    return file;
  }
}
