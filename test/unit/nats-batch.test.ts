/**
 * Frames joined into one NATS message (src/node/cluster/nats-batch.ts): consecutive publishes to
 * one subject go as one payload at the end of the turn, anything else sends the run first (order
 * kept), runs stay under the byte limit, and a receiver gets every frame back, bytes that make no
 * whole frame included (so that its decoder refuses and counts them).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, encodeFrame } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import { BATCH_MAX_BYTES, FrameBatch, eachFrame } from '../../src/node/cluster/nats-batch.js';

const frame = (topic: string, n: number, size = 8): Uint8Array =>
  encodeFrame(envelope(Kind.PUBLISH, { topic, payload: new Uint8Array(size).fill(n), payloadType: PayloadType.BYTES }));

interface Sent {
  subject: string;
  frames: number;
  payload: Uint8Array;
}

function recorder(): { sent: Sent[]; batch: FrameBatch } {
  const sent: Sent[] = [];
  return { sent, batch: new FrameBatch((subject, payload, frames) => sent.push({ subject, payload, frames })) };
}

function split(payload: Uint8Array): Array<{ topic: string; first: number }> {
  const out: Array<{ topic: string; first: number }> = [];
  eachFrame(payload, (f) => {
    const env = decodeFrame(f);
    out.push({ topic: env.topic, first: env.payload[0] as number });
  });
  return out;
}

describe('FrameBatch', () => {
  test('a run to one subject goes as one payload at the end of the turn, its frames in order', async () => {
    const { sent, batch } = recorder();
    for (let i = 0; i < 5; i++) batch.add('a.b', frame('a.b', i), 1024 * 1024);
    assert.equal(sent.length, 0, 'nothing sent within the turn');
    assert.equal(batch.size, 5);
    await Promise.resolve();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.subject, 'a.b');
    assert.equal(sent[0]?.frames, 5);
    assert.deepEqual(
      split(sent[0]!.payload).map((f) => f.first),
      [0, 1, 2, 3, 4],
    );
    assert.equal(batch.size, 0);
  });

  test('another subject or an explicit flush sends the run first: the order of everything is kept', async () => {
    const { sent, batch } = recorder();
    batch.add('x.1', frame('x.1', 1), 1 << 20);
    batch.add('x.1', frame('x.1', 2), 1 << 20);
    batch.add('x.2', frame('x.2', 3), 1 << 20);
    batch.add('x.1', frame('x.1', 4), 1 << 20);
    batch.flush(); // what a request or a reply does before it goes
    batch.add('x.1', frame('x.1', 5), 1 << 20);
    await Promise.resolve();
    assert.deepEqual(
      sent.map((s) => [s.subject, s.frames]),
      [
        ['x.1', 2],
        ['x.2', 1],
        ['x.1', 1],
        ['x.1', 1],
      ],
    );
    assert.deepEqual(
      sent.flatMap((s) => split(s.payload).map((f) => f.first)),
      [1, 2, 3, 4, 5],
    );
  });

  test("a run stays within the server's max_payload and the batch limit; a lone large frame goes alone", async () => {
    const { sent, batch } = recorder();
    const f = frame('big', 0, 400);
    for (let i = 0; i < 10; i++) batch.add('big', f, f.length * 3 + 10);
    await Promise.resolve();
    assert.deepEqual(
      sent.map((s) => s.frames),
      [3, 3, 3, 1],
    );
    for (const s of sent) assert.ok(s.payload.length <= f.length * 3 + 10);
    sent.length = 0;
    const large = frame('big', 1, BATCH_MAX_BYTES + 100);
    batch.add('big', f, 1 << 22);
    batch.add('big', large, 1 << 22);
    batch.add('big', f, 1 << 22);
    await Promise.resolve();
    assert.deepEqual(
      sent.map((s) => s.frames),
      [1, 1, 1],
    );
    assert.equal(sent[1]?.payload, large, 'a single frame is sent as it is, not copied');
  });
});

describe('eachFrame', () => {
  test('a single frame is handed over as it is; back-to-back frames one by one', () => {
    const one = frame('t', 7);
    const got: Uint8Array[] = [];
    assert.equal(
      eachFrame(one, (f) => got.push(f)),
      1,
    );
    assert.equal(got[0], one);
    const a = frame('t', 1);
    const b = frame('u.v', 2, 30);
    const joined = new Uint8Array(a.length + b.length);
    joined.set(a);
    joined.set(b, a.length);
    assert.deepEqual(split(joined), [
      { topic: 't', first: 1 },
      { topic: 'u.v', first: 2 },
    ]);
  });

  test('bytes that make no whole frame are handed over, for the decoder to refuse', () => {
    const a = frame('t', 1);
    const truncated = new Uint8Array(a.length + 6);
    truncated.set(a);
    truncated.set([0, 0, 0, 200, 1, 2], a.length); // a prefix announcing 200 bytes, 2 present
    const got: Uint8Array[] = [];
    eachFrame(truncated, (f) => got.push(f));
    assert.equal(got.length, 2);
    assert.doesNotThrow(() => decodeFrame(got[0]!));
    assert.throws(() => decodeFrame(got[1]!), { code: 'CB_ERR_FRAME_TRUNCATED' });
    const short = Uint8Array.of(0, 0);
    got.length = 0;
    eachFrame(short, (f) => got.push(f));
    assert.equal(got.length, 1);
    assert.equal(got[0], short, 'too short for a length prefix: handed over as it is');
    got.length = 0;
    eachFrame(new Uint8Array(0), (f) => got.push(f));
    assert.equal(got.length, 1, 'an empty payload is handed over too');
  });
});
