/**
 * Service groups and request/reply against a real hub process. Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CrossbusError, type Bus } from '../../src/node/index.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { until, sleep } from '../helpers/wait.js';

const T = { timeout: 20_000 };

let hub: HubProcess;

before(async () => {
  hub = await startHubProcess();
});

after(async () => {
  await hub?.stop();
});

async function caught(p: Promise<unknown>): Promise<CrossbusError> {
  let err: unknown;
  await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => (err = e),
  );
  assert.ok(err instanceof CrossbusError, `expected a CrossbusError, got ${String(err)}`);
  return err;
}

describe('service groups', () => {
  test('each message goes to exactly one group member, balanced; a plain subscriber gets all', T, async () => {
    const members: Bus[] = [];
    let plainBus: Bus | undefined;
    let pub: Bus | undefined;
    try {
      for (let i = 0; i < 3; i++) members.push(await openBus(hub.url, { name: `member-${i}` }));
      plainBus = await openBus(hub.url, { name: 'plain' });
      pub = await openBus(hub.url, { name: 'group-publisher' });
      const perMember: number[][] = members.map(() => []);
      const plain: number[] = [];
      const subs = members.map((b, i) =>
        b.subscribe<{ id: number }>(
          'jobs.created',
          (m) => {
            perMember[i]!.push(m.data.id);
          },
          { group: 'g' },
        ),
      );
      const plainSub = plainBus.subscribe<{ id: number }>('jobs.created', (m) => {
        plain.push(m.data.id);
      });
      // A barrier after the jobs, subscribed plainly on every bus: the hub delivers in order per
      // connection, so once a bus has the barrier, every job routed to it (a duplicate included)
      // has arrived too.
      const receivers = [...members, plainBus];
      const barriers = receivers.map(() => 0);
      const barrierSubs = receivers.map((b, i) => b.subscribe('jobs.barrier', () => void barriers[i]!++));
      await Promise.all([...subs.map((s) => s.ready), plainSub.ready, ...barrierSubs.map((s) => s.ready)]);

      const N = 300;
      for (let id = 0; id < N; id++) await pub.publish('jobs.created', { id });
      await pub.publish('jobs.barrier', null);
      await until(() => barriers.every((n) => n >= 1), 10_000, 'the barrier at every member and the plain subscriber');
      const all = perMember.flat();
      assert.equal(all.length, N, `sum over members is ${N} (per member: ${perMember.map((m) => m.length).join(', ')})`);
      assert.equal(new Set(all).size, N, 'no message delivered twice');
      assert.deepEqual(
        [...all].sort((a, b) => a - b),
        Array.from({ length: N }, (_, i) => i),
      );
      for (const [i, m] of perMember.entries()) {
        assert.ok(m.length > 0, `member ${i} got some messages`);
        assert.ok(m.length >= N / 3 / 2, `member ${i} got a fair share (${m.length})`);
      }
      assert.deepEqual(
        plain,
        Array.from({ length: N }, (_, i) => i),
        'the plain subscriber gets all, in order',
      );
    } finally {
      for (const b of [...members, plainBus, pub]) await closeBus(b);
    }
  });

  test('a member that leaves stops getting messages; the rest take over', T, async () => {
    const a = await openBus(hub.url, { name: 'leave-a' });
    const b = await openBus(hub.url, { name: 'leave-b' });
    const pub = await openBus(hub.url, { name: 'leave-pub' });
    try {
      const gotA: number[] = [];
      const gotB: number[] = [];
      await a.subscribe<number>('leave.t', (m) => void gotA.push(m.data), { group: 'lg' }).ready;
      await b.subscribe<number>('leave.t', (m) => void gotB.push(m.data), { group: 'lg' }).ready;
      // drain() unsubscribes and flushes: once it resolves, the hub has removed a from the group.
      await a.drain();
      await closeBus(a);
      for (let i = 0; i < 20; i++) await pub.publish('leave.t', i);
      await until(() => gotB.length === 20, 5_000, 'all messages at the remaining member');
      assert.equal(gotA.length, 0);
    } finally {
      await closeBus(a);
      await closeBus(b);
      await closeBus(pub);
    }
  });
});

describe('request/reply', () => {
  test('serve + request returns the handler result', T, async () => {
    const service = await openBus(hub.url, { name: 'pricing-1' });
    const client = await openBus(hub.url, { name: 'pricing-client' });
    try {
      const seen: unknown[] = [];
      await service.serve<{ sku: string }>(
        'pricing.quote',
        async (msg) => {
          seen.push(msg.data);
          return { price: 3 };
        },
        { group: 'pricing' },
      ).ready;
      const reply = await client.request('pricing.quote', { sku: 'A1' }, { timeoutMs: 2000 });
      assert.deepEqual(reply, { price: 3 });
      assert.deepEqual(seen, [{ sku: 'A1' }]);
      // Bytes round-trip as bytes.
      await service.serve('bytes.echo', (msg) => msg.bytes).ready;
      const bytes = new Uint8Array([0, 255, 1, 254]);
      const echoed = await client.request<Uint8Array>('bytes.echo', bytes, { timeoutMs: 2000 });
      assert.ok(echoed instanceof Uint8Array);
      assert.deepEqual([...echoed], [...bytes]);
    } finally {
      await closeBus(service);
      await closeBus(client);
    }
  });

  test('two instances in the same group share 50 requests', T, async () => {
    const s1 = await openBus(hub.url, { name: 'lb-1' });
    const s2 = await openBus(hub.url, { name: 'lb-2' });
    const client = await openBus(hub.url, { name: 'lb-client' });
    try {
      const served = [0, 0];
      await s1.serve('lb.quote', () => ({ by: 1, n: ++served[0]! }), { group: 'lb' }).ready;
      await s2.serve('lb.quote', () => ({ by: 2, n: ++served[1]! }), { group: 'lb' }).ready;
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.request<{ by: number }>('lb.quote', { i }, { timeoutMs: 5000 })),
      );
      assert.equal(replies.length, 50);
      assert.equal(served[0]! + served[1]!, 50, 'each request served exactly once');
      assert.ok(served[0]! > 0 && served[1]! > 0, `both instances served some (${served.join(' / ')})`);
      assert.equal(replies.filter((r) => r.by === 1).length, served[0]);
    } finally {
      await closeBus(s1);
      await closeBus(s2);
      await closeBus(client);
    }
  });

  test('no responders: rejects quickly with CB_ERR_NO_RESPONDERS (retryable)', T, async () => {
    const client = await openBus(hub.url, { name: 'nr-client' });
    try {
      const started = Date.now();
      const err = await caught(client.request('nobody.serves.this', { x: 1 }, { timeoutMs: 5000 }));
      const elapsed = Date.now() - started;
      assert.equal(err.code, 'CB_ERR_NO_RESPONDERS');
      assert.equal(err.retryable, true);
      assert.ok(elapsed < 1000, `rejected in ${elapsed} ms, well below the 5000 ms timeout`);
      // The bus is still fine afterwards.
      assert.equal(client.state, 'connected');
    } finally {
      await closeBus(client);
    }
  });

  test('a service that never answers: CB_ERR_TIMEOUT after ~timeoutMs', T, async () => {
    const service = await openBus(hub.url, { name: 'silent-service' });
    const client = await openBus(hub.url, { name: 'timeout-client' });
    try {
      let calls = 0;
      await service.serve('silent.t', () => {
        calls++;
        return new Promise(() => {}); // never settles
      }).ready;
      const started = Date.now();
      const err = await caught(client.request('silent.t', 1, { timeoutMs: 300 }));
      const elapsed = Date.now() - started;
      assert.equal(err.code, 'CB_ERR_TIMEOUT');
      assert.equal(err.retryable, true);
      assert.ok(elapsed >= 290 && elapsed < 1500, `timed out after ${elapsed} ms (timeoutMs 300)`);
      assert.equal(calls, 1, 'the service did get the request');
    } finally {
      await closeBus(service);
      await closeBus(client);
    }
  });

  test('a handler that throws: CB_ERR_HANDLER_FAILED with the message, no stack', T, async () => {
    const service = await openBus(hub.url, { name: 'throwing-service' });
    const client = await openBus(hub.url, { name: 'throw-client' });
    const serviceErrors: string[] = [];
    service.on('error', (e) => serviceErrors.push(e.error.code));
    try {
      await service.serve('throws.t', () => {
        throw new Error('inventory database is down');
      }).ready;
      await service.serve('throws.async', async () => {
        await sleep(5);
        throw new TypeError('async failure');
      }).ready;
      const err = await caught(client.request('throws.t', {}, { timeoutMs: 2000 }));
      assert.equal(err.code, 'CB_ERR_HANDLER_FAILED');
      assert.equal(err.message, 'inventory database is down');
      assert.equal(err.retryable, false);
      const remote = JSON.stringify(err.toJSON());
      assert.ok(!/\bat .*:\d+:\d+/.test(remote) && !remote.includes('stack'), `no stack on the wire: ${remote}`);
      assert.equal(err.details?.stack, undefined);
      const err2 = await caught(client.request('throws.async', {}, { timeoutMs: 2000 }));
      assert.equal(err2.code, 'CB_ERR_HANDLER_FAILED');
      assert.equal(err2.message, 'async failure');
      assert.ok(serviceErrors.includes('CB_ERR_HANDLER_FAILED'), 'the service side reports the failure locally');
    } finally {
      await closeBus(service);
      await closeBus(client);
    }
  });

  test('a handler throwing a crossbus error passes its code through', T, async () => {
    const service = await openBus(hub.url, { name: 'typed-throw' });
    const client = await openBus(hub.url, { name: 'typed-client' });
    try {
      await service.serve('typed.t', () => {
        throw new CrossbusError('CB_ERR_PAYLOAD_INVALID', 'sku is required');
      }).ready;
      const err = await caught(client.request('typed.t', {}, { timeoutMs: 2000 }));
      assert.equal(err.code, 'CB_ERR_PAYLOAD_INVALID');
      assert.equal(err.message, 'sku is required');
    } finally {
      await closeBus(service);
      await closeBus(client);
    }
  });

  test('requestMessage gives the reply headers (and request headers reach the service)', T, async () => {
    const service = await openBus(hub.url, { name: 'hdr-service' });
    const client = await openBus(hub.url, { name: 'hdr-client' });
    try {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      let requestHeaders: Record<string, string> = {};
      await service.subscribe(
        'hdr.rpc',
        async (msg) => {
          requestHeaders = { ...msg.headers };
          await msg.respond({ ok: true }, { 'x-served-by': 'hdr-service', traceparent: msg.headers.traceparent ?? '' });
        },
        { group: 'hdr' },
      ).ready;
      const reply = await client.requestMessage<{ ok: boolean }>('hdr.rpc', { q: 1 }, { timeoutMs: 2000, headers: { traceparent } });
      assert.deepEqual(reply.data, { ok: true });
      assert.deepEqual({ ...reply.headers }, { 'x-served-by': 'hdr-service', traceparent });
      assert.deepEqual(requestHeaders, { traceparent });
      assert.ok(reply.topic.startsWith('_INBOX.'));
    } finally {
      await closeBus(service);
      await closeBus(client);
    }
  });

  test('many concurrent requests are all answered correctly', T, async () => {
    const service = await openBus(hub.url, { name: 'sq-service' });
    const client = await openBus(hub.url, { name: 'sq-client' });
    try {
      await service.serve<number>('math.square', (m) => m.data * m.data).ready;
      const N = 500;
      const results = await Promise.all(Array.from({ length: N }, (_, i) => client.request<number>('math.square', i, { timeoutMs: 5000 })));
      assert.deepEqual(
        results,
        Array.from({ length: N }, (_, i) => i * i),
      );
    } finally {
      await closeBus(service);
      await closeBus(client);
    }
  });
});
