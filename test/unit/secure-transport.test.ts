/**
 * SecureTransport limits: big writes become several records that each fit the peer's frame limit,
 * and a frame of exactly the largest allowed size still travels (its record is larger than a frame).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecureTransport, MAX_RECORD_PLAINTEXT } from '../../src/core/security/secure-transport.js';
import { RECORD_HEADROOM } from '../../src/core/protocol/layout.js';
import { RecordOpener, RecordSealer, type RecordSuite } from '../../src/core/security/record.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import type { FrameLimits } from '../../src/core/limits.js';
import type { Transport, TransportHandlers } from '../../src/core/transport/transport.js';
import { Broker } from '../../src/core/broker/broker.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { connectWith } from '../../src/client/index.js';
import { hubSecurity, testConfigDocument } from '../helpers/security.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const crypto = createNodeCryptoProvider();
const SECRET = new Uint8Array(32).fill(9);
const REKEY = { afterRecords: 1e9, afterMs: 1e12, afterBytes: 2 ** 40 };

class Wire implements Transport {
  readonly kind = 'wire';
  readonly framing = 'message' as const;
  readonly peer = 'wire';
  handlers: TransportHandlers | undefined;
  readonly sent: Uint8Array[] = [];
  setHandlers(h: TransportHandlers): void {
    this.handlers = h;
  }
  send(chunk: Uint8Array): void {
    this.sent.push(chunk);
  }
  bufferedAmount(): number {
    return 0;
  }
  close(): void {}
}

function pair(limits: FrameLimits, mode: RecordSuite = 'aes-256-gcm') {
  const out = new Wire();
  const sender = new SecureTransport(out, limits, (e) => assert.fail(e.message));
  sender.setHandlers({ message: () => {}, close: () => {} });
  sender.protectOutbound(new RecordSealer(crypto, mode, SECRET, REKEY));
  const inWire = new Wire();
  const errors: string[] = [];
  const receiver = new SecureTransport(inWire, limits, (e) => errors.push(e.code));
  const got: number[] = [];
  receiver.setHandlers({ message: (c) => readFrames(c, limits, (env) => got.push(env.payload.length)), close: () => {} });
  receiver.protectInbound(new RecordOpener(crypto, mode, SECRET, 30_000));
  return { out, sender, inWire, got, errors };
}

const frameOf = (size: number) =>
  encodeFrame(envelope(Kind.PUBLISH, { topic: 'big', payloadType: PayloadType.BYTES, payload: new Uint8Array(size) }));

test('a 2 MiB write of 4 KiB frames becomes records of at most 64 KiB of frames', () => {
  const p = pair(DEFAULT_FRAME_LIMITS);
  const frames = Array.from({ length: 512 }, () => frameOf(4096));
  const chunk = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    chunk.set(f, o);
    o += f.length;
  }
  p.sender.send(chunk);
  assert.ok(p.out.sent.length >= 32, `${p.out.sent.length} records`);
  for (const r of p.out.sent) assert.ok(r.length <= MAX_RECORD_PLAINTEXT + RECORD_HEADROOM, `record of ${r.length}`);
  for (const r of p.out.sent) p.inWire.handlers!.message(r);
  assert.deepEqual(p.errors, []);
  assert.equal(p.got.length, 512);
});

test('integrity: a write with headroom is sealed in place, and only its first record may use the headroom', () => {
  const p = pair(DEFAULT_FRAME_LIMITS, 'hmac-sha256');
  const frames = Array.from({ length: 40 }, () => frameOf(4096));
  const size = frames.reduce((n, f) => n + f.length, 0);
  const buf = new Uint8Array(RECORD_HEADROOM + size).fill(0xee);
  const chunk = buf.subarray(RECORD_HEADROOM);
  let o = 0;
  for (const f of frames) {
    chunk.set(f, o);
    o += f.length;
  }
  p.sender.send(chunk, RECORD_HEADROOM);
  assert.equal(p.out.sent.length, 3, 'about 160 KiB of frames: three records');
  assert.equal(p.out.sent[0]!.buffer, buf.buffer, 'the first record is built around its frames');
  assert.equal(p.out.sent[0]!.byteOffset, 0);
  for (const r of p.out.sent.slice(1)) assert.notEqual(r.buffer, buf.buffer, 'the others follow frames, not free bytes');
  for (const r of p.out.sent) p.inWire.handlers!.message(r);
  assert.equal(p.got.length, 40);
  assert.deepEqual(p.errors, []);
});

test('a frame of the largest allowed size travels alone in a record larger than a frame', () => {
  const limits = { ...DEFAULT_FRAME_LIMITS, maxFrameBytes: 200_000 };
  const p = pair(limits);
  const f = frameOf(200_000 - 33 - 3); // body = 33 fixed + 3 topic + payload = exactly the limit
  assert.equal(f.length, 200_004);
  p.sender.send(f);
  assert.equal(p.out.sent.length, 1);
  assert.ok(p.out.sent[0]!.length > limits.maxFrameBytes);
  p.inWire.handlers!.message(p.out.sent[0]!);
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.got, [200_000 - 36]);
});

test('through a secure broker: a maximal message and a 3 MiB backlog reach the subscriber', async () => {
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1e6, burst: 1e6 } } });
  const broker = new Broker({ heartbeatMs: 0, security: hubSecurity(doc).security });
  const opts = { name: 'test', secret: doc.apps.test.secret, reconnect: false as const, security: { crypto } };
  const pub = await connectWith(memoryConnector(broker), opts);
  const sub = await connectWith(memoryConnector(broker), opts);
  try {
    let bytes = 0;
    let count = 0;
    await sub.subscribe('big.>', (m) => {
      bytes += (m.data as Uint8Array).length;
      count++;
    }).ready;
    const max = DEFAULT_FRAME_LIMITS.maxFrameBytes - 33 - 'big.max'.length;
    await pub.publish('big.max', new Uint8Array(max), { ack: true });
    for (let i = 0; i < 768; i++) void pub.publish('big.flood', new Uint8Array(4096));
    await pub.flush();
    const deadline = Date.now() + 5000;
    while (count < 769 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(count, 769);
    assert.equal(bytes, max + 768 * 4096);
    assert.equal(sub.state, 'connected');
  } finally {
    await pub.close();
    await sub.close();
    await broker.close(50);
  }
});
