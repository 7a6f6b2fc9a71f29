/**
 * The deploy suite's canary row: on its own hub, DEPLOY_INSTANCES instances of the managed app at
 * 1.0.0 under a steady request load; then a 2.0.0 failing every 5th request, deployed as a canary
 * taking 25 % of the requests for a minute, judged every CANARY_INTERVAL_MS. Measured: the time
 * from the canary's step starting (its 'verify' event) to the deployment's end (rolled back by its
 * analysis), and the requests that failed meanwhile (the load runs from the deployment's start to
 * its end; only the canary fails any, and only once it takes traffic).
 */
import { note, startCrossbusHub } from './lib/procs.js';
import { errMsg, loadCrossbus } from './pubsub.js';
import { deploy, deploymentOutcome, managedAppVersion, startDeployment } from './lib/managed-app.js';
import { startSteadyLoad, type LoadTally } from './lib/steady-load.js';

export const CANARY_KEY = 'crossbus-canary-rollbacks';
/** The canary's analysis interval, in ms. */
export const CANARY_INTERVAL_MS = 500;
/** The canary's share of the requests, in percent. */
const CANARY_WEIGHT = 25;
/** The bad version fails every nth request (20 %). */
const FAIL_EVERY = 5;

export interface CanaryResult {
  /** From the canary step's start to the rollback's end, in ms. */
  readonly detectMs: number;
  /** The load from the deployment's start to its end. */
  readonly tally: LoadTally;
  /** The analysis verdicts before the rollback. */
  readonly analyses: number;
  readonly reason: string;
}

export async function measureCanary(opts: { instances: number; concurrency: number }): Promise<CanaryResult> {
  const { connect } = await loadCrossbus();
  const hub = await startCrossbusHub({ extraArgs: ['--insecure'] });
  const topic = 'bench.deploy.work';
  let bus: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    bus = await connect(hub.url, { name: 'bench-load', reconnect: false });
    const version = (v: string, config?: Record<string, unknown>): string =>
      managedAppVersion({ version: v, topic, instances: opts.instances, ...(config === undefined ? {} : { config }) });
    await deploy(bus, version('1.0.0'), { strategy: 'blue-green', blueGreen: { scaleDownDelayMs: 0 } });
    const load = startSteadyLoad({ bus, topic, concurrency: opts.concurrency, durationMs: 60_000 });
    const started = await startDeployment(bus, version('2.0.0', { failEvery: FAIL_EVERY }), {
      strategy: 'canary',
      canary: { steps: [{ weight: CANARY_WEIGHT, pauseMs: 60_000 }], analysis: { intervalMs: CANARY_INTERVAL_MS } },
    });
    const done = await deploymentOutcome(bus, started.id);
    const tally = await load.stop();
    if (done.outcome !== 'rolled-back') throw new Error(`the canary was not rolled back: ${done.outcome} (${done.reason ?? ''})`);
    const verify = done.events.find((e) => e.phase === 'verify');
    if (verify === undefined || done.endedAt === undefined) throw new Error('the canary has no verify event or no end');
    const analyses = done.events.filter((e) => e.message.startsWith('analysis:')).length;
    // The positive check that it rolled back: 1.0.0 answers everything again.
    for (let i = 0; i < 4 * opts.instances; i++) {
      const a = (await bus.request(topic, null, { timeoutMs: 2_000 })) as { version: string };
      if (a.version !== '1.0.0') throw new Error(`after the rollback, version ${a.version} answered`);
    }
    return { detectMs: done.endedAt - verify.at, tally, analyses, reason: done.reason ?? '' };
  } finally {
    await bus?.close().catch((err: unknown) => note(`canary: close: ${errMsg(err)}`));
    await hub.stop();
  }
}
