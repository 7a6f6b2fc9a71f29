/**
 * The hub's alert engine: on an interval it reads the hub's metrics (the same `Metric`s /metrics
 * serves), evaluates every rule (rule-series.ts), moves alerts through pending, firing and
 * resolved (alert-state.ts), and hands what is news to its sinks, grouped by `groupBy` labels:
 * one notification per group and evaluation. Silences keep matching alerts from being notified.
 * Isomorphic: the clock and the timer are injected (tests drive them by hand), and the sinks
 * (the log, a bus topic, a webhook) only queue, so nothing a sink does delays an evaluation.
 */
import { createError } from '../errors/index.js';
import type { Labels, Metric, MetricsSource } from '../metrics/metric.js';
import { labelled, single } from '../metrics/metric.js';
import type { AuditSink } from '../security/audit.js';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { unrefTimer } from '../util/timers.js';
import type { AlertRule, AlertsConfig } from './alert-schema.js';
import { type Alert, type AlertChanges, AlertTracker } from './alert-state.js';
import { defaultAlertRules } from './default-rules.js';
import { RuleSeries } from './rule-series.js';
import { type NewSilence, type Silence, Silences } from './silences.js';

/** One group's news from one evaluation: what a webhook gets in one POST. */
export interface AlertNotification {
  /** 'firing' when any of its alerts fires. */
  readonly status: 'firing' | 'resolved';
  /** The `groupBy` labels shared by its alerts. */
  readonly groupLabels: Labels;
  readonly alerts: readonly Alert[];
  /** The hub that sends it. */
  readonly hubId: string;
}

/** Where notifications go. `notify` must return at once and never throw (a sink queues its own work). */
export interface AlertSink {
  readonly name: string;
  notify(notification: AlertNotification): void;
  close?(): void;
}

/** Time for the engine: `Date.now` and an interval in production, a hand-driven clock in tests. */
export interface AlertClock {
  now(): number;
  /** Calls `fn` every `ms`; returns what stops it. */
  every(ms: number, fn: () => void): () => void;
}

export const systemAlertClock: AlertClock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const timer = unrefTimer(setInterval(fn, ms));
    return () => clearInterval(timer);
  },
};

/** What `$SYS.REQ.ALERTS` answers. */
export interface AlertsSnapshot {
  readonly time: number;
  readonly alerts: readonly Alert[];
  readonly silences: readonly Silence[];
  /** Rule names and what they watch. */
  readonly rules: readonly { name: string; metric: string; fn: string; threshold: number; op: string; severity: string }[];
}

export interface AlertServiceOptions {
  /** The parsed `alerts` section of the hub config. */
  readonly config: AlertsConfig;
  /** What the rules read (the hub's metrics). */
  readonly metrics: () => readonly Metric[];
  readonly sinks: readonly AlertSink[];
  readonly hubId: string;
  /** @default silent */
  readonly logger?: Logger;
  /** Silence changes are recorded here. @default none */
  readonly audit?: AuditSink;
  /** @default systemAlertClock */
  readonly clock?: AlertClock;
}

export class AlertService implements MetricsSource {
  readonly #o: AlertServiceOptions;
  readonly #clock: AlertClock;
  readonly #logger: Logger;
  readonly #series: readonly RuleSeries[];
  readonly #silences: Silences;
  readonly #tracker: AlertTracker;
  #stop: (() => void) | undefined;
  #notifications = 0;
  #overflowLogged = false;
  /** Rules already logged for exceeding maxSeriesPerRule (once each). */
  readonly #seriesLogged = new Set<string>();

