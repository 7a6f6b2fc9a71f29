/**
 * Time to replace a killed instance: the deploy suite's `crossbus-restarts` and `pm2-restarts`.
 *
 * The same app (bench/apps/deploy-app.mjs), N instances under a crossbus Supervisor and under
 * pm2 (fork mode), both connected to one hub, each on its own topic. The same kill, one at a
 * time, alternating between the two so that both meet the same moments of a shared machine:
 * SIGKILL the pid serving one slot, then ask that slot's topic every PROBE_EVERY_MS until a new
 * pid answers. The time from the kill to that answer is one replacement. Every instance killed
 * has run at least HEALTHY_RUN_MS (the supervisor's `resetAfterMs`): a crash after a healthy run,
 * not a crash loop, which both tools rightly slow down.
 *
 * Each answer carries the moments the new process got through its start (see SlotAnswer), so a
 * replacement splits into: spawn (the kill until the new process began: exit noticed, restart
 * decided, fork and exec), boot (Node's start until the app's first line: for pm2 its process
 * container too), load (crossbus's modules), context (the supervisor's start message over IPC;
 * none under pm2), connect (WebSocket and handshake), answer (until the probe had its answer:
 * the services registered, the next probe, its round trip).
 */
import { DEFAULT_RESTART_RESET_AFTER_MS } from '../src/node/apps/defaults.js';
import { epochNow, slotTopic, type SlotAnswer } from './lib/deploy-app.js';
import type { Requester } from './lib/steady-load.js';

/** An instance is killed only after running this long (measured from its first answer). */
export const HEALTHY_RUN_MS = DEFAULT_RESTART_RESET_AFTER_MS;
/** How often the killed slot's topic is asked, in ms. */
const PROBE_EVERY_MS = 5;
const PROBE_TIMEOUT_MS = 1_000;
/** A replacement slower than this fails the row. */
const REPLACE_TIMEOUT_MS = 15_000;
/** Between one replacement and the next kill: the new process finishes its start-up work. */
const SETTLE_MS = 250;

export const PHASES = ['spawn', 'boot', 'load', 'context', 'connect', 'answer'] as const;
export type Phase = (typeof PHASES)[number];

export interface Replacement {
  readonly slot: number;
  readonly killedPid: number;
  readonly newPid: number;
  readonly ms: number;
  readonly phases: Readonly<Record<Phase, number>>;
}

/** One supervisor's instances as the measurement sees them. */
export interface KillTarget {
  readonly key: string;
  readonly topic: string;
  /** Who serves each slot now, and since when (epoch ms of its first answer). */
  readonly slots: SlotAnswer[];
  readonly seenAt: number[];
  /** Told every pid seen (pm2's leftovers are killed by pid). */
  readonly track?: (pid: number) => void;
}

function phasesOf(a: SlotAnswer, killedAt: number, answeredAt: number): Record<Phase, number> {
  const s = a.started;
  return {
    spawn: s.origin - killedAt,
    boot: s.booted - s.origin,
    load: s.imported - s.booted,
    context: s.context - s.imported,
    connect: s.connected - s.context,
    answer: answeredAt - s.connected,
  };
}

/** SIGKILLs the pid serving `slot`; resolves once another pid answers on the slot's topic. */
function replaceOnce(bus: Requester, target: KillTarget, slot: number): Promise<Replacement> {
  const old = target.slots[slot] as SlotAnswer;
  const topic = slotTopic(target.topic, slot);
  return new Promise((resolve, reject) => {
    let done = false;
    let probes = 0;
    const finish = (fn: () => void): void => {
      done = true;
      clearInterval(every);
      clearTimeout(deadline);
      fn();
    };
    const probe = (): void => {
      probes++;
      bus.request(topic, null, { timeoutMs: PROBE_TIMEOUT_MS }).then(
        (reply) => {
          const a = reply as SlotAnswer;
          if (done || a.pid === old.pid) return;
          const answeredAt = epochNow();
          finish(() => {
            target.slots[slot] = a;
            target.seenAt[slot] = answeredAt;
            target.track?.(a.pid);
            resolve({ slot, killedPid: old.pid, newPid: a.pid, ms: answeredAt - killedAt, phases: phasesOf(a, killedAt, answeredAt) });
          });
        },
        () => {}, // nobody serves the slot yet (NO_RESPONDERS), or the probe reached the dead one
      );
    };
    const killedAt = epochNow();
    process.kill(old.pid, 'SIGKILL');
    probe();
    const every = setInterval(probe, PROBE_EVERY_MS);
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(new Error(`${target.key}: slot ${slot} (pid ${old.pid}) not replaced within ${REPLACE_TIMEOUT_MS} ms (${probes} probes)`)),
        ),
      REPLACE_TIMEOUT_MS,
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `kills` replacements per target, one at a time: slot 0, 1, ... round robin, the targets
 * alternating (each round the other goes first). Resolves with each target's replacements.
 */
export async function measureReplacements(
  bus: Requester,
  targets: readonly KillTarget[],
  kills: number,
): Promise<Map<string, Replacement[]>> {
  const out = new Map<string, Replacement[]>(targets.map((t) => [t.key, []]));
  for (let i = 0; i < kills; i++) {
    const order = i % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const slot = i % target.slots.length;
      const wait = (target.seenAt[slot] as number) + HEALTHY_RUN_MS - epochNow();
      if (wait > 0) await sleep(wait);
      out.get(target.key)?.push(await replaceOnce(bus, target, slot));
      await sleep(SETTLE_MS);
    }
  }
  return out;
}

/** Mean of each phase over `rs`. */
export function meanPhases(rs: readonly Replacement[]): Record<Phase, number> {
  const sum = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  for (const r of rs) for (const p of PHASES) sum[p] += r.phases[p];
  for (const p of PHASES) sum[p] /= Math.max(1, rs.length);
  return sum;
}
