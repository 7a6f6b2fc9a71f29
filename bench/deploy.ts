/**
 * Deployments (issue 21): `npm run bench -- deploy`.
 *
 * Switch rows: a hub, DEPLOY_INSTANCES instances of the bench app (bench/apps/deploy-app.mjs) at
 * version 1.0.0 serving one topic as one service group, a steady request load on it
 * (bench/lib/steady-load.ts: LOAD_CONCURRENCY loops back to back); SWITCH_AT_MS into a window of
 * DEPLOY_WINDOW_MS, version 2.0.0 replaces them. Result: requests served per second over the whole
 * window, and (in the table) the requests that failed. Each row is a SwitchScenario:
 *   restart              by hand, as an operator without a deployment tool: stop all instances
 *                        (SIGTERM, drain), then start as many of 2.0.0 under a new Supervisor
 *   crossbus-bluegreen   the hub's deployment manager (src/hub/deploy/), blue-green: 2.0.0 starts
 *                        beside 1.0.0 without traffic, takes it all at once when its checks pass,
 *                        and 1.0.0 is drained and stopped SCALE_DOWN_DELAY_MS later
 *   crossbus-rolling     the manager, rolling: one instance at a time (surge 1, none unavailable)
 * The manager's rows deploy bench/apps/managed-app/ (bench/lib/managed-app.ts), 1.0.0 as the
 * app's first deployment, then 2.0.0; their switch ends with the deployment's outcome.
 *
 * Canary row (bench/deploy-canary.ts): a 2.0.0 failing every 5th request as a canary at 25 %;
 * the time from its step starting to the analysis having rolled it back, as
 * `crossbus-canary-rollbacks` (rollbacks per second, 1000 / ms).
 *
 * Restart rows (bench/deploy-restarts.ts): the time from a SIGKILL to a new pid answering, under
 * the crossbus Supervisor and under pm2, as restarts per second (1000 / mean ms):
 * `crossbus-restarts`, `pm2-restarts` and their ratio.
 */
import { performance } from 'node:perf_hooks';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note, startCrossbusHub, type RunningServer } from './lib/procs.js';
import { errMsg, fmtInt, loadCrossbus, ratio, selectSystems, type SuiteExtras, type SuiteOptions } from './pubsub.js';
import { deployAppSupervisor, epochNow, waitForSlots, type WorkAnswer } from './lib/deploy-app.js';
import { startSteadyLoad, type LoadTally } from './lib/steady-load.js';
import { startPm2Fleet, type Pm2Fleet } from './lib/pm2-fleet.js';
import { HEALTHY_RUN_MS, PHASES, meanPhases, measureReplacements, type KillTarget, type Replacement } from './deploy-restarts.js';
import type { Supervisor } from '../src/node/apps/supervisor.js';
import type { DeploymentConfigInput } from '../src/core/apps/deploy-config.js';
import { deploy, managedAppVersion } from './lib/managed-app.js';
import { CANARY_INTERVAL_MS, CANARY_KEY, measureCanary } from './deploy-canary.js';

type Bus = Awaited<ReturnType<Awaited<ReturnType<typeof loadCrossbus>>['connect']>>;

/** Instances of the app in every row. */
export const DEPLOY_INSTANCES = 4;
/** Every switch row is measured over this window (the same for all, so their rates compare). */
export const DEPLOY_WINDOW_MS = 10_000;
/** The switch starts this far into the window; the rest of the window is the switch and a settle period. */
export const SWITCH_AT_MS = 1_000;
/** Loops of the steady load. */
export const LOAD_CONCURRENCY = 8;
/** The load runs this long before the window (the same connections and instances), not counted. */
const WARMUP_MS = 1_000;
/** Replacements measured per system (round robin over the instances). */
const KILLS = 12;
const VERSION_1 = '1.0.0';
const VERSION_2 = '2.0.0';

// ---------------------------------------------------------------------------------------------
// Switch rows

/** What a switch scenario is given: its hub, the bench's own client on it, the app's topic. */
export interface SwitchContext {
  readonly url: string;
  readonly bus: Bus;
  readonly topic: string;
  readonly instances: number;
}

export interface SwitchRun {
  /** Replaces version 1.0.0 by 2.0.0; resolves once 2.0.0 serves every slot. */
  switchVersion(): Promise<void>;
  /** Stops whatever still runs. */
  close(): Promise<void>;
}

