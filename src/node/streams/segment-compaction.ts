/**
 * Giving back the disk that deletes free. A sealed segment (not the active one) whose records are
 * all deleted is removed; one whose deleted records take at least half of its bytes is rewritten
 * with only its stored records, which keep their sequences (the segment becomes sparse). The
 * active segment is first sealed (a new one started) when it is at least `minCompactBytes` and
 * half deleted, so a log that keeps rewriting a few topics stays near the size of what it stores.
 *
 * A rewrite is atomic: the new file is written beside the old, fdatasync'ed and renamed over it
 * (`writeFileAtomic`), then the segment's tombstone file goes. A crash before the rename leaves
 * the old segment and a temporary file (removed at open); after it, the new segment and a
 * tombstone file whose entries name records it no longer holds (ignored, then removed with it).
 * A removed segment's log file goes before its tombstone file, so deleted records never return.
 */
import { join } from 'node:path';
import type { TopicEntry } from '../../core/streams/topic-index.js';
import type { Logger } from '../../core/util/logger.js';
import { atomicTempPath, type StorageFs } from './file-ops.js';
import type { LogIndex } from './log-index.js';
import { checkRecord } from './record.js';
import { Segment } from './segment.js';
import { corrupt } from './storage-errors.js';
import { tombstoneFileName } from './tombstones.js';

export interface CompactionHost {
  readonly dir: string;
  readonly index: LogIndex;
  readonly fs: StorageFs;
  readonly logger: Logger;
  /** The active segment is sealed early once it is this big and half deleted. */
  readonly minCompactBytes: number;
  /** Seals the active segment by starting a new one. */
  roll(): Promise<Segment>;
}

/** Removes or rewrites the segments deletes have touched, as they need. */
export async function tidySegments(host: CompactionHost, touched: Iterable<Segment>): Promise<void> {
  for (const seg of touched) {
    if (!host.index.segments.includes(seg)) continue; // removed or rewritten meanwhile
    if (seg === host.index.active) {
      if (seg.size < host.minCompactBytes || seg.deadBytes * 2 < seg.size) continue;
      await host.roll();
    }
    if (seg.live === 0) await removeSegment(host, seg);
    else if (seg.deadBytes * 2 >= seg.size) await compactSegment(host, seg);
  }
}

/** Deletes a sealed segment that stores nothing any more (its log file, then its tombstones). */
export async function removeSegment(host: CompactionHost, seg: Segment): Promise<void> {
  const { fs, dir, index } = host;
  try {
    await fs.unlink(seg.path);
  } catch (err) {
    host.logger.warn({ file: seg.path, err: String(err) }, 'stream storage: could not delete a segment that stores nothing');
    return;
  }
  const at = index.segments.indexOf(seg);
  if (at >= 0) index.segments.splice(at, 1);
  await seg.release();
  if (seg.tombstones === undefined) return fs.syncDir(dir).catch(() => {});
  // The log file's removal is durable before its tombstones go: never the records without them.
  await fs.syncDir(dir).catch(() => {});
  await dropTombstoneFile(fs, dir, seg.baseSeq, host.logger);
}

/** Rewrites a sealed segment with only its stored records (atomically: temporary file, fsync, rename). */
export async function compactSegment(host: CompactionHost, seg: Segment): Promise<void> {
  const { fs, dir, index } = host;
  const keep: number[] = [];
  for (let i = 0; i < seg.count; i++) {
    const seq = seg.seqAt(i);
    if (seq >= index.firstSeq && !seg.isDead(seq)) keep.push(i);
  }
  if (keep.length === 0) return removeSegment(host, seg);
  const buf = await seg.readBytes(0, seg.count);
  const view = new DataView(buf.buffer);
  const start = seg.offsets[0] as number;
  const out = new Uint8Array(keep.reduce((n, i) => n + seg.recordBytes(i), 0));
  const offsets: number[] = [];
  const times: number[] = [];
  const seqs: number[] = [];
  let q = 0;
  for (const i of keep) {
    const p = (seg.offsets[i] as number) - start;
    const c = checkRecord(buf, p, view);
    if (!c.ok || c.seq !== seg.seqAt(i)) throw corrupt(seg.name, p + start, 'a record to keep does not verify (compaction)');
    out.set(buf.subarray(p, c.end), q);
    offsets.push(q);
    times.push(seg.times[i] as number);
    seqs.push(c.seq);
    q += c.end - p;
  }
  try {
    await fs.writeFileAtomic(seg.path, out);
  } catch (err) {
    await fs.unlink(atomicTempPath(seg.path)).catch(() => {});
    throw err;
  }
  const dense = seqs.every((s, k) => s === seg.baseSeq + k);
  const next = new Segment(dir, seg.baseSeq, await fs.open(seg.path, false), offsets, times, q, dense ? undefined : seqs);
  const topics = seg.topics;
  if (topics !== undefined) next.topics = keep.map((i) => topics[i] as TopicEntry);
  index.segments[index.segments.indexOf(seg)] = next;
  await seg.release();
  await dropTombstoneFile(fs, dir, seg.baseSeq, host.logger);
}

async function dropTombstoneFile(fs: StorageFs, dir: string, base: number, logger: Logger): Promise<void> {
  const path = join(dir, tombstoneFileName(base));
  try {
    await fs.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    // Harmless: its entries name records the segment no longer holds; it goes with the segment.
    logger.warn({ file: path, err: String(err) }, 'stream storage: could not delete a tombstone file');
  }
}
