/**
 * The contract every transport must pass. Each transport's test file calls
 * runTransportContract() with a factory that yields a connected (client, server) pair, and
 * runBusContract() with a way to reach a Broker over that transport.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transport, TransportCloseInfo, TransportConnector } from '../../src/core/transport/transport.js';
import { Broker } from '../../src/core/broker/broker.js';
import { connectWith, type Bus, type ConnectOptions } from '../../src/client/index.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import type { Session } from '../../src/core/broker/session.js';
import { MemoryCatalog } from '../../src/core/streams/memory-catalog.js';
import { StreamService } from '../../src/core/streams/stream-service.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import { createWebCryptoProvider } from '../../src/core/security/webcrypto-provider.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

export interface TransportPair {
  client: Transport;
  server: Transport;
  cleanup(): Promise<void>;
}

interface Recorder {
  chunks: Uint8Array[];
  bytes(): number;
  closed: Promise<TransportCloseInfo>;
  drains: number;
}

function record(t: Transport): Recorder {
  let resolveClosed!: (i: TransportCloseInfo) => void;
  const closed = new Promise<TransportCloseInfo>((r) => (resolveClosed = r));
  const rec: Recorder = {
    chunks: [],
    bytes: () => rec.chunks.reduce((n, c) => n + c.length, 0),
    closed,
    drains: 0,
  };
  let closeCount = 0;
  t.setHandlers({
    message: (c) => rec.chunks.push(Uint8Array.from(c)),
    close: (info) => {
      closeCount++;
      assert.equal(closeCount, 1, 'close handler must be called exactly once');
      resolveClosed(info);
    },
    drain: () => rec.drains++,
  });
  return rec;
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface TransportContractOptions {
  /**
   * The transport carries close codes and reasons to the peer (WebSocket, ports, memory). A
   * socket does not: its peer sees 1000 for an orderly end, and the data sent before still arrives.
   * @default true
   */
  closeCodes?: boolean;
}

export function runTransportContract(name: string, makePair: () => Promise<TransportPair>, options: TransportContractOptions = {}): void {
  const closeCodes = options.closeCodes !== false;
  describe(`transport contract: ${name}`, () => {
    test('delivers chunks in order, byte-identical, both ways', async () => {
      const { client, server, cleanup } = await makePair();
      try {
        const atServer = record(server);
        const atClient = record(client);
        const sent = Array.from({ length: 50 }, (_, i) => bytes(1 + i * 37, i + 1));
        for (const c of sent) client.send(Uint8Array.from(c));
        server.send(bytes(100, 99));
        const total = sent.reduce((n, c) => n + c.length, 0);
        await until(() => atServer.bytes() === total && atClient.bytes() === 100, 5000, 'all bytes');
        const joined = new Uint8Array(total);
        let o = 0;
        for (const c of sent) {
          joined.set(c, o);
          o += c.length;
        }
        const got = new Uint8Array(total);
        o = 0;
        for (const c of atServer.chunks) {
          got.set(c, o);
          o += c.length;
        }
        assert.deepEqual(got, joined);
        if (client.framing === 'message') {
          assert.equal(atServer.chunks.length, sent.length, 'a message transport keeps chunk boundaries');
        }
      } finally {
        await cleanup();
      }
    });

    test('carries a large (1 MiB) chunk', async () => {
      const { client, server, cleanup } = await makePair();
      try {
        const atServer = record(server);
        record(client);
        const big = bytes(1024 * 1024, 7);
        client.send(Uint8Array.from(big));
        await until(() => atServer.bytes() === big.length, 10000, '1 MiB');
        const got = atServer.chunks.length === 1 ? atServer.chunks[0]! : Uint8Array.from(atServer.chunks.flatMap((c) => [...c]));
        assert.deepEqual(got, big);
      } finally {
        await cleanup();
      }
    });

    test('bufferedAmount returns to 0 and drain fires after a burst', async () => {
      const { client, server, cleanup } = await makePair();
      try {
        const atServer = record(server);
        const atClient = record(client);
        for (let i = 0; i < 64; i++) client.send(bytes(64 * 1024, i + 1));
        assert.ok(client.bufferedAmount() >= 0);
        await until(() => atServer.bytes() === 64 * 64 * 1024, 10000, 'burst delivered');
        await until(() => client.bufferedAmount() === 0, 5000, 'bufferedAmount 0');
        await until(() => atClient.drains > 0, 5000, 'drain event');
      } finally {
        await cleanup();
      }
    });

    test('close reaches the other side once, with code; send after close throws a typed error', async () => {
      const { client, server, cleanup } = await makePair();
      try {
        const atServer = record(server);
        const atClient = record(client);
        client.close(1000, 'bye');
        const remote = await atServer.closed;
        const local = await atClient.closed;
        assert.equal(remote.local, false);
        assert.equal(local.local, true);
        assert.equal(remote.code, 1000);
        assert.throws(
          () => client.send(new Uint8Array([1])),
          (e: unknown) => isCrossbusError(e, 'CB_ERR_CONNECTION_CLOSED'),
        );
        client.close(); // idempotent
      } finally {
        await cleanup();
      }
    });

    test('server-initiated close with an application code is seen by the client', async () => {
      const { client, server, cleanup } = await makePair();
      try {
        record(server);
        const atClient = record(client);
        server.send(bytes(10, 3));
        server.close(4008, 'CB_ERR_SLOW_CONSUMER');
        const info = await atClient.closed;
        assert.equal(info.local, false);
        if (closeCodes) {
          assert.equal(info.code, 4008);
          assert.equal(info.reason, 'CB_ERR_SLOW_CONSUMER');
        } else assert.equal(info.code, 1000);
        assert.equal(atClient.bytes(), 10, 'data sent before close still arrives');
      } finally {
        await cleanup();
      }
    });

    test('kind, framing and peer describe the transport', async () => {
      const { client, server, cleanup } = await makePair();
      try {
        for (const t of [client, server]) {
          assert.equal(typeof t.kind, 'string');
          assert.ok(t.kind.length > 0);
          assert.ok(t.framing === 'message' || t.framing === 'stream');
          assert.equal(typeof t.peer, 'string');
        }
      } finally {
        await cleanup();
      }
    });
  });
}

