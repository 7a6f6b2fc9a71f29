/**
 * The deploy suite's app (bench/apps/deploy-app.mjs) as the suite drives it: a version of it
 * under a crossbus Supervisor, and the questions the suite asks its instances on the bus (who
 * serves each slot, and since when).
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseAppManifest } from '../../src/core/apps/manifest.js';
import { Supervisor } from '../../src/node/apps/supervisor.js';
import type { Requester } from './steady-load.js';

export const DEPLOY_APP_NAME = 'deploy-bench';
export const DEPLOY_APP_DIR = fileURLToPath(new URL('../apps/', import.meta.url));
export const DEPLOY_APP_ENTRY = fileURLToPath(new URL('../apps/deploy-app.mjs', import.meta.url));

/** What an instance answers on its work topic. */
export interface WorkAnswer {
  readonly pid: number;
  readonly version: string;
}

/** What an instance answers on `<topic>.slot.<n>`: times since the epoch, in ms. */
export interface SlotAnswer extends WorkAnswer {
  readonly slot: number;
  readonly started: {
    /** Node's time origin: the process began. */
    readonly origin: number;
    /** The app's module ran its first line. */
    readonly booted: number;
    /** crossbus was loaded. */
    readonly imported: number;
    /** The supervisor's start message arrived (= imported outside a supervisor). */
    readonly context: number;
    /** Connected to the hub. */
    readonly connected: number;
  };
}

/** Milliseconds since the epoch, as precise as performance.now() (comparable with the app's times). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export const slotTopic = (topic: string, slot: number): string => `${topic}.slot.${slot}`;

/**
 * A Supervisor (not started) running `instances` of the app at `version`, serving `topic` as one
 * service group, connected to `url` (an --insecure hub: no secret). Instances print nothing.
 */
export function deployAppSupervisor(opts: { url: string; topic: string; version: string; instances: number }): Supervisor {
  const manifest = parseAppManifest(
    {
      name: DEPLOY_APP_NAME,
      version: opts.version,
      kind: 'node',
      entry: 'deploy-app.mjs',
      instances: opts.instances,
      env: { BENCH_TOPIC: opts.topic },
    },
    'bench/lib/deploy-app.ts',
  );
  return new Supervisor({ manifest, entryPath: DEPLOY_APP_ENTRY, dir: DEPLOY_APP_DIR, url: opts.url });
}

/**
 * Asks each slot's topic until every one of `instances` answers (at `version`, when given);
 * resolves with their answers, slot by slot. Rejects after `timeoutMs`.
 */
export async function waitForSlots(
  bus: Requester,
  topic: string,
  instances: number,
  opts: { version?: string; timeoutMs?: number } = {},
): Promise<SlotAnswer[]> {
  const deadline = performance.now() + (opts.timeoutMs ?? 15_000);
  const answers: Array<SlotAnswer | undefined> = new Array(instances).fill(undefined);
  let last = '';
  for (;;) {
    for (let slot = 0; slot < instances; slot++) {
      if (answers[slot] !== undefined) continue;
      try {
        const a = (await bus.request(slotTopic(topic, slot), null, { timeoutMs: 1_000 })) as SlotAnswer;
        if (opts.version === undefined || a.version === opts.version) answers[slot] = a;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
    }
    if (answers.every((a) => a !== undefined)) return answers as SlotAnswer[];
    if (performance.now() > deadline) {
      const missing = answers.flatMap((a, i) => (a === undefined ? [i] : []));
      throw new Error(
        `slots ${missing.join(', ')} of ${topic} did not answer${opts.version === undefined ? '' : ` at version ${opts.version}`} (${last})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
