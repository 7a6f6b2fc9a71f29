/**
 * Deleting stored records from anywhere in a segment log: each segment's deletes go to its
 * tombstone file (tombstones.ts) in one write, and the records leave the in-memory index.
 *
 * - `durable` (deleteMessage, purgeTopic): a segment's tombstones are written, then fdatasync'ed
 *   under the `fsync` policy (every other tombstone file written since its last fsync with them,
 *   so a delete never outlives one made before it), and only then do the records count as gone;
 *   a failure rejects with CB_ERR_STORAGE and takes that segment's entries back.
 * - `limit` (the per-topic limit): the records go at once and their tombstones are written
 *   without waiting for an fsync. Losing them to a power loss costs nothing: the limit is applied
 *   again when the log is opened, to the same records.
 */
import type { Logger } from '../../core/util/logger.js';
import type { LogIndex, Place } from './log-index.js';
import type { Segment } from './segment.js';
import type { ResolvedOptions } from './segment-log-options.js';
import { TombstoneFile } from './tombstones.js';

export interface DeleteHost {
  readonly dir: string;
  readonly o: ResolvedOptions;
  readonly index: LogIndex;
}

/** Deletes the stored records among `seqs` (distinct); resolves with how many and the segments they were in. */
export async function deleteRecords(
  host: DeleteHost,
  seqs: readonly number[],
  mode: 'durable' | 'limit',
): Promise<{ deleted: number; touched: Segment[] }> {
  const groups = groupBySegment(host.index, seqs);
  let deleted = 0;
  for (const [seg, places] of groups) {
    const file = (seg.tombstones ??= new TombstoneFile(host.dir, seg.baseSeq, host.o.fs));
    const toWrite = places.map((p) => seg.seqAt(p.i));
    if (mode === 'limit') {
      for (const p of places) host.index.kill(p);
      deleted += places.length;
      await file.append(toWrite).catch((err) => warnLost(host.o.logger, host.dir, err));
      continue;
    }
    const before = file.size;
    await file.append(toWrite);
    if (host.o.durability === 'fsync') {
      try {
        for (const s of host.index.segments) await s.tombstones?.sync();
      } catch (err) {
        await file.cutTo(before);
        throw err;
      }
    }
    // Positions may have moved if an earlier group's fsync awaited: look them up again.
    for (const seq of toWrite) {
      const p = host.index.locate(seq);
      if (p !== undefined && host.index.isStored(seq)) {
        host.index.kill(p);
        deleted++;
      }
    }
  }
  return { deleted, touched: [...groups.keys()] };
}

/** fdatasyncs every tombstone file written since its last one (the interval timer, close). */
export async function syncTombstones(index: LogIndex): Promise<void> {
  for (const s of index.segments) await s.tombstones?.sync();
}

function groupBySegment(index: LogIndex, seqs: readonly number[]): Map<Segment, Place[]> {
  const groups = new Map<Segment, Place[]>();
  for (const seq of seqs) {
    if (!index.isStored(seq)) continue;
    const p = index.locate(seq) as Place;
    const seg = index.segments[p.s] as Segment;
    let g = groups.get(seg);
    if (g === undefined) groups.set(seg, (g = []));
    g.push(p);
  }
  return groups;
}

function warnLost(logger: Logger, dir: string, err: unknown): void {
  logger.warn({ dir, err: String(err) }, 'stream storage: could not record deletes of the per-topic limit (applied again at open)');
}
