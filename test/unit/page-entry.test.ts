/**
 * crossbus/page, the lean page client: it carries no secret handshake, record layer or WebSocket
 * client (that is what keeps it small), and says so clearly when given a secret. Durable streams
 * come only with the streams plugin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { connect } from '../../src/browser/page.js';
import { createBusStreams } from '../../src/browser/streams.js';
import { startStreamHub } from '../helpers/stream-hub.js';
import { Broker } from '../../src/core/broker/broker.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { connectWith } from '../../src/client/index.js';
import { createRechunkingPair } from '../helpers/rechunking-transport.js';
import { until } from '../helpers/wait.js';

const PAGE = fileURLToPath(new URL('../../src/browser/page.ts', import.meta.url));

test('the page client bundle leaves out the secret handshake, the record layer and the WebSocket client', async () => {
  const r = await build({
    entryPoints: [PAGE],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(r.metafile.inputs);
  for (const left of [
    'client-handshake',
    'secure-transport',
    'record',
    'webcrypto-provider',
    'websocket-client',
    'secret-auth',
    'app-policy',
  ]) {
    assert.ok(!inputs.some((f) => f.includes(left)), `${left} is not in the page client`);
  }
  assert.ok(inputs.some((f) => f.includes('window-connector')) && inputs.some((f) => f.includes('extension-connector')));
  for (const left of ['bus-streams', 'durable-publisher', 'client/streams', 'streams/config', 'stream-message']) {
    assert.ok(!inputs.some((f) => f.includes(left)), `${left} is not in the page client (it comes with crossbus/streams)`);
  }
});

test('the page client stays within the 15 KB budget (minified and gzipped, measured by npm run size)', () => {
  const script = fileURLToPath(new URL('../../scripts/size.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--json', '--budget', '15'], { encoding: 'utf8' });
  const [page] = JSON.parse(r.stdout) as Array<{ name: string; gzipped: number }>;
  // biome-ignore lint/complexity/useOptionalChain: the explicit check narrows `page` for what follows
  assert.ok(page !== undefined && page.name.startsWith('crossbus/page'));
  assert.equal(r.status, 0, `${r.stderr} (${page.gzipped} bytes gzipped)`);
  assert.ok(page.gzipped <= 15 * 1024);
});

test('without the streams plugin, the page client refuses durable operations with a typed error naming the plugin; with it, they work', async () => {
  const hub = await startStreamHub();
  try {
    await (await hub.connect()).streams.create({ name: 'PAGE', topics: ['page.>'] });
    const lean = await connect(memoryConnector(hub.broker), { reconnect: false });
    const named = (e: { code?: string; message?: string }): boolean =>
      e.code === 'CB_ERR_INVALID_OPTION' && /crossbus\/streams/.test(e.message ?? '');
    await assert.rejects(lean.publish('page.a', 1, { durable: true }), named);
    assert.throws(() => lean.streams, named);
    assert.throws(() => lean.consume('PAGE'), named);
    await lean.publish('page.a', 'plain'); // plain publishes are unaffected, and a stream captures them
    await lean.close();

    const full = await connect(memoryConnector(hub.broker), { reconnect: false }, { streams: createBusStreams });
    assert.deepEqual(await full.publish('page.b', 2, { durable: true, msgId: 'm1' }), { stream: 'PAGE', seq: 2, duplicate: false });
    const seen: unknown[] = [];
    const consumer = full.consume('PAGE', {}, async (m) => {
      seen.push(m.data);
      await m.ack();
    });
    await consumer.ready;
    await until(() => seen.length >= 2, 3_000, 'both messages');
    assert.deepEqual(seen, ['plain', 2]);
    assert.equal((await full.streams.info('PAGE')).state.messages, 2);
    await full.close();
  } finally {
    await hub.close();
  }
});

test('the page client refuses a secret with CB_ERR_INVALID_OPTION naming the full client, and connects by origin', async () => {
  const broker = new Broker({ heartbeatMs: 0 });
  try {
    await assert.rejects(
      connect(memoryConnector(broker), { name: 'x', secret: 'A'.repeat(44) }),
      (e: { code?: string; message?: string }) => e.code === 'CB_ERR_INVALID_OPTION' && /from 'crossbus'/.test(e.message ?? ''),
    );
    // Security options without a secret conflict here as in the full client.
    await assert.rejects(
      connect(memoryConnector(broker), { security: { mode: 'integrity' } }),
      (e: { code?: string }) => e.code === 'CB_ERR_CONFLICTING_OPTIONS',
    );
    const bus = await connect(memoryConnector(broker), { reconnect: false });
    const got: unknown[] = [];
    await bus.subscribe('p.x', (m) => got.push(m.data)).ready;
    await bus.publish('p.x', 1);
    await bus.flush(); // the PONG comes after every delivery of what was published before it
    assert.deepEqual(got, [1]);
    await bus.close();
  } finally {
    await broker.close(10);
  }
});

test('the page client refuses a byte-stream transport with a typed error naming the plugin, and closes it; the full client reframes it', async () => {
  const broker = new Broker({ heartbeatMs: 0 });
  try {
    const [client, server] = createRechunkingPair();
    broker.accept(server);
    let closed = false;
    client.setHandlers({ message: () => {}, close: () => void (closed = true) });
    await assert.rejects(
      connect(async () => client, { reconnect: false }),
      (e: { code?: string; message?: string }) => e.code === 'CB_ERR_INVALID_OPTION' && /reframe plugin/.test(e.message ?? ''),
    );
    await until(() => closed, 2_000, 'the refused transport to close');
    const full = await connectWith(
      async () => {
        const [c, s] = createRechunkingPair();
        broker.accept(s);
        return c;
      },
      { reconnect: false },
    );
    assert.equal(full.state, 'connected');
    await full.close();
  } finally {
    await broker.close(10);
  }
});
