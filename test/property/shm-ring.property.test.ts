/**
 * The shared-memory ring and transport against a model (the bytes in the order they were sent):
 * random chunk sizes up to several times the ring, so that chunks wrap around and stream
 * through it in pieces; a reader that reads rarely (slow) while the writer fills the ring
 * (faster than the reader); and, over the transport, a close in the middle of a burst.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createShmBuffer } from '../../src/transports/shm/layout.js';
import { RingReader, RingWriter } from '../../src/transports/shm/ring.js';
import { createShmTransport } from '../../src/transports/shm/shm-transport.js';
import type { TransportCloseInfo } from '../../src/core/transport/transport.js';
import { until } from '../helpers/wait.js';

const seed = Number(process.env.FC_SEED ?? 20261203);
const params = { seed, numRuns: 200, verbose: 1 as const };

function pattern(n: number, start: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i * 7 + (i >> 8)) & 0xff;
  return b;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

const ringBytes = fc.constantFrom(1024, 2048, 4096);
/** Sizes from empty to four times the largest ring. */
const size = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 16384 }));

test(`ring: bytes come out as they went in, through wrap-around, pieces and a slow reader (seed ${seed})`, () => {
  const op = fc.oneof(fc.record({ write: size }), fc.record({ read: fc.constant(true) }));
  fc.assert(
    fc.property(ringBytes, fc.array(op, { minLength: 1, maxLength: 80 }), (capacity, ops) => {
      const sab = createShmBuffer(capacity);
      const writer = new RingWriter(sab, 0, capacity);
      const reader = new RingReader(sab, 0, capacity);
      const sent: Uint8Array[] = [];
      const got: Uint8Array[] = [];
      const pending: Uint8Array[] = [];
      let from = 0;
      let total = 0;
      const pushPending = () => {
        while (pending.length > 0) {
          const c = pending[0]!;
          const n = writer.write(c, from);
          assert.ok(n >= 0 && n <= capacity);
          from += n;
          if (from < c.length) return;
          pending.shift();
          from = 0;
        }
      };
      for (const o of ops) {
        if ('write' in o) {
          const c = pattern(o.write, total);
          total += c.length;
          sent.push(c);
          pending.push(c);
          pushPending();
        } else {
          const c = reader.read();
          if (c !== undefined) got.push(c);
          assert.ok(reader.available() === 0);
          assert.equal(writer.free(), capacity);
          pushPending();
        }
        assert.ok(reader.available() <= capacity, 'never more unread than the ring holds');
      }
      // The reader catches up.
      for (let guard = 0; pending.length > 0 || reader.available() > 0; guard++) {
        assert.ok(guard < 100_000);
        const c = reader.read();
        if (c !== undefined) got.push(c);
        pushPending();
      }
      assert.deepEqual(concat(got), concat(sent));
    }),
    params,
  );
});

test(`transport: a burst faster than the reader, closed in the middle, arrives whole and in order (seed ${seed})`, async () => {
  await fc.assert(
    fc.asyncProperty(
      ringBytes,
      fc.array(size, { minLength: 1, maxLength: 30 }),
      fc.nat(),
      fc.boolean(),
      async (capacity, sizes, cut, slowReader) => {
        const sab = createShmBuffer(capacity);
        const a = createShmTransport(sab, 0, { livenessMs: 0 });
        const b = createShmTransport(sab, 1, { livenessMs: 0 });
        const got: Uint8Array[] = [];
        let closed: TransportCloseInfo | undefined;
        let drains = 0;
        a.setHandlers({ message: () => {}, close: () => {}, drain: () => void drains++ });
        b.setHandlers({
          message: (c) => {
            got.push(c);
            // A slow reader: every chunk costs it a little time while the writer waits for room.
            if (slowReader) for (const end = Date.now() + 1; Date.now() < end; );
          },
          close: (info) => void (closed = info),
        });
        const closeAfter = cut % (sizes.length + 1);
        const sent: Uint8Array[] = [];
        let total = 0;
        sizes.forEach((n, i) => {
          if (i === closeAfter) a.close(4001, 'middle');
          if (i >= closeAfter) {
            assert.throws(() => a.send(new Uint8Array(1)), /closed/);
            return;
          }
          const c = pattern(n, total);
          total += n;
          sent.push(c.slice());
          a.send(c);
        });
        if (closeAfter === sizes.length) a.close(4001, 'middle');
        await until(() => closed !== undefined, 5000, 'the close');
        assert.equal(closed!.code, 4001);
        assert.equal(closed!.reason, 'middle');
        assert.equal(closed!.local, false);
        assert.deepEqual(concat(got), concat(sent), 'everything sent before the close arrives first');
        assert.equal(a.bufferedAmount(), 0);
        b.close();
      },
    ),
    { ...params, numRuns: 60 },
  );
});
