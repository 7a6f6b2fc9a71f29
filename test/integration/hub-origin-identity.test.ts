/**
 * `startHub({ identifyByOrigin: true })`: a browser page that connects over WebSocket without a
 * secret is the app whose `origins` lists its Origin header (what the demo's editor bridge does,
 * so that no secret is served to a page). The header must be on the hub's `origins` too and is
 * compared exactly; apps with secrets are unaffected; without the option nothing changes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startHub, type Hub } from '../../src/hub/hub.js';
import { connect, type ConnectOptions } from '../../src/node/index.js';
import { rejectsWithCode } from '../helpers/rejects.js';
import { secret } from '../helpers/security.js';

const PAGE = 'http://localhost:7071';

/** A WebSocket that sends `origin` as a browser page on it would. */
function fromOrigin(origin: string): ConnectOptions['WebSocket'] {
  class PageWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { headers: { Origin: origin } });
    }
  }
  return PageWebSocket as unknown as ConnectOptions['WebSocket'];
}

const config = () => ({
  apps: {
    bridge: { origins: [PAGE], roles: ['bridge'] },
    service: { secret: secret(), roles: ['all'] },
  },
  roles: {
    bridge: { publish: ['edits.>'], subscribe: ['build.>'], request: [] },
    all: { publish: ['>'], subscribe: ['>'], request: ['>'] },
  },
  origins: [PAGE, 'http://127.0.0.1:7072'],
});

const hubs: Hub[] = [];
after(async () => {
  for (const h of hubs) await h.close();
});

async function hub(identifyByOrigin: boolean, doc = config()): Promise<Hub> {
  const h = await startHub({ port: 0, config: doc, identifyByOrigin });
  hubs.push(h);
  return h;
}

describe('startHub identifyByOrigin (a page known by its Origin header)', () => {
  test('the page is the app its origin names, with that app’s grants, without a secret', async () => {
    const doc = config();
    const h = await hub(true, doc);
    const page = await connect(h.url, { name: 'bridge', WebSocket: fromOrigin(PAGE), reconnect: false });
    const service = await connect(h.url, { name: 'service', secret: doc.apps.service.secret, reconnect: false });
    const got: unknown[] = [];
    await service.subscribe('edits.>', (m) => got.push(m.data)).ready;
    await page.publish('edits.doc', { text: 'hi' }, { ack: true });
    await service.flush();
    await service.publish('ping', 1, { ack: true }); // a barrier: edits.doc was routed before this
    assert.deepEqual(got, [{ text: 'hi' }]);
    await rejectsWithCode(page.publish('build.status', 1), 'CB_ERR_FORBIDDEN');
    await page.close();
    await service.close();
  });

  test('refused: an origin on the allow-list that names no app, one in another form, none at all', async () => {
    const h = await hub(true);
    await rejectsWithCode(
      connect(h.url, { name: 'bridge', WebSocket: fromOrigin('http://127.0.0.1:7072'), reconnect: false, timeoutMs: 3_000 }),
      'CB_ERR_ORIGIN_REFUSED',
    );
    // Not on `origins` in that form (browsers send it lower-case): refused before the upgrade.
    await assert.rejects(
      connect(h.url, { name: 'bridge', WebSocket: fromOrigin('http://LOCALHOST:7071'), reconnect: false, timeoutMs: 3_000 }),
      (e: { code?: string; message?: string }) => e.code === 'CB_ERR_CONNECTION_FAILED' && /403/.test(e.message ?? ''),
    );
    // A program without an Origin header is no browser page: it needs a secret.
    await rejectsWithCode(connect(h.url, { name: 'bridge', reconnect: false, timeoutMs: 3_000 }), 'CB_ERR_ORIGIN_REFUSED');
  });

  test('without the option (the default) the Origin header identifies nobody', async () => {
    const h = await hub(false);
    await rejectsWithCode(
      connect(h.url, { name: 'bridge', WebSocket: fromOrigin(PAGE), reconnect: false, timeoutMs: 3_000 }),
      'CB_ERR_AUTH_REQUIRED',
    );
  });
});
