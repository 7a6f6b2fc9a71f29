/**
 * A request made while the bus is still connecting (`waitForHub: false`, the hub not up yet) or
 * reconnecting waits for the connection and is answered: it is written with the reply inbox the
 * hub gives that connection. Against a real hub process.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { rejectsWithCode } from '../helpers/rejects.js';

const hubs: HubProcess[] = [];
const buses: SyncingBus[] = [];
after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  for (const h of hubs) if (h.alive()) await h.stop();
});

test('requests made while connecting and while reconnecting are answered once connected', { timeout: 60_000 }, async () => {
  const hub = await startHubProcess();
  hubs.push(hub);
  const creds = hub.credentials as { name: string; secret: string };
  await hub.stop();
  const bus = (await connect(hub.url, {
    ...creds,
    waitForHub: false,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 1000 },
    requestTimeoutMs: 20_000,
  })) as SyncingBus;
  buses.push(bus);
  assert.equal(bus.state, 'connecting');
  const early = bus.request<{ connections: unknown }>('$SYS.REQ.STATS');
  const back = await restartOnPort(hub.port);
  hubs.push(back);
  assert.ok((await early) !== null, 'answered, not refused for its reply inbox');
  assert.equal(bus.state, 'connected');

  // Lost again: a request made while reconnecting is answered once the hub is back.
  await back.stop();
  await new Promise<void>((resolve) => {
    if (bus.state === 'reconnecting') resolve();
    else bus.on('reconnecting', () => resolve());
  });
  const during = bus.request('$SYS.REQ.STATS');
  const again = await restartOnPort(hub.port);
  hubs.push(again);
  assert.ok((await during) !== null);

  // Not connected within its timeout: CB_ERR_TIMEOUT, as any request that is not answered.
  await again.stop();
  await new Promise<void>((resolve) => {
    if (bus.state === 'reconnecting') resolve();
    else bus.on('reconnecting', () => resolve());
  });
  await rejectsWithCode(bus.request('$SYS.REQ.STATS', undefined, { timeoutMs: 200 }), 'CB_ERR_TIMEOUT');
});
