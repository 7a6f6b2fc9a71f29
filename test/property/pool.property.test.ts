/**
 * The pool under random sequences of acquire, abort, release, destroy and resources that go bad:
 * it never holds more than maxSize, never hands one resource to two holders, and serves the
 * callers who waited strictly in the order they asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Pool } from '../../src/core/pool/index.js';

const seed = Number(process.env.FC_SEED ?? 20261203);

interface Res {
  readonly id: number;
  healthy: boolean;
}

type Command =
  | { kind: 'acquire' }
  | { kind: 'abort'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'destroy'; pick: number }
  | { kind: 'spoil'; pick: number }
  | { kind: 'settle' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'acquire' as const }) },
  { weight: 1, arbitrary: fc.nat(20).map((pick) => ({ kind: 'abort' as const, pick })) },
  { weight: 3, arbitrary: fc.nat(20).map((pick) => ({ kind: 'release' as const, pick })) },
  { weight: 1, arbitrary: fc.nat(20).map((pick) => ({ kind: 'destroy' as const, pick })) },
  { weight: 1, arbitrary: fc.nat(20).map((pick) => ({ kind: 'spoil' as const, pick })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
);

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('random acquire/release/fail sequences: within maxSize, one holder per resource, FIFO', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.boolean(),
      fc.array(command, { maxLength: 60 }),
      async (maxSize, asyncValidate, commands) => {
        let made = 0;
        // Resources idle in the pool right now: only those can go bad unnoticed before validation.
        const idle = new Set<Res>();
        const pool = new Pool<Res>(
          {
            create: async () => {
              return { id: ++made, healthy: true };
            },
            // Once validation starts the resource has left the idle set: spoiling it later is not the pool's to see.
            validate: (r) => {
              idle.delete(r);
              return asyncValidate ? Promise.resolve(r.healthy) : r.healthy;
            },
          },
          { maxSize, minSize: Math.min(1, maxSize), acquireTimeout: Infinity, retryDelay: 0, maxCreateRate: 1e9 },
        );
        const spoiled: number[] = [];
        pool.events.on('available', (r) => idle.add(r));
        pool.events.on('closed', (r) => idle.delete(r));
        pool.events.on('acquired', (r) => {
          idle.delete(r);
          if (!r.healthy) spoiled.push(r.id);
        });
        await pool.ready();
        const held = new Set<Res>();
        const pending = new Map<number, AbortController>();
        const served: number[] = [];
        const settled: Promise<void>[] = [];
        let asked = 0;
        /** After a settle every hand-over has reached its holder, so the counts agree exactly. */
        const check = (settledNow = false): void => {
          const s = pool.stats();
          assert.ok(s.size <= maxSize, `size ${s.size} > maxSize ${maxSize}`);
          assert.ok(held.size <= maxSize);
          if (settledNow) assert.equal(s.acquired + s.busy, held.size);
          else assert.ok(s.acquired + s.busy >= held.size);
        };
        const pickHeld = (pick: number): Res | undefined => [...held][pick % Math.max(1, held.size)];

        for (const c of commands) {
          switch (c.kind) {
            case 'acquire': {
              const id = ++asked;
              const controller = new AbortController();
              pending.set(id, controller);
              settled.push(
                pool.acquire({ signal: controller.signal }).then(
                  (r) => {
                    pending.delete(id);
                    assert.ok(!held.has(r), `resource ${r.id} handed to a second holder`);
                    held.add(r);
                    served.push(id);
                  },
                  (error: unknown) => {
                    pending.delete(id);
                    assert.equal(error, 'aborted', `acquire ${id} failed: ${String(error)}`);
                  },
                ),
              );
              break;
            }
            case 'abort': {
              const ids = [...pending.keys()];
              const id = ids[c.pick % Math.max(1, ids.length)];
              if (id !== undefined) pending.get(id)?.abort('aborted');
              break;
            }
            case 'release': {
              const r = pickHeld(c.pick);
              if (r !== undefined) {
                held.delete(r);
                pool.release(r);
              }
              break;
            }
            case 'destroy': {
              const r = pickHeld(c.pick);
              if (r !== undefined) {
                held.delete(r);
                pool.destroy(r, new Error('broken'));
              }
              break;
            }
            case 'spoil': {
              const r = [...idle][c.pick % Math.max(1, idle.size)];
              if (r !== undefined) r.healthy = false;
              break;
            }
            case 'settle':
              await settle();
              check(true);
              break;
          }
          check();
        }
        // Everybody still waiting gets served once the holders give back what they have.
        const deadline = Date.now() + 2_000;
        while (pending.size > 0) {
          assert.ok(Date.now() < deadline, `${pending.size} waiters never served: ${JSON.stringify(pool.stats())}`);
          for (const r of [...held]) {
            held.delete(r);
            pool.release(r);
          }
          await settle();
          check();
        }
        await Promise.all(settled);
        assert.deepEqual(spoiled, [], 'resources that failed validation were handed out');
        for (let i = 1; i < served.length; i++) {
          assert.ok((served[i] as number) > (served[i - 1] as number), `served out of order: ${served.join(',')}`);
        }
        await pool.close();
      },
    ),
    { seed, numRuns: 200 },
  );
});
