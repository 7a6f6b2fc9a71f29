/**
 * One instance of an app, across its restarts: its child process (forked with its own
 * environment and V8 heap bound), the credentials handed over on its IPC channel, its health
 * (beats, memory, CPU) and its restarts (a RestartPolicy). The Supervisor holds one per instance.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { AppManifest } from '../../core/apps/manifest.js';
import { RUNTIME_ENV_PREFIX } from '../../core/apps/defaults.js';
import type { Logger } from '../../core/util/logger.js';
import { IPC_KEY, instanceMessage, type StartMessage } from './ipc-messages.js';
import type { RestartPolicy } from './restart-policy.js';

/** Where an instance is in its life. */
export type InstanceState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'crash-loop';
export const INSTANCE_STATES: readonly InstanceState[] = ['starting', 'running', 'backoff', 'stopping', 'stopped', 'crash-loop'];

/** Why an instance is restarted although it did not exit by itself. */
export type UnhealthyReason = 'heartbeat' | 'memory' | 'cpu' | 'start-timeout';

/** What a slot tells its supervisor. */
export interface SlotEvents {
  started(pid: number, previousPid: number | undefined, delayMs: number | undefined): void;
  exited(pid: number, code: number | null, signal: NodeJS.Signals | null, reason: UnhealthyReason | undefined): void;
  unhealthy(pid: number, reason: UnhealthyReason, detail: string): void;
  crashLoop(restarts: number, windowMs: number): void;
  stateChanged(): void;
}

export interface SlotOptions {
  readonly manifest: AppManifest;
  readonly entryPath: string;
  readonly dir: string;
  readonly instanceId: string;
  readonly url: string;
  readonly secret: string | undefined;
  readonly attachToken: string | undefined;
  readonly policy: RestartPolicy;
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly execArgv: readonly string[];
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly now: () => number;
}

