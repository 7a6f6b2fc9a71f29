/**
 * Opening a stream directory: list the segments, verify every record (segment-scan.ts), cut a torn
 * tail off the last segment, and check the segments follow each other without a gap.
 */
import { join } from 'node:path';
import type { Logger } from '../../core/util/logger.js';
import type { StorageFs } from './file-ops.js';
import { Segment, parseSegmentFileName, segmentFileName } from './segment.js';
import { scanSegment } from './segment-scan.js';
import { corrupt, storageFailure } from './storage-errors.js';

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
}

async function io<T>(op: string, file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storageFailure(op, file, err);
  }
}

export async function loadSegments(dir: string, fs: StorageFs, logger: Logger): Promise<Loaded> {
  await io('create directory', dir, () => fs.mkdir(dir));
  const names = await io('list', dir, () => fs.readdir(dir));
  const bases = names
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  const floorBytes = await io('read', join(dir, FIRST_SEQ_FILE), () => fs.readFile(join(dir, FIRST_SEQ_FILE)));
  const floorNum = floorBytes === undefined ? 1 : Number(new TextDecoder().decode(floorBytes).trim());
  if (!Number.isSafeInteger(floorNum) || floorNum < 1) throw corrupt(FIRST_SEQ_FILE, 0, 'not a sequence number');

  const segments: Segment[] = [];
  let recovered: RecoveryReport | undefined;
  try {
    if (bases.length === 0) {
      const path = join(dir, segmentFileName(floorNum));
      segments.push(new Segment(dir, floorNum, await io('create', path, () => fs.open(path, true))));
      await io('sync', dir, () => fs.syncDir(dir));
    }
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i] as number;
      const name = segmentFileName(base);
      const path = join(dir, name);
      const prev = segments[segments.length - 1];
      if (prev !== undefined && base !== prev.lastSeq + 1) {
        throw corrupt(name, 0, `starts at ${base} but the previous segment ends at ${prev.lastSeq}`);
      }
      const buf = (await io('read', path, () => fs.readFile(path))) ?? new Uint8Array(0);
      const scan = scanSegment(buf, base, name, i === bases.length - 1);
      const file = await io('open', path, () => fs.open(path, false));
      const seg = new Segment(dir, base, file, scan.offsets, scan.times, scan.end);
      segments.push(seg);
      if (scan.torn) {
        await io('truncate', path, async () => {
          await file.truncate(scan.end);
          await file.datasync();
        });
        recovered = { file: name, ...scan.torn };
        logger.warn({ dir, ...recovered }, 'stream storage: cut a torn record off the end of the log (a crash mid-write)');
      }
    }
  } catch (err) {
    for (const s of segments) await s.release();
    throw err;
  }
  return { segments, floor: floorNum, recovered };
}
