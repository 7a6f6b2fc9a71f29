/**
 * One deployment in progress: the RolloutContext its strategy runs on (waits that end on abort or
 * the time limit, readiness with smoke requests, analysis intervals over live reply counters,
 * drains), the record of every step (handed to the manager, which persists and publishes it), and
 * the rollback when it fails.
 */
import type { DeploymentConfig } from '../../core/apps/deploy-config.js';
import type { AnalysisRecord, DeployOutcome, DeployPhase, DeploymentRecord } from '../../core/apps/deploy-topics.js';
import { judgeInterval, statsDelta, sumStats } from '../../core/apps/traffic-analysis.js';
import type { Broker } from '../../core/broker/broker.js';
import { HubStopping, range, RolloutFailed, RolloutStopped, type RolloutContext, type RolloutProgress } from './rollout-context.js';
import type { RunningRevision } from './running-revision.js';
import { blueGreen, canary, rolling } from './strategies.js';

/** Events kept in one deployment's record (the oldest dropped first). */
const MAX_EVENTS = 200;

export interface DeploymentRunOptions {
  readonly record: DeploymentRecord;
  readonly config: DeploymentConfig;
  readonly current: RunningRevision | undefined;
  readonly next: RunningRevision;
  readonly broker: Broker;
  /** Every change of the record (to persist, publish, log). */
  readonly onRecord: (record: DeploymentRecord) => Promise<void>;
  /** The switch happened: the manager makes `next` the active version. */
  readonly onSwitched: () => Promise<void>;
  readonly now: () => number;
}

export class DeploymentRun implements RolloutContext {
  readonly config: DeploymentConfig;
  readonly current: RunningRevision | undefined;
  readonly next: RunningRevision;
  #record: DeploymentRecord;
  readonly #o: DeploymentRunOptions;
  readonly #stop = new AbortController();
  #promote: (() => void) | undefined;
  #promoted = false;
  #switched = false;

  constructor(o: DeploymentRunOptions) {
    this.#o = o;
    this.config = o.config;
    this.current = o.current;
    this.next = o.next;
    this.#record = o.record;
  }

  get record(): DeploymentRecord {
    return this.#record;
  }

  get isSwitched(): boolean {
    return this.#switched;
  }

  async #update(patch: Partial<DeploymentRecord>, phase: DeployPhase, message: string): Promise<void> {
    const at = this.#o.now();
    const events = [...this.#record.events, { at, phase, message }].slice(-MAX_EVENTS);
    this.#record = { ...this.#record, ...patch, phase, updatedAt: at, events };
    await this.#o.onRecord(this.#record);
  }

  phase(phase: DeployPhase, message: string, progress: RolloutProgress = {}): Promise<void> {
    this.#throwIfStopped();
    return this.#update(progress, phase, message);
  }

  progress(message: string, progress: RolloutProgress): Promise<void> {
    this.#throwIfStopped();
    return this.#update(progress, this.#record.phase, message);
  }