  constructor(options: AlertServiceOptions) {
    this.#o = options;
    const c = options.config;
    this.#clock = options.clock ?? systemAlertClock;
    this.#logger = options.logger ?? silentLogger;
    const rules = [...(c.defaultRules ? defaultAlertRules().filter((d) => !c.rules.some((r) => r.name === d.name)) : []), ...c.rules];
    if (rules.length > c.maxRules) {
      throw createError('CB_ERR_CONFIG_INVALID', `alerts: ${rules.length} rules with the default ones; maxRules is ${c.maxRules}`, {
        details: { rules: rules.length, limit: c.maxRules },
      });
    }
    const now = this.#clock.now();
    this.#series = rules.map((r) => new RuleSeries(r, c.maxSeriesPerRule, now));
    this.#silences = new Silences(c.maxSilences);
    for (const s of c.silences) if (s.expiresAt > now) this.#silences.add(s, 'config', now);
    this.#tracker = new AlertTracker({
      repeatIntervalMs: c.repeatIntervalMs,
      maxActiveAlerts: c.maxActiveAlerts,
      silencing: (labels, at) => this.#silences.silencing(labels, at),
    });
  }

  get rules(): readonly AlertRule[] {
    return this.#series.map((s) => s.rule);
  }

  /** Evaluates every `intervalMs` until closed. */
  start(): void {
    this.#stop ??= this.#clock.every(this.#o.config.intervalMs, () => this.evaluate());
  }

  close(): void {
    this.#stop?.();
    this.#stop = undefined;
    for (const sink of this.#o.sinks) sink.close?.();
  }

  /** One evaluation: every rule, then the news to the sinks. Returns what was notified. */
  evaluate(): AlertNotification[] {
    const now = this.#clock.now();
    let metrics: readonly Metric[];
    try {
      metrics = this.#o.metrics();
    } catch (err) {
      this.#logger.error({ error: String(err) }, 'alerts: the metrics could not be read');
      return [];
    }
    const byName = new Map<string, Metric>();
    for (const m of metrics) if (!byName.has(m.name)) byName.set(m.name, m);
    const changes: AlertChanges = { firing: [], resolved: [], overflow: 0 };
    this.#silences.prune(now);
    for (const series of this.#series) {
      this.#tracker.update(series.rule, series.evaluate(byName.get(series.rule.metric), now), now, changes);
      if (series.dropped > 0 && !this.#seriesLogged.has(series.rule.name)) {
        this.#seriesLogged.add(series.rule.name);
        this.#logger.warn(
          { rule: series.rule.name, limit: this.#o.config.maxSeriesPerRule, ignored: series.dropped },
          'alerts: the rule has more groups than maxSeriesPerRule; the rest are ignored',
        );
      }
    }
    if (changes.overflow > 0 && !this.#overflowLogged) {
      this.#overflowLogged = true;
      this.#logger.warn(
        { limit: this.#o.config.maxActiveAlerts, untracked: changes.overflow },
        'alerts: maxActiveAlerts reached; further alerts are not tracked',
      );
    } else if (changes.overflow === 0) this.#overflowLogged = false;
    const notifications = this.#group([...changes.firing, ...changes.resolved]);
    for (const n of notifications) {
      this.#notifications++;
      for (const sink of this.#o.sinks) {
        try {
          sink.notify(n);
        } catch (err) {
          this.#logger.error({ sink: sink.name, error: String(err) }, 'alerts: a sink failed');
        }
      }
    }
    return notifications;
  }

  #group(alerts: readonly Alert[]): AlertNotification[] {
    const groupBy = this.#o.config.groupBy;
    const groups = new Map<string, { labels: Record<string, string>; alerts: Alert[] }>();
    for (const a of alerts) {
      const labels: Record<string, string> = {};
      for (const l of groupBy) labels[l] = a.labels[l] ?? '';
      const key = JSON.stringify(labels);
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { labels, alerts: [] }));
      g.alerts.push(a);
    }
    return [...groups.values()].map((g) => ({
      status: g.alerts.some((a) => a.state === 'firing') ? 'firing' : 'resolved',
      groupLabels: g.labels,
      alerts: g.alerts,
      hubId: this.#o.hubId,
    }));
  }

  snapshot(): AlertsSnapshot {
    const now = this.#clock.now();
    return {
      time: now,
      alerts: this.#tracker.list(now),
      silences: this.#silences.list(now),
      rules: this.#series.map(({ rule: r }) => ({
        name: r.name,
        metric: r.metric,
        fn: r.fn,
        threshold: r.threshold,
        op: r.op,
        severity: r.severity,
      })),
    };
  }

  /** Adds a silence (audited); `by` names who asked. */
  addSilence(silence: NewSilence, by: string): Silence {
    const s = this.#silences.add(silence, by, this.#clock.now());
    this.#o.audit?.record({
      actor: { app: by },
      action: 'alert-silence',
      target: s.id,
      outcome: 'success',
      reason: 'added',
      details: { matchers: { ...s.matchers }, expiresAt: new Date(s.expiresAt).toISOString(), comment: s.comment },
    });
    this.#logger.info({ silence: s.id, by, matchers: s.matchers, expiresAt: s.expiresAt }, 'alerts: silence added');
    return s;
  }

  /** Removes a silence (audited); undefined when there was none with that id. */
  removeSilence(id: string, by: string): Silence | undefined {
    const s = this.#silences.remove(id);
    if (s !== undefined) {
      this.#o.audit?.record({ actor: { app: by }, action: 'alert-silence', target: id, outcome: 'success', reason: 'removed' });
      this.#logger.info({ silence: id, by }, 'alerts: silence removed');
    }
    return s;
  }

  /** `crossbus_alerts{state}` and the notifications sent. */
  metrics(): readonly Metric[] {
    return [
      labelled('gauge', 'crossbus_alerts', 'alerts of the hub alert engine, by state (pending, firing)', ['state'], () => {
        let pending = 0;
        let firing = 0;
        for (const a of this.#tracker.list(this.#clock.now())) {
          if (a.state === 'firing') firing++;
          else pending++;
        }
        return [
          { labels: { state: 'pending' }, value: pending },
          { labels: { state: 'firing' }, value: firing },
        ];
      }),
      single(
        'counter',
        'crossbus_alert_notifications_total',
        'alert notifications (one per group and evaluation)',
        () => this.#notifications,
      ),
      single('gauge', 'crossbus_alert_silences', 'silences in force', () => this.#silences.list(this.#clock.now()).length),
    ];
  }
}