export interface SwitchScenario {
  /** The results key. */
  readonly key: string;
  /** What the row does, for the table. */
  readonly label: string;
  /** Flags for this row's hub, after --insecure. */
  readonly hubArgs?: readonly string[];
  /** A failed request fails the row: a deployment tool promises none. */
  readonly zeroFailures: boolean;
  /** Starts version 1.0.0: ctx.instances instances serving ctx.topic as one service group. */
  start(ctx: SwitchContext): Promise<SwitchRun>;
}

const restartByHand: SwitchScenario = {
  key: 'restart',
  label: 'stop all instances, then start new ones (by hand)',
  zeroFailures: false,
  async start(ctx) {
    const fleet = (version: string): Supervisor => {
      const s = deployAppSupervisor({ url: ctx.url, topic: ctx.topic, version, instances: ctx.instances });
      s.start();
      return s;
    };
    let current = fleet(VERSION_1);
    return {
      async switchVersion() {
        await current.stop();
        current = fleet(VERSION_2);
        await waitForSlots(ctx.bus, ctx.topic, ctx.instances, { version: VERSION_2 });
      },
      close: () => current.stop(),
    };
  },
};

/** The manager's blue-green rows keep the old version this long after the switch (ms). */
const SCALE_DOWN_DELAY_MS = 200;

/**
 * A row of the hub's deployment manager (on its own hub, with a data folder as every bench hub):
 * 1.0.0 as the app's first deployment (blue-green: with nothing running, all instances at once),
 * then 2.0.0 with `config`. It promises no failed request.
 */
function managed(key: string, label: string, config: DeploymentConfigInput): SwitchScenario {
  return {
    key,
    label,
    zeroFailures: true,
    async start(ctx) {
      const version = (v: string): string => managedAppVersion({ version: v, topic: ctx.topic, instances: ctx.instances });
      await deploy(ctx.bus, version(VERSION_1), { strategy: 'blue-green', blueGreen: { scaleDownDelayMs: 0 } });
      return {
        async switchVersion() {
          await deploy(ctx.bus, version(VERSION_2), config);
        },
        // The hub stops its instances when it stops.
        close: async () => {},
      };
    },
  };
}

/**
 * Every switch row, in order. The deployment manager's rows (`crossbus-bluegreen`,
 * `crossbus-rolling`) go here; each is compared with `restart` as `<key>/restart`.
 */
export const SWITCH_SCENARIOS: readonly SwitchScenario[] = [
  restartByHand,
  managed('crossbus-bluegreen', 'deployment manager, blue-green (preview, one switch)', {
    strategy: 'blue-green',
    blueGreen: { scaleDownDelayMs: SCALE_DOWN_DELAY_MS },
  }),
  managed('crossbus-rolling', 'deployment manager, rolling (surge 1, unavailable 0)', {
    strategy: 'rolling',
    rolling: { maxSurge: 1, maxUnavailable: 0 },
  }),
];

