/**
 * Resource pools: acquire + release per second, crossbus's `Pool` vs generic-pool vs tarn.
 *
 * Every pool gets the same factory (an object made asynchronously, destroyed at no cost) and the
 * spec's sizes and timeouts: maxSize 10, minSize 2, acquire timeout 30 s, idle timeout 300 s, no
 * validation. Scenarios, in one process, the systems interleaved round by round (best round wins):
 *   sequential  one holder: `await acquire()`, `release()`, again (a resource is always free)
 *   contended   20 holders on 10 resources: half of the acquires wait in line
 * Rate = acquire + release pairs per second.
 */
import { performance } from 'node:perf_hooks';
import { createPool as createGenericPool } from 'generic-pool';
import { Pool as TarnPool } from 'tarn';
import type { Pool as PoolClass } from '../src/core/pool/index.js';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note } from './lib/procs.js';

export type PoolSystem = 'crossbus' | 'generic-pool' | 'tarn';
export const POOL_SYSTEMS: readonly PoolSystem[] = ['crossbus', 'generic-pool', 'tarn'];

export interface PoolBenchOptions {
  only?: readonly string[];
  /** Multiply the counts by this factor. Default 1 (`POOL_BENCH_PAIRS` sets the base count). */
  scale?: number;
}

/**
 * The built pool (`npm run bench` builds first), as users run it: tsx would wrap every closure of
 * the source in a naming helper that costs more than the pool's own work.
 */
async function loadPool(): Promise<typeof PoolClass> {
  const url = new URL('../dist/core/pool/index.js', import.meta.url).href;
  return ((await import(url)) as { Pool: typeof PoolClass }).Pool;
}

const SIZES = { max: 10, min: 2, acquireTimeoutMs: 30_000, idleTimeoutMs: 300_000 };
const ROUNDS = 3;
const CONTENDED_HOLDERS = 20;

interface Thing {
  readonly id: number;
}

/** The one resource factory every pool uses. */
function makeFactory(): { create: () => Promise<Thing>; destroy: (t: Thing) => Promise<void> } {
  let next = 0;
  return {
    create: async () => ({ id: ++next }),
    destroy: async () => {},
  };
}

/** A pool under test, behind the same two calls. */
interface Subject {
  acquire(): Promise<Thing>;
  release(t: Thing): void;
  close(): Promise<void>;
}

async function openSubject(system: PoolSystem): Promise<Subject> {
  const factory = makeFactory();
  switch (system) {
    case 'crossbus': {
      const Pool = await loadPool();
      const pool = new Pool<Thing>(factory, {
        maxSize: SIZES.max,
        minSize: SIZES.min,
        acquireTimeout: SIZES.acquireTimeoutMs,
        idleTimeout: SIZES.idleTimeoutMs,
      });
      await pool.ready();
      return { acquire: () => pool.acquire(), release: (t) => pool.release(t), close: () => pool.close() };
    }
    case 'generic-pool': {
      const pool = createGenericPool(factory, {
        max: SIZES.max,
        min: SIZES.min,
        acquireTimeoutMillis: SIZES.acquireTimeoutMs,
        idleTimeoutMillis: SIZES.idleTimeoutMs,
      });
      await pool.ready();
      return {
        acquire: () => pool.acquire(),
        release: (t) => void pool.release(t),
        close: async () => {
          await pool.drain();
          await pool.clear();
        },
      };
    }
    case 'tarn': {
      const pool = new TarnPool<Thing>({
        create: factory.create,
        destroy: factory.destroy,
        max: SIZES.max,
        min: SIZES.min,
        acquireTimeoutMillis: SIZES.acquireTimeoutMs,
        idleTimeoutMillis: SIZES.idleTimeoutMs,
      });
      // tarn creates `min` lazily; one acquire each fills it like the others' start-up.
      const warm = await Promise.all([pool.acquire().promise, pool.acquire().promise]);
      for (const t of warm) pool.release(t);
      return {
        acquire: () => pool.acquire().promise,
        release: (t) => void pool.release(t),
        close: async () => {
          await pool.destroy();
        },
      };
    }
  }
}

async function holder(subject: Subject, pairs: number): Promise<void> {
  for (let i = 0; i < pairs; i++) subject.release(await subject.acquire());
}

/** Pairs per second for `holders` concurrent holders doing `pairs` acquire+release in all. */
async function measure(system: PoolSystem, holders: number, pairs: number): Promise<number> {
  const subject = await openSubject(system);
  try {
    await Promise.all(Array.from({ length: holders }, () => holder(subject, Math.ceil(pairs / holders / 10)))); // warm-up
    const each = Math.ceil(pairs / holders);
    const started = performance.now();
    await Promise.all(Array.from({ length: holders }, () => holder(subject, each)));
    return (each * holders) / ((performance.now() - started) / 1000);
  } finally {
    await subject.close();
  }
}

export async function runPoolBench(options: PoolBenchOptions = {}): Promise<BenchOutput & { failures: string[] }> {
  const systems = POOL_SYSTEMS.filter((s) => options.only === undefined || options.only.includes(s));
  const base = Number(process.env.POOL_BENCH_PAIRS ?? 300_000);
  const pairs = Math.max(1_000, Math.round(base * (options.scale ?? 1)));
  const scenarios = [
    { name: 'sequential', holders: 1, suffix: '' },
    { name: 'contended', holders: CONTENDED_HOLDERS, suffix: '-contended' },
  ];
  const best = new Map<string, number>();
  const failures: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      for (const system of systems) {
        const key = `${system}${scenario.suffix}`;
        try {
          const rate = await measure(system, scenario.holders, pairs);
          note(`round ${round} ${scenario.name} ${system}: ${Math.round(rate).toLocaleString('en-US')} pairs/s`);
          best.set(key, Math.max(best.get(key) ?? 0, rate));
        } catch (err) {
          failures.push(`${key}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
  const results: Record<string, number> = {};
  for (const [key, rate] of best) results[key] = Math.round(rate);
  const ratios: Record<string, number> = {};
  for (const scenario of scenarios) {
    const ours = results[`crossbus${scenario.suffix}`];
    for (const other of ['generic-pool', 'tarn'] as const) {
      const theirs = results[`${other}${scenario.suffix}`];
      if (ours !== undefined && theirs !== undefined && theirs > 0) {
        ratios[`crossbus${scenario.suffix}/${other}${scenario.suffix}`] = Math.round((ours / theirs) * 100) / 100;
      }
    }
  }
  const rows = [['scenario', ...systems, 'crossbus/generic-pool', 'crossbus/tarn']];
  for (const scenario of scenarios) {
    const fmt = (s: string): string => {
      const v = results[`${s}${scenario.suffix}`];
      return v === undefined ? '-' : `${v.toLocaleString('en-US')}/s`;
    };
    const ratio = (o: string): string => {
      const v = ratios[`crossbus${scenario.suffix}/${o}${scenario.suffix}`];
      return v === undefined ? '-' : `${v.toFixed(2)}x`;
    };
    rows.push([
      `${scenario.name} (${scenario.holders} holder${scenario.holders > 1 ? 's' : ''})`,
      ...systems.map(fmt),
      ratio('generic-pool'),
      ratio('tarn'),
    ]);
  }
  return { suite: 'pool', unit: 'acquire+release pairs/s', table: formatTable(rows), results, ratios, failures };
}
