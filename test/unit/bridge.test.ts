/**
 * A browser-style hub (origin identity, in memory) bridged to a real Node hub over WebSocket
 * with the bridge's own credentials: one topic space for both sides.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker/broker.js';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import { bridge, connectWith, type Bridge, type Bus, type Message } from '../../src/client/index.js';
import { memoryConnector } from '../../src/transports/memory/memory-transport.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { connect } from '../../src/node/index.js';
import { startHub, type Hub } from '../../src/hub/index.js';
import { secret, testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const PAGE = 'http://localhost:7071';

describe('bridge: browser hub <-> Node hub', () => {
  let nodeHub: Hub;
  let browserHub: Broker;
  let page: Bus;
  let bridgeLocal: Bus;
  let bridgeRemote: Bus;
  let service: Bus;
  let b: Bridge;
  const bridgeSecret = secret();

  before(async () => {
    const doc = testConfigDocument();
    (doc.apps as Record<string, unknown>).bridge = { secret: bridgeSecret, roles: ['bridge'] };
    (doc.roles as Record<string, unknown>).bridge = {
      publish: ['edits.>', 'build.>'],
      subscribe: ['build.>', 'edits.>'],
      request: ['svc.>'],
    };
    nodeHub = await startHub({ port: 0, config: doc });
    service = await connect(nodeHub.url, { name: 'test', secret: doc.apps.test.secret });
    service.serve('svc.format', (m) => ({ formatted: String((m.data as { code: string }).code).toUpperCase() }));
    await service.flush();

    const config = parseHubConfig({
      apps: { page: { origins: [PAGE], roles: ['page'] } },
      roles: {
        page: {
          publish: ['edits.>', 'build.>', 'page.>'],
          subscribe: ['edits.>', 'build.>', 'page.>', 'svc.>'],
          request: ['svc.>', 'page.>'],
        },
      },
    });
    browserHub = new Broker({
      heartbeatMs: 0,
      security: new HubSecurity({ crypto: createNodeCryptoProvider(), config, identifyByOrigin: true }),
    });
    page = await connectWith(memoryConnector(browserHub, { vouchedOrigin: PAGE }), { reconnect: false });
    bridgeLocal = await connectWith(memoryConnector(browserHub, { vouchedOrigin: PAGE }), { reconnect: false });
    bridgeRemote = await connect(nodeHub.url, { name: 'bridge', secret: bridgeSecret });
    b = bridge(bridgeLocal, bridgeRemote, { exports: ['edits.>'], imports: ['build.>', 'edits.>'], remoteServices: ['svc.>'] });
    await b.ready;
  });

  after(async () => {
    b?.close();
    for (const x of [page, bridgeLocal, bridgeRemote, service]) await x?.close();
    await browserHub?.close(10);
    await nodeHub?.close();
  });

  test('messages cross in both directions, each exactly once (no echo through a bridge that imports what it exports)', async () => {
    const atNode: unknown[] = [];
    const atPage: unknown[] = [];
    // Barriers travel the bridge path too; they are kept apart from what the assertions compare.
    const barriersAtNode: string[] = [];
    const barriersAtPage: string[] = [];
    const isBarrier = (m: Message): boolean => m.topic.endsWith('.barrier');
    const s1 = service.subscribe('edits.>', (m) => void (isBarrier(m) ? barriersAtNode.push(m.topic) : atNode.push(m.data)));
    const s2 = page.subscribe('build.>', (m) => void (isBarrier(m) ? barriersAtPage.push(m.topic) : atPage.push(m.data)));
    const s3 = page.subscribe('edits.>', (m) => void (isBarrier(m) ? barriersAtPage.push(m.topic) : atPage.push(m.data)));
    await Promise.all([s1.ready, s2.ready, s3.ready]);
    await page.publish('edits.file', { line: 1 });
    await service.publish('build.done', { ok: true });
    await until(() => atNode.length === 1 && atPage.length === 2, 3_000, 'both directions');
    // An echo of edits.file would come back from the Node hub to the bridge ahead of a barrier the
    // service sends now (each hub delivers in order per connection), and so reach the page first.
    await service.publish('build.barrier', null);
    await until(() => barriersAtPage.includes('build.barrier'), 3_000, 'the barrier from the Node side at the page');
    // And whatever the page got back would go out again ahead of a barrier the page sends now.
    await page.publish('edits.barrier', null);
    await until(() => barriersAtNode.includes('edits.barrier'), 3_000, 'the barrier from the page at the Node service');
    assert.deepEqual(atNode, [{ line: 1 }]);
    assert.deepEqual(
      atPage.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
      [{ line: 1 }, { ok: true }],
    );
    // edits.file and edits.barrier went out; build.done and build.barrier came in.
    assert.equal(b.stats.exported, 2);
    assert.equal(b.stats.imported, 2);
  });

  test('a page request is answered by a Node service through the bridge; its errors come back as errors', async () => {
    assert.deepEqual(await page.request('svc.format', { code: 'abc' }), { formatted: 'ABC' });
    await assert.rejects(
      page.request('svc.missing', 1, { timeoutMs: 2_000 }),
      (e: unknown) => (e as { code?: string }).code === 'CB_ERR_NO_RESPONDERS',
    );
    assert.ok(b.stats.requestsOut >= 2);
  });

  test('each hub applies its own rules to the bridge: the Node hub refuses what the bridge app may not publish', async () => {
    const errors: string[] = [];
    const local = await connectWith(memoryConnector(browserHub, { vouchedOrigin: PAGE }), { reconnect: false });
    const x = bridge(local, bridgeRemote, { exports: ['page.>'], onError: (e) => errors.push(e.code) });
    await x.ready;
    await page.publish('page.private', 1);
    await until(() => errors.length === 1, 3_000, 'the refusal');
    assert.deepEqual(errors, ['CB_ERR_FORBIDDEN']);
    x.close();
    await local.close();
  });
});
