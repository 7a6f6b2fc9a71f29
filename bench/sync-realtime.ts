/**
 * Realtime sync through a real hub (a separate process, secure, as users run it): two replicas
 * of one JSON document; one sets `/ping` to n, the other sees it and sets `/pong` to n, the first
 * sees that. One round trip is two changes, each stored in the hub's stream and delivered to the
 * other replica.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCrossbusHub } from './lib/procs.js';

interface SyncDoc {
  readonly value: Record<string, number>;
  change(mutator: (draft: Record<string, number>) => void): void;
  on(name: 'change', listener: (e: { origin: 'local' | 'remote' }) => void): () => void;
  close(): Promise<void>;
}
interface SyncBus {
  sync: { open(name: string, options: { kind: 'json' }): Promise<SyncDoc> };
  close(): Promise<void>;
}

export async function measureRealtime(roundTrips: number): Promise<{ perSecond: number; p50Ms: number; p99Ms: number }> {
  const { connect } = (await import(new URL('../dist/node/index.js', import.meta.url).href)) as {
    connect: (url: string, options: Record<string, unknown>) => Promise<SyncBus>;
  };
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-bench-sync-'));
  const creds = { name: 'bench-sync', secret: randomBytes(32).toString('base64') };
  const file = join(dir, 'crossbus.config.json');
  const config = {
    apps: { [creds.name]: { secret: creds.secret, roles: ['bench'] } },
    roles: { bench: { publish: ['sync.>'], subscribe: ['sync.>'], request: [] } },
    origins: [],
    limits: { rate: { perSecond: 10_000_000, burst: 10_000_000 }, topicRates: [] },
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const hub = await startCrossbusHub({ extraArgs: ['--data', dir, '--config', file] });
  const buses: SyncBus[] = [];
  try {
    for (let i = 0; i < 2; i++) buses.push(await connect(hub.url, { ...creds, reconnect: false }));
    const [a, b] = await Promise.all(buses.map((bus) => bus.sync.open('bench/realtime', { kind: 'json' })));
    if (a === undefined || b === undefined) throw new Error('documents did not open');
    b.on('change', (e) => {
      const ping = b.value.ping;
      if (e.origin === 'remote' && ping !== undefined && b.value.pong !== ping) b.change((d) => void (d.pong = ping));
    });
    const times: number[] = [];
    const one = (n: number): Promise<void> =>
      new Promise((resolve) => {
        const off = a.on('change', (e) => {
          if (e.origin === 'remote' && a.value.pong === n) {
            off();
            resolve();
          }
        });
        a.change((d) => void (d.ping = n));
      });
    for (let n = 1; n <= Math.ceil(roundTrips / 10); n++) await one(-n); // warm-up
    const t0 = performance.now();
    for (let n = 1; n <= roundTrips; n++) {
      const s = performance.now();
      await one(n);
      times.push(performance.now() - s);
    }
    const seconds = (performance.now() - t0) / 1000;
    times.sort((x, y) => x - y);
    const pct = (p: number): number => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] as number;
    await Promise.all([a.close(), b.close()]);
    return { perSecond: roundTrips / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) };
  } finally {
    await Promise.all(buses.map((bus) => bus.close().catch(() => {})));
    await hub.stop();
  }
}
