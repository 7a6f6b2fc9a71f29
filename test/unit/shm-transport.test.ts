/**
 * The shared-memory transport's edges: ring sizes at their limits, a buffer that is not ours
 * refused (by the transport with a typed error, by the listener by closing the port), a close
 * reason cut to what fits without splitting a character, and what happens before the handlers
 * are set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { isCrossbusError } from '../../src/core/errors/index.js';
import type { TransportCloseInfo } from '../../src/core/transport/transport.js';
import { HEADER_BYTES, MAX_REASON_BYTES, MAX_RING_BYTES, MIN_RING_BYTES, createShmBuffer } from '../../src/transports/shm/layout.js';
import { createShmTransport, listenShm, SHM_CONNECT_REQUEST } from '../../src/transports/shm/index.js';
import type { PortLike } from '../../src/transports/port/index.js';
import { DEFAULT_SHM_RING_BYTES } from '../../src/transports/defaults.js';
import { until } from '../helpers/wait.js';

test('ring sizes: powers of two from 1 KiB to 1 GiB; anything else is CB_ERR_INVALID_OPTION', () => {
  assert.equal(createShmBuffer(MIN_RING_BYTES).byteLength, HEADER_BYTES + 2 * MIN_RING_BYTES);
  assert.equal(createShmBuffer(DEFAULT_SHM_RING_BYTES).byteLength, HEADER_BYTES + 2 * DEFAULT_SHM_RING_BYTES);
  for (const bad of [MIN_RING_BYTES / 2, MIN_RING_BYTES + 1, 3000, MAX_RING_BYTES * 2, 0, -1024, 1.5, Number.NaN]) {
    assert.throws(
      () => createShmBuffer(bad),
      (e: unknown) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
      String(bad),
    );
  }
});

test('a buffer that is not a crossbus shared-memory buffer is CB_ERR_PROTOCOL', () => {
  for (const bad of [new SharedArrayBuffer(HEADER_BYTES + 2048), new SharedArrayBuffer(16), new ArrayBuffer(HEADER_BYTES + 2048)]) {
    assert.throws(
      () => createShmTransport(bad as SharedArrayBuffer, 1),
      (e: unknown) => isCrossbusError(e, 'CB_ERR_PROTOCOL'),
    );
  }
  const good = createShmBuffer(1024);
  const cut = new SharedArrayBuffer(good.byteLength - 1024);
  new Uint8Array(cut).set(new Uint8Array(good, 0, cut.byteLength));
  assert.throws(
    () => createShmTransport(cut, 1),
    (e: unknown) => isCrossbusError(e, 'CB_ERR_PROTOCOL'),
  );
});

test('listenShm refuses a foreign buffer by closing its port, and ignores other messages', async () => {
  const target = new MessageChannel();
  const accepted: unknown[] = [];
  const stop = listenShm(target.port2 as unknown as PortLike, (t) => accepted.push(t));
  const request = new MessageChannel();
  const portClosed = new Promise<void>((resolve) => request.port1.once('close', () => resolve()));
  target.port1.postMessage({ crossbus: 'hello' });
  target.port1.postMessage({ crossbus: SHM_CONNECT_REQUEST, buffer: new SharedArrayBuffer(4096), port: request.port2 }, [request.port2]);
  await portClosed;
  assert.equal(accepted.length, 0);
  stop();
  target.port1.close();
});

test('a close reason longer than fits is cut at a character boundary', async () => {
  const sab = createShmBuffer(1024);
  const a = createShmTransport(sab, 0, { livenessMs: 0 });
  const b = createShmTransport(sab, 1, { livenessMs: 0 });
  a.setHandlers({ message: () => {}, close: () => {} });
  const closed = new Promise<TransportCloseInfo>((resolve) => b.setHandlers({ message: () => {}, close: resolve }));
  const reason = 'é'.repeat(100); // 200 bytes of UTF-8
  a.close(4000, reason);
  const info = await closed;
  assert.equal(info.code, 4000);
  assert.equal(info.reason, 'é'.repeat(Math.floor(MAX_REASON_BYTES / 2)));
});

test('bytes and the close that arrive before the handlers are set wait for them', async () => {
  const sab = createShmBuffer(1024);
  const a = createShmTransport(sab, 0, { livenessMs: 0 });
  const b = createShmTransport(sab, 1, { livenessMs: 0 });
  a.setHandlers({ message: () => {}, close: () => {} });
  a.send(new Uint8Array([1, 2, 3]));
  a.close(1000, 'done');
  const got: number[] = [];
  const info = await new Promise<TransportCloseInfo>((resolve) => b.setHandlers({ message: (c) => got.push(...c), close: resolve }));
  assert.deepEqual(got, [1, 2, 3]);
  assert.deepEqual([info.local, info.code, info.reason], [false, 1000, 'done']);
});

test('a local close still flushing lets go once the peer is gone (the peer closed without reading)', async () => {
  const sab = createShmBuffer(1024);
  const { port1, port2 } = new MessageChannel();
  const a = createShmTransport(sab, 0, { livenessMs: 0, port: port1 as unknown as PortLike });
  const b = createShmTransport(sab, 1, { livenessMs: 0, port: port2 as unknown as PortLike });
  a.setHandlers({ message: () => {}, close: () => {} });
  a.send(new Uint8Array(10_000));
  a.close(1000, 'bye');
  assert.ok(a.bufferedAmount() > 0, 'the rest waits for room');
  b.close(); // without reading: its port closes, which a hears
  await until(() => a.bufferedAmount() === 0, 5000, 'the pending bytes dropped');
});
