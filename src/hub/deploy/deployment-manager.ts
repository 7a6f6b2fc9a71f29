/**
 * The hub's deployment manager (issue 21): the apps the hub runs, each at its active version, and
 * the deployment pipeline that changes that version: prepare (the CLI packs) → stage (the package
 * checked, written under the data folder, signed) → approval where the environment's policy asks
 * (a person, through consent) → the strategy's validate, promote, verify and cleanup
 * (strategies.ts). Every step is saved before it is acted on, so a hub restart finds where a
 * deployment was: past the switch it finishes, before it it rolls back; the running version keeps
 * serving either way.
 */
import { randomUUID } from 'node:crypto';
import { parseDeploymentConfig, type DeploymentConfig } from '../../core/apps/deploy-config.js';
import { DEFAULT_DEPLOY_HISTORY } from '../../core/apps/deploy-defaults.js';
import type { AppDeployStatus, AppPackage, DeploymentRecord, RevisionRecord } from '../../core/apps/deploy-topics.js';
import { DEPLOY_EVENTS_PREFIX } from '../../core/apps/deploy-topics.js';
import type { Broker } from '../../core/broker/broker.js';
import type { Metric } from '../../core/metrics/metric.js';
import { revisionMetrics } from './deploy-metrics.js';
import { createError } from '../../core/errors/index.js';
import type { AuditSink } from '../../core/security/audit.js';
import type { ConsentManager } from '../../core/security/consent.js';
import { logCritical } from '../../core/util/component-logger.js';
import type { Logger } from '../../core/util/logger.js';
import { stagedChecksum, type PackageLimits } from '../../node/apps/app-package.js';
import { loadAppManifest } from '../../node/apps/manifest-file.js';
import type { SupervisorOptions } from '../../node/apps/supervisor.js';
import type { AppDeployState, DeployStore } from './deploy-store.js';
import { DeploymentRun } from './deployment-run.js';
import { stagePackage } from './staging.js';
import { grantsToAsk, type GrantPolicy, type GrantToAsk } from './manifest-grants.js';
import { settleInterrupted } from './restart-recovery.js';
import { HubStopping, RolloutStopped } from './rollout-context.js';
import { RunningRevision } from './running-revision.js';

/** What each target environment demands. */
export interface EnvironmentPolicy {
  /** A person approves each deployment through consent before anything starts. @default true for production, false otherwise */
  readonly requireApproval?: boolean;
}

export interface DeploymentManagerOptions {
  readonly store: DeployStore;
  readonly broker: Broker;
  /** What every instance's supervisor shares: the hub's URL, logger, restart policy (secret: per app, below). */
  readonly supervisor: Omit<SupervisorOptions, 'manifest' | 'entryPath' | 'dir' | 'attachTokens' | 'instancePrefix' | 'secret'>;
  /** An app's secret for its instances (base64), from the hub's config; undefined on a hub without security. */
  readonly secretOf: (app: string) => string | undefined;
  /** Apps the hub knows (its config's); undefined: any name (a hub without security). */
  readonly knownApp: ((app: string) => boolean) | undefined;
  /** The hub's policy, for the manifest's grants; undefined on a hub without security (nothing to check). */
  readonly grants?: GrantPolicy;
  readonly consent: ConsentManager | undefined;
  readonly audit: AuditSink;
  readonly logger: Logger;
  /** @default production requires an approval */
  readonly environments?: Readonly<Record<string, EnvironmentPolicy>>;
  /** @default 50 */
  readonly historyLimit?: number;
  readonly packageLimits?: PackageLimits;
  /** @default Date.now */
  readonly now?: () => number;
}

interface AppRuntime {
  readonly state: AppDeployState;
  active: RunningRevision | undefined;
  run: DeploymentRun | undefined;
  /** A deployment is being staged or started: no other may begin. */
  reserved: boolean;
}

const invalid = (message: string, details: Record<string, unknown> = {}) => createError('CB_ERR_INVALID_OPTION', message, { details });

export class DeploymentManager {
  readonly #o: DeploymentManagerOptions;
  readonly #apps = new Map<string, AppRuntime>();
  readonly #now: () => number;
  #closed = false;

