/**
 * The app supervisor: runs each instance of a node app as its own child process (an
 * InstanceSlot each), restarts what exits or stops being healthy with exponential backoff,
 * detects crash loops, stops gracefully. Reports through typed events, an injected logger and
 * the house's metrics (`crossbus_app_instances{app,state}`, `crossbus_app_restarts_total{app}`).
 */
import type { AppManifest } from '../../core/apps/manifest.js';
import { ConfigError } from '../../core/errors/index.js';
import { labelled, type Metric, type MetricsSource } from '../../core/metrics/metric.js';
import { TypedEmitter } from '../../core/util/emitter.js';
import { componentLogger } from '../../core/util/component-logger.js';
import { silentLogger, type Logger } from '../../core/util/logger.js';
import { DEFAULT_START_TIMEOUT_MS, DEFAULT_STOP_GRACE_MS } from './defaults.js';
import { INSTANCE_STATES, InstanceSlot, type InstanceState, type UnhealthyReason } from './instance-slot.js';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';

export type { InstanceState, UnhealthyReason } from './instance-slot.js';

interface InstanceEvent {
  readonly app: string;
  readonly instanceId: string;
  readonly pid: number;
}

export interface SupervisorEvents {
  'instance-started': InstanceEvent;
  'instance-exited': InstanceEvent & { code: number | null; signal: string | null; reason?: UnhealthyReason };
  'instance-restarted': InstanceEvent & { previousPid: number; restarts: number; delayMs: number };
  'crash-loop': { app: string; instanceId: string; restarts: number; windowMs: number };
  unhealthy: InstanceEvent & { reason: UnhealthyReason; detail: string };
  /** Any instance's state changed (for status lines). */
  state: { app: string; instanceId: string; state: InstanceState };
}

export interface SupervisorOptions {
  readonly manifest: AppManifest;
  /** `entry` resolved (loadAppManifest's `entryPath`). */
  readonly entryPath: string;
  /** Where instances run (the manifest's folder). */
  readonly dir: string;
  /** The hub every instance connects to. */
  readonly url: string;
  /** The app's secret (base64), handed to each instance over IPC; absent for a hub that needs none. */
  readonly secret?: string;
  /** Backoff and crash-loop detection, per instance. @default RestartPolicy's defaults */
  readonly restart?: RestartPolicyOptions;
  /** SIGTERM to SIGKILL, in ms. @default 10000 */
  readonly stopGraceMs?: number;
  /** A new instance's time to connect, in ms. @default 10000 */
  readonly startTimeoutMs?: number;
  /** Node flags for every instance (the heap bound is added from the manifest). @default [] */
  readonly execArgv?: readonly string[];
  /** The environment instances start from (minus CROSSBUS_*), plus the manifest's `env`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * One token per instance, handed over IPC with its credentials: the instance attaches to its
   * deployment with it (`$SYS.REQ.DEPLOY.ATTACH`), so the hub knows which connection is which
   * instance of which version. @default none: instances do not attach
   */
  readonly attachTokens?: readonly string[];
  /** Instance ids are `<prefix>-<n>`. @default the manifest's name */
  readonly instancePrefix?: string;
  /** @default silent */
  readonly logger?: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface InstanceStatus {
  readonly instanceId: string;
  readonly state: InstanceState;
  readonly pid: number | undefined;
  readonly restarts: number;
}

export class Supervisor implements MetricsSource {
  readonly events: TypedEmitter<SupervisorEvents>;
  readonly #app: string;
  readonly #slots: InstanceSlot[] = [];
  readonly #logger: Logger;
  #restartsTotal = 0;

