/**
 * The dead-letter browser: the dead letters of one stream (`<NAME>.DLQ`), each with where it came
 * from and why, and "Replay": published durably again to its original topic with its original
 * headers and msgId `dlq-<stream>-<dlq seq>` (as `crossbus dlq replay` does, so a second replay
 * stores no duplicate), then removed from the dead-letter stream once stored.
 */
import { useState } from 'preact/hooks';
import type { StreamRecord } from '../../../src/client/streams';
import type { DashboardBus } from '../bus';
import { payload, time } from '../format';
import { describeError, usePoll } from '../poll';

const PAGE = 50;
const DLQ_HEADER_PREFIX = 'cb-dlq-';

function originalHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (!k.toLowerCase().startsWith(DLQ_HEADER_PREFIX)) out[k] = v;
  return out;
}

export function DeadLetters({ bus }: { bus: DashboardBus }) {
  const streams = usePoll(() => bus.streams.list().then((all) => all.filter((s) => s.deadLetterOf !== undefined)), 5_000);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const dlqs = streams.data ?? [];
  const dlq = dlqs.find((s) => s.name === chosen) ?? dlqs[0];
  return (
    <section data-view="dead-letters">
      {streams.error && <p class="error">{streams.error}</p>}
      {streams.data !== undefined && dlqs.length === 0 && <p class="muted">No stream keeps dead letters.</p>}
      {dlqs.length > 0 && (
        <label class="field">
          Stream{' '}
          <select value={dlq?.name} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
            {dlqs.map((s) => (
              <option key={s.name} value={s.name}>
                {s.deadLetterOf} ({s.state.messages})
              </option>
            ))}
          </select>
        </label>
      )}
      {dlq?.deadLetterOf !== undefined && <Letters key={dlq.name} bus={bus} dlq={dlq.name} source={dlq.deadLetterOf} />}
    </section>
  );
}

function Letters({ bus, dlq, source }: { bus: DashboardBus; dlq: string; source: string }) {
  const letters = usePoll(() => bus.streams.read(dlq, { maxMessages: PAGE }), 5_000);
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<number | undefined>(undefined);
  const replay = async (r: StreamRecord): Promise<void> => {
    setBusy(r.seq);
    try {
      const headers = originalHeaders(r.headers);
      const ack = await bus.publish(r.topic, r.data, {
        durable: true,
        msgId: `dlq-${source}-${r.seq}`,
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
      });
      await bus.streams.deleteMessage(dlq, r.seq);
      setStatus(
        `Dead letter ${r.seq} replayed to ${r.topic}: ${ack.duplicate ? 'already stored' : 'stored'} as seq ${ack.seq} of ${ack.stream}.`,
      );
    } catch (err) {
      setStatus(`Dead letter ${r.seq} not replayed: ${describeError(err)}`);
    } finally {
      setBusy(undefined);
      letters.refresh();
    }
  };
  return (
    <>
      {status && (
        <p class="notice" role="status">
          {status}
        </p>
      )}
      {letters.error && <p class="error">{letters.error}</p>}
      {letters.data?.length === 0 && <p class="muted">No dead letters in {dlq}.</p>}
      <div class="scroll">
        <table class="stack" data-table="dead-letters">
          <thead>
            <tr>
              <th class="num">Seq</th>
              <th>Topic</th>
              <th>Reason</th>
              <th class="num">Attempts</th>
              <th>Originally</th>
              <th>Data</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(letters.data ?? []).map((r) => (
              <tr key={r.seq} data-dead-letter={r.seq}>
                <td data-label="Seq" class="num">
                  {r.seq}
                </td>
                <td data-label="Topic" class="mono">
                  {r.topic}
                </td>
                <td data-label="Reason">{r.headers?.['cb-dlq-reason'] ?? '–'}</td>
                <td data-label="Attempts" class="num">
                  {r.headers?.['cb-dlq-attempts'] ?? '–'}
                </td>
                <td data-label="Originally">{time(Number(r.headers?.['cb-dlq-time']) || undefined)}</td>
                <td data-label="Data" class="mono">
                  {payload(r.data)}
                </td>
                <td>
                  <button type="button" disabled={busy !== undefined} onClick={() => void replay(r)}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
