/**
 * Streams and their consumers with lag: messages of the stream past the consumer's ack floor
 * (an upper bound for a consumer that filters topics).
 */
import type { DashboardBus } from '../bus';
import { bytes, count } from '../format';
import { usePoll } from '../poll';

const POLL_MS = 3_000;

export function Streams({ bus }: { bus: DashboardBus }) {
  const { data, error } = usePoll(() => bus.streams.list(), POLL_MS);
  if (data === undefined) return <p class="muted">{error ?? 'Reading the streams…'}</p>;
  return (
    <section data-view="streams">
      {error && <p class="error">{error}</p>}
      {data.length === 0 && <p class="muted">No streams.</p>}
      {data.map((s) => (
        <article class="panel" key={s.name} data-stream={s.name}>
          <h2>
            {s.name}
            {s.deadLetterOf !== undefined && <span class="badge">dead letters of {s.deadLetterOf}</span>}
            {s.quarantined !== undefined && <span class="badge bad">quarantined</span>}
          </h2>
          <p class="muted mono">{s.topics.join(' ')}</p>
          <p>
            {count(s.state.messages)} messages · {bytes(s.state.bytes)} · seq {s.state.firstSeq}–{s.state.lastSeq}
          </p>
          {s.consumers.length > 0 && (
            <div class="scroll">
              <table class="stack" data-table="consumers">
                <thead>
                  <tr>
                    <th>Consumer</th>
                    <th class="num">Ack floor</th>
                    <th class="num">Lag</th>
                    <th class="num">Pending</th>
                    <th class="num">Waiting</th>
                    <th class="num">Members</th>
                  </tr>
                </thead>
                <tbody>
                  {s.consumers.map((c) => (
                    <tr key={c.durable}>
                      <td data-label="Consumer">{c.durable}</td>
                      <td data-label="Ack floor" class="num">
                        {c.ackFloor}
                      </td>
                      <td data-label="Lag" class="num" data-lag={c.durable}>
                        {count(Math.max(0, s.state.lastSeq - c.ackFloor))}
                      </td>
                      <td data-label="Pending" class="num">
                        {c.pending}
                      </td>
                      <td data-label="Waiting" class="num">
                        {c.waiting}
                      </td>
                      <td data-label="Members" class="num">
                        {c.members}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </article>
      ))}
    </section>
  );
}
