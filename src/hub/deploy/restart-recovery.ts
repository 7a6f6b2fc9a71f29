/**
 * A deployment the hub found unfinished when it started (it stopped or crashed during it): past
 * the switch (the new version was saved as active) it is finished, before it rolled back. Either
 * way the version saved as active is the one that runs; nothing is left half-way.
 */
import type { DeploymentRecord } from '../../core/apps/deploy-topics.js';

export function settleInterrupted(d: DeploymentRecord, activeId: string | undefined, at: number): DeploymentRecord {
  const switched = activeId === d.to;
  return {
    ...d,
    outcome: switched ? 'succeeded' : 'rolled-back',
    reason: `the hub restarted during ${d.phase}`,
    phase: 'done',
    endedAt: at,
    updatedAt: at,
    weight: switched ? 100 : 0,
    waiting: false,
    events: [
      ...d.events,
      {
        at,
        phase: 'done',
        message: switched
          ? `the hub restarted after the switch: ${d.to} stays active`
          : `the hub restarted before the switch: ${d.from ?? 'no version'} stays active`,
      },
    ],
  };
}