/** The bus over this transport: pub/sub, groups, request/reply, no-responders. */
export function runBusContract(
  name: string,
  setup: () => Promise<{ connector: TransportConnector; broker: Broker; cleanup(): Promise<void>; credentials?: ConnectOptions }>,
): void {
  describe(`bus contract: ${name}`, () => {
    let env: Awaited<ReturnType<typeof setup>>;
    const buses: Bus[] = [];
    const open = async (n: string): Promise<Bus> => {
      const b = await connectWith(env.connector, { name: n, ...env.credentials, reconnect: false });
      buses.push(b);
      return b;
    };
    after(async () => {
      for (const b of buses) await b.close();
      await env?.cleanup();
    });

    test('pub/sub with wildcards, headers and both payload kinds', async () => {
      env = await setup();
      const a = await open('a');
      const b = await open('b');
      const got: Array<[string, unknown, string | undefined]> = [];
      const sub = b.subscribe('orders.*', (m) => got.push([m.topic, m.data, m.headers.traceparent]));
      await sub.ready;
      const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await a.publish('orders.created', { id: 1 }, { headers: { traceparent: tp } });
      await a.publish('orders.bytes', new Uint8Array([0, 1, 255]));
      await a.publish('orders.x.y', 'not matched');
      await a.flush();
      await until(() => got.length === 2, 5000, 'two messages');
      assert.deepEqual(got[0], ['orders.created', { id: 1 }, tp]);
      assert.deepEqual(got[1], ['orders.bytes', new Uint8Array([0, 1, 255]), undefined]);
      sub.unsubscribe();
    });

    test('service group: each message once among members', async () => {
      const pub = await open('pub');
      const members = await Promise.all([open('m1'), open('m2')]);
      const counts = [0, 0];
      const subs = members.map((m, i) => m.subscribe('work.items', () => void counts[i]!++, { group: 'workers' }));
      await Promise.all(subs.map((s) => s.ready));
      for (let i = 0; i < 100; i++) await pub.publish('work.items', i);
      await until(() => counts[0]! + counts[1]! === 100, 5000, '100 deliveries');
      await pub.flush();
      assert.equal(counts[0]! + counts[1]!, 100);
      assert.ok(counts[0]! > 0 && counts[1]! > 0, `both members served: ${counts.join('/')}`);
      subs.forEach((s) => s.unsubscribe());
    });

    test('request/reply, no responders, timeout', async () => {
      const client = await open('client');
      const server = await open('server');
      const svc = server.serve('pricing.quote', async (m) => ({ price: 3, sku: (m.data as { sku: string }).sku }), { group: 'pricing' });
      await svc.ready;
      assert.deepEqual(await client.request('pricing.quote', { sku: 'A1' }, { timeoutMs: 2000 }), { price: 3, sku: 'A1' });
      await assert.rejects(client.request('nobody.serves.this', 1, { timeoutMs: 2000 }), (e: unknown) =>
        isCrossbusError(e, 'CB_ERR_NO_RESPONDERS'),
      );
      const silent = server.subscribe('silent.svc', () => {});
      await silent.ready;
      await assert.rejects(client.request('silent.svc', 1, { timeoutMs: 100 }), (e: unknown) => isCrossbusError(e, 'CB_ERR_TIMEOUT'));
      svc.unsubscribe();
      silent.unsubscribe();
    });

    test('durable streams: durable publish, consume, ack, nak, term and stale acks', async () => {
      const a = await open('producer');
      const b = await open('worker');
      await a.streams.create({ name: 'CONTRACT', topics: ['contract.>'] });
      const acks = await Promise.all([1, 2, 3].map((i) => a.publish(`contract.${i}`, { i }, { durable: true, msgId: `c-${i}` })));
      assert.deepEqual(
        acks.map((x) => x.seq),
        [1, 2, 3],
      );
      assert.equal((await a.publish('contract.1', { i: 1 }, { durable: true, msgId: 'c-1' })).duplicate, true);
      const consumer = b.consume<{ i: number }>('CONTRACT', { durable: 'w', maxDeliver: 2, ackWaitMs: 5_000 });
      const it = consumer[Symbol.asyncIterator]();
      const next = async () => (await it.next()).value as NonNullable<Awaited<ReturnType<typeof it.next>>['value']>;
      const m1 = await next();
      const m2 = await next();
      const m3 = await next();
      assert.deepEqual([m1.seq, m2.seq, m3.seq, m1.data.i], [1, 2, 3, 1]);
      await m1.ack();
      await assert.rejects(m1.ack(), (e: unknown) => isCrossbusError(e, 'CB_ERR_ACK_STALE'));
      await m2.nak();
      const again = await next();
      assert.deepEqual([again.seq, again.deliveryCount], [2, 2]);
      await again.ack();
      await m3.term('contract');
      const deadline = Date.now() + 5_000;
      while ((await a.streams.info('CONTRACT.DLQ')).state.messages < 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      const [dead] = await a.streams.read('CONTRACT.DLQ');
      assert.equal(dead?.headers?.['cb-dlq-reason'], 'term: contract');
      assert.deepEqual(
        (await a.streams.info('CONTRACT')).consumers.map((c) => c.ackFloor),
        [3],
      );
      await consumer.close();
    });

    test('the broker counts what it routed', () => {
      const s = env.broker.stats();
      assert.ok(s.messagesIn > 0 && s.messagesOut > 0 && s.noResponders >= 1);
    });
  });
}

/** An opened stream service in memory, for contract brokers. */
export async function memoryStreams(): Promise<StreamService<Session>> {
  const service = new StreamService<Session>({ catalog: new MemoryCatalog() });
  await service.open();
  return service;
}

/** How a contract hub protects its sessions: none, encrypted on Node crypto, or integrity only on WebCrypto (asynchronous, as in a browser hub). */
export type ContractSecurity = 'plain' | 'encrypted' | 'integrity';

/**
 * A broker with in-memory streams, reached through `connect(broker)`, for runBusContract: plain,
 * or authenticated with a rate limit too high to throttle.
 */
export async function contractHub(security: ContractSecurity, connect: (broker: Broker) => TransportConnector) {
  const streams = await memoryStreams();
  const doc = testConfigDocument({ limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } });
  const hubSecurity =
    security === 'plain'
      ? undefined
      : new HubSecurity({
          crypto: security === 'encrypted' ? createNodeCryptoProvider() : createWebCryptoProvider(),
          config: parseHubConfig(doc),
        });
  const broker = new Broker({ heartbeatMs: 0, streams, ...(hubSecurity ? { security: hubSecurity } : {}) });
  const credentials: ConnectOptions | undefined =
    security === 'plain'
      ? undefined
      : {
          name: 'test',
          secret: doc.apps.test.secret,
          security:
            security === 'encrypted'
              ? { crypto: createNodeCryptoProvider() }
              : { mode: 'integrity', group: 'X25519', crypto: createWebCryptoProvider() },
        };
  return {
    connector: connect(broker),
    broker,
    cleanup: async () => {
      await broker.close(100);
      await streams.close();
    },
    ...(credentials ? { credentials } : {}),
  };
}
