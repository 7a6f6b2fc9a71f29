/**
 * The deployment manager's requests (`$SYS.REQ.DEPLOY.*`, answered by the hub) and the topic it
 * publishes progress on, with the shapes they carry. Topics and shapes only: the CLI, the
 * dashboard and the runtime read this file too.
 */

/** `{ package: AppPackage, config?: DeploymentConfigInput }` → `{ deployment: DeploymentRecord }` once staged; the rest runs on. */
export const DEPLOY_START = '$SYS.REQ.DEPLOY.START';
/** `{ app? }` → `{ apps: AppDeployStatus[] }`. */
export const DEPLOY_STATUS = '$SYS.REQ.DEPLOY.STATUS';
/** `{ app }`: a blue-green preview switches, a canary's manual pause ends → `{ deployment }`. */
export const DEPLOY_PROMOTE = '$SYS.REQ.DEPLOY.PROMOTE';
/** `{ app }`: the deployment in progress stops and rolls back → `{ deployment }`. */
export const DEPLOY_ABORT = '$SYS.REQ.DEPLOY.ABORT';
/** `{ app }`: the previous version back, at once (blue-green within its scale-down delay) or by a rollout → `{ deployment }`. */
export const DEPLOY_ROLLBACK = '$SYS.REQ.DEPLOY.ROLLBACK';
/** `{ app }` → `{ history: DeploymentRecord[] }`, newest first. */
export const DEPLOY_HISTORY = '$SYS.REQ.DEPLOY.HISTORY';
/** `{ token }` from an instance the hub started: binds its connection to its version and instance. Open to any app (the token is the proof). */
export const DEPLOY_ATTACH = '$SYS.REQ.DEPLOY.ATTACH';
/** Each step of each deployment is published on `$SYS.DEPLOY.<app>` (a DeploymentRecord). */
export const DEPLOY_EVENTS_PREFIX = '$SYS.DEPLOY.';

/** A file of a package: its path (relative, "/"-separated) and its bytes in base64. */
export interface PackageFile {
  readonly path: string;
  readonly data: string;
}

/** An app prepared for upload: its files and the SHA-256 checksum over them (package checksum, hex). */
export interface AppPackage {
  readonly files: readonly PackageFile[];
  readonly checksum: string;
}

export type DeployPhase = 'prepare' | 'approval' | 'stage' | 'validate' | 'promote' | 'verify' | 'cleanup' | 'rollback' | 'done';
export type DeployOutcome = 'succeeded' | 'rolled-back' | 'aborted' | 'failed';

/** One version of an app the hub holds: where its files are and what vouches for them. */
export interface RevisionRecord {
  /** `<version>-<first 12 hex of the checksum>`. */
  readonly id: string;
  readonly app: string;
  readonly version: string;
  readonly checksum: string;
  /** HMAC-SHA256 of app, version and checksum under the hub's deployment key: files changed on disk are refused at start. */
  readonly signature: string;
  readonly instances: number;
  readonly stagedAt: number;
  readonly stagedBy: string;
}

export interface DeployEventRecord {
  readonly at: number;
  readonly phase: DeployPhase;
  readonly message: string;
}

/** A deployment, as stored (durably), reported and published. */
export interface DeploymentRecord {
  readonly id: string;
  readonly app: string;
  readonly strategy: 'blue-green' | 'rolling' | 'canary';
  readonly environment: string;
  /** The version serving when it started (undefined: the app's first deployment). */
  readonly from: string | undefined;
  readonly to: string;
  readonly phase: DeployPhase;
  /** Percent of the group's requests the new version gets now (0..100). */
  readonly weight: number;
  /** Canary: the step in progress (0-based). */
  readonly step: number | undefined;
  /** Waiting for `deploy promote` (blue-green without autoPromote, a canary's manual pause). */
  readonly waiting: boolean;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | undefined;
  readonly outcome: DeployOutcome | undefined;
  readonly reason: string | undefined;
  readonly startedBy: string;
  /** The last analysis (canary, blue-green post-promotion). */
  readonly analysis: AnalysisRecord | undefined;
  readonly events: readonly DeployEventRecord[];
}

export interface AnalysisRecord {
  readonly at: number;
  readonly verdict: 'pass' | 'fail' | 'inconclusive';
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number;
  /** Upper bound of the bucket holding the 99th percentile, in ms; null when nothing was answered. */
  readonly p99Ms: number | null;
  readonly reason: string;
}

export interface AppDeployStatus {
  readonly app: string;
  readonly active: RevisionRecord | undefined;
  readonly previous: RevisionRecord | undefined;
  readonly deployment: DeploymentRecord | undefined;
  /** Instances of each running version: id, state, pid, attached connection. */
  readonly instances: ReadonlyArray<{ revision: string; instanceId: string; state: string; pid: number | null; weight: number }>;
}
