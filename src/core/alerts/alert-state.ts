/**
 * Each alert's life: a rule's condition true for one of its groups makes an alert `pending`; true
 * for the rule's `forMs` makes it `firing` (at once when `forMs` is 0); false again makes a firing
 * alert `resolved` (and forgets it) and a pending one simply gone. What changed is returned for
 * notification; de-duplication is here too: a firing alert is notified once, and again only after
 * `repeatIntervalMs` while it keeps firing; a resolution is notified only for an alert whose
 * firing was.
 */
import type { Labels } from '../metrics/metric.js';
import type { AlertRule, AlertSeverity } from './alert-schema.js';
import type { GroupValue } from './rule-series.js';

export type AlertState = 'pending' | 'firing' | 'resolved';

/** An alert as listed and notified. */
export interface Alert {
  /** The rule's name and the group's labels: one alert per rule and group. */
  readonly fingerprint: string;
  readonly name: string;
  readonly state: AlertState;
  readonly severity: AlertSeverity;
  /** The group's labels, the rule's labels, `alertname` and `severity`. */
  readonly labels: Labels;
  readonly annotations: Labels;
  /** The value of the rule's expression at the last evaluation. */
  readonly value: number;
  /** When the condition became true (ms since the epoch). */
  readonly activeAt: number;
  /** When it started firing (0: it has not). */
  readonly firedAt: number;
  /** When it resolved (0: it has not). */
  readonly resolvedAt: number;
  /** The silence that keeps it from being notified, if any. */
  readonly silencedBy: string | undefined;
}

interface Tracked {
  fingerprint: string;
  rule: AlertRule;
  groupLabels: Labels;
  labels: Labels;
  state: 'pending' | 'firing';
  value: number;
  activeAt: number;
  firedAt: number;
  /** When the last firing notification went out (0: none yet). */
  notifiedAt: number;
  silencedBy: string | undefined;
}

/** What an evaluation changed, for notification. */
export interface AlertChanges {
  /** Alerts to notify as firing: newly firing, or due again after repeatIntervalMs. */
  readonly firing: Alert[];
  /** Alerts that resolved and whose firing was notified. */
  readonly resolved: Alert[];
  /** Groups whose new alerts were not tracked because maxActiveAlerts was reached. */
  readonly overflow: number;
}

export interface AlertTrackerOptions {
  readonly repeatIntervalMs: number;
  readonly maxActiveAlerts: number;
  /** The silence covering these labels now, if any. */
  readonly silencing: (labels: Labels, now: number) => string | undefined;
}

export class AlertTracker {
  readonly #o: AlertTrackerOptions;
  readonly #active = new Map<string, Tracked>();

  constructor(options: AlertTrackerOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#active.size;
  }

  /**
   * One rule's groups after an evaluation: alerts start, fire, stay or resolve. `changes` collects
   * what is to be notified.
   */
  update(rule: AlertRule, groups: readonly GroupValue[], now: number, changes: AlertChanges): void {
    const seen = new Set<string>();
    for (const g of groups) {
      if (!(rule.op === '>' ? g.value > rule.threshold : g.value < rule.threshold)) continue;
      const fingerprint = fingerprintOf(rule.name, g.labels);
      seen.add(fingerprint);
      let t = this.#active.get(fingerprint);
      if (t === undefined) {
        if (this.#active.size >= this.#o.maxActiveAlerts) {
          (changes as { overflow: number }).overflow++;
          continue;
        }
        t = {
          fingerprint,
          rule,
          groupLabels: g.labels,
          labels: alertLabels(rule, g.labels),
          state: 'pending',
          value: g.value,
          activeAt: now,
          firedAt: 0,
          notifiedAt: 0,
          silencedBy: undefined,
        };
        this.#active.set(fingerprint, t);
      }
      t.value = g.value;
      t.silencedBy = this.#o.silencing(t.labels, now);
      if (t.state === 'pending' && now - t.activeAt >= rule.forMs) {
        t.state = 'firing';
        t.firedAt = now;
      }
      if (t.state === 'firing' && t.silencedBy === undefined && (t.notifiedAt === 0 || now - t.notifiedAt >= this.#o.repeatIntervalMs)) {
        t.notifiedAt = now;
        changes.firing.push(view(t, 'firing', 0));
      }
    }
    for (const [fingerprint, t] of this.#active) {
      if (t.rule.name !== rule.name || seen.has(fingerprint)) continue;
      this.#active.delete(fingerprint);
      // A resolution is news only to those who heard of the firing.
      if (t.state === 'firing' && t.notifiedAt !== 0) changes.resolved.push(view(t, 'resolved', now));
    }
  }

  /** Forgets the alerts of rules no longer evaluated. */
  retain(ruleNames: ReadonlySet<string>): void {
    for (const [fingerprint, t] of this.#active) if (!ruleNames.has(t.rule.name)) this.#active.delete(fingerprint);
  }

  /** Every pending and firing alert, silences as of `now`. */
  list(now: number): Alert[] {
    return [...this.#active.values()].map((t) => {
      t.silencedBy = this.#o.silencing(t.labels, now);
      return view(t, t.state, 0);
    });
  }
}

function fingerprintOf(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

function alertLabels(rule: AlertRule, group: Labels): Labels {
  return Object.freeze({ ...group, ...rule.labels, alertname: rule.name, severity: rule.severity });
}

function view(t: Tracked, state: AlertState, resolvedAt: number): Alert {
  return {
    fingerprint: t.fingerprint,
    name: t.rule.name,
    state,
    severity: t.rule.severity,
    labels: t.labels,
    annotations: expandAnnotations(t.rule.annotations, t.labels, t.value),
    value: t.value,
    activeAt: t.activeAt,
    firedAt: t.firedAt,
    resolvedAt,
    silencedBy: t.silencedBy,
  };
}

/** `{{ $value }}` and `{{ $labels.name }}` in annotations, as in Prometheus's templates (nothing else). */
export function expandAnnotations(annotations: Labels, labels: Labels, value: number): Labels {
  const out: Record<string, string> = {};
  for (const k in annotations) {
    out[k] = (annotations[k] as string).replace(
      /\{\{\s*\$(value|labels\.([A-Za-z_][A-Za-z0-9_]*))\s*\}\}/g,
      (_m, what: string, label?: string) => (what === 'value' ? formatValue(value) : (labels[label as string] ?? '')),
    );
  }
  return out;
}

function formatValue(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}
