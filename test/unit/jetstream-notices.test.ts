/**
 * The bytes a hub sends for its appends: the NATS header block of an append, encoded once, is the
 * one nats.js's own MsgHdrs would send; and the notice of several appends, read back (the wire
 * format other hubs, maybe of another build, read), with anything malformed cut off rather than
 * told wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headers as natsHeaders, Match } from 'nats';
import { headerBytes, headerEntries, toNatsHeaders } from '../../src/node/cluster/jetstream-codec.js';
import { decodeNotice } from '../../src/node/cluster/jetstream-notices.js';

const bytesOf = (h: unknown): Uint8Array => (h as { encode(): Uint8Array }).encode();

test("an append's headers encode to what nats.js's MsgHdrs sends, and set/get/values work on them", () => {
  const m = { time: 1, topic: 't', payloadType: 1 as const, payload: new Uint8Array(), headers: { 'x-é': 'a\r\nb' }, msgId: 'id é/1' };
  const entries = headerEntries(m, 1234, 'a1b2c3d4', true);
  const ours = toNatsHeaders(entries.map(([k, v]) => [k, v]));
  const theirs = natsHeaders();
  for (const [k, v] of entries) theirs.append(k, v);
  assert.deepEqual(bytesOf(ours), bytesOf(theirs));
  assert.equal(bytesOf(ours).length, headerBytes(entries), 'the size counted for state() is the size sent');
  ours.set('Nats-Expected-Last-Sequence', '7');
  theirs.set('Nats-Expected-Last-Sequence', '7');
  assert.deepEqual(bytesOf(ours), bytesOf(theirs), 'after a set');
  assert.equal(ours.get('CB-Time'), '1234');
  assert.equal(ours.get('cb-time', Match.IgnoreCase), '1234');
  assert.equal(ours.get('missing'), '');
  assert.deepEqual(ours.values('Nats-Msg-Id'), [encodeURIComponent('id é/1')]);
  assert.ok(ours.has('CB-Origin') && !ours.has('CB-Nope'));
  assert.deepEqual(
    [...ours].map(([k]) => k),
    ours.keys(),
  );
  assert.throws(() => ours.append('X', 'a\nb'), /not allowed/);
});

test('a notice tells its messages with seq and time as differences; a malformed one is cut where it breaks', () => {
  const notice = { v: 1, o: 'hubA', t: ['a.b', 'c'], m: [10, 120, 5000, 0, 1, 130, 0, 1, 3, 120, 2, 0] };
  const data = new TextEncoder().encode(JSON.stringify(notice));
  assert.deepEqual(decodeNotice(data), [
    { seq: 10, topic: 'a.b', size: 120, time: 5000, origin: 'hubA' },
    { seq: 11, topic: 'c', size: 130, time: 5000, origin: 'hubA' },
    { seq: 14, topic: 'a.b', size: 120, time: 5002, origin: 'hubA' },
  ]);
  const enc = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x));
  assert.deepEqual(decodeNotice(enc({ ...notice, v: 2 })), [], 'another version is not read');
  assert.deepEqual(decodeNotice(new TextEncoder().encode('{nope')), []);
  assert.deepEqual(
    decodeNotice(enc({ ...notice, m: [10, 120, 5000, 0, 1, 130, 0, 9] })),
    [decodeNotice(data)[0]],
    'a topic index out of range',
  );
  assert.deepEqual(decodeNotice(enc({ ...notice, m: [-10, 120, 5000, 0] })), [], 'no seq below 1');
});