  constructor(options: DeploymentManagerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  #states(): Map<string, AppDeployState> {
    return new Map([...this.#apps].map(([name, a]) => [name, a.state]));
  }

  #save(): Promise<void> {
    return this.#o.store.save(this.#states());
  }

  /**
   * Loads the saved state, settles any deployment a hub restart interrupted (finished past its
   * switch, rolled back before it), and starts each app's active version.
   */
  async open(): Promise<void> {
    const states = await this.#o.store.open();
    for (const [app, state] of states) {
      this.#apps.set(app, { state, active: undefined, run: undefined, reserved: false });
      const d = state.deployment;
      if (d !== undefined && d.outcome === undefined) {
        const ended = settleInterrupted(d, state.active?.id, this.#now());
        this.#end(state, ended);
        this.#o.audit.record({
          actor: { app: d.startedBy },
          action: 'deploy',
          target: app,
          outcome: ended.outcome === 'succeeded' ? 'success' : 'failure',
          reason: ended.reason,
          details: { deployment: d.id, to: d.to, from: d.from ?? null },
        });
      }
    }
    await this.#save();
    for (const [app, a] of this.#apps) {
      if (a.state.active === undefined) continue;
      try {
        a.active = await this.#revision(a.state.active);
        a.active.setWeight(1);
        a.active.supervisor.start();
      } catch (err) {
        logCritical(this.#o.logger, { app, revision: a.state.active.id, error: String(err) }, 'an app could not be started');
      }
    }
  }

  /** Stops every app's instances (the hub is stopping). Deployments in progress stay saved as they are. */
  async close(): Promise<void> {
    this.#closed = true;
    const stops: Promise<void>[] = [];
    for (const a of this.#apps.values()) {
      // Not rolled back now: the saved step decides at the next start (restart-recovery.ts).
      a.run?.stop(new HubStopping('the hub is stopping'));
      if (a.active !== undefined) stops.push(a.active.supervisor.stop());
      if (a.run !== undefined) stops.push(a.run.next.supervisor.stop());
    }
    await Promise.all(stops);
  }

  /** A staged version, checked (signature, then its files against its checksum), ready to run. */
  async #revision(r: RevisionRecord): Promise<RunningRevision> {
    const dir = this.#o.store.revisionDir(r.app, r.id);
    if (!this.#o.store.verify(r))
      throw createError('CB_ERR_INTEGRITY', `the record of ${r.app} ${r.id} is not signed by this hub's deployment key`);
    const sum = await stagedChecksum(dir);
    if (sum !== r.checksum)
      throw createError('CB_ERR_INTEGRITY', `the files of ${r.app} ${r.id} changed on disk since they were staged`, {
        details: { expected: r.checksum, actual: sum },
      });
    const loaded = await loadAppManifest(dir);
    const secret = this.#o.secretOf(r.app);
    return new RunningRevision({
      record: r,
      manifest: loaded.manifest,
      dir: loaded.dir,
      entryPath: loaded.entryPath,
      broker: this.#o.broker,
      supervisor: { ...this.#o.supervisor, ...(secret === undefined ? {} : { secret }) },
    });
  }

  #app(name: string): AppRuntime {
    let a = this.#apps.get(name);
    if (a === undefined) {
      a = {
        state: { active: undefined, previous: undefined, deployment: undefined, history: [] },
        active: undefined,
        run: undefined,
        reserved: false,
      };
      this.#apps.set(name, a);
    }
    return a;
  }

  #end(state: AppDeployState, record: DeploymentRecord): void {
    state.deployment = undefined;
    state.history = [record, ...state.history].slice(0, this.#o.historyLimit ?? DEFAULT_DEPLOY_HISTORY);
  }

  #publish(record: DeploymentRecord, config: DeploymentConfig | undefined): void {
    this.#o.broker.publishFromHub(`${DEPLOY_EVENTS_PREFIX}${record.app}`, record);
    for (const topic of config?.notificationChannels ?? []) this.#o.broker.publishFromHub(topic, record);
  }

