/** A StorageFs wrapper for fault tests: failing writes/fsyncs, counted and slowed fsyncs, durability tracking. */
import { nodeStorageFs, type StorageFile, type StorageFs } from '../../src/node/streams/file-ops.js';

export function errno(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

export interface FaultControl {
  failWrite?: string;
  failSync?: string;
  syncDelayMs: number;
  /** Called as each fdatasync starts (before syncDelayMs). */
  onSyncStart?: () => void;
  syncs: number;
  writes: number;
  /** Sequence numbers whose bytes were covered by a completed fdatasync. */
  durable: Set<number>;
}

export function faultyFs(): { fs: StorageFs; ctl: FaultControl } {
  const ctl: FaultControl = { syncDelayMs: 0, syncs: 0, writes: 0, durable: new Set() };
  const wrap = (f: StorageFile): StorageFile => {
    let unsynced: number[] = [];
    return {
      read: (b, o, l, p) => f.read(b, o, l, p),
      async write(buf, offset, length, position) {
        ctl.writes++;
        if (ctl.failWrite) {
          await f.write(buf, offset, Math.floor(length / 2), position); // a partial write first, like a disk filling up
          throw errno(ctl.failWrite);
        }
        const n = await f.write(buf, offset, length, position);
        const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        for (let p = offset; p + 16 <= offset + n; p += 8 + v.getUint32(p))
          unsynced.push(v.getUint32(p + 8) * 2 ** 32 + v.getUint32(p + 12));
        return n;
      },
      async datasync() {
        const covered = unsynced;
        unsynced = [];
        ctl.onSyncStart?.();
        if (ctl.syncDelayMs > 0) await new Promise((r) => setTimeout(r, ctl.syncDelayMs));
        if (ctl.failSync) throw errno(ctl.failSync);
        await f.datasync();
        ctl.syncs++;
        for (const s of covered) ctl.durable.add(s);
      },
      truncate: (l) => f.truncate(l),
      size: () => f.size(),
      close: () => f.close(),
    };
  };
  const fs: StorageFs = { ...nodeStorageFs, open: async (path, create) => wrap(await nodeStorageFs.open(path, create)) };
  return { fs, ctl };
}
