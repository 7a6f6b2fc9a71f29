/** The audit log's last entries, and its hash chain verified on request. */
import { useState } from 'preact/hooks';
import { ADMIN_AUDIT_TAIL, ADMIN_AUDIT_VERIFY } from '../../../src/hub/admin-topics';
import type { AuditEntry } from '../../../src/node/audit/audit-log';
import type { VerifyResult } from '../../../src/node/audit/verify';
import type { DashboardBus } from '../bus';
import { describeError, usePoll } from '../poll';

const TAIL = 50;

export function Audit({ bus }: { bus: DashboardBus }) {
  const tail = usePoll(() => bus.request<{ entries: AuditEntry[] }>(ADMIN_AUDIT_TAIL, { n: TAIL }).then((r) => r.entries), 5_000);
  const [verified, setVerified] = useState<{ result?: VerifyResult; error?: string } | undefined>(undefined);
  const verify = async (): Promise<void> => {
    setVerified(undefined);
    try {
      setVerified({ result: await bus.request<VerifyResult>(ADMIN_AUDIT_VERIFY, undefined, { timeoutMs: 30_000 }) });
    } catch (err) {
      setVerified({ error: describeError(err) });
    }
    tail.refresh();
  };
  const r = verified?.result;
  return (
    <section data-view="audit">
      <div class="actions">
        <button type="button" onClick={() => void verify()}>
          Verify the hash chain
        </button>
      </div>
      {r?.ok === true && (
        <p class="notice good" role="status" data-verify="ok">
          Audit log intact: {r.entries} entries, last hash <span class="mono">{r.lastHash.slice(0, 16)}…</span>
        </p>
      )}
      {r?.ok === false && (
        <p class="notice bad" role="status" data-verify="broken">
          Audit log BROKEN at line {r.brokenAt}
          {r.seq !== undefined ? ` (seq ${r.seq})` : ''}: {r.reason}
        </p>
      )}
      {verified?.error && <p class="error">{verified.error}</p>}
      {tail.error && <p class="error">{tail.error}</p>}
      <div class="scroll">
        <table class="stack" data-table="audit">
          <thead>
            <tr>
              <th class="num">Seq</th>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Outcome</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {[...(tail.data ?? [])].reverse().map((e) => (
              <tr key={e.seq}>
                <td data-label="Seq" class="num">
                  {e.seq}
                </td>
                <td data-label="Time">{e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td>
                <td data-label="Actor">{e.actor.app ?? e.actor.address ?? '–'}</td>
                <td data-label="Action">{e.action}</td>
                <td data-label="Target" class="mono">
                  {e.target ?? '–'}
                </td>
                <td data-label="Outcome" class={e.outcome === 'success' ? 'good' : e.outcome === 'info' ? '' : 'bad'}>
                  {e.outcome}
                </td>
                <td data-label="Reason">{e.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
