/**
 * One app on the deployments view: its versions and instances, the deployment in progress (phase,
 * the new version's weight as a bar, the canary step, the last analysis, the latest steps), the
 * actions (bus requests under this admin app's grants, as `crossbus deploy` makes them; abort and
 * rollback asked twice) and its history.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  DEPLOY_ABORT,
  DEPLOY_HISTORY,
  DEPLOY_PROMOTE,
  DEPLOY_ROLLBACK,
  type AnalysisRecord,
  type AppDeployStatus,
  type DeploymentRecord,
} from '../../../src/core/apps/deploy-topics';
import type { DashboardBus } from '../bus';
import { WeightBar } from '../charts';
import { duration, time } from '../format';
import { describeError, usePoll } from '../poll';

const HISTORY_ROWS = 10;
const HISTORY_POLL_MS = 15_000;
/** An action may wait for the hub to switch traffic or start instances. */
const ACTION_TIMEOUT_MS = 30_000;
/** Steps of the deployment in progress shown, newest last. */
const RECENT_EVENTS = 5;

type Action = 'promote' | 'abort' | 'rollback';
const TOPICS: Record<Action, string> = { promote: DEPLOY_PROMOTE, abort: DEPLOY_ABORT, rollback: DEPLOY_ROLLBACK };
const DONE: Record<Action, string> = { promote: 'Promoted', abort: 'Aborted', rollback: 'Rolling back' };

const outcomeText = (o: DeploymentRecord['outcome']): string => (o === 'rolled-back' ? 'rolled back' : (o ?? ''));
const percent = (rate: number): string => `${(rate * 100).toFixed(rate < 0.1 ? 2 : 1)}%`;

function analysisText(a: AnalysisRecord): string {
  const p99 = a.p99Ms === null ? 'p99 –' : `p99 ≤ ${a.p99Ms} ms`;
  return `${a.verdict}: error rate ${percent(a.errorRate)} (${a.errors} of ${a.requests}), ${p99}${a.reason ? ` · ${a.reason}` : ''}`;
}

interface Props {
  bus: DashboardBus;
  status: AppDeployStatus;
  /** The newest record known of its deployment in progress (or of the last one, once ended). */
  deployment: DeploymentRecord | undefined;
  /** Grows when one of its deployments ends: the history reads again. */
  ended: number;
  onChanged: () => void;
}

