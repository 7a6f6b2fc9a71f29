/**
 * Alerts, from the hub's alert engine (`$SYS.REQ.ALERTS`: `{ alerts, silences }`, see
 * src/core/alerts/alert-state.ts) when it runs one; otherwise says so.
 */
import { ALERTS_TOPIC } from '../../../src/hub/admin-topics';
import type { DashboardBus } from '../bus';
import { time } from '../format';
import { errorCode, usePoll } from '../poll';

type Alert = Record<string, unknown>;

/** What the hub answers when nothing answers a request: no engine here. */
const NO_ENGINE_CODES = new Set(['CB_ERR_NO_RESPONDERS', 'CB_ERR_TIMEOUT']);

async function readAlerts(bus: DashboardBus): Promise<{ engine: false } | { engine: true; alerts: Alert[] }> {
  try {
    const answer = await bus.request<unknown>(ALERTS_TOPIC, undefined, { timeoutMs: 2_000 });
    const list = Array.isArray(answer) ? answer : (answer as { alerts?: unknown })?.alerts;
    return { engine: true, alerts: Array.isArray(list) ? (list as Alert[]) : [] };
  } catch (err) {
    if (NO_ENGINE_CODES.has(errorCode(err) ?? '')) return { engine: false };
    throw err;
  }
}

const annotation = (a: Alert, key: string): unknown => (a.annotations as Record<string, unknown> | undefined)?.[key];
/** When it fired, else when its condition became true. */
const since = (a: Alert): number | undefined => {
  const at = (a.firedAt as number | undefined) || (a.activeAt as number | undefined);
  return typeof at === 'number' && at > 0 ? at : undefined;
};

const text = (v: unknown): string => (v === undefined || v === null ? '–' : typeof v === 'string' ? v : JSON.stringify(v));

export function Alerts({ bus }: { bus: DashboardBus }) {
  const { data, error } = usePoll(() => readAlerts(bus), 5_000);
  if (data === undefined) return <p class="muted">{error ?? 'Asking the hub for alerts…'}</p>;
  if (!data.engine)
    return (
      <section data-view="alerts">
        <p class="muted" data-alerts="none">
          This hub runs no alert engine: nothing answers {ALERTS_TOPIC}.
        </p>
      </section>
    );
  return (
    <section data-view="alerts">
      {error && <p class="error">{error}</p>}
      {data.alerts.length === 0 && <p class="muted">No alert is firing.</p>}
      {data.alerts.map((a, i) => (
        <article class={`panel alert ${text(a.severity)}`} key={text(a.fingerprint ?? i)} data-alert={text(a.name)}>
          <h2>
            {text(a.name)} <span class="badge">{text(a.state)}</span>
          </h2>
          <p data-alert-summary>{text(annotation(a, 'summary') ?? annotation(a, 'description') ?? a.summary)}</p>
          <p class="muted">
            {a.severity !== undefined && `severity ${text(a.severity)} · `}
            {a.value !== undefined && `value ${text(a.value)} · `}
            {since(a) !== undefined ? `since ${time(since(a) as number)}` : ''}
          </p>
        </article>
      ))}
    </section>
  );
}
