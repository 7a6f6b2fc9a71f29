/**
 * crossbus/page, the lean page client: it carries no secret handshake, record layer or WebSocket
 * client (that is what keeps it small), and says so clearly when given a secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { connect } from '../../src/browser/page.js';
import { Broker } from '../../src/core/broker/broker.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';

const PAGE = fileURLToPath(new URL('../../src/browser/page.ts', import.meta.url));

test('the page client bundle leaves out the secret handshake, the record layer and the WebSocket client', async () => {
  const r = await build({ entryPoints: [PAGE], bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(r.metafile.inputs);
  for (const left of ['client-handshake', 'secure-transport', 'record', 'webcrypto-provider', 'websocket-client', 'secret-auth']) {
    assert.ok(!inputs.some((f) => f.includes(left)), `${left} is not in the page client`);
  }
  assert.ok(inputs.some((f) => f.includes('window-connector')) && inputs.some((f) => f.includes('extension-connector')));
});

test('the page client refuses a secret with CB_ERR_INVALID_OPTION naming the full client, and connects by origin', async () => {
  const broker = new Broker({ heartbeatMs: 0 });
  try {
    await assert.rejects(connect(memoryConnector(broker), { name: 'x', secret: 'A'.repeat(44) }), (e: { code?: string; message?: string }) => e.code === 'CB_ERR_INVALID_OPTION' && /from 'crossbus'/.test(e.message ?? ''));
    const bus = await connect(memoryConnector(broker), { reconnect: false });
    const got: unknown[] = [];
    await bus.subscribe('p.x', (m) => got.push(m.data)).ready;
    await bus.publish('p.x', 1);
    await bus.flush();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [1]);
    await bus.close();
  } finally {
    await broker.close(10);
  }
});