  #throwIfStopped(): void {
    if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
  }

  /** Ends the strategy's waits: an abort or the time limit (RolloutStopped) or a failure seen outside it. */
  stop(error: Error): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(error);
  }

  /** Ends a wait for `deploy promote`; false when the deployment is not waiting. */
  promote(): boolean {
    if (!this.#record.waiting) return false;
    this.#promoted = true;
    this.#promote?.();
    return true;
  }

  /** A wait that ends after `ms` or with the run's stop reason. */
  #wait<T>(ms: number | undefined, start: (done: (value: T) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = this.#stop.signal;
      if (signal.aborted) return reject(signal.reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        cleanup();
      };
      const onAbort = (): void => {
        finish();
        reject(signal.reason);
      };
      const cleanup = start((value) => {
        finish();
        resolve(value);
      });
      if (ms !== undefined)
        timer = setTimeout(() => {
          finish();
          resolve(undefined as T);
        }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  sleep(ms: number): Promise<void> {
    return this.#wait<void>(ms, () => () => {});
  }

  waitPromote(): Promise<void> {
    if (this.#promoted) {
      this.#promoted = false;
      return Promise.resolve();
    }
    return this.#wait<void>(undefined, (done) => {
      this.#promote = () => {
        this.#promoted = false;
        done();
      };
      return () => {
        this.#promote = undefined;
      };
    });
  }

  async waitReady(rev: RunningRevision, indexes: readonly number[], checks: boolean): Promise<void> {
    const { readyTimeoutMs } = this.config;
    const outcome = await this.#wait<'ready' | 'crash-loop' | 'timeout'>(readyTimeoutMs, (done) => {
      const look = (): void => {
        if (rev.crashLooping()) done('crash-loop');
        else if (indexes.every((i) => rev.isReady(i))) done('ready');
      };
      const off = rev.onChange(look);
      look();
      return off;
    }).then((r) => r ?? 'timeout');
    if (outcome === 'crash-loop') throw new RolloutFailed(`${rev.record.version} is in a crash loop`);
    if (outcome === 'timeout')
      throw new RolloutFailed(`instances ${indexes.join(', ')} of ${rev.record.version} were not ready within ${readyTimeoutMs} ms`);
    const topics = [...(rev.healthTopic === undefined ? [] : [rev.healthTopic]), ...(checks ? this.config.validationChecks : [])];
    const deadline = this.#o.now() + readyTimeoutMs;
    for (const i of indexes) for (const topic of topics) await this.#check(rev, i, topic, deadline);
  }

  /**
   * Asks instance `index` of `rev` for `topic`: it must answer without an error. Not serving it
   * yet (still setting up) is asked again until `deadline`.
   */
  async #check(rev: RunningRevision, index: number, topic: string, deadline: number): Promise<void> {
    this.#throwIfStopped();
    await this.#probe(rev, index, topic, deadline);
  }

  async #probe(rev: RunningRevision, index: number, topic: string, deadline: number): Promise<void> {
    for (;;) {
      const connection = rev.connection(index);
      const reply =
        connection === undefined
          ? undefined
          : await this.#o.broker.requestConnection(connection, topic, { check: true }, this.config.checkTimeoutMs);
      if (reply?.ok === true) return;
      const notYet = reply === undefined || reply.error.code === 'CB_ERR_NO_RESPONDERS' || reply.error.code === 'CB_ERR_CONNECTION_CLOSED';
      if (!notYet || this.#o.now() >= deadline || rev.crashLooping())
        throw new RolloutFailed(
          `instance ${index} of ${rev.record.version} failed its check ${topic}: ${reply === undefined ? 'it is not attached' : reply.error.message}`,
        );
      await new Promise((r) => setTimeout(r, 20));
      this.#throwIfStopped();
    }
  }

  async analyze(rev: RunningRevision, durationMs: number | 'manual'): Promise<void> {
    const a = this.config.canary.analysis;
    const until = durationMs === 'manual' ? Number.POSITIVE_INFINITY : this.#o.now() + durationMs;
    let inconclusive = 0;
    if (durationMs === 'manual') this.#promoted = false;
    while (this.#o.now() < until && !(durationMs === 'manual' && this.#promoted)) {
      const before = sumStats(rev.stats());
      const wait = Math.min(a.intervalMs, until - this.#o.now());
      if (durationMs === 'manual') await Promise.race([this.sleep(wait), this.waitPromote()]);
      else await this.sleep(wait);
      if (durationMs === 'manual' && this.#promoted) break;
      const after = sumStats(rev.stats());
      if (before === undefined || after === undefined) throw new RolloutFailed(`${rev.record.version} has no attached instance left`);
      const judged: AnalysisRecord = judgeInterval(statsDelta(before, after), a, this.#o.now());
      await this.progress(`analysis: ${judged.verdict}: ${judged.reason}`, { analysis: judged });
      if (judged.verdict === 'fail') throw new RolloutFailed(`analysis failed: ${judged.reason}`);
      inconclusive = judged.verdict === 'inconclusive' ? inconclusive + 1 : 0;
      if (inconclusive >= a.maxInconclusive)
        throw new RolloutFailed(`analysis: ${inconclusive} intervals in a row were inconclusive (${judged.reason})`);
      if (rev.crashLooping()) throw new RolloutFailed(`${rev.record.version} is in a crash loop`);
    }
    this.#promoted = false;
  }

  async drainAndStop(rev: RunningRevision, index: number): Promise<void> {
    rev.setInstanceWeight(index, 0);
    // Its requests in flight finish before it is told to stop (it drains again on SIGTERM).
    const deadline = this.#o.now() + this.config.checkTimeoutMs;
    while (rev.inFlight(index) > 0 && this.#o.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await rev.supervisor.stopInstance(index);
  }

  async switched(): Promise<void> {
    this.#switched = true;
    await this.#o.onSwitched();
  }

  /** Runs the strategy; resolves with the outcome once finished, rolled back or stopped. */
  async run(): Promise<void> {
    const strategy = { 'blue-green': blueGreen, rolling, canary }[this.config.strategy];
    try {
      await strategy(this);
      await this.#finish('succeeded', undefined, 'done', `${this.next.record.version} is active`);
    } catch (err) {
      if (err instanceof HubStopping) return;
      const reason = err instanceof Error ? err.message : String(err);
      const aborted = err instanceof RolloutStopped;
      if (!this.config.rollbackEnabled && !aborted) {
        await this.#finish('failed', reason, this.#record.phase, `failed, not rolled back (rollbackEnabled is false): ${reason}`);
        return;
      }
      await this.#update({}, 'rollback', `rolling back: ${reason}`);
      await this.rollBack();
      await this.#finish(
        aborted ? 'aborted' : 'rolled-back',
        reason,
        'done',
        `rolled back to ${this.current?.record.version ?? 'nothing'}`,
      );
    }
  }

  /** The old version takes all traffic again (started again where stopped), the new one is drained and stopped. */
  async rollBack(): Promise<void> {
    const { current, next } = this;
    if (current !== undefined) {
      current.supervisor.start();
      current.setWeight(1);
    }
    next.setWeight(0);
    if (current !== undefined) {
      // The old instances that a rolling update had stopped must be back before the new ones go.
      const deadline = this.#o.now() + this.config.readyTimeoutMs;
      while (!range(current.size).every((i) => current.isReady(i)) && this.#o.now() < deadline && !current.crashLooping())
        await new Promise((r) => setTimeout(r, 10));
      const health = current.healthTopic;
      if (health !== undefined) for (const i of range(current.size)) await this.#probe(current, i, health, deadline).catch(() => undefined);
    }
    await Promise.all(range(next.size).map((i) => this.drainAndStop(next, i)));
    this.#switched = false;
  }

  async #finish(outcome: DeployOutcome, reason: string | undefined, phase: DeployPhase, message: string): Promise<void> {
    const at = this.#o.now();
    await this.#update(
      { outcome, reason, endedAt: at, waiting: false, ...(outcome === 'succeeded' ? { weight: 100 } : { weight: 0 }) },
      phase,
      message,
    );
  }
}
