/**
 * The Outbox on its own, over a stand-in link: nothing leaves before the hub's WELCOME or while
 * (re)connecting, writes fail once closed, publishes are refused past reconnectBufferBytes while
 * disconnected, and publishers wait above maxPendingBytes until the transport drains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kind, envelope } from '../../src/core/protocol/envelope.js';
import type { WelcomePayload } from '../../src/core/protocol/handshake.js';
import type { Transport } from '../../src/core/transport/transport.js';
import type { BusState } from '../../src/client/events.js';
import { resolveConnectOptions } from '../../src/client/options.js';
import { Outbox, type OutboxLink } from '../../src/client/outbox.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';

function setup(options: { maxPendingBytes?: number; reconnectBufferBytes?: number } = {}) {
  const sent: Uint8Array[] = [];
  let buffered = 0;
  const transport = {
    send(chunk: Uint8Array) {
      sent.push(chunk);
    },
    bufferedAmount: () => buffered,
  } as unknown as Transport;
  const link: { -readonly [K in keyof OutboxLink]: OutboxLink[K] } = {
    state: 'connecting' as BusState,
    limits: DEFAULT_FRAME_LIMITS,
    transport,
    info: undefined as WelcomePayload | undefined,
  };
  const outbox = new Outbox(link, resolveConnectOptions(options));
  const welcome = (): void => {
    link.info = {} as WelcomePayload;
    link.state = 'connected';
  };
  return { outbox, link, sent, welcome, setBuffered: (n: number) => (buffered = n) };
}

const publish = (n: number) => envelope(Kind.PUBLISH, { topic: 't', payload: new Uint8Array(n) });

test('nothing leaves before WELCOME or while reconnecting; the batch leaves once connected', () => {
  const s = setup();
  s.outbox.write(publish(10));
  s.outbox.flush();
  assert.equal(s.sent.length, 0, 'connecting, no WELCOME yet');
  s.welcome();
  s.link.state = 'reconnecting';
  s.outbox.flush();
  assert.equal(s.sent.length, 0, 'reconnecting');
  s.link.state = 'connected';
  s.outbox.flush();
  assert.equal(s.sent.length, 1);
  assert.equal(s.outbox.batch.length, 0);
});

test('a closed outbox refuses writes with CB_ERR_CONNECTION_CLOSED', () => {
  const s = setup();
  s.link.state = 'closed';
  assert.throws(() => s.outbox.write(publish(1)), { code: 'CB_ERR_CONNECTION_CLOSED' });
  assert.doesNotThrow(() => s.outbox.sendControl(envelope(Kind.PING)));
});

test('while disconnected, publishes past reconnectBufferBytes are refused; connected, they are not', () => {
  const s = setup({ reconnectBufferBytes: 100 });
  s.link.state = 'reconnecting';
  s.outbox.write(publish(200));
  assert.throws(() => s.outbox.checkRoom(), { code: 'CB_ERR_BACKPRESSURE' });
  s.link.state = 'connected';
  assert.doesNotThrow(() => s.outbox.checkRoom());
});

test('above maxPendingBytes a publisher waits until the transport drains', async () => {
  const s = setup({ maxPendingBytes: 1000 });
  s.welcome();
  s.setBuffered(5000);
  let released = false;
  void s.outbox.backpressure().then(() => (released = true));
  await Promise.resolve();
  assert.equal(released, false);
  s.setBuffered(0);
  s.outbox.onDrain();
  await Promise.resolve();
  assert.equal(released, true);
  s.setBuffered(5000);
  s.link.state = 'reconnecting';
  await s.outbox.backpressure(); // while disconnected the bound is reconnectBufferBytes, not this
});

test('an operation whose frame cannot be written leaves no answer waiting (nothing rejects unhandled later)', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const broker = new Broker({ heartbeatMs: 0 });
  try {
    const bus = await connectWith(memoryConnector(broker), { name: 'c', reconnect: false });
    await assert.rejects(bus.publish('a', new Uint8Array(2_000_000), { ack: true }), { code: 'CB_ERR_FRAME_TOO_LARGE' });
    // Closing fails every answer still awaited at once; an orphan would reject unhandled now.
    await bus.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await broker.close(10);
  }
});
