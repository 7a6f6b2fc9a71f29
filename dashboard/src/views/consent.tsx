/**
 * Consent requests waiting for a person, to grant or deny, and the decisions made. Decided through
 * the hub's ConsentManager (`$SYS.REQ.ADMIN.CONSENT.DECIDE`), as `crossbus consent` does: the held
 * operation goes on (or is refused) at once, and the decision is audited with this admin app.
 */
import { useState } from 'preact/hooks';
import type { ConsentState } from '../../../src/core/security/consent-state';
import { ADMIN_CONSENT_DECIDE, ADMIN_CONSENT_LIST } from '../../../src/hub/admin-topics';
import type { DashboardBus } from '../bus';
import { time } from '../format';
import { describeError, usePoll } from '../poll';

export function Consent({ bus }: { bus: DashboardBus }) {
  const state = usePoll(() => bus.request<ConsentState>(ADMIN_CONSENT_LIST), 2_000);
  const [status, setStatus] = useState<string | undefined>(undefined);
  const decide = async (id: string, verdict: 'grant' | 'deny'): Promise<void> => {
    try {
      await bus.request(ADMIN_CONSENT_DECIDE, { id, verdict });
      setStatus(`Request ${id} ${verdict === 'grant' ? 'granted' : 'denied'}.`);
    } catch (err) {
      setStatus(`Request ${id} not decided: ${describeError(err)}`);
    }
    state.refresh();
  };
  const s = state.data;
  return (
    <section data-view="consent">
      {status && (
        <p class="notice" role="status">
          {status}
        </p>
      )}
      {state.error && <p class="error">{state.error}</p>}
      <h2>Waiting</h2>
      {s?.pending.length === 0 && <p class="muted">No consent request is waiting.</p>}
      {s?.pending.map((r) => (
        <article class="panel" key={r.id} data-consent={r.id}>
          <p>
            App <strong>{r.app}</strong> wants to <strong>{r.action}</strong> <span class="mono">{r.target}</span> (rule{' '}
            <span class="mono">{r.pattern}</span>)
          </p>
          <p class="muted">
            Request {r.id} · expires {time(r.expiresAt)}
          </p>
          <div class="actions">
            <button type="button" onClick={() => void decide(r.id, 'grant')}>
              Grant
            </button>
            <button type="button" class="danger" onClick={() => void decide(r.id, 'deny')}>
              Deny
            </button>
          </div>
        </article>
      ))}
      <h2>Decisions</h2>
      {s?.decisions.length === 0 && <p class="muted">No decisions yet.</p>}
      {s !== undefined && s.decisions.length > 0 && (
        <div class="scroll">
          <table class="stack" data-table="decisions">
            <thead>
              <tr>
                <th>App</th>
                <th>Action</th>
                <th>Rule</th>
                <th>Decision</th>
                <th>By</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              {s.decisions.map((d) => (
                <tr key={d.id}>
                  <td data-label="App">{d.app}</td>
                  <td data-label="Action">{d.action}</td>
                  <td data-label="Rule" class="mono">
                    {d.pattern}
                  </td>
                  <td data-label="Decision" class={d.decision === 'granted' ? 'good' : 'bad'}>
                    {d.decision}
                  </td>
                  <td data-label="By">{d.by ?? '–'}</td>
                  <td data-label="When">{time(d.decidedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {s === undefined && !state.error && <p class="muted">Reading consent requests…</p>}
    </section>
  );
}
