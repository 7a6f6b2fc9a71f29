/**
 * Connections, apps and topics with their message rates: the hub's stats snapshot
 * (`$SYS.REQ.STATS`) every two seconds, rates from the difference between two snapshots; topics
 * from the hub's metrics that carry a `topic` label (templates, never raw topics), and the
 * messages each stream stored (its topics' durable traffic, from `crossbus_stream_last_seq`).
 */
import { useRef } from 'preact/hooks';
import { STATS_TOPIC } from '../../../src/core/broker/system-requests';
import type { HubStatsSnapshot } from '../../../src/hub/stats-snapshot';
import { ADMIN_METRICS, type AdminMetric } from '../../../src/hub/admin-topics';
import type { DashboardBus } from '../bus';
import { bytes, count, duration, rate } from '../format';
import { usePoll } from '../poll';

const POLL_MS = 2_000;

interface Reading {
  snap: HubStatsSnapshot;
  topics: Map<string, number>;
}

/** Per key: messages per second between the previous reading and this one. */
function rates(prev: Map<string, number> | undefined, now: Map<string, number>, seconds: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of now) {
    const before = prev?.get(k);
    if (before !== undefined && seconds > 0) out.set(k, Math.max(0, (v - before) / seconds));
  }
  return out;
}

function topicCounts(metrics: AdminMetric[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics) {
    if (m.name === 'crossbus_stream_last_seq' && m.type === 'gauge') {
      for (const s of m.samples) if (s.labels.stream !== undefined) out.set(`stream ${s.labels.stream} · stored`, s.value);
    }
    if (m.type !== 'counter') continue;
    for (const s of m.samples) {
      const topic = s.labels.topic;
      if (topic !== undefined) out.set(`${topic} · ${m.name}`, (out.get(`${topic} · ${m.name}`) ?? 0) + s.value);
    }
  }
  return out;
}

export function Overview({ bus }: { bus: DashboardBus }) {
  const prev = useRef<Reading | undefined>(undefined);
  const { data: current, error } = usePoll(async () => {
    const [snap, metrics] = await Promise.all([
      bus.request<HubStatsSnapshot>(STATS_TOPIC),
      bus.request<{ metrics: AdminMetric[] }>(ADMIN_METRICS).then((r) => r.metrics),
    ]);
    const reading: Reading = { snap, topics: topicCounts(metrics) };
    const before = prev.current;
    const seconds = before === undefined ? 0 : (snap.time - before.snap.time) / 1000;
    const byConn = (s: HubStatsSnapshot) => new Map(s.connectionList.map((c) => [c.connectionId, c.messagesIn + c.messagesOut]));
    const byApp = (s: HubStatsSnapshot) => {
      const m = new Map<string, number>();
      for (const c of s.connectionList) m.set(c.name, (m.get(c.name) ?? 0) + c.messagesIn + c.messagesOut);
      return m;
    };
    const out = {
      reading,
      rates: {
        total: before !== undefined && seconds > 0 ? Math.max(0, (snap.messagesIn - before.snap.messagesIn) / seconds) : undefined,
        conn: rates(before && byConn(before.snap), byConn(snap), seconds),
        app: rates(before && byApp(before.snap), byApp(snap), seconds),
        topic: rates(before?.topics, reading.topics, seconds),
      },
    };
    prev.current = reading;
    return out;
  }, POLL_MS);
  if (current === undefined) return <p class="muted">{error ?? 'Reading the hub’s stats…'}</p>;
  const { snap } = current.reading;
  const r = current.rates;
  const apps = new Map<string, { connections: number; messages: number }>();
  for (const c of snap.connectionList) {
    const a = apps.get(c.name) ?? { connections: 0, messages: 0 };
    a.connections++;
    a.messages += c.messagesIn + c.messagesOut;
    apps.set(c.name, a);
  }
  return (
    <section data-view="overview">
      {error && <p class="error">{error}</p>}
      <div class="cards">
        <Card label="Connections" value={count(snap.connections)} />
        <Card label="Subscriptions" value={count(snap.subscriptions)} />
        <Card label="Messages in" value={count(snap.messagesIn)} sub={rate(r.total)} />
        <Card label="Messages out" value={count(snap.messagesOut)} />
        <Card label="Queued" value={bytes(snap.queuedBytes)} />
        <Card label="Uptime" value={duration(snap.uptimeMs)} />
      </div>
      <h2>Apps</h2>
      <div class="scroll">
        <table class="stack" data-table="apps">
          <thead>
            <tr>
              <th>App</th>
              <th class="num">Connections</th>
              <th class="num">Messages</th>
              <th class="num">Rate</th>
            </tr>
          </thead>
          <tbody>
            {[...apps].map(([name, a]) => (
              <tr key={name}>
                <td data-label="App">{name || '(anonymous)'}</td>
                <td data-label="Connections" class="num">
                  {count(a.connections)}
                </td>
                <td data-label="Messages" class="num">
                  {count(a.messages)}
                </td>
                <td data-label="Rate" class="num">
                  {rate(r.app.get(name))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Connections</h2>
      <div class="scroll">
        <table class="stack" data-table="connections">
          <thead>
            <tr>
              <th>App</th>
              <th>Transport</th>
              <th>Peer</th>
              <th class="num">Subs</th>
              <th class="num">In / out</th>
              <th class="num">Rate</th>
            </tr>
          </thead>
          <tbody>
            {snap.connectionList.map((c) => (
              <tr key={c.connectionId}>
                <td data-label="App">{c.name || '(anonymous)'}</td>
                <td data-label="Transport">{c.transport}</td>
                <td data-label="Peer" class="mono">
                  {c.peer}
                </td>
                <td data-label="Subs" class="num">
                  {c.subscriptions}
                </td>
                <td data-label="In / out" class="num">
                  {count(c.messagesIn)} / {count(c.messagesOut)}
                </td>
                <td data-label="Rate" class="num">
                  {rate(r.conn.get(c.connectionId))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Topics</h2>
      {current.reading.topics.size === 0 ? (
        <p class="muted">No stream stores messages, and no metric of this hub counts by topic template yet.</p>
      ) : (
        <div class="scroll">
          <table class="stack" data-table="topics">
            <thead>
              <tr>
                <th>Topics · metric</th>
                <th class="num">Total</th>
                <th class="num">Rate</th>
              </tr>
            </thead>
            <tbody>
              {[...current.reading.topics].map(([k, v]) => (
                <tr key={k}>
                  <td data-label="Topics · metric" class="mono">
                    {k}
                  </td>
                  <td data-label="Total" class="num">
                    {count(v)}
                  </td>
                  <td data-label="Rate" class="num">
                    {rate(r.topic.get(k))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Card({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{value}</div>
      {sub !== undefined && <div class="card-sub">{sub}</div>}
    </div>
  );
}
