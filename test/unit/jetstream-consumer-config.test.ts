/**
 * How a crossbus durable consumer maps onto a JetStream consumer: the clocks (JetStream waits the
 * hub's ack wait, the backoff after it and a guard), where a new consumer starts, when an update
 * is needed, and reading a delivery's count and sequence from its ack subject.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliverPolicy, nanos } from 'nats';
import { resolveConsumerConfig } from '../../src/core/streams/config.js';
import { ACK_GUARD_MS, consumerConfig, editableSettings, sameSettings, startOf } from '../../src/node/cluster/jetstream-consumer-config.js';
import { ackPosition } from '../../src/node/cluster/jetstream-pull.js';

test('JetStream waits the ack wait, then the backoff step, then the guard; without backoff only the first and the guard', () => {
  const withBackoff = editableSettings(resolveConsumerConfig({ ackWaitMs: 1_000, backoffMs: [100, 2_000], maxAckPending: 7 }));
  assert.deepEqual(withBackoff.backoff, [nanos(1_100 + ACK_GUARD_MS), nanos(3_000 + ACK_GUARD_MS)]);
  assert.equal(withBackoff.ack_wait, withBackoff.backoff?.[0], 'JetStream sets ack_wait to the first step itself');
  assert.equal(withBackoff.max_ack_pending, 7);
  assert.ok((withBackoff.max_deliver ?? 0) > 1_000_000, 'the hub dead-letters; JetStream never gives up');
  const plain = editableSettings(resolveConsumerConfig({ ackWaitMs: 500, backoffMs: [] }));
  assert.equal(plain.ack_wait, nanos(500 + ACK_GUARD_MS));
  assert.equal(plain.backoff, undefined);
});

test('a change is seen only where JetStream would change something', () => {
  const want = editableSettings(resolveConsumerConfig({ ackWaitMs: 1_000, backoffMs: [100] }));
  assert.ok(sameSettings({ ...want, backoff: [...(want.backoff ?? [])] }, want));
  assert.ok(!sameSettings({ ...want, max_ack_pending: 1 }, want));
  assert.ok(!sameSettings({ ...want, backoff: [] }, want));
  assert.ok(!sameSettings({ ...want, backoff: [nanos(1)] }, want));
});

test('a new consumer starts at its deliver policy; one re-created starts where the catalog saved it', () => {
  assert.deepEqual(startOf('all'), { deliver_policy: DeliverPolicy.All });
  assert.deepEqual(startOf('new'), { deliver_policy: DeliverPolicy.New });
  assert.deepEqual(startOf('last-per-topic'), { deliver_policy: DeliverPolicy.LastPerSubject });
  assert.deepEqual(startOf({ seq: 42 }), { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 42 });
  assert.deepEqual(startOf({ time: 0 }), { deliver_policy: DeliverPolicy.StartTime, opt_start_time: '1970-01-01T00:00:00.000Z' });
  // The oldest message not settled when it was saved comes first (at least once).
  const saved = { nextSeq: 50, plan: [], outstanding: [[12, 2] as [number, number], [40, 1] as [number, number]] };
  assert.deepEqual(startOf('new', saved), { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 12 });
  assert.deepEqual(startOf('new', { nextSeq: 1, plan: [], outstanding: [] }), { deliver_policy: DeliverPolicy.New });
  const full = consumerConfig('billing', resolveConsumerConfig({ deliver: 'all' }));
  assert.equal(full.durable_name, 'billing');
  assert.equal(full.ack_policy, 'explicit');
  assert.equal(full.deliver_policy, DeliverPolicy.All);
});

test('the delivery count and stream sequence come from the ack subject, in both of its forms', () => {
  assert.deepEqual(ackPosition('$JS.ACK.CB_LOG_X.pool.3.17.40.1796362474460692943.5'), {
    deliveries: 3,
    seq: 17,
    timeMs: 1796362474460,
  });
  assert.deepEqual(ackPosition('$JS.ACK.hub.ACCHASH.CB_LOG_X.pool.1.9.9.1796362474460692943.0.tok'), {
    deliveries: 1,
    seq: 9,
    timeMs: 1796362474460,
  });
  for (const bad of [undefined, '_INBOX.x', '$JS.ACK.a.b.c', '$JS.ACK.S.c.x.1.1.1.0', '$JS.ACK.S.c.0.1.1.1.0', '$JS.ACK.S.c.1.-3.1.1.0'])
    assert.equal(ackPosition(bad), undefined, String(bad));
});