  constructor(options: SupervisorOptions) {
    const { manifest } = options;
    if (manifest.kind !== 'node')
      throw new ConfigError(
        'CB_ERR_CONFIG_INVALID',
        `app ${JSON.stringify(manifest.name)} is a static app: the hub serves it, no process runs it`,
        {
          details: { path: 'kind' },
        },
      );
    this.#app = manifest.name;
    this.#logger = componentLogger(options.logger ?? silentLogger, 'supervisor');
    this.events = new TypedEmitter((error) => this.#logger.warn({ error }, 'a supervisor event listener threw'));
    // Each slot's policy checks the options here, before anything starts.
    const restart = options.restart ?? {};
    if (options.attachTokens !== undefined && options.attachTokens.length !== manifest.instances)
      throw new ConfigError(
        'CB_ERR_INVALID_OPTION',
        `attachTokens: one per instance (${manifest.instances}), got ${options.attachTokens.length}`,
      );
    for (let i = 0; i < manifest.instances; i++) {
      const instanceId = `${options.instancePrefix ?? manifest.name}-${i}`;
      this.#slots.push(
        new InstanceSlot(
          {
            manifest,
            entryPath: options.entryPath,
            dir: options.dir,
            instanceId,
            url: options.url,
            secret: options.secret,
            attachToken: options.attachTokens?.[i],
            policy: new RestartPolicy(restart),
            startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
            stopGraceMs: options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
            execArgv: options.execArgv ?? [],
            baseEnv: options.env ?? process.env,
            logger: this.#logger,
            now: options.now ?? Date.now,
          },
          this.#slotEvents(instanceId),
        ),
      );
    }
  }

  #slotEvents(instanceId: string) {
    const app = this.#app;
    const log = this.#logger;
    return {
      started: (pid: number, previousPid: number | undefined, delayMs: number | undefined): void => {
        log.info({ app, instance: instanceId, pid }, 'instance started');
        this.events.emit('instance-started', { app, instanceId, pid });
        if (previousPid !== undefined) {
          this.#restartsTotal++;
          const restarts = this.#slotOf(instanceId)?.restarts ?? 0;
          this.events.emit('instance-restarted', { app, instanceId, pid, previousPid, restarts, delayMs: delayMs ?? 0 });
        }
      },
      exited: (pid: number, code: number | null, signal: NodeJS.Signals | null, reason: UnhealthyReason | undefined): void => {
        log.info({ app, instance: instanceId, pid, code, signal, ...(reason === undefined ? {} : { reason }) }, 'instance exited');
        this.events.emit('instance-exited', { app, instanceId, pid, code, signal, ...(reason === undefined ? {} : { reason }) });
      },
      unhealthy: (pid: number, reason: UnhealthyReason, detail: string): void => {
        log.warn({ app, instance: instanceId, pid, reason, detail }, 'instance unhealthy: restarting it');
        this.events.emit('unhealthy', { app, instanceId, pid, reason, detail });
      },
      crashLoop: (restarts: number, windowMs: number): void => {
        log.error({ app, instance: instanceId, restarts, windowMs }, 'instance in a crash loop: no longer restarted');
        this.events.emit('crash-loop', { app, instanceId, restarts, windowMs });
      },
      stateChanged: (): void => {
        const state = this.#slotOf(instanceId)?.state;
        if (state !== undefined) this.events.emit('state', { app, instanceId, state });
      },
    };
  }

  #slotOf(instanceId: string): InstanceSlot | undefined {
    return this.#slots.find((s) => s.id === instanceId);
  }

  get app(): string {
    return this.#app;
  }

  /** Starts every instance that is not running (again after a crash loop or a stop). */
  start(): void {
    for (const slot of this.#slots) slot.start();
  }

  /** Stops every instance gracefully (SIGTERM, drain, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.stop()));
  }

  /** Starts instance number `index` (0-based) if it is not running. */
  startInstance(index: number): void {
    this.#slotAt(index).start();
  }

  /** Stops instance number `index` gracefully; resolves once it is gone. */
  stopInstance(index: number): Promise<void> {
    return this.#slotAt(index).stop();
  }

  #slotAt(index: number): InstanceSlot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new ConfigError('CB_ERR_INVALID_OPTION', `no instance ${index}: the app has ${this.#slots.length}`);
    return slot;
  }

  instances(): InstanceStatus[] {
    return this.#slots.map((s) => ({ instanceId: s.id, state: s.state, pid: s.pid, restarts: s.restarts }));
  }

  metrics(): readonly Metric[] {
    const app = this.#app;
    return [
      labelled('gauge', 'crossbus_app_instances', "An app's instances, by state", ['app', 'state'], () =>
        INSTANCE_STATES.map((state) => ({ labels: { app, state }, value: this.#slots.filter((s) => s.state === state).length })),
      ),
      labelled('counter', 'crossbus_app_restarts_total', "Restarts of an app's instances", ['app'], () => [
        { labels: { app }, value: this.#restartsTotal },
      ]),
    ];
  }
}
