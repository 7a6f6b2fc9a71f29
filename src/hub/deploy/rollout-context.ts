/**
 * What a strategy (strategies.ts) works with: the version serving (`current`, absent for an
 * app's first deployment) and the one coming (`next`), the deployment config, and the waits a
 * rollout is made of. Every wait ends early when the deployment is aborted or its time limit
 * passes (RolloutStopped); a failed check or analysis is a RolloutFailed; the manager then rolls
 * back (rollback.ts).
 */
import type { DeploymentConfig } from '../../core/apps/deploy-config.js';
import type { AnalysisRecord, DeployPhase } from '../../core/apps/deploy-topics.js';
import type { RunningRevision } from './running-revision.js';

/** A check, analysis or instance failed: the deployment rolls back (if rollbackEnabled). */
export class RolloutFailed extends Error {}
/** Aborted by a person, or past its time limit. */
export class RolloutStopped extends Error {}
/** The hub is stopping: the run ends where it is, its saved step settled at the next start. */
export class HubStopping extends Error {}

export interface RolloutProgress {
  readonly weight?: number;
  readonly step?: number;
  readonly waiting?: boolean;
  readonly analysis?: AnalysisRecord;
}

export interface RolloutContext {
  readonly config: DeploymentConfig;
  readonly current: RunningRevision | undefined;
  readonly next: RunningRevision;
  /** Records a step (persisted, published, logged). */
  phase(phase: DeployPhase, message: string, progress?: RolloutProgress): Promise<void>;
  /** Records progress within the phase. */
  progress(message: string, progress: RolloutProgress): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Resolves on `deploy promote`. */
  waitPromote(): Promise<void>;
  /** Waits until instances `indexes` of `rev` are attached and running, and (with `checks`) answer every validation check. */
  waitReady(rev: RunningRevision, indexes: readonly number[], checks: boolean): Promise<void>;
  /** Judges `rev`'s live metrics every analysis interval for `durationMs` ('manual': until promote); a failed interval throws RolloutFailed. */
  analyze(rev: RunningRevision, durationMs: number | 'manual'): Promise<void>;
  /** Drains instance `index` of `rev` (weight 0, its requests in flight answered) and stops it. */
  drainAndStop(rev: RunningRevision, index: number): Promise<void>;
  /** The switch to `next` happened: it is the app's active version from now on (a hub restart finishes, not undoes). */
  switched(): Promise<void>;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
