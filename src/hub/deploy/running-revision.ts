/**
 * One version of an app running under the hub: its Supervisor (one process per instance), the
 * token each instance attaches with, the connection each attached instance is, and the traffic
 * weight every one of those connections gets (set again when an instance comes back after a
 * restart, on its new connection).
 */
import { randomBytes } from 'node:crypto';
import type { AppManifest } from '../../core/apps/manifest.js';
import type { Broker } from '../../core/broker/broker.js';
import type { ReplyStatsSnapshot } from '../../core/broker/traffic.js';
import type { RevisionRecord } from '../../core/apps/deploy-topics.js';
import { Supervisor, type SupervisorOptions } from '../../node/apps/supervisor.js';

export interface RunningRevisionOptions {
  readonly record: RevisionRecord;
  readonly manifest: AppManifest;
  readonly dir: string;
  readonly entryPath: string;
  readonly broker: Broker;
  /** What every supervisor of this hub shares: the hub's URL, the app's secret, logger, restart policy. */
  readonly supervisor: Omit<SupervisorOptions, 'manifest' | 'entryPath' | 'dir' | 'attachTokens' | 'instancePrefix'>;
}

export class RunningRevision {
  readonly record: RevisionRecord;
  readonly supervisor: Supervisor;
  /** The manifest's `healthCheck.topic`: asked of each new instance before it takes traffic. */
  readonly healthTopic: string | undefined;
  readonly #broker: Broker;
  /** token → instance index. */
  readonly #tokens = new Map<string, number>();
  /** instance index → its connection now. */
  readonly #connections = new Map<number, string>();
  /** Each instance's traffic weight (applied when it attaches, and at once to an attached one). */
  readonly #weights: number[];
  #listeners = new Set<() => void>();

  constructor(o: RunningRevisionOptions) {
    this.record = o.record;
    this.healthTopic = o.manifest.healthCheck.topic;
    this.#broker = o.broker;
    const tokens = Array.from({ length: o.manifest.instances }, () => randomBytes(24).toString('base64url'));
    for (const [i, t] of tokens.entries()) this.#tokens.set(t, i);
    this.#weights = tokens.map(() => 0);
    this.supervisor = new Supervisor({
      ...o.supervisor,
      manifest: o.manifest,
      entryPath: o.entryPath,
      dir: o.dir,
      attachTokens: tokens,
      instancePrefix: `${o.record.app}@${o.record.version}`,
    });
    // A restarted instance is a new process: it is not attached until it says so again.
    this.supervisor.events.on('instance-exited', (e) => {
      const index = this.#indexOf(e.instanceId);
      if (index !== undefined) this.#connections.delete(index);
      this.#changed();
    });
    this.supervisor.events.on('state', () => this.#changed());
  }

  get id(): string {
    return this.record.id;
  }

  get size(): number {
    return this.#tokens.size;
  }

  #indexOf(instanceId: string): number | undefined {
    const n = Number(instanceId.slice(instanceId.lastIndexOf('-') + 1));
    return Number.isInteger(n) ? n : undefined;
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }

  /** Called on any change of an instance (attached, exited, state): for waiters. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** An instance's ATTACH: true when the token is one of this version's. */
  attach(token: string, connectionId: string): boolean {
    const index = this.#tokens.get(token);
    if (index === undefined) return false;
    this.#connections.set(index, connectionId);
    this.#broker.setTrafficWeight(connectionId, this.#weights[index] ?? 0);
    this.#broker.replyStats(connectionId);
    this.#changed();
    return true;
  }

  /** Sets every instance's traffic weight, now and for those that attach later. */
  setWeight(weight: number): void {
    for (let i = 0; i < this.#weights.length; i++) this.setInstanceWeight(i, weight);
  }

  /** Sets instance `index`'s traffic weight, now and when it attaches again. */
  setInstanceWeight(index: number, weight: number): void {
    this.#weights[index] = weight;
    const id = this.#connections.get(index);
    if (id !== undefined) this.#broker.setTrafficWeight(id, weight);
  }

  /** Instance `index` is attached and its process running. */
  isReady(index: number): boolean {
    const status = this.supervisor.instances()[index];
    return status?.state === 'running' && this.#connections.has(index);
  }

  /** Any instance in a crash loop (it will not be restarted). */
  crashLooping(): boolean {
    return this.supervisor.instances().some((i) => i.state === 'crash-loop');
  }

  connection(index: number): string | undefined {
    return this.#connections.get(index);
  }

  connections(): string[] {
    return [...this.#connections.values()];
  }

  /** The reply counters of every attached instance now. */
  stats(): ReplyStatsSnapshot[] {
    const out: ReplyStatsSnapshot[] = [];
    for (const id of this.#connections.values()) {
      const s = this.#broker.replyStats(id);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** Requests in flight to instance `index` (0 when it is not attached). */
  inFlight(index: number): number {
    const id = this.#connections.get(index);
    const s = id === undefined ? undefined : this.#broker.replyStats(id);
    return s === undefined ? 0 : s.requests - s.replies - s.abandoned;
  }

  instances(): Array<{ revision: string; instanceId: string; state: string; pid: number | null; weight: number }> {
    return this.supervisor.instances().map((i, index) => ({
      revision: this.id,
      instanceId: i.instanceId,
      state: i.state,
      pid: i.pid ?? null,
      weight: this.#connections.has(index) ? (this.#weights[index] ?? 0) : 0,
    }));
  }
}
