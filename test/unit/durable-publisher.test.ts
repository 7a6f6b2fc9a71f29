/**
 * DurablePublisher on its own, with a host that records what it writes: timeouts, resends after a
 * lost connection (same msgId, new operation id), and answers that come too late.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurablePublisher } from '../../src/client/durable-publisher.js';
import { createError, isCrossbusError } from '../../src/core/errors/index.js';
import { Kind, PayloadType, envelope, type Envelope } from '../../src/core/protocol/envelope.js';
import { HEADER_MSG_ID } from '../../src/core/streams/wire.js';

function host() {
  let id = 0;
  const written: Envelope[] = [];
  return { written, opId: () => ++id, write: (env: Envelope) => void written.push(env) };
}
const PAYLOAD = { payloadType: PayloadType.JSON, payload: new Uint8Array(0), payloadText: '1' };
const ok = (id: number, seq: number) => envelope(Kind.OK, { id, seq, topic: 'S' });

test('an unacknowledged durable publish fails with CB_ERR_TIMEOUT and is forgotten', async () => {
  const h = host();
  const d = new DurablePublisher(h);
  const started = Date.now();
  await assert.rejects(
    d.publish('a.b', 'm-1', undefined, PAYLOAD, 30),
    (e: unknown) => isCrossbusError(e, 'CB_ERR_TIMEOUT') && (e as { details?: { msgId?: string } }).details?.msgId === 'm-1',
  );
  assert.ok(Date.now() - started >= 30, 'never early');
  assert.equal(d.size, 0);
  assert.equal(d.onOk(ok(h.written[0]!.id, 1)), false, 'a late answer finds nothing');
});

test('a publish lost with its connection is sent again with its msgId and settles on the new answer', async () => {
  const h = host();
  const d = new DurablePublisher(h);
  const acked = d.publish('a.b', undefined, { x: '1' }, PAYLOAD, 5_000);
  const first = h.written[0]!;
  d.connectionLost();
  d.resend();
  const second = h.written[1]!;
  assert.notEqual(second.id, first.id);
  assert.equal(second.headers?.[HEADER_MSG_ID], first.headers?.[HEADER_MSG_ID]);
  assert.equal(second.headers?.x, '1');
  assert.equal(d.onOk(ok(first.id, 7)), false, 'the answer to the lost copy is not taken');
  assert.equal(d.onOk(ok(second.id, 7)), true);
  assert.deepEqual(await acked, { stream: 'S', seq: 7, duplicate: false });
  assert.equal(d.size, 0);
});

test('errors reject their publish; rejectAll rejects the rest; a write that throws rejects at once', async () => {
  const h = host();
  const d = new DurablePublisher(h);
  const a = d.publish('a.b', undefined, undefined, PAYLOAD, 5_000);
  const b = d.publish('a.c', undefined, undefined, PAYLOAD, 5_000);
  assert.equal(d.onError(h.written[0]!.id, createError('CB_ERR_FORBIDDEN', 'no')), true);
  await assert.rejects(a, (e: unknown) => isCrossbusError(e, 'CB_ERR_FORBIDDEN'));
  d.rejectAll(createError('CB_ERR_CONNECTION_CLOSED', 'closed'));
  await assert.rejects(b, (e: unknown) => isCrossbusError(e, 'CB_ERR_CONNECTION_CLOSED'));
  assert.equal(d.size, 0);
  const failing = new DurablePublisher({
    opId: () => 1,
    write: () => {
      throw createError('CB_ERR_CONNECTION_CLOSED', 'bus is closed');
    },
  });
  await assert.rejects(failing.publish('a.b', undefined, undefined, PAYLOAD, 5_000), (e: unknown) =>
    isCrossbusError(e, 'CB_ERR_CONNECTION_CLOSED'),
  );
  assert.equal(failing.size, 0);
});
