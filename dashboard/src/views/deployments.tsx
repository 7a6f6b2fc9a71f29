/**
 * Deployments: per app its active and previous versions, the deployment in progress and its
 * history, with promote, abort and rollback. The hub's deployment manager answers
 * `$SYS.REQ.DEPLOY.STATUS` (read every few seconds) and publishes each step of each deployment
 * on `$SYS.DEPLOY.<app>`, which this view follows live; when it runs no manager, the view says so.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { DEPLOY_EVENTS_PREFIX, DEPLOY_STATUS, type AppDeployStatus, type DeploymentRecord } from '../../../src/core/apps/deploy-topics';
import type { DashboardBus } from '../bus';
import { describeError, errorCode, usePoll } from '../poll';
import { DeploymentApp } from './deployment-app';

const POLL_MS = 5_000;
/**
 * What the hub answers when it runs no deployment manager: nothing answers (an older hub), or the
 * hub says so itself (CB_ERR_INVALID_OPTION: started without a data folder, or with deployments off).
 */
const NO_MANAGER_CODES = new Set(['CB_ERR_NO_RESPONDERS', 'CB_ERR_TIMEOUT', 'CB_ERR_INVALID_OPTION']);

type StatusRead = { manager: false; why: string } | { manager: true; apps: AppDeployStatus[]; askedAt: number };

/** A live record as received: when (this page's clock), to compare with the status reads. */
interface LiveRecord {
  record: DeploymentRecord;
  receivedAt: number;
}

async function readStatus(bus: DashboardBus): Promise<StatusRead> {
  const askedAt = Date.now();
  try {
    const answer = await bus.request<{ apps?: unknown }>(DEPLOY_STATUS, {}, { timeoutMs: 3_000 });
    return { manager: true, apps: Array.isArray(answer?.apps) ? (answer.apps as AppDeployStatus[]) : [], askedAt };
  } catch (err) {
    if (NO_MANAGER_CODES.has(errorCode(err) ?? '')) return { manager: false, why: describeError(err) };
    throw err;
  }
}

const isRecord = (d: unknown): d is DeploymentRecord =>
  d !== null && typeof d === 'object' && typeof (d as DeploymentRecord).id === 'string' && typeof (d as DeploymentRecord).app === 'string';

/** The newer of two records of an app (a live step may be ahead of the last status read, or behind it). */
function newer(a: DeploymentRecord | undefined, b: DeploymentRecord | undefined): DeploymentRecord | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.updatedAt > a.updatedAt ? b : a;
}

/**
 * What the app's panel shows: the newer of the status's record and the live one; but a live
 * record still in progress that came before a status read which shows none has ended meanwhile
 * (its last step was missed), so it is not shown as running.
 */
function shown(s: AppDeployStatus, live: LiveRecord | undefined, askedAt: number): DeploymentRecord | undefined {
  if (live === undefined) return s.deployment;
  if (s.deployment === undefined && live.record.outcome === undefined && live.receivedAt < askedAt) return undefined;
  return newer(s.deployment, live.record);
}

export function Deployments({ bus }: { bus: DashboardBus }) {
  const status = usePoll(() => readStatus(bus), POLL_MS);
  const [live, setLive] = useState<ReadonlyMap<string, LiveRecord>>(new Map());
  /** Per app, how many of its deployments ended while the view was open: its history reads again. */
  const [ended, setEnded] = useState<ReadonlyMap<string, number>>(new Map());
  const [liveError, setLiveError] = useState<string | undefined>(undefined);
  const { refresh } = status;

  const changed = useCallback(
    (app: string) => {
      setEnded((m) => new Map(m).set(app, (m.get(app) ?? 0) + 1));
      refresh();
    },
    [refresh],
  );

  useEffect(() => {
    const sub = bus.subscribe(`${DEPLOY_EVENTS_PREFIX}>`, (m) => {
      const r = m.data;
      if (!isRecord(r)) return;
      const receivedAt = Date.now();
      setLive((prev) => (newer(prev.get(r.app)?.record, r) === r ? new Map(prev).set(r.app, { record: r, receivedAt }) : prev));
      if (r.outcome !== undefined) changed(r.app);
    });
    sub.ready.then(
      () => setLiveError(undefined),
      (err: unknown) => setLiveError(`Live progress unavailable: ${describeError(err)}`),
    );
    return () => sub.unsubscribe();
  }, [bus, changed]);

  const data = status.data;
  if (data === undefined) return <p class="muted">{status.error ?? 'Asking the hub for its deployments…'}</p>;
  if (!data.manager)
    return (
      <section data-view="deployments">
        <p class="muted" data-deployments="none">
          This hub runs no deployments ({data.why}).
        </p>
      </section>
    );
  // An app's first deployment may be live before a status read lists the app.
  const apps = [...data.apps];
  for (const [app, { record }] of live)
    if (!apps.some((s) => s.app === app)) apps.push({ app, active: undefined, previous: undefined, deployment: record, instances: [] });
  apps.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  return (
    <section data-view="deployments">
      {status.error && <p class="error">{status.error}</p>}
      {liveError && <p class="error">{liveError}</p>}
      {apps.length === 0 && (
        <p class="muted">
          No app has been deployed yet: <span class="mono">crossbus deploy start &lt;manifest&gt;</span>.
        </p>
      )}
      {apps.map((s) => (
        <DeploymentApp
          key={s.app}
          bus={bus}
          status={s}
          deployment={shown(s, live.get(s.app), data.askedAt)}
          ended={ended.get(s.app) ?? 0}
          onChanged={() => changed(s.app)}
        />
      ))}
    </section>
  );
}