export function DeploymentApp({ bus, status: s, deployment: d, ended, onChanged }: Props) {
  const [note, setNote] = useState<{ text: string; good: boolean } | undefined>(undefined);
  const [confirming, setConfirming] = useState<Action | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const running = d !== undefined && d.outcome === undefined ? d : undefined;

  const act = async (action: Action): Promise<void> => {
    setConfirming(undefined);
    setBusy(true);
    try {
      const { deployment } = await bus.request<{ deployment: DeploymentRecord }>(
        TOPICS[action],
        { app: s.app },
        { timeoutMs: ACTION_TIMEOUT_MS },
      );
      setNote({
        text: `${DONE[action]}: deployment ${deployment.id} (${deployment.from ?? '–'} → ${deployment.to}), ${deployment.phase}.`,
        good: true,
      });
    } catch (err) {
      setNote({ text: `${s.app} not ${action === 'rollback' ? 'rolled back' : `${action}d`}: ${describeError(err)}`, good: false });
    } finally {
      setBusy(false);
      onChanged();
    }
  };

  return (
    <article class="panel" data-app={s.app}>
      <h2>
        {s.app}
        {running && <span class="badge">{running.waiting ? 'waiting for promote' : 'deploying'}</span>}
      </h2>
      <dl class="deploy-facts">
        <div>
          <dt>Active</dt>
          <dd data-deploy-active>{s.active?.version ?? '–'}</dd>
        </div>
        <div>
          <dt>Previous</dt>
          <dd data-deploy-previous>{s.previous?.version ?? '–'}</dd>
        </div>
        <div>
          <dt>Instances</dt>
          <dd>
            {s.instances.length}
            {s.instances.length > 0 && ` (${s.instances.filter((i) => i.state === 'running').length} running)`}
          </dd>
        </div>
        {d?.outcome !== undefined && (
          <div>
            <dt>Last deployment</dt>
            <dd class={d.outcome === 'succeeded' ? 'good' : 'bad'} data-deploy-outcome={d.outcome}>
              {d.to} {outcomeText(d.outcome)}
            </dd>
          </div>
        )}
      </dl>
      {running && <Progress d={running} />}
      {note && (
        <p class={`notice ${note.good ? 'good' : 'bad'}`} role="status">
          {note.text}
        </p>
      )}
      {confirming !== undefined && (
        <div class="confirm" role="alertdialog" aria-label={`Confirm ${confirming}`}>
          <p>
            {confirming === 'abort'
              ? `Abort the deployment of ${running?.to ?? 'the new version'} and roll ${s.app} back?`
              : `Roll ${s.app} back to ${s.previous?.version ?? 'its previous version'}?`}
          </p>
          <div class="actions">
            <button type="button" class="danger" data-confirm={confirming} onClick={() => void act(confirming)}>
              {confirming === 'abort' ? 'Yes, abort' : 'Yes, roll back'}
            </button>
            <button type="button" onClick={() => setConfirming(undefined)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <div class="actions">
        {running?.waiting && (
          <button type="button" data-action="promote" disabled={busy} onClick={() => void act('promote')}>
            Promote
          </button>
        )}
        {running && (
          <button type="button" class="danger" data-action="abort" disabled={busy} onClick={() => setConfirming('abort')}>
            Abort
          </button>
        )}
        {!running && s.previous !== undefined && confirming === undefined && (
          <button type="button" class="danger" data-action="rollback" disabled={busy} onClick={() => setConfirming('rollback')}>
            Roll back to {s.previous.version}
          </button>
        )}
      </div>
      <History bus={bus} app={s.app} ended={ended} current={d} />
    </article>
  );
}

function Progress({ d }: { d: DeploymentRecord }) {
  const recent = d.events.slice(-RECENT_EVENTS);
  return (
    <div class="deploy-progress" data-deploy-progress={d.id}>
      <p>
        <strong>
          {d.from ?? '–'} → {d.to}
        </strong>{' '}
        · {d.strategy} · {d.environment} · phase <strong data-deploy-phase>{d.phase}</strong>
        {d.step !== undefined && ` · step ${d.step + 1}`}
      </p>
      <WeightBar percent={d.weight} label={`${d.to} gets ${d.weight}% of the requests`} />
      <p class="muted">
        {d.to} gets <strong>{d.weight}%</strong> of the requests · started {time(d.startedAt)} by {d.startedBy}
      </p>
      {d.analysis && (
        <p class={d.analysis.verdict === 'fail' ? 'bad' : d.analysis.verdict === 'pass' ? 'good' : 'muted'} data-deploy-analysis>
          Analysis {analysisText(d.analysis)}
        </p>
      )}
      <ol class="deploy-events">
        {recent.map((e) => (
          <li key={`${e.at}-${e.phase}-${e.message}`}>
            <span class="muted">+{duration(e.at - d.startedAt)}</span> {e.phase}: {e.message}
          </li>
        ))}
      </ol>
    </div>
  );
}

function History({ bus, app, ended, current }: { bus: DashboardBus; app: string; ended: number; current: DeploymentRecord | undefined }) {
  const history = usePoll(
    () => bus.request<{ history: DeploymentRecord[] }>(DEPLOY_HISTORY, { app }).then((r) => r.history.slice(0, HISTORY_ROWS)),
    HISTORY_POLL_MS,
  );
  const { refresh } = history;
  // A deployment of the app ended: its history reads again (the first read is the poll's own).
  useEffect(() => {
    if (ended > 0) refresh();
  }, [ended, refresh]);
  // The row of the deployment in progress as it is now (the history is read less often than it moves).
  const rows = history.data?.map((r) => (current !== undefined && r.id === current.id && current.updatedAt > r.updatedAt ? current : r));
  return (
    <>
      <h3>History</h3>
      {history.error && <p class="error">{history.error}</p>}
      {rows?.length === 0 && <p class="muted">No deployments yet.</p>}
      {rows !== undefined && rows.length > 0 && (
        <div class="scroll">
          <table class="stack" data-table="deploy-history">
            <thead>
              <tr>
                <th>Started</th>
                <th>Version</th>
                <th>Strategy</th>
                <th>Env</th>
                <th>Result</th>
                <th class="num">Took</th>
                <th>By</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-deployment={r.id}>
                  <td data-label="Started">{time(r.startedAt)}</td>
                  <td data-label="Version">
                    {r.from ?? '–'} → {r.to}
                  </td>
                  <td data-label="Strategy">{r.strategy}</td>
                  <td data-label="Env">{r.environment}</td>
                  <td data-label="Result" class={r.outcome === undefined ? '' : r.outcome === 'succeeded' ? 'good' : 'bad'}>
                    {r.outcome === undefined ? `${r.phase} (running)` : outcomeText(r.outcome)}
                  </td>
                  <td data-label="Took" class="num">
                    {r.endedAt === undefined ? '–' : duration(r.endedAt - r.startedAt)}
                  </td>
                  <td data-label="By">{r.startedBy}</td>
                  <td data-label="Reason">{r.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
