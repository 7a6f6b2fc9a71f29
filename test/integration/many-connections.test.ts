/**
 * Connections at scale, against real hub processes: a separate client process holds hundreds of
 * authenticated connections within a time bound, and after a hard restart of the hub they all come
 * back (counted on both sides) within a bound, through a handshake queue small enough to refuse some
 * of them on the way. A full hub and a hub at its handshake bound refuse `connect()` with their
 * typed, retryable reasons, not a bare close. Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { isCrossbusError } from '../../src/node/index.js';
import type { HubStatsSnapshot } from '../../src/hub/stats-snapshot.js';
import { REPO_ROOT, credentialsFor, restartOnPort, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { closeBus, openBus } from '../helpers/buses.js';
import { RawClient } from '../helpers/raw-ws.js';
import { until } from '../helpers/wait.js';

/** Small enough for `npm test`; the `connect` benchmark holds 10,000. */
const N = 500;
const T = { timeout: 60_000 };

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface ClientsProcess {
  /** The next JSON line the process prints that has `key`, within `timeoutMs`. */
  next(key: string, timeoutMs: number): Promise<Record<string, unknown>>;
  stop(): void;
}

function spawnClients(url: string, count: number): ClientsProcess {
  const creds = credentialsFor(url) as { name: string; secret: string };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/many-clients.ts', url, String(count)], {
    cwd: REPO_ROOT,
    // The secret goes by the environment, never the command line.
    env: { ...process.env, CROSSBUS_NAME: creds.name, CROSSBUS_SECRET: creds.secret },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(proc);
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return {
    async next(key, timeoutMs) {
      await until(() => lines.some((l) => key in l || 'error' in l), timeoutMs, `the client process to report ${key}`);
      const i = lines.findIndex((l) => key in l || 'error' in l);
      const [line] = lines.splice(i, 1) as [Record<string, unknown>];
      assert.equal(line.error, undefined, String(line.error));
      return line;
    },
    stop() {
      proc.stdin?.end();
      children.delete(proc);
    },
  };
}

async function hubConnections(url: string): Promise<number> {
  const bus = await openBus(url, { name: 'stats', reconnect: false });
  try {
    const reply = await bus.request<HubStatsSnapshot>('$SYS.REQ.STATS', {}, { timeoutMs: 5_000 });
    return reply.connections - 1; // not counting the bus that asks
  } finally {
    await closeBus(bus);
  }
}

describe('connections at scale', () => {
  test(`${N} authenticated connections from another process are held, and all come back after a hub restart`, T, async (t) => {
    let hub: HubProcess | undefined = await startHubProcess();
    let clients: ClientsProcess | undefined;
    try {
      clients = spawnClients(hub.url, N);
      const up = await clients.next('connected', 30_000);
      assert.equal(up.connected, N);
      t.diagnostic(`${N} connected in ${String(up.ms)} ms`);
      assert.equal(await hubConnections(hub.url), N);

      // A hard restart: every connection drops at once and all reconnect together. The new hub's
      // handshake queue is far smaller than the crowd, so some are refused on the way (typed and
      // retryable) and come back after their backoff: no storm, no timeouts.
      const port = hub.port;
      await hub.stop('SIGKILL');
      hub = await restartOnPort(port, ['--max-pending-handshakes', '32']);
      const back = await clients.next('reconnected', 40_000);
      assert.equal(back.reconnected, N);
      t.diagnostic(`${N} reconnected in ${String(back.ms)} ms; failed attempts: ${JSON.stringify(back.refused)}`);
      const refused = back.refused as Record<string, number>;
      const timedOut = Object.keys(refused).filter((k) => /did not finish|within N ms/.test(k));
      assert.deepEqual(timedOut, [], 'no handshake timed out');
      await until(async () => (await hubConnections((hub as HubProcess).url)) === N, 10_000, `the hub to hold ${N} again`);
    } finally {
      clients?.stop();
      await hub?.stop();
    }
  });

  test('a full hub refuses connect() with CB_ERR_TOO_MANY_CONNECTIONS (retryable), and a freed slot is taken', T, async () => {
    const hub = await startHubProcess(['--max-connections', '2']);
    try {
      const a = await openBus(hub.url, { reconnect: false });
      const b = await openBus(hub.url, { reconnect: false });
      await assert.rejects(
        openBus(hub.url, { reconnect: false }),
        (e) => isCrossbusError(e, 'CB_ERR_TOO_MANY_CONNECTIONS') && (e as { retryable: boolean }).retryable,
      );
      await closeBus(a);
      await until(
        async () => {
          try {
            await closeBus(await openBus(hub.url, { reconnect: false }));
            return true;
          } catch {
            return false;
          }
        },
        5_000,
        'a freed slot',
      );
      await closeBus(b);
    } finally {
      await hub.stop();
    }
  });

  test('the handshake queue at its edge: the limit is held, one more is refused with CB_ERR_TOO_MANY_HANDSHAKES', T, async () => {
    const hub = await startHubProcess(['--max-pending-handshakes', '2']);
    try {
      // Two connections that never say HELLO fill the queue (a bus that finishes its handshake leaves it).
      const one = await RawClient.connect(hub.url);
      await closeBus(await openBus(hub.url, { reconnect: false })); // 1 pending + 1: still admitted
      const two = await RawClient.connect(hub.url);
      await assert.rejects(
        openBus(hub.url, { reconnect: false }),
        (e) => isCrossbusError(e, 'CB_ERR_TOO_MANY_HANDSHAKES') && (e as { retryable: boolean }).retryable,
      );
      two.terminate();
      await two.closed;
      await until(
        async () => {
          try {
            await closeBus(await openBus(hub.url, { reconnect: false }));
            return true;
          } catch {
            return false;
          }
        },
        5_000,
        'a handshake slot',
      );
      one.terminate();
    } finally {
      await hub.stop();
    }
  });
});
