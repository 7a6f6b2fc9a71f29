/** Fixture records of the deployment wire (src/core/apps/deploy-topics.ts) for the CLI's tests. */
import type { AnalysisRecord, AppDeployStatus, DeploymentRecord, RevisionRecord } from '../../src/core/apps/deploy-topics.js';

export const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);

export function deployment(over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    id: 'd-1',
    app: 'demo',
    strategy: 'canary',
    environment: 'staging',
    from: '1.0.0',
    to: '1.1.0',
    phase: 'stage',
    weight: 0,
    step: undefined,
    waiting: false,
    startedAt: T0,
    updatedAt: T0,
    endedAt: undefined,
    outcome: undefined,
    reason: undefined,
    startedBy: 'app:admin',
    analysis: undefined,
    events: [{ at: T0, phase: 'stage', message: 'staging 1.1.0: 2 instances' }],
    ...over,
  };
}

/** `base` one step further: `event` appended, the rest of `over` applied, updatedAt at the event. */
export function step(
  base: DeploymentRecord,
  event: { at: number; phase: DeploymentRecord['phase']; message: string },
  over: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  return { ...base, phase: event.phase, updatedAt: event.at, events: [...base.events, event], ...over };
}

export function analysis(over: Partial<AnalysisRecord> = {}): AnalysisRecord {
  return { at: T0 + 10_000, verdict: 'pass', requests: 250, errors: 1, errorRate: 0.004, p99Ms: 25, reason: '', ...over };
}

export function revision(version: string, over: Partial<RevisionRecord> = {}): RevisionRecord {
  return {
    id: `${version}-0123456789ab`,
    app: 'demo',
    version,
    checksum: '0123456789ab'.padEnd(64, '0'),
    signature: 'f'.repeat(64),
    instances: 2,
    stagedAt: T0 - 60_000,
    stagedBy: 'app:admin',
    ...over,
  };
}

export function appStatus(over: Partial<AppDeployStatus> = {}): AppDeployStatus {
  return {
    app: 'demo',
    active: revision('1.0.0'),
    previous: undefined,
    deployment: undefined,
    instances: [
      { revision: '1.0.0-0123456789ab', instanceId: 'demo-0', state: 'running', pid: 4242, weight: 1 },
      { revision: '1.0.0-0123456789ab', instanceId: 'demo-1', state: 'running', pid: 4243, weight: 1 },
    ],
    ...over,
  };
}
