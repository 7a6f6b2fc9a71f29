/** The storage contract for deletes inside the log, run against MemoryStorage and SegmentLog alike. */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../../src/core/streams/memory-storage.js';
import { SegmentLog } from '../../src/node/streams/segment-log.js';
import { storageContract } from '../helpers/storage-contract.js';

const root = mkdtempSync(join(tmpdir(), 'cb-storage-contract-'));
let n = 0;
after(() => rmSync(root, { recursive: true, force: true }));

storageContract('MemoryStorage', { open: async (retention = {}) => new MemoryStorage(retention) });
// Small segments, so that deletes, limits and purges cross segment boundaries.
storageContract('SegmentLog', {
  open: (retention = {}) => SegmentLog.open(join(root, `log-${++n}`), { retention, maxSegmentBytes: 200, minCompactBytes: 100 }),
});