export class InstanceSlot {
  readonly #o: SlotOptions;
  readonly #events: SlotEvents;
  #state: InstanceState = 'stopped';
  #child: ChildProcess | undefined;
  #startedAt = 0;
  #lastBeat = 0;
  #failures = 0;
  #cpuStrikes = 0;
  #lastCpu: { micros: number; at: number } | undefined;
  #restarts = 0;
  #previousPid: number | undefined;
  #pendingDelay: number | undefined;
  #unhealthy: UnhealthyReason | undefined;
  #checkTimer: ReturnType<typeof setInterval> | undefined;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: SlotOptions, events: SlotEvents) {
    this.#o = options;
    this.#events = events;
  }

  get id(): string {
    return this.#o.instanceId;
  }
  get state(): InstanceState {
    return this.#state;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get restarts(): number {
    return this.#restarts;
  }

  #setState(state: InstanceState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.stateChanged();
  }

  /** Starts the instance (again, after a crash loop or a stop). */
  start(): void {
    if (this.#state !== 'stopped' && this.#state !== 'crash-loop') return;
    this.#o.policy.reset();
    this.#stopped = undefined;
    this.#spawn();
  }

  #env(): Record<string, string> {
    const env: Record<string, string> = {};
    // The supervisor's own CROSSBUS_* (its secret file above all) are not the instance's.
    for (const [k, v] of Object.entries(this.#o.baseEnv))
      if (v !== undefined && !k.toUpperCase().startsWith(RUNTIME_ENV_PREFIX)) env[k] = v;
    Object.assign(env, this.#o.manifest.env);
    env.CROSSBUS_URL = this.#o.url;
    env.CROSSBUS_NAME = this.#o.manifest.name;
    env.CROSSBUS_INSTANCE = this.#o.instanceId;
    return env;
  }

  #spawn(): void {
    const { manifest, entryPath, dir, execArgv } = this.#o;
    const heap = manifest.resources.maxOldSpaceMb;
    const child = fork(entryPath, [], {
      cwd: dir,
      env: this.#env(),
      // Not the supervisor's own flags (a loader, an inspector): the instance's, and its heap bound.
      execArgv: [...execArgv, ...(heap === undefined ? [] : [`--max-old-space-size=${heap}`])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.#child = child;
    this.#startedAt = this.#o.now();
    this.#lastBeat = this.#startedAt;
    this.#failures = 0;
    this.#cpuStrikes = 0;
    this.#lastCpu = undefined;
    this.#unhealthy = undefined;
    this.#setState('starting');
    child.on('message', (m) => this.#onMessage(child, m));
    child.on('error', (err) => this.#o.logger.warn({ instance: this.id, error: err }, 'instance process error'));
    child.once('exit', (code, signal) => this.#onExit(child, code, signal));
    const pid = child.pid ?? 0;
    this.#events.started(pid, this.#previousPid, this.#pendingDelay);
    this.#checkTimer = setInterval(() => this.#check(child), manifest.healthCheck.intervalMs);
  }

  #onMessage(child: ChildProcess, raw: unknown): void {
    const message = instanceMessage(raw);
    if (message === undefined || child !== this.#child) return;
    this.#lastBeat = this.#o.now();
    if (message.crossbus === 'hello') {
      const { manifest, url, secret, instanceId, attachToken } = this.#o;
      const start: StartMessage = {
        [IPC_KEY]: 'start',
        url,
        app: manifest.name,
        instanceId,
        version: manifest.version,
        config: manifest.config,
        heartbeatIntervalMs: manifest.healthCheck.intervalMs,
        ...(secret === undefined ? {} : { secret }),
        ...(attachToken === undefined ? {} : { attachToken }),
      };
      child.send(start);
    } else if (message.crossbus === 'ready') {
      if (this.#state === 'starting') {
        this.#failures = 0;
        this.#setState('running');
      }
    } else this.#onBeat(child, message.rss, message.cpuMicros);
  }

  #onBeat(child: ChildProcess, rss: number, cpuMicros: number): void {
    const { maxRssMb, maxCpuPercent } = this.#o.manifest.resources;
    if (maxRssMb !== undefined && rss > maxRssMb * 1024 * 1024) {
      this.#markUnhealthy(child, 'memory', `resident memory ${Math.round(rss / 1048576)} MiB is over maxRssMb ${maxRssMb}`);
      return;
    }
    if (maxCpuPercent === undefined) return;
    const now = this.#o.now();
    const last = this.#lastCpu;
    this.#lastCpu = { micros: cpuMicros, at: now };
    if (last === undefined || now <= last.at) return;
    const percent = ((cpuMicros - last.micros) / 1000 / (now - last.at)) * 100;
    this.#cpuStrikes = percent > maxCpuPercent ? this.#cpuStrikes + 1 : 0;
    if (this.#cpuStrikes >= this.#o.manifest.healthCheck.failuresBeforeRestart)
      this.#markUnhealthy(child, 'cpu', `CPU ${Math.round(percent)} % is over maxCpuPercent ${maxCpuPercent}`);
  }

  #check(child: ChildProcess): void {
    if (child !== this.#child || this.#unhealthy !== undefined) return;
    const now = this.#o.now();
    // A starting instance is loading its modules and connecting: only the start timeout applies.
    if (this.#state === 'starting') {
      if (now - this.#startedAt > this.#o.startTimeoutMs)
        this.#markUnhealthy(child, 'start-timeout', `not connected within ${this.#o.startTimeoutMs} ms`);
      return;
    }
    const { timeoutMs, failuresBeforeRestart } = this.#o.manifest.healthCheck;
    this.#failures = now - this.#lastBeat > timeoutMs ? this.#failures + 1 : 0;
    if (this.#failures >= failuresBeforeRestart) this.#markUnhealthy(child, 'heartbeat', `no heartbeat for ${now - this.#lastBeat} ms`);
  }

  /** Restarts an instance that is alive but not well: stopped as gently as any (SIGTERM, then SIGKILL). */
  #markUnhealthy(child: ChildProcess, reason: UnhealthyReason, detail: string): void {
    if (this.#unhealthy !== undefined) return;
    this.#unhealthy = reason;
    this.#events.unhealthy(child.pid ?? 0, reason, detail);
    this.#terminate(child);
  }

  #terminate(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    clearTimeout(this.#killTimer);
    this.#killTimer = setTimeout(() => child.kill('SIGKILL'), this.#o.stopGraceMs);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    clearInterval(this.#checkTimer);
    clearTimeout(this.#killTimer);
    const pid = child.pid ?? 0;
    this.#previousPid = pid;
    this.#events.exited(pid, code, signal, this.#unhealthy);
    if (this.#state === 'stopping') {
      this.#setState('stopped');
      return;
    }
    const decision = this.#o.policy.onExit(this.#o.now(), this.#startedAt);
    if (decision.action === 'crash-loop') {
      this.#setState('crash-loop');
      this.#events.crashLoop(decision.restarts, decision.windowMs);
      return;
    }
    this.#restarts++;
    this.#pendingDelay = decision.delayMs;
    // An immediate restart does not wait for a timer's turn of the event loop.
    if (decision.delayMs === 0) {
      this.#spawn();
      return;
    }
    this.#setState('backoff');
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.#state === 'backoff') this.#spawn();
    }, decision.delayMs);
  }

  /** SIGTERM (the instance drains), SIGKILL after the grace period; resolves once it is gone. */
  stop(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    clearTimeout(this.#backoffTimer);
    const child = this.#child;
    if (
      child === undefined ||
      child.exitCode !== null ||
      child.signalCode !== null ||
      this.#state === 'backoff' ||
      this.#state === 'crash-loop'
    ) {
      if (this.#state !== 'crash-loop') this.#setState('stopped');
      this.#stopped = Promise.resolve();
      return this.#stopped;
    }
    this.#setState('stopping');
    clearInterval(this.#checkTimer);
    this.#stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#terminate(child);
    return this.#stopped;
  }
}
