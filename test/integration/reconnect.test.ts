/**
 * Reconnection against real hub processes: the hub is SIGKILLed and a new one started on the same
 * port; the client must reconnect on its own and restore its subscriptions and services. Also the
 * no-reconnect path and a graceful SIGTERM. Needs `npm run build` first.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CrossbusError, type BusState } from '../../src/node/index.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { startHubProcess, restartOnPort, type HubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { until } from '../helpers/wait.js';

const T = { timeout: 20_000 };
const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 400, factor: 2, jitter: 0.2 };

describe('reconnect', () => {
  test('after the hub is killed and restarted on the same port, subscriptions and services come back', T, async () => {
    let hub1: HubProcess | undefined;
    let hub2: HubProcess | undefined;
    const bus = { current: undefined as Awaited<ReturnType<typeof openBus>> | undefined };
    let other: Awaited<ReturnType<typeof openBus>> | undefined;
    try {
      hub1 = await startHubProcess();
      const b = await openBus(hub1.url, { name: 'survivor', reconnect: FAST_RECONNECT });
      bus.current = b;
      const states: Array<[BusState, BusState]> = [];
      const connectedEvents: Array<{ reconnected: boolean; hubId: string }> = [];
      let disconnects = 0;
      b.on('state', (e) => states.push([e.from, e.to]));
      b.on('connected', (e) => connectedEvents.push({ reconnected: e.reconnected, hubId: e.hubId }));
      b.on('disconnected', () => disconnects++);
      const firstHubId = b.info!.hubId;

      const received: Array<{ topic: string; data: unknown }> = [];
      await b.subscribe('rc.>', (m) => void received.push({ topic: m.topic, data: m.data })).ready;
      const selfReceived: unknown[] = [];
      await b.subscribe('self.t', (m) => void selfReceived.push(m.data)).ready;
      let served = 0;
      await b.serve<{ n: number }>(
        'rc.svc',
        (m) => {
          served++;
          return { doubled: m.data.n * 2 };
        },
        { group: 'rc-svc' },
      ).ready;

      // Kill the hub hard: no GOODBYE, the TCP connection just dies.
      const port = hub1.port;
      const exit = await hub1.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      await until(() => b.state === 'reconnecting', 5_000, 'the bus to notice and start reconnecting');
      assert.equal(disconnects, 1);

      // Published while the hub is down: kept and sent after the subscriptions are restored.
      await b.publish('self.t', 'while-down-1');
      await b.publish('self.t', 'while-down-2');

      hub2 = await restartOnPort(port);
      assert.equal(hub2.port, port);
      await until(() => connectedEvents.some((e) => e.reconnected), 10_000, 'a connected event with reconnected: true');
      assert.equal(b.state, 'connected');
      assert.deepEqual(
        connectedEvents.map((e) => e.reconnected),
        [true],
      );
      assert.notEqual(connectedEvents[0]!.hubId, firstHubId, 'it is a different hub');
      // The state sequence: connected -> reconnecting -> connected (no close on the way).
      const from = states.findIndex(([f, t]) => f === 'connected' && t === 'reconnecting');
      assert.ok(from >= 0, `went to reconnecting: ${JSON.stringify(states)}`);
      assert.deepEqual(states.slice(from), [
        ['connected', 'reconnecting'],
        ['reconnecting', 'connected'],
      ]);

      // Everything sent before this call (the restored SUBSCRIBEs included) has been processed.
      await b.flush();
      await until(() => selfReceived.length === 2, 5_000, 'the messages published while the hub was down');
      assert.deepEqual(selfReceived, ['while-down-1', 'while-down-2']);

      other = await openBus(hub2.url, { name: 'other', reconnect: false });
      await other.publish('rc.hello', { after: 'restart' });
      await until(() => received.length === 1, 5_000, 'the restored subscription to get a message');
      assert.deepEqual(received, [{ topic: 'rc.hello', data: { after: 'restart' } }]);

      const reply = await other.request('rc.svc', { n: 21 }, { timeoutMs: 2000 });
      assert.deepEqual(reply, { doubled: 42 });
      assert.equal(served, 1);
      assert.equal(hub2.alive(), true);
    } finally {
      await closeBus(other);
      await closeBus(bus.current);
      hub1?.kill();
      await hub2?.stop();
    }
  });

  test('with reconnect: false the bus ends closed and publish rejects with CB_ERR_CONNECTION_CLOSED', T, async () => {
    const hub = await startHubProcess();
    const b = await openBus(hub.url, { name: 'no-reconnect', reconnect: false });
    try {
      const states: BusState[] = [];
      let closedError: CrossbusError | undefined;
      let closedFired = false;
      b.on('state', (e) => states.push(e.to));
      b.on('closed', (e) => {
        closedFired = true;
        closedError = e.error;
      });
      const sub = b.subscribe('nr.t', () => {});
      await sub.ready;
      await hub.stop('SIGKILL');
      await until(() => b.state === 'closed', 5_000, 'the bus to close');
      assert.ok(!states.includes('reconnecting'), `never tried to reconnect: ${JSON.stringify(states)}`);
      assert.equal(closedFired, true);
      assert.equal(closedError?.code, 'CB_ERR_CONNECTION_LOST');
      assert.equal(sub.closed, true, 'subscriptions end with the bus');

      let err: unknown;
      await b.publish('nr.t', 1).then(
        () => assert.fail('publish should reject'),
        (e: unknown) => (err = e),
      );
      assert.ok(err instanceof CrossbusError);
      assert.equal(err.code, 'CB_ERR_CONNECTION_CLOSED');
      await assert.rejects(
        b.request('nr.svc', 1, { timeoutMs: 500 }),
        (e: unknown) => e instanceof CrossbusError && e.code === 'CB_ERR_CONNECTION_CLOSED',
      );
    } finally {
      await closeBus(b);
      hub.kill();
    }
  });

  test('graceful SIGTERM: the hub says goodbye, exits with code 0 and prints "crossbus hub stopped"', T, async () => {
    const hub = await startHubProcess();
    const { logger, records } = recordingLogger();
    const logged = records;
    const b = await openBus(hub.url, { name: 'sigterm-witness', reconnect: false, logger });
    try {
      let disconnected: CrossbusError | undefined;
      b.on('disconnected', (e) => (disconnected = e.error));
      // Something in flight right before the signal still gets through.
      const got: number[] = [];
      await b.subscribe<number>('term.t', (m) => void got.push(m.data)).ready;
      for (let i = 0; i < 100; i++) await b.publish('term.t', i);
      await until(() => got.length === 100, 5_000, 'messages before the signal');

      const started = Date.now();
      const exit = await hub.stop('SIGTERM');
      const elapsed = Date.now() - started;
      assert.equal(exit.code, 0, `exit code 0 (stderr: ${exit.stderr})`);
      assert.equal(exit.signal, null);
      assert.match(exit.stdout, /crossbus hub stopped/);
      assert.match(exit.stderr, /SIGTERM: draining and shutting down/);
      assert.ok(elapsed < 6_000, `stopped in ${elapsed} ms`);
      await until(() => b.state === 'closed', 5_000, 'the client to see the hub go');
      assert.ok(disconnected !== undefined);
      const goodbye = logged.find((l) => l.message === 'hub said goodbye');
      assert.ok(goodbye, `the client got GOODBYE: ${JSON.stringify(logged)}`);
      assert.equal(goodbye.fields?.code, 'CB_ERR_HUB_SHUTTING_DOWN');
    } finally {
      await closeBus(b);
      hub.kill();
    }
  });

  test('graceful SIGTERM with no clients connected exits 0 promptly', T, async () => {
    const hub = await startHubProcess();
    const started = Date.now();
    const exit = await hub.stop('SIGTERM');
    assert.equal(exit.signal, null, 'exited on its own, not killed by the signal');
    assert.equal(exit.code, 0);
    assert.match(exit.stdout, /crossbus hub stopped/);
    assert.ok(Date.now() - started < 3_000);
  });

  test('SIGTERM sent right after the ready line is still a graceful stop', {
    ...T,
  }, async () => {
    for (let i = 0; i < 5; i++) {
      const hub = await startHubProcess();
      const exit = await hub.stop('SIGTERM');
      assert.deepEqual(
        { code: exit.code, signal: exit.signal },
        { code: 0, signal: null },
        `run ${i}: stdout ${JSON.stringify(exit.stdout)}`,
      );
      assert.match(exit.stdout, /crossbus hub stopped/);
    }
  });
});