interface SwitchResult {
  readonly tally: LoadTally;
  readonly switchMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measureSwitch(scenario: SwitchScenario): Promise<SwitchResult> {
  const { connect } = await loadCrossbus();
  const hub = await startCrossbusHub({ extraArgs: ['--insecure', ...(scenario.hubArgs ?? [])] });
  const topic = 'bench.deploy.work';
  let bus: Bus | undefined;
  let run: SwitchRun | undefined;
  try {
    bus = await connect(hub.url, { name: 'bench-load', reconnect: false });
    const ctx: SwitchContext = { url: hub.url, bus, topic, instances: DEPLOY_INSTANCES };
    run = await scenario.start(ctx);
    await waitForSlots(bus, topic, DEPLOY_INSTANCES, { version: VERSION_1 });
    const warm = await startSteadyLoad({ bus, topic, concurrency: LOAD_CONCURRENCY, durationMs: WARMUP_MS }).done;
    if (warm.failed > 0) throw new Error(`warm-up: ${warm.failed} failed requests (${warm.firstFailures.join('; ')})`);

    const load = startSteadyLoad({ bus, topic, concurrency: LOAD_CONCURRENCY, durationMs: DEPLOY_WINDOW_MS });
    const windowStart = performance.now();
    await sleep(SWITCH_AT_MS);
    const switchStart = performance.now();
    await run.switchVersion();
    const switchEnd = performance.now();
    const tally = await load.done;
    if (switchEnd - windowStart > DEPLOY_WINDOW_MS)
      throw new Error(`the switch took ${Math.round(switchEnd - switchStart)} ms: it ended after the ${DEPLOY_WINDOW_MS} ms window`);
    // The positive check that the switch happened: after it, only 2.0.0 answers.
    for (let i = 0; i < 4 * DEPLOY_INSTANCES; i++) {
      const a = (await bus.request(topic, null, { timeoutMs: 2_000 })) as WorkAnswer;
      if (a.version !== VERSION_2) throw new Error(`after the switch, pid ${a.pid} answered at version ${a.version}`);
    }
    return { tally, switchMs: switchEnd - switchStart };
  } finally {
    await run?.close().catch((err: unknown) => note(`${scenario.key}: close: ${errMsg(err)}`));
    await bus?.close().catch(() => {});
    await hub.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Restart rows

const RESTART_KEYS = ['crossbus-restarts', 'pm2-restarts'] as const;

async function measureRestarts(keys: ReadonlySet<string>, kills: number): Promise<Map<string, Replacement[]>> {
  const { connect } = await loadCrossbus();
  const hub: RunningServer = await startCrossbusHub({ extraArgs: ['--insecure'] });
  let bus: Bus | undefined;
  let supervisor: Supervisor | undefined;
  let pm2: Pm2Fleet | undefined;
  try {
    bus = await connect(hub.url, { name: 'bench-probe', reconnect: false });
    const targets: KillTarget[] = [];
    const target = async (key: string, topic: string, track?: (pid: number) => void): Promise<void> => {
      const slots = await waitForSlots(bus as Bus, topic, DEPLOY_INSTANCES, { version: VERSION_1 });
      const at = epochNow();
      for (const s of slots) track?.(s.pid);
      targets.push({ key, topic, slots, seenAt: slots.map(() => at), ...(track === undefined ? {} : { track }) });
    };
    if (keys.has('crossbus-restarts')) {
      supervisor = deployAppSupervisor({ url: hub.url, topic: 'bench.deploy.crossbus', version: VERSION_1, instances: DEPLOY_INSTANCES });
      supervisor.start();
    }
    if (keys.has('pm2-restarts'))
      pm2 = await startPm2Fleet({ url: hub.url, topic: 'bench.deploy.pm2', version: VERSION_1, instances: DEPLOY_INSTANCES });
    if (supervisor !== undefined) await target('crossbus-restarts', 'bench.deploy.crossbus');
    if (pm2 !== undefined) await target('pm2-restarts', 'bench.deploy.pm2', pm2.track);
    note(`deploy: ${kills} kills each of ${targets.map((t) => t.key).join(', ')}, once each instance ran ${HEALTHY_RUN_MS} ms`);
    return await measureReplacements(bus, targets, kills);
  } finally {
    await supervisor?.stop().catch((err: unknown) => note(`crossbus supervisor stop: ${errMsg(err)}`));
    await pm2?.stop();
    await bus?.close().catch(() => {});
    await hub.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Suite

const fmtMs = (ms: number): string => ms.toFixed(0);
const round2 = (n: number): number => Math.round(n * 100) / 100;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export async function runDeployBench(options: SuiteOptions = {}): Promise<BenchOutput & SuiteExtras> {
  const scale = options.scale ?? 1;
  const all = [...SWITCH_SCENARIOS.map((s) => s.key), CANARY_KEY, ...RESTART_KEYS];
  const selected = new Set(selectSystems(all, options.only));
  const kills = Math.max(DEPLOY_INSTANCES, Math.round(KILLS * scale));
  const results: Record<string, number> = {};
  const ratios: Record<string, number> = {};
  const failures: string[] = [];
  const rows: string[][] = [['row', 'what', 'value', 'unit', 'note']];
  const notes: string[] = [];

  for (const scenario of SWITCH_SCENARIOS) {
    if (!selected.has(scenario.key)) continue;
    try {
      note(
        `deploy: ${scenario.key}: ${DEPLOY_INSTANCES} instances, ${LOAD_CONCURRENCY} loops, switch at ${SWITCH_AT_MS} ms of ${DEPLOY_WINDOW_MS} ms`,
      );
      const { tally, switchMs } = await measureSwitch(scenario);
      results[scenario.key] = Math.round(tally.servedPerSecond);
      const codes = Object.entries(tally.failuresByCode)
        .map(([code, n]) => `${fmtInt(n)} ${code}`)
        .join(', ');
      rows.push([
        scenario.key,
        scenario.label,
        fmtInt(tally.servedPerSecond),
        'req/s',
        `${fmtInt(tally.ok)} served, ${fmtInt(tally.failed)} failed${codes ? ` (${codes})` : ''}; switch ${fmtMs(switchMs)} ms`,
      ]);
      if (tally.hitMaxRequests) failures.push(`${scenario.key}: the load hit its request bound before the window ended`);
      if (scenario.zeroFailures && tally.failed > 0)
        failures.push(`${scenario.key}: ${tally.failed} failed requests (${tally.firstFailures.join('; ')})`);
      note(`deploy: ${scenario.key}: ${fmtInt(tally.servedPerSecond)} req/s, ${tally.failed} failed, switch ${fmtMs(switchMs)} ms`);
    } catch (err) {
      failures.push(`${scenario.key}: ${errMsg(err)}`);
      rows.push([scenario.key, scenario.label, '-', 'req/s', `FAILED: ${errMsg(err).split('\n')[0]}`]);
    }
  }
  for (const scenario of SWITCH_SCENARIOS) {
    if (scenario.key === 'restart') continue;
    const r = ratio(results[scenario.key], results.restart);
    if (r !== undefined) ratios[`${scenario.key}/restart`] = r;
  }

  if (selected.has(CANARY_KEY)) {
    const label = `bad canary (20 % fail, 25 % share) rolled back by analysis every ${CANARY_INTERVAL_MS} ms`;
    try {
      note(`deploy: ${CANARY_KEY}: ${DEPLOY_INSTANCES} instances, ${LOAD_CONCURRENCY} loops`);
      const c = await measureCanary({ instances: DEPLOY_INSTANCES, concurrency: LOAD_CONCURRENCY });
      results[CANARY_KEY] = round2(1000 / c.detectMs);
      rows.push([
        CANARY_KEY,
        label,
        (1000 / c.detectMs).toFixed(2),
        'rollbacks/s',
        `${fmtMs(c.detectMs)} ms from the canary step to rolled back (${c.analyses} analyses); ${fmtInt(c.tally.failed)} of ${fmtInt(c.tally.ok + c.tally.failed)} requests failed`,
      ]);
      note(`deploy: ${CANARY_KEY}: ${fmtMs(c.detectMs)} ms, ${c.tally.failed} failed (${c.reason})`);
    } catch (err) {
      failures.push(`${CANARY_KEY}: ${errMsg(err)}`);
      rows.push([CANARY_KEY, label, '-', 'rollbacks/s', `FAILED: ${errMsg(err).split('\n')[0]}`]);
    }
  }

  const restartKeys = new Set(RESTART_KEYS.filter((k) => selected.has(k)));
  if (restartKeys.size > 0) {
    try {
      const measured = await measureRestarts(restartKeys, kills);
      for (const [key, rs] of measured) {
        const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
        const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
        results[key] = round2(1000 / mean);
        rows.push([
          key,
          `SIGKILL to a new pid answering (${rs.length} kills)`,
          (1000 / mean).toFixed(2),
          'restarts/s',
          `mean ${fmtMs(mean)} ms, p50 ${fmtMs(percentile(ms, 0.5))} ms, max ${fmtMs(percentile(ms, 1))} ms`,
        ]);
        const phases = meanPhases(rs);
        notes.push(`${key}: mean ms ${PHASES.map((p) => `${p} ${phases[p].toFixed(1)}`).join(', ')}`);
      }
      const r = ratio(results['crossbus-restarts'], results['pm2-restarts']);
      if (r !== undefined) ratios['crossbus-restarts/pm2-restarts'] = r;
    } catch (err) {
      failures.push(`restarts: ${errMsg(err)}`);
      for (const key of restartKeys)
        rows.push([key, 'SIGKILL to a new pid answering', '-', 'restarts/s', `FAILED: ${errMsg(err).split('\n')[0]}`]);
    }
  }

  const header = [
    `deploy: ${DEPLOY_INSTANCES} instances; switch rows: ${LOAD_CONCURRENCY} request loops, the switch ${SWITCH_AT_MS} ms into a ${DEPLOY_WINDOW_MS} ms window`,
    `restart rows: instances killed after ${HEALTHY_RUN_MS} ms up, one at a time, crossbus and pm2 alternating`,
  ];
  const ratioLines = Object.entries(ratios).map(([k, v]) => `${k}: ${v} (goal >= 1.0)`);
  const breakdown = notes.length > 0 ? `\nwhere a replacement's time goes:\n${notes.map((n) => `  ${n}`).join('\n')}\n` : '';
  const table = `${header.join('\n')}\n${formatTable(rows)}\n${breakdown}${ratioLines.length > 0 ? `\n${ratioLines.join('\n')}\n` : ''}`;
  return { suite: 'deploy', unit: 'mixed (see table)', table, results, ratios, failures };
}
