/**
 * The head of a segment log: retention (by age, bytes and count) and purge drop its oldest
 * records. They write no tombstones: the log's first sequence moves past them, and segments left
 * storing nothing are deleted. Retention is applied again at every open; a purge is not, so its
 * floor (the first sequence still wanted) is written to the `first-seq` file before it counts.
 */
import { join } from 'node:path';
import type { Segment } from './segment.js';
import { type CompactionHost, removeSegment } from './segment-compaction.js';
import { FIRST_SEQ_FILE } from './segment-load.js';
import type { ResolvedOptions } from './segment-log-options.js';
import { storageFailure } from './storage-errors.js';

export interface HeadHost extends CompactionHost {
  readonly o: ResolvedOptions;
}

/** Applies the retention limits at `now`; resolves with how many records were dropped. */
export function retainHead(h: HeadHost, now: number): Promise<number> {
  const r = h.o.retention;
  let target = h.index.headCut(r.maxMessages ?? Infinity, r.maxBytes ?? Infinity);
  if (r.maxAgeMs !== undefined) {
    // Kept while now - time <= maxAgeMs, i.e. time >= now - maxAgeMs.
    target = Math.max(target, h.index.seqAtTime(now - r.maxAgeMs) ?? h.index.lastSeq + 1);
  }
  return advanceHead(h, target);
}

/** Drops everything up to and including `upToSeq` (all when undefined), the floor on disk first. */
export async function purgeHead(h: HeadHost, upToSeq: number | undefined): Promise<number> {
  const { index, o, dir } = h;
  const target = Math.min(upToSeq === undefined ? Infinity : Math.floor(upToSeq) + 1, index.lastSeq + 1);
  if (target <= index.firstSeq) return 0;
  const path = join(dir, FIRST_SEQ_FILE);
  const floor = new TextEncoder().encode(`${target}\n`);
  try {
    await o.fs.writeFileAtomic(path, floor);
  } catch (err) {
    // A full disk is the very moment to purge. Dropping whole segments first frees space
    // (and a purge of everything starts a segment named by the new first seq, which records
    // the floor by itself); then the floor file is tried again.
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' && (err as NodeJS.ErrnoException).code !== 'EDQUOT')
      throw storageFailure('write', path, err);
    const dropped = await advanceHead(h, target);
    try {
      await o.fs.writeFileAtomic(path, floor);
    } catch (again) {
      if (index.firstSeq <= index.lastSeq) throw storageFailure('write', path, again);
      o.logger.warn(
        { dir, err: String(again) },
        'stream storage: purged everything, but could not record the floor file (the new segment records it)',
      );
    }
    return dropped;
  }
  return advanceHead(h, target);
}

/** Drops everything below `target` and deletes the segments left storing nothing at the head. */
async function advanceHead(h: HeadHost, target: number): Promise<number> {
  const { index } = h;
  if (target <= index.firstSeq) return 0;
  const dropped = index.dropBelow(target);
  // An emptied log starts a fresh segment so the old one can go; its name keeps firstSeq on disk.
  if (index.messages === 0 && index.active.count > 0) {
    try {
      await h.roll();
    } catch (err) {
      // Harmless: the old segment stays until the next roll; the purge floor or retention covers it on open.
      h.logger.warn({ dir: h.dir, err: String(err) }, 'stream storage: could not start a fresh segment');
    }
  }
  while (index.segments.length > 1 && (index.segments[0] as Segment).live === 0) {
    const first = index.segments[0] as Segment;
    await removeSegment(h, first);
    if (index.segments[0] === first) break; // could not delete it (logged)
  }
  return dropped;
}
