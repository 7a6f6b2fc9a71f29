/** Every histogram the hub keeps (handshake seconds, batch sizes, and whatever it adds), as charts. */
import { ADMIN_METRICS, type AdminMetric } from '../../../src/hub/admin-topics';
import type { DashboardBus } from '../bus';
import { HistogramChart, quantile } from '../charts';
import { count } from '../format';
import { usePoll } from '../poll';

const POLL_MS = 5_000;

type Histogram = Extract<AdminMetric, { type: 'histogram' }>;

const unitOf = (name: string): string => (name.endsWith('_seconds') ? 'seconds' : name.endsWith('_bytes') ? 'bytes' : 'value');

function show(v: number | undefined, unit: string): string {
  if (v === undefined) return '–';
  if (!Number.isFinite(v)) return `> largest bucket`;
  return unit === 'seconds' ? `≤ ${+(v * 1000).toPrecision(3)} ms` : `≤ ${v}`;
}

export function Latency({ bus }: { bus: DashboardBus }) {
  const { data, error } = usePoll(
    () =>
      bus.request<{ metrics: AdminMetric[] }>(ADMIN_METRICS).then((r) => r.metrics.filter((m): m is Histogram => m.type === 'histogram')),
    POLL_MS,
  );
  if (data === undefined) return <p class="muted">{error ?? 'Reading the hub’s histograms…'}</p>;
  return (
    <section data-view="latency">
      {error && <p class="error">{error}</p>}
      {data.length === 0 && <p class="muted">This hub keeps no histograms.</p>}
      {data.flatMap((m) =>
        m.samples.map((s) => {
          const unit = unitOf(m.name);
          const labels = Object.entries(s.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ');
          const h = { buckets: m.buckets, cumulative: s.cumulative, count: s.count };
          return (
            <article class="panel" key={`${m.name}{${labels}}`} data-histogram={m.name}>
              <h2 class="mono">
                {m.name}
                {labels && <span class="muted"> {`{${labels}}`}</span>}
              </h2>
              <p class="muted">{m.help}</p>
              <p>
                {count(s.count)} observations · p50 {show(quantile(h, 0.5), unit)} · p99 {show(quantile(h, 0.99), unit)}
              </p>
              <HistogramChart data={h} title={m.name} unit={unit} />
            </article>
          );
        }),
      )}
    </section>
  );
}
