/**
 * A shared-memory peer that dies in the middle of a message: a real worker thread writing chunks
 * larger than the ring is terminated while the reader is taking one in pieces. The reader gets
 * every byte the writer had published (nothing it was told is there goes missing), then a
 * typed CB_ERR_CONNECTION_LOST within a bounded time: through the port's close event, and
 * through the beat word alone when there is no port to tell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createShmBuffer } from '../../src/transports/shm/layout.js';
import { ringWord, R_HEAD } from '../../src/transports/shm/layout.js';
import { createShmTransport } from '../../src/transports/shm/shm-transport.js';
import type { PortLike } from '../../src/transports/port/index.js';
import type { TransportCloseInfo } from '../../src/core/transport/transport.js';
import { isCrossbusError } from '../../src/core/errors/index.js';

const WORKER = fileURLToPath(new URL('../fixtures/shm-writer-worker.ts', import.meta.url));
const RING = 4096;
// Messages far larger than the ring, so that the writer is killed inside one (the chance that it
// dies exactly at a message's end is then one in a thousand or less, not one in sixteen).
const CHUNK = 4 * 1024 * 1024;

for (const how of ['port', 'beat'] as const) {
  test(`a writer thread terminated mid-message: what it published arrives, then CB_ERR_CONNECTION_LOST (found by ${how})`, async () => {
    const buffer = createShmBuffer(RING);
    const channel = how === 'port' ? new MessageChannel() : undefined;
    const worker = new Worker(
      `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(WORKER).href)}); })`,
      {
        eval: true,
        workerData: { buffer, port: channel?.port2, chunkBytes: CHUNK },
        transferList: channel ? [channel.port2] : [],
      },
    );
    let received = 0;
    let badAt = -1;
    let resolveClosed!: (info: TransportCloseInfo) => void;
    const closed = new Promise<TransportCloseInfo>((r) => (resolveClosed = r));
    let resolveMidMessage!: () => void;
    const midMessage = new Promise<void>((r) => (resolveMidMessage = r));
    // The beat is checked every 50 ms and a peer silent for 300 ms is dead.
    const reader = createShmTransport(buffer, 1, {
      ...(channel ? { port: channel.port1 as unknown as PortLike } : {}),
      livenessMs: 50,
      deadAfterMs: 300,
    });
    reader.setHandlers({
      message: (c) => {
        for (let i = 0; i < c.length; i++) if (badAt < 0 && c[i] !== (received + i) % 251) badAt = received + i;
        received += c.length;
        // Several rings into a message and not at its end: the writer is in the middle of one.
        if (received > 4 * RING && received % CHUNK !== 0) resolveMidMessage();
      },
      close: resolveClosed,
    });
    // Without a port nothing else keeps this thread's event loop alive while it waits on the ring
    // (Atomics.waitAsync does not, and the beat timer is unref'd as a library's must be).
    const hold = setInterval(() => {}, 1000);
    try {
      await midMessage;
      await worker.terminate();
      const t0 = Date.now();
      const info = await closed;
      const tookMs = Date.now() - t0;
      assert.ok(isCrossbusError(info.error, 'CB_ERR_CONNECTION_LOST'), `typed error, got ${String(info.error)}`);
      assert.equal(info.local, false);
      assert.ok(tookMs < 5000, `found within a bounded time (${tookMs} ms)`);
      const published = Atomics.load(new Int32Array(buffer), ringWord(0, R_HEAD)) >>> 0;
      assert.equal(received, published, 'every byte the writer published was delivered');
      assert.equal(badAt, -1, 'byte-identical');
      assert.ok(received % CHUNK !== 0, 'the writer died in the middle of a chunk');
    } finally {
      clearInterval(hold);
      await worker.terminate();
      reader.close();
    }
  });
}
