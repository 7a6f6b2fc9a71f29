import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { until } from '../helpers/wait.js';

test('a request whose every recipient leaves without answering fails at once with CB_ERR_RESPONDER_GONE', async () => {
  const broker = new Broker({ heartbeatMs: 0 });
  const connect = () => connectWith(memoryConnector(broker), { reconnect: false });
  const requester = await connect();
  const a = await connect();
  const b = await connect();
  const seenA: string[] = [];
  // a: a service that never answers, then goes away.
  const sa = a.subscribe('svc.slow', (m) => void seenA.push(m.topic), { group: 'svc' });
  await sa.ready;
  const started = Date.now();
  const pending = requester.request('svc.slow', 1, { timeoutMs: 10_000 });
  await until(() => seenA.length > 0, 3_000, 'the request at a');
  await a.close();
  const err = await rejectsWithCode(pending, 'CB_ERR_RESPONDER_GONE');
  assert.ok(Date.now() - started < 2_000, 'long before the 10 s timeout');
  assert.equal(err.retryable, true);

  // Two recipients (plain subscribers): one leaving is not enough; the other still answers.
  const c = await connect();
  const sb = b.subscribe('svc.fan', () => {});
  const sc = c.serve('svc.fan', () => 'from c');
  await Promise.all([sb.ready, sc.ready]);
  await b.flush();
  const two = requester.request('svc.fan', 1, { timeoutMs: 5_000 });
  await b.close();
  assert.equal(await two, 'from c');
  // An answered request stays answered when its responder leaves afterwards.
  assert.equal(await requester.request('svc.fan', 2), 'from c');
  await c.close();
  await requester.flush();
  await requester.close();
  await broker.close(10);
});
