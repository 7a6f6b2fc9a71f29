/**
 * Alerts, from the hub's alert engine (`$SYS.REQ.ALERTS`) when it runs one; otherwise says so.
 * The engine's answer is shown field by field, whatever rules it has.
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
        <article class={`panel alert ${text(a.severity)}`} key={text(a.id ?? a.fingerprint ?? i)}>
          <h2>
            {text(a.name ?? a.rule ?? a.alertname)} <span class="badge">{text(a.state ?? a.status)}</span>
          </h2>
          <p>{text(a.summary ?? a.message ?? a.description)}</p>
          <p class="muted">
            {a.severity !== undefined && `severity ${text(a.severity)} · `}
            {a.since !== undefined || a.startsAt !== undefined ? `since ${time((a.since ?? a.startsAt) as number)}` : ''}
          </p>
        </article>
      ))}
    </section>
  );
}
