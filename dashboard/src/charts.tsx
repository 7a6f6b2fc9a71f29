/**
 * A histogram as an SVG bar chart: one bar per bucket (observations in it, not cumulative), the
 * bucket's upper bound under it. Sized by its viewBox, so it fills any width (a phone's too).
 */
const W = 600;
const H = 180;
const PAD = { left: 36, right: 8, top: 10, bottom: 34 };

export interface HistogramData {
  buckets: readonly number[];
  cumulative: readonly number[];
  count: number;
}

/** The bound below which a fraction `q` of observations fell (the bucket's upper bound), or undefined. */
export function quantile(h: HistogramData, q: number): number | undefined {
  if (h.count === 0) return undefined;
  const want = q * h.count;
  for (let i = 0; i < h.buckets.length; i++) if ((h.cumulative[i] ?? 0) >= want) return h.buckets[i];
  return Number.POSITIVE_INFINITY;
}

function bound(b: number, unit: string): string {
  if (unit === 'bytes') return b >= 1048576 ? `${+(b / 1048576).toPrecision(3)}Mi` : b >= 1024 ? `${+(b / 1024).toPrecision(3)}Ki` : `${b}`;
  if (b < 0.001) return `${+(b * 1e6).toPrecision(2)}µ`;
  if (b < 1) return `${+(b * 1000).toPrecision(3)}m`;
  return `${+b.toPrecision(3)}`;
}

export function HistogramChart({ data, title, unit }: { data: HistogramData; title: string; unit: string }) {
  const counts = data.buckets.map((_, i) => (data.cumulative[i] ?? 0) - (i > 0 ? (data.cumulative[i - 1] ?? 0) : 0));
  counts.push(data.count - (data.cumulative[data.buckets.length - 1] ?? 0));
  const labels = [...data.buckets.map((b) => bound(b, unit)), '+Inf'];
  const max = Math.max(1, ...counts);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / counts.length;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
      <line x1={PAD.left} y1={PAD.top + plotH} x2={W - PAD.right} y2={PAD.top + plotH} class="axis" />
      <text x={PAD.left - 4} y={PAD.top + 8} class="tick" text-anchor="end">
        {max}
      </text>
      <text x={PAD.left - 4} y={PAD.top + plotH} class="tick" text-anchor="end">
        0
      </text>
      {counts.map((c, i) => {
        const h = (c / max) * plotH;
        const x = PAD.left + i * step;
        return (
          <g key={labels[i]}>
            <rect x={x + 1} y={PAD.top + plotH - h} width={Math.max(1, step - 2)} height={h} class="bar">
              <title>{`≤ ${labels[i]}: ${c}`}</title>
            </rect>
            {(counts.length <= 16 || i % 2 === 0) && (
              <text x={x + step / 2} y={H - PAD.bottom + 14} class="tick" text-anchor="middle">
                {labels[i]}
              </text>
            )}
          </g>
        );
      })}
      <text x={PAD.left + plotW / 2} y={H - 4} class="tick" text-anchor="middle">
        {`upper bound (${unit})`}
      </text>
    </svg>
  );
}

/**
 * The share of a group's requests a new version gets, as a bar (SVG: no style attribute, which
 * the dashboard's CSP would refuse).
 */
export function WeightBar({ percent, label }: { percent: number; label: string }) {
  const p = Math.max(0, Math.min(100, percent));
  return (
    <svg class="weight-bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label={label} data-weight={p}>
      <rect x={0} y={0} width={100} height={6} class="track" />
      <rect x={0} y={0} width={p} height={6} class="fill" />
    </svg>
  );
}
