/**
 * How the client turns writes into transport writes: the first write after the bus was idle goes
 * out at the end of the current job (no wait for the event loop, so a round trip costs no extra
 * task), and writes that follow it in a burst are batched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import type { Transport, TransportConnector } from '../../src/core/transport/transport.js';

/** The memory connector, counting the client's transport writes and the frames in them. */
function counting(broker: Broker): { connector: TransportConnector; writes: number[] } {
  const writes: number[] = [];
  const inner = memoryConnector(broker);
  const connector: TransportConnector = async () => {
    const t = await inner();
    const send = t.send.bind(t);
    return Object.assign(t, {
      send(chunk: Uint8Array) {
        let frames = 0;
        for (let o = 0; o < chunk.length; o += 4 + new DataView(chunk.buffer, chunk.byteOffset + o, 4).getUint32(0)) frames++;
        writes.push(frames);
        send(chunk);
      },
    }) as Transport;
  };
  return { connector, writes };
}

async function setup() {
  const broker = new Broker({ heartbeatMs: 0 });
  const { connector, writes } = counting(broker);
  const bus = await connectWith(connector, { reconnect: false });
  const got: number[] = [];
  const sink = await connectWith(memoryConnector(broker), { reconnect: false });
  const sub = sink.subscribe('batch.t', (m) => void got.push(m.data as number));
  await sub.ready;
  await bus.flush();
  writes.length = 0;
  return {
    broker,
    bus,
    sink,
    writes,
    got,
    async done() {
      await bus.close();
      await sink.close();
      await broker.close(10);
    },
  };
}

test('a write from an idle bus leaves before the event loop turns', async () => {
  const s = await setup();
  try {
    await s.bus.publish('batch.t', 1);
    await Promise.resolve();
    // No timer or I/O turn has run: only microtasks.
    assert.deepEqual(s.writes, [1]);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(s.got, [1]);
  } finally {
    await s.done();
  }
});

test('publishes in a synchronous loop and in an awaited loop are batched', async () => {
  const s = await setup();
  try {
    for (let i = 0; i < 1000; i++) void s.bus.publish('batch.t', i);
    for (let i = 1000; i < 2000; i++) await s.bus.publish('batch.t', i);
    await s.bus.flush();
    const frames = s.writes.reduce((a, b) => a + b, 0);
    assert.ok(frames >= 2001, `${frames} frames`); // 2000 publishes and the flush's PING
    assert.ok(s.writes.length <= 40, `2000 publishes took ${s.writes.length} transport writes: ${s.writes.join(',')}`);
    while (s.got.length < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      s.got,
      Array.from({ length: 2000 }, (_, i) => i),
    );
  } finally {
    await s.done();
  }
});

test('sequential requests each go out in their own write, without waiting for the event loop', async () => {
  const s = await setup();
  try {
    const svc = s.sink.serve('batch.echo', (m) => m.data);
    await svc.ready;
    await s.bus.request('batch.echo', 'warm-up'); // the first request also subscribes the reply inbox
    s.writes.length = 0;
    let turns = 0;
    let stop = false;
    const ticker = (): void => {
      if (!stop) {
        turns++;
        setImmediate(ticker);
      }
    };
    setImmediate(ticker);
    for (let i = 0; i < 50; i++) assert.equal(await s.bus.request('batch.echo', i), i);
    stop = true;
    assert.deepEqual(
      s.writes,
      Array.from({ length: 50 }, () => 1),
    );
    // Memory transports deliver on microtasks: 50 round trips finish within a turn or two.
    assert.ok(turns <= 2, `${turns} event-loop turns for 50 in-process round trips`);
  } finally {
    await s.done();
  }
});

test('a publisher that yields between bursts keeps batching; after a pause a lone write leaves at once again', async () => {
  const s = await setup();
  try {
    let n = 0;
    for (let burst = 0; burst < 20; burst++) {
      for (let i = 0; i < 100; i++) await s.bus.publish('batch.t', n++);
      await new Promise((r) => setImmediate(r));
    }
    await s.bus.flush();
    // Each burst leaves in one write; before, each burst's first message also went alone (41
    // writes, 20 of them lone). A burst still starts alone when more than BURST_GAP_MS passed
    // since the last one, which a loaded machine sometimes makes happen: hence the slack.
    assert.ok(s.writes.length <= 30, `20 bursts took ${s.writes.length} transport writes: ${s.writes.join(',')}`);
    assert.ok(s.writes.filter((f) => f === 1).length <= 10, `lone writes: ${s.writes.join(',')}`);
    while (s.got.length < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      s.got,
      Array.from({ length: 2000 }, (_, i) => i),
    );

    await new Promise((r) => setTimeout(r, 20)); // a pause ends the burst
    s.writes.length = 0;
    await s.bus.publish('batch.t', n++);
    await Promise.resolve();
    assert.deepEqual(s.writes, [1]);
  } finally {
    await s.done();
  }
});
