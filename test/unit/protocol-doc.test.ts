import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeFrame, encodeFrame } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';

/** The hex examples in docs/PROTOCOL.md are the codec's output, byte for byte, and decode back. */
const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
const examples = doc
  .slice(doc.indexOf('## Examples'))
  .match(/```\n([\s\S]*?)```/g)!
  .map((block) =>
    Uint8Array.from(
      block
        .split('\n')
        .flatMap((line) => line.split(/\s{3,}/)[0]!.match(/\b[0-9a-f]{2}\b/g) ?? [])
        .map((h) => parseInt(h, 16)),
    ),
  );

test('PUBLISH example in PROTOCOL.md', () => {
  const env = envelope(Kind.PUBLISH, {
    topic: 'orders.created',
    headers: { traceparent: 't1' },
    payloadType: PayloadType.JSON,
    payload: new TextEncoder().encode('{"id":1}'),
    timestamp: 1763000000000,
  });
  assert.deepEqual(examples[0], encodeFrame(env));
  const back = decodeFrame(examples[0]!);
  assert.equal(back.topic, 'orders.created');
  assert.equal(back.headers?.traceparent, 't1');
});

test('SUBSCRIBE example in PROTOCOL.md', () => {
  assert.deepEqual(examples[1], encodeFrame(envelope(Kind.SUBSCRIBE, { id: 2, sid: 1, topic: 'orders.*', group: 'billing' })));
});
