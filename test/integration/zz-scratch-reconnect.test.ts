import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { startHubProcess, restartOnPort, waitFor, sleep } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';

test('scratch', { timeout: 20000 }, async () => {
  const hub1 = await startHubProcess();
  const b = await openBus(hub1.url, { name: 'x', reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 } });
  let disconnects = 0, reconnecting = 0;
  b.on('disconnected', () => disconnects++);
  b.on('reconnecting', (e) => { reconnecting++; console.log('reconnecting', e); });
  b.on('connected', (e) => console.log('connected', e));
  const port = hub1.port;
  await hub1.stop('SIGKILL');
  await waitFor(() => b.state === 'reconnecting', 5000, 'x');
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  let accepted = 0;
  wss.on('connection', (ws) => { accepted++; ws.close(1001, 'CB_ERR_HUB_SHUTTING_DOWN'); });
  await sleep(600);
  console.log('accepted by fake', accepted, 'disconnects', disconnects, 'reconnecting events', reconnecting);
  await new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); });
  const hub2 = await restartOnPort(port);
  await sleep(2000);
  console.log(hub2.stderr());
  console.log('state', b.state, 'disconnects', disconnects);
  await closeBus(b);
  await hub2.stop();
});
