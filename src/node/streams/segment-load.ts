/**
 * Opening a stream directory: list the segments, verify every record (segment-scan.ts), cut a torn
 * tail off the last segment, check the segments follow each other, and load each segment's
 * tombstones (tombstones.ts). What a crash can leave behind is cleared: the temporary file of an
 * unfinished compaction, and the tombstone file of a segment already deleted.
 *
 * Segments rise: each starts after the last record of the one before. They need not touch: a
 * segment whose records were all deleted is removed, and compaction drops deleted records.
 */
import { join } from 'node:path';
import type { Logger } from '../../core/util/logger.js';
import { atomicTempPath, type StorageFs } from './file-ops.js';
import { Segment, parseSegmentFileName, segmentFileName } from './segment.js';
import { scanSegment } from './segment-scan.js';
import { corrupt, storageFailure } from './storage-errors.js';
import { TombstoneFile, parseTombstoneFileName, scanTombstones, tombstoneFileName } from './tombstones.js';

/** Holds the purge floor: the first sequence still wanted, when a purge ended inside a segment. */
export const FIRST_SEQ_FILE = 'first-seq';

/** A torn tail cut off at open. */
export interface RecoveryReport {
  file: string;
  offset: number;
  bytes: number;
  reason: string;
}

export interface Loaded {
  segments: Segment[];
  floor: number;
  recovered: RecoveryReport | undefined;
  /** Each segment's records' topics, in order, when asked for (`withTopics`). */
  topics: string[][] | undefined;
}

async function io<T>(op: string, file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storageFailure(op, file, err);
  }
}

export async function loadSegments(dir: string, fs: StorageFs, logger: Logger, withTopics = false): Promise<Loaded> {
  await io('create directory', dir, () => fs.mkdir(dir));
  const names = await io('list', dir, () => fs.readdir(dir));
  const bases = names
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  await clearLeftovers(dir, fs, logger, names, new Set(bases));
  const floorBytes = await io('read', join(dir, FIRST_SEQ_FILE), () => fs.readFile(join(dir, FIRST_SEQ_FILE)));
  const floorNum = floorBytes === undefined ? 1 : Number(new TextDecoder().decode(floorBytes).trim());
  if (!Number.isSafeInteger(floorNum) || floorNum < 1) throw corrupt(FIRST_SEQ_FILE, 0, 'not a sequence number');

  const segments: Segment[] = [];
  const topics: string[][] | undefined = withTopics ? [] : undefined;
  let recovered: RecoveryReport | undefined;
  try {
    if (bases.length === 0) {
      const path = join(dir, segmentFileName(floorNum));
      segments.push(new Segment(dir, floorNum, await io('create', path, () => fs.open(path, true))));
      topics?.push([]);
      await io('sync', dir, () => fs.syncDir(dir));
    }
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i] as number;
      const name = segmentFileName(base);
      const path = join(dir, name);
      const prev = segments[segments.length - 1];
      if (prev !== undefined && base <= prev.lastSeq) {
        throw corrupt(name, 0, `starts at ${base} but the previous segment ends at ${prev.lastSeq}`);
      }
      const buf = (await io('read', path, () => fs.readFile(path))) ?? new Uint8Array(0);
      const scan = scanSegment(buf, base, name, i === bases.length - 1, withTopics);
      const file = await io('open', path, () => fs.open(path, false));
      const seg = new Segment(dir, base, file, scan.offsets, scan.times, scan.end, scan.seqs);
      segments.push(seg);
      topics?.push(scan.topics ?? []);
      if (scan.torn) {
        await io('truncate', path, async () => {
          await file.truncate(scan.end);
          await file.datasync();
        });
        recovered = { file: name, ...scan.torn };
        logger.warn({ dir, ...recovered }, 'stream storage: cut a torn record off the end of the log (a crash mid-write)');
      }
      await loadTombstones(seg, fs, logger);
    }
  } catch (err) {
    for (const s of segments) await s.release();
    throw err;
  }
  return { segments, floor: floorNum, recovered, topics };
}

/** Marks the segment's deleted records (`dead`, `deadBytes`) from its tombstone file, if it has one. */
async function loadTombstones(seg: Segment, fs: StorageFs, logger: Logger): Promise<void> {
  const name = tombstoneFileName(seg.baseSeq);
  const path = join(seg.dir, name);
  const buf = await io('read', path, () => fs.readFile(path));
  if (buf === undefined) return;
  const scan = scanTombstones(buf, name);
  if (scan.torn) {
    await io('truncate', path, async () => {
      const file = await fs.open(path, false);
      try {
        await file.truncate(scan.end);
        await file.datasync();
      } finally {
        await file.close();
      }
    });
    logger.warn({ dir: seg.dir, file: name, offset: scan.end }, 'stream storage: cut a torn tombstone off (a crash mid-delete)');
  }
  for (const seq of scan.seqs) {
    const i = seg.indexOf(seq);
    if (i < 0 || seg.isDead(seq)) continue;
    seg.dead ??= new Set();
    seg.dead.add(seq);
    seg.deadBytes += seg.recordBytes(i);
  }
  seg.tombstones = new TombstoneFile(seg.dir, seg.baseSeq, fs);
}

/** Removes a compaction's temporary file and tombstone files whose segment is gone. */
async function clearLeftovers(dir: string, fs: StorageFs, logger: Logger, names: string[], bases: Set<number>): Promise<void> {
  let removed = false;
  for (const name of names) {
    const tombstoneOf = parseTombstoneFileName(name);
    const tempOf = name.startsWith('.') && name.endsWith('.tmp') ? parseSegmentFileName(name.slice(1, -4)) : undefined;
    const stale = (tombstoneOf !== undefined && !bases.has(tombstoneOf)) || tempOf !== undefined;
    if (!stale) continue;
    const path = tempOf === undefined ? join(dir, name) : atomicTempPath(join(dir, segmentFileName(tempOf)));
    await io('delete', path, () => fs.unlink(path));
    logger.warn({ dir, file: name }, 'stream storage: removed a file an interrupted compaction or delete left behind');
    removed = true;
  }
  if (removed) await io('sync', dir, () => fs.syncDir(dir));
}