  /** Stages a package and starts deploying it; resolves with the deployment's record once staged (the rollout runs on). */
  async start(pkg: AppPackage, rawConfig: unknown, startedBy: string): Promise<DeploymentRecord> {
    if (this.#closed) throw createError('CB_ERR_HUB_SHUTTING_DOWN', 'the hub is stopping');
    const config = parseDeploymentConfig(rawConfig, 'deployment config');
    // prepare was the CLI's; stage: the manifest inside the package decides the app and version.
    const staged = await stagePackage(this.#o.store, pkg, this.#o.packageLimits, this.#o.knownApp);
    const { manifest } = staged;
    let asks: GrantToAsk[];
    try {
      asks = this.#o.grants === undefined ? [] : grantsToAsk(manifest, this.#o.grants);
    } catch (err) {
      await staged.discard();
      throw err;
    }
    const a = this.#app(manifest.name);
    const id = `${manifest.version}-${pkg.checksum.slice(0, 12)}`;
    const refusal =
      this.#busy(a) ??
      (a.state.active?.id === id
        ? invalid(`${manifest.name} ${id} is the active version already`, { reason: 'already-active' })
        : undefined);
    if (refusal !== undefined) {
      await staged.discard();
      throw refusal;
    }
    return this.#reserved(a, async () => this.#deploy(a, await staged.commit(startedBy, this.#now()), config, startedBy, asks));
  }

  /** Why a deployment of `a` cannot start now (one is in progress or being staged), or undefined. */
  #busy(a: AppRuntime): Error | undefined {
    if (a.run === undefined && a.state.deployment === undefined && !a.reserved) return undefined;
    const app = a.state.deployment?.app ?? 'this app';
    return createError('CB_ERR_CONFLICTING_OPTIONS', `${app} is being deployed already: promote, abort or wait for it`, {
      details: { reason: 'deployment-in-progress', deployment: a.state.deployment?.id ?? null },
    });
  }

  /** Runs `fn` with `a` reserved: no other deployment of it starts meanwhile. */
  async #reserved<T>(a: AppRuntime, fn: () => Promise<T>): Promise<T> {
    a.reserved = true;
    try {
      return await fn();
    } finally {
      a.reserved = false;
    }
  }

