/**
 * The three rollouts (the pipeline's stage → validate → promote → verify → cleanup for each), over
 * a RolloutContext. Traffic moves by the router's per-connection weights: no proxy, no mesh.
 */
import { splitWeights } from '../../core/apps/traffic-analysis.js';
import { range, type RolloutContext } from './rollout-context.js';

/**
 * Blue-green: the new version starts as a preview that gets no traffic, passes its checks, and
 * (at once or on `deploy promote`) takes all traffic in one step; the old version keeps running
 * for the scale-down delay, so a rollback until then is one more switch.
 */
export async function blueGreen(ctx: RolloutContext): Promise<void> {
  const { next, current, config } = ctx;
  const o = config.blueGreen;
  await ctx.phase('stage', `starting ${next.size} preview instances of ${next.record.version} (no traffic)`, { weight: 0 });
  next.setWeight(0);
  next.supervisor.start();
  await ctx.phase('validate', 'waiting for the preview to attach and pass its checks');
  await ctx.waitReady(next, range(next.size), true);
  if (!o.autoPromote) {
    await ctx.phase('promote', 'the preview passed its checks: waiting for `deploy promote`', { waiting: true });
    await ctx.waitPromote();
  }
  // One turn of the event loop: no request is routed between these two lines.
  next.setWeight(1);
  current?.setWeight(0);
  await ctx.phase('promote', `switched: ${next.record.version} takes all traffic`, { weight: 100, waiting: false });
  if (o.postPromotionAnalysisMs > 0) {
    await ctx.phase('verify', `analysing ${next.record.version}'s live metrics for ${o.postPromotionAnalysisMs} ms`);
    await ctx.analyze(next, o.postPromotionAnalysisMs);
  }
  await ctx.switched();
  if (current !== undefined) {
    await ctx.phase('cleanup', `the old version keeps running ${o.scaleDownDelayMs} ms for an instant rollback`);
    await ctx.sleep(o.scaleDownDelayMs);
    await Promise.all(range(current.size).map((i) => ctx.drainAndStop(current, i)));
  }
}

/**
 * Rolling: instances are replaced a few at a time, never more than `maxSurge` above the count nor
 * `maxUnavailable` below it; a new instance takes traffic once it passed its checks, and an old
 * one is drained before it stops.
 */
export async function rolling(ctx: RolloutContext): Promise<void> {
  const { next, current, config } = ctx;
  const { maxSurge, maxUnavailable } = config.rolling;
  const n = next.size;
  const old = current === undefined ? [] : range(current.size);
  let started = 0;
  let ready = 0;
  await ctx.phase(
    'stage',
    `replacing ${old.length} instances with ${n} of ${next.record.version} (surge ${maxSurge}, unavailable ${maxUnavailable})`,
    {
      weight: 0,
    },
  );
  next.setWeight(0);
  const stopOld = async (): Promise<void> => {
    const stops: Promise<void>[] = [];
    while (old.length > 0 && old.length - 1 + ready >= n - maxUnavailable) stops.push(ctx.drainAndStop(current!, old.pop()!));
    await Promise.all(stops);
  };
  while (ready < n) {
    await stopOld();
    const batch: number[] = [];
    while (started < n && old.length + started < n + maxSurge) {
      next.supervisor.startInstance(started);
      batch.push(started++);
    }
    // The config refuses maxSurge and maxUnavailable both 0, the one way to get here.
    if (batch.length === 0) throw new Error('the rolling update cannot progress: maxSurge and maxUnavailable are both 0');
    await ctx.phase('validate', `waiting for instance ${batch.join(', ')} of ${next.record.version} to pass its checks`);
    await ctx.waitReady(next, batch, true);
    for (const i of batch) next.setInstanceWeight(i, 1);
    ready += batch.length;
    await ctx.progress(`${ready} of ${n} instances replaced`, { weight: Math.round((100 * ready) / n) });
  }
  await ctx.phase('promote', `${next.record.version} serves on all ${n} instances`, { weight: 100 });
  await ctx.switched();
  await ctx.phase('cleanup', 'the old instances are stopped');
  while (old.length > 0) await ctx.drainAndStop(current!, old.pop()!);
}

/**
 * Canary: the new version starts beside the old one and gets a growing share of the group's
 * requests, step by step; at each step its live error rate and p99 latency are judged every
 * analysis interval, and one failed interval rolls the deployment back.
 */
export async function canary(ctx: RolloutContext): Promise<void> {
  const { next, current, config } = ctx;
  const { steps } = config.canary;
  await ctx.phase('stage', `starting ${next.size} canary instances of ${next.record.version} (no traffic yet)`, { weight: 0 });
  next.setWeight(0);
  next.supervisor.start();
  await ctx.phase('validate', 'waiting for the canary to attach and pass its checks');
  await ctx.waitReady(next, range(next.size), true);
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const w = splitWeights(step.weight, current?.size ?? 0, next.size);
    current?.setWeight(w.current);
    next.setWeight(w.next);
    const manual = step.pause === 'manual';
    await ctx.phase('verify', `step ${i + 1} of ${steps.length}: ${step.weight} % of requests to ${next.record.version}`, {
      weight: step.weight,
      step: i,
      waiting: manual,
    });
    await ctx.analyze(next, manual ? 'manual' : (step.pauseMs ?? 0));
  }
  next.setWeight(1);
  current?.setWeight(0);
  await ctx.phase('promote', `${next.record.version} takes all traffic`, { weight: 100, waiting: false });
  await ctx.switched();
  if (current !== undefined) {
    await ctx.phase('cleanup', 'stopping the old version');
    await Promise.all(range(current.size).map((i) => ctx.drainAndStop(current, i)));
  }
}