  async #deploy(
    a: AppRuntime,
    to: RevisionRecord,
    config: DeploymentConfig,
    startedBy: string,
    asks: readonly GrantToAsk[] = [],
  ): Promise<DeploymentRecord> {
    const at = this.#now();
    const deployment: DeploymentRecord = {
      id: randomUUID(),
      app: to.app,
      strategy: config.strategy,
      environment: config.targetEnvironment,
      from: a.state.active?.id,
      to: to.id,
      phase: 'stage',
      weight: 0,
      step: undefined,
      waiting: false,
      startedAt: at,
      updatedAt: at,
      endedAt: undefined,
      outcome: undefined,
      reason: undefined,
      startedBy,
      analysis: undefined,
      events: [{ at, phase: 'stage', message: `staged ${to.app} ${to.id} (checksum ${to.checksum.slice(0, 12)}, signed)` }],
    };
    const next = await this.#revision(to);
    a.state.deployment = deployment;
    await this.#save();
    this.#o.audit.record({
      actor: { app: startedBy },
      action: 'deploy',
      target: to.app,
      outcome: 'info',
      details: {
        deployment: deployment.id,
        to: to.id,
        from: deployment.from ?? null,
        strategy: config.strategy,
        environment: config.targetEnvironment,
      },
    });
    const from = a.state.active;
    const previous = a.state.previous;
    const run: DeploymentRun = new DeploymentRun({
      record: deployment,
      config,
      current: a.active,
      next,
      broker: this.#o.broker,
      now: this.#now,
      onRecord: async (r) => {
        if (this.#closed) return;
        if (r.outcome === undefined) a.state.deployment = r;
        else this.#settle(a, run, r, { from, previous });
        await this.#save();
        this.#publish(r, config);
        this.#o.logger.info(
          { app: r.app, deployment: r.id, phase: r.phase, weight: r.weight, message: r.events.at(-1)?.message },
          'deployment',
        );
      },
      onSwitched: async () => {
        if (this.#closed) return;
        a.state.previous = from;
        a.state.active = to;
        await this.#save();
      },
    });
    a.run = run;
    void this.#execute(a, run, config, { from, previous }, asks);
    return deployment;
  }

  async #execute(
    a: AppRuntime,
    run: DeploymentRun,
    config: DeploymentConfig,
    before: { from: RevisionRecord | undefined; previous: RevisionRecord | undefined },
    asks: readonly GrantToAsk[],
  ): Promise<void> {
    const timer = setTimeout(
      () => run.stop(new RolloutStopped(`the deployment took longer than its timeout (${config.timeout} ms)`)),
      config.timeout,
    );
    try {
      await this.#approve(run, config);
      await this.#askGrants(run, asks);
      await run.run();
    } catch (err) {
      // Refused (approval denied, the hub stopping before it began): nothing serves from it.
      await run.next.supervisor.stop();
      if (this.#closed) return;
      const reason = err instanceof Error ? err.message : String(err);
      const at = this.#now();
      const r: DeploymentRecord = { ...run.record, outcome: 'aborted', reason, phase: 'done', endedAt: at, updatedAt: at, waiting: false };
      this.#settle(a, run, r, before);
      await this.#save();
      this.#publish(r, config);
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) return;
    const last = a.state.history.find((d) => d.id === run.record.id);
    const succeeded = last?.outcome === 'succeeded';
    this.#o.audit.record({
      actor: { app: run.record.startedBy },
      action: 'deploy',
      target: run.record.app,
      outcome: succeeded ? 'success' : 'failure',
      ...(last?.reason === undefined ? {} : { reason: last.reason }),
      details: { deployment: run.record.id, to: run.record.to, from: run.record.from ?? null, outcome: last?.outcome ?? null },
    });
  }

  /**
   * A deployment ended (`r` has its outcome): in one step, before anyone is told, it goes to the
   * history and the app's versions are what the outcome says, so the next request sees them.
   */
  #settle(
    a: AppRuntime,
    run: DeploymentRun,
    r: DeploymentRecord,
    before: { from: RevisionRecord | undefined; previous: RevisionRecord | undefined },
  ): void {
    this.#end(a.state, r);
    if (r.outcome === 'succeeded' || run.isSwitched) {
      // Succeeded, or failed past the switch with rollbackEnabled false: the new version serves.
      a.active = run.next;
    } else {
      // Rolled back (after the switch or before it), aborted, or failed before it: the version from before serves.
      a.state.active = before.from;
      a.state.previous = before.previous;
      a.active = run.current;
      // Failed without a rollback: its instances took no traffic yet, and nothing would stop them later.
      if (r.outcome === 'failed') void run.next.supervisor.stop();
    }
    a.run = undefined;
  }

  async #approve(run: DeploymentRun, config: DeploymentConfig): Promise<void> {
    const policy = this.#o.environments?.[config.targetEnvironment];
    const required = policy?.requireApproval ?? config.targetEnvironment === 'production';
    if (!required) return;
    const consent = this.#o.consent;
    if (consent === undefined)
      throw createError('CB_ERR_FORBIDDEN', `${config.targetEnvironment} needs an approval, and this hub has no consent service`);
    const r = run.record;
    await run.phase('approval', `waiting for a person to approve deploying ${r.app} ${r.to} to ${config.targetEnvironment}`, {
      waiting: true,
    });
    await consent.request(
      r.startedBy === '' ? 'anonymous' : r.startedBy,
      'request',
      `$DEPLOY.${r.app}.${r.id}`,
      `deploy ${r.app} ${r.to} to ${config.targetEnvironment}`,
    );
    await run.phase('approval', 'approved', { waiting: false });
  }

  /** The manifest's grants its roles leave to a person, asked through consent before anything starts. */
  async #askGrants(run: DeploymentRun, asks: readonly GrantToAsk[]): Promise<void> {
    if (asks.length === 0) return;
    const consent = this.#o.consent;
    if (consent === undefined)
      throw createError('CB_ERR_FORBIDDEN', 'the manifest asks for grants that need consent, and this hub has no consent service');
    const r = run.record;
    await run.phase('approval', `waiting for a person to grant ${r.app} ${asks.map((g) => `${g.action} ${g.pattern}`).join(', ')}`, {
      waiting: true,
    });
    for (const g of asks) await consent.request(r.app, g.action, g.rule, `${g.action} ${g.pattern} (asked by ${r.app} ${r.to})`);
    await run.phase('approval', 'grants given', { waiting: false });
  }

  #inProgress(app: string): DeploymentRun {
    const run = this.#apps.get(app)?.run;
    if (run === undefined) throw invalid(`app ${JSON.stringify(app)} has no deployment in progress`, { reason: 'no-deployment' });
    return run;
  }

  promote(app: string): DeploymentRecord {
    const run = this.#inProgress(app);
    if (!run.promote())
      throw invalid(`the deployment of ${app} is not waiting for a promote (it is in ${run.record.phase})`, { reason: 'not-waiting' });
    return run.record;
  }

  abort(app: string, by: string): DeploymentRecord {
    const run = this.#inProgress(app);
    run.stop(new RolloutStopped(`aborted by ${by || 'an operator'}`));
    return run.record;
  }

  /**
   * Back to the previous version: a deployment in progress is aborted (blue-green within its
   * scale-down delay: one switch back); otherwise the previous version is deployed again.
   */
  async rollback(app: string, by: string, rawConfig?: unknown): Promise<DeploymentRecord> {
    const a = this.#apps.get(app);
    if (a?.run !== undefined) return this.abort(app, by);
    const previous = a?.state.previous;
    if (a === undefined || previous === undefined)
      throw invalid(`app ${JSON.stringify(app)} has no previous version to roll back to`, { reason: 'no-previous-version' });
    const busy = this.#busy(a);
    if (busy !== undefined) throw busy;
    const last = a.state.history.find((d) => d.outcome === 'succeeded');
    const config = parseDeploymentConfig(
      rawConfig ?? { strategy: last?.strategy ?? 'rolling', targetEnvironment: last?.environment ?? 'development' },
    );
    return this.#reserved(a, () => this.#deploy(a, previous, config, by));
  }

  /** An instance's ATTACH: binds the asking connection to its version and instance. */
  attach(token: unknown, connectionId: string): { app: string; revision: string } {
    if (typeof token === 'string')
      for (const [app, a] of this.#apps)
        for (const rev of [a.active, a.run?.next, a.run?.current])
          if (rev?.attach(token, connectionId) === true) return { app, revision: rev.id };
    throw createError('CB_ERR_FORBIDDEN', 'no instance the hub started holds this token');
  }

  status(app?: string): { apps: AppDeployStatus[] } {
    const names = app === undefined ? [...this.#apps.keys()] : [app];
    return {
      apps: names.map((name) => {
        const a = this.#apps.get(name);
        if (a === undefined) throw invalid(`no app ${JSON.stringify(name)} was deployed to this hub`, { reason: 'unknown-app' });
        const running = new Set([a.active, a.run?.current, a.run?.next].filter((r) => r !== undefined));
        return {
          app: name,
          active: a.state.active,
          previous: a.state.previous,
          deployment: a.state.deployment,
          instances: [...running].flatMap((r) => r.instances()),
        };
      }),
    };
  }

  /** `crossbus_app_instances{app,version,state}` and `crossbus_app_restarts_total{app,version}` of every running version. */
  metrics(): readonly Metric[] {
    return revisionMetrics(() =>
      [...this.#apps.values()].flatMap((a) => [...new Set([a.active, a.run?.current, a.run?.next].filter((r) => r !== undefined))]),
    );
  }

  history(app: string): { history: DeploymentRecord[] } {
    const a = this.#apps.get(app);
    if (a === undefined) throw invalid(`no app ${JSON.stringify(app)} was deployed to this hub`, { reason: 'unknown-app' });
    return { history: [...(a.state.deployment === undefined ? [] : [a.state.deployment]), ...a.state.history] };
  }
}
